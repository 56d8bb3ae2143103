"""People outside DocFlow: the e-mailed link, the 6-digit code, a session for that request alone,
and the attacks on them (reuse, another request, guessing, expiry)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

from docflow_dev.testing.asserts import assert_problem, eventually
from docflow_signing.crypto.devca import key_proof, sign_detached

HEADER = "DocFlow-External-Session"


def outsider_address() -> str:
    return f"partner-{uuid.uuid4().hex[:8]}@counterparty.kz"


async def route_with_outsider(world, *, role: str = "approve", then_sign=None, **extra):
    owner = await world.user("Owner")
    doc = await world.document(owner, {"contract.pdf": os.urandom(1500)}, title="Supply contract")
    address = outsider_address()
    stages = [{"participants": [{"email": address, "role": role, "external": True}]}]
    if then_sign is not None:
        stages.append({"participants": [{"email": then_sign.email, "role": "sign"}]})
    response = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests",
                                     json={"stages": stages, **extra}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return owner, doc, address, response.json()


async def link_token(route_events, request_id: str, address: str) -> str:
    invited = await route_events.wait_for("route.external_invited", lambda e: e.data["request_id"] == request_id
                                          and e.data["recipient"]["email"] == address)
    assert invited.data["link"].startswith("http://docflow.test/api/v1/external/")
    assert "link" not in invited.data.get("sealed", "")
    return str(invited.data["link"].rsplit("/", 1)[1])


async def code_for(route_events, request_id: str, seen: int = 0) -> str:
    def mine(e) -> bool:
        return e.data["request_id"] == request_id

    await route_events.wait_for("route.external_code_requested", lambda e: mine(e)
                                and len([x for x in route_events.of_type("route.external_code_requested")
                                         if mine(x)]) > seen)
    codes = [e for e in route_events.of_type("route.external_code_requested") if mine(e)]
    return str(codes[-1].data["code"])


async def session_for(world, route_events, request_id: str, token: str) -> str:
    opened = await world.http.get(f"/api/v1/external/{token}")
    assert opened.status_code == 200, opened.text
    code = await code_for(route_events, request_id)
    verified = await world.http.post(f"/api/v1/external/{token}/code", json={"code": code})
    assert verified.status_code == 200, verified.text
    return str(verified.json()["session_token"])


class TestLink:
    async def test_link_code_session_and_approval(self, world, route_events) -> None:
        signer = await world.user("Signer")
        owner, doc, address, request = await route_with_outsider(world, then_sign=signer)
        assert request["signers"][0]["delivery"] == "pending"
        token = await link_token(route_events, request["id"], address)
        opened = await world.http.get(f"/api/v1/external/{token}")
        assert opened.status_code == 200, opened.text
        assert opened.json()["role"] == "approve" and opened.json()["email"].endswith("@counterparty.kz")
        assert opened.json()["email"] != address  # masked
        again = await world.http.get(f"/api/v1/external/{token}")
        assert_problem(again, 429)
        code = await code_for(route_events, request["id"])
        wrong = "000000" if code != "000000" else "111111"
        assert_problem(await world.http.post(f"/api/v1/external/{token}/code", json={"code": wrong}), 401)
        assert_problem(await world.http.post(f"/api/v1/external/{token}/code", json={"code": "12345"}), 422)
        verified = await world.http.post(f"/api/v1/external/{token}/code", json={"code": code})
        assert verified.status_code == 200, verified.text
        session = verified.json()["session_token"]
        assert verified.json()["document_id"] == doc.id

        view = await world.http.get("/api/v1/external/session", headers={HEADER: session})
        assert view.status_code == 200, view.text
        assert view.json()["your_turn"] is True and view.json()["document_title"] == "Supply contract"
        assert [f["name"] for f in view.json()["files"]] == ["contract.pdf"]
        granted = await route_events.wait_for("route.external_access_granted",
                                              lambda e: e.data["request_id"] == request["id"])
        assert granted.data["document_id"] == doc.id and session not in str(granted.data)

        approved = await world.http.post("/api/v1/external/session/approve", headers={HEADER: session,
                                                                                      "User-Agent": "partner/1"})
        assert approved.status_code == 202, approved.text
        event = await route_events.wait_for("route.approved", lambda e: e.data["request_id"] == request["id"])
        assert event.data["actor"]["email"] == address and event.data["origin"]["user_agent"] == "partner/1"
        await route_events.wait_for("signature.requested", lambda e: e.data["request_id"] == request["id"]
                                    and e.data["signer"]["user_id"] == signer.id)
        listed = await world.http.get(f"/api/v1/documents/{doc.id}/signature-requests", headers=owner.headers)
        assert listed.json()["items"][0]["signers"][0]["status"] == "approved"


class TestAttacks:
    async def test_a_used_token_is_gone(self, world, route_events) -> None:
        _, _, address, request = await route_with_outsider(world)
        token = await link_token(route_events, request["id"], address)
        await session_for(world, route_events, request["id"], token)
        body = assert_problem(await world.http.get(f"/api/v1/external/{token}"), 410)
        assert body["type"].endswith("link-used")
        assert_problem(await world.http.post(f"/api/v1/external/{token}/code", json={"code": "123456"}), 410)

    async def test_guessing_codes_locks_the_link(self, world, route_events) -> None:
        _, _, address, request = await route_with_outsider(world)
        token = await link_token(route_events, request["id"], address)
        assert (await world.http.get(f"/api/v1/external/{token}")).status_code == 200
        code = await code_for(route_events, request["id"])
        guesses = [f"{n:06d}" for n in range(20) if f"{n:06d}" != code][:5]
        answers = [await world.http.post(f"/api/v1/external/{token}/code", json={"code": g}) for g in guesses]
        assert [a.status_code for a in answers] == [401, 401, 401, 401, 410]
        assert answers[-1].json()["type"].endswith("link-locked")
        late = await world.http.post(f"/api/v1/external/{token}/code", json={"code": code})
        assert_problem(late, 410)  # even the right code, once locked

    async def test_a_session_reaches_its_own_request_only(self, world, route_events) -> None:
        _, doc, address, request = await route_with_outsider(world)
        other_owner, other_doc, other_address, other = await route_with_outsider(world)
        token = await link_token(route_events, request["id"], address)
        session = await session_for(world, route_events, request["id"], token)
        view = await world.http.get("/api/v1/external/session", headers={HEADER: session})
        assert view.json()["request_id"] == request["id"] and view.json()["document_id"] == doc.id
        # the other request's token is not this session; the session is no access token elsewhere
        other_token = await link_token(route_events, other["id"], other_address)
        assert other_token != token
        for path in (f"/api/v1/documents/{other_doc.id}/signature-requests",
                     f"/api/v1/documents/{doc.id}/signature-requests", f"/api/v1/documents/{other_doc.id}/signatures"):
            assert (await world.http.get(path, headers={HEADER: session})).status_code == 401
        assert (await world.http.get(f"/api/v1/documents/{doc.id}/signatures",
                                     headers={"Authorization": f"Bearer {session}"})).status_code == 401
        assert_problem(await world.http.get("/api/v1/external/session", headers={HEADER: "forged"}), 401)
        assert_problem(await world.http.get("/api/v1/external/session"), 401)
        assert_problem(await world.http.get("/api/v1/external/not-a-token"), 404)
        listed = await world.http.get(f"/api/v1/documents/{other_doc.id}/signature-requests",
                                      headers=other_owner.headers)
        assert listed.json()["items"][0]["signers"][0]["status"] == "pending"

    async def test_cancelling_the_route_ends_the_session_everywhere(self, world, pki, route_events) -> None:
        owner, doc, address, request = await route_with_outsider(world, role="sign")
        token = await link_token(route_events, request["id"], address)
        session = await session_for(world, route_events, request["id"], token)
        headers = {HEADER: session}
        url = "/api/v1/external/session/certificates/challenges"

        async def known() -> bool:
            return (await world.http.post(url, headers=headers)).status_code == 201

        await eventually(known, timeout=30, what="signing knowing the session")
        cancelled = await world.http.delete(f"/api/v1/documents/{doc.id}/signature-requests/{request['id']}",
                                            headers=owner.headers)
        assert cancelled.status_code == 200, cancelled.text
        revoked = await route_events.wait_for("route.external_access_revoked",
                                              lambda e: e.data["request_id"] == request["id"])
        assert session not in str(revoked.data)

        async def refused() -> bool:
            return (await world.http.post(url, headers=headers)).status_code == 401

        await eventually(refused, timeout=30, what="signing refusing the revoked session")
        assert_problem(await world.http.post("/api/v1/external/session/approve", headers=headers), 409)

    async def test_an_expired_link_is_gone(self, world, route_events) -> None:
        expires = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        _, _, address, request = await route_with_outsider(world, expires_at=expires)
        token = await link_token(route_events, request["id"], address)
        await route_events.wait_for("signature.request_expired", lambda e: e.data["request_id"] == request["id"])
        body = assert_problem(await world.http.get(f"/api/v1/external/{token}"), 410)
        assert body["type"].endswith("link-expired")


class TestOutsiderSigns:
    async def test_certificate_with_proof_then_a_detached_cms(self, world, pki, route_events) -> None:
        owner, doc, address, request = await route_with_outsider(world, role="sign")
        other_owner = await world.user("Other owner")
        other_doc = await world.document(other_owner, {"other.pdf": b"another contract"})
        token = await link_token(route_events, request["id"], address)
        session = await session_for(world, route_events, request["id"], token)
        headers = {HEADER: session}
        issued = pki.issue("Partner LLP")

        async def challenge() -> str:
            response = await world.http.post("/api/v1/external/session/certificates/challenges", headers=headers)
            assert response.status_code == 201, response.text  # once signing has the session
            return str(response.json()["challenge"])

        first = await eventually(challenge, timeout=30, what="signing knowing the session")
        unproven = await world.http.post("/api/v1/external/session/certificates",
                                         json={"pem": issued.cert_pem.decode()}, headers=headers)
        assert_problem(unproven, 422)
        assert "key-proof" in unproven.json()["type"]
        fresh = await challenge()
        assert fresh != first
        registered = await world.http.post(
            "/api/v1/external/session/certificates", json={"pem": issued.cert_pem.decode()},
            headers={**headers, "DocFlow-Key-Challenge": fresh, "DocFlow-Key-Proof": key_proof(fresh, issued)})
        assert registered.status_code == 201, registered.text

        elsewhere = await world.http.post(
            f"/api/v1/external/session/files/{other_doc.files['other.pdf']}/signatures", headers=headers,
            files={"signature": ("s.p7s", sign_detached(b"another contract", issued), "application/pkcs7-signature")})
        assert_problem(elsewhere, 404)  # the session opens its own document only
        signature = sign_detached(doc.content["contract.pdf"], issued)

        async def signed():
            response = await world.http.post(f"/api/v1/external/session/files/{doc.files['contract.pdf']}/signatures",
                                             headers=headers,
                                             files={"signature": ("s.p7s", signature, "application/pkcs7-signature")})
            assert response.status_code == 201, response.text
            return response

        stored = await eventually(signed, timeout=30, what="the outsider's signature")
        assert stored.json()["request_id"] == request["id"] and stored.json()["signer_id"].startswith("ext:")
        done = await route_events.wait_for("document.completed", lambda e: e.data["request_id"] == request["id"])
        assert done.data["document_id"] == doc.id
        listed = await world.http.get(f"/api/v1/documents/{doc.id}/signature-requests", headers=owner.headers)
        assert listed.json()["items"][0]["status"] == "completed"
        assert listed.json()["items"][0]["signers"][0]["status"] == "signed"


class TestOutsiderHistoryAndDelegation:
    async def test_past_actions_show_once_the_address_is_proven(self, world, route_events) -> None:
        _, _, address, request = await route_with_outsider(world)
        token = await link_token(route_events, request["id"], address)
        session = await session_for(world, route_events, request["id"], token)
        assert (await world.http.post("/api/v1/external/session/approve", headers={HEADER: session})).status_code == 202
        await route_events.wait_for("route.completed", lambda e: e.data["request_id"] == request["id"])
        joined = await world.user("Partner", email=address)

        async def history() -> bool:
            listed = await world.http.get("/api/v1/signature-requests?include_closed=true", headers=joined.headers)
            items = listed.json()["items"]
            return [(i["request_id"], i["signer_status"]) for i in items] == [(request["id"], "approved")]

        await eventually(history, timeout=30, what="the outsider's approval in their new account")

    async def test_an_outsider_hands_their_part_to_a_colleague(self, world, route_events) -> None:
        colleague = await world.user("Colleague")
        _, _, address, request = await route_with_outsider(world)
        token = await link_token(route_events, request["id"], address)
        session = await session_for(world, route_events, request["id"], token)
        handed = await world.http.post("/api/v1/external/session/delegate", json={"email": colleague.email},
                                       headers={HEADER: session})
        assert handed.status_code == 202, handed.text
        delegated = await route_events.wait_for("route.delegated", lambda e: e.data["request_id"] == request["id"])
        assert delegated.data["delegator"]["email"] == address
        url = f"/api/v1/documents/{request['document_id']}/signature-requests/{request['id']}/approve"
        assert (await world.http.post(url, headers=colleague.headers)).status_code == 202
        approved = await route_events.wait_for("route.approved", lambda e: e.data["request_id"] == request["id"])
        assert approved.data["actor"]["user_id"] == colleague.id
        assert approved.data["on_behalf_of"]["email"] == address
