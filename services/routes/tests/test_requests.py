"""Signature requests: sequential and parallel flows, hidden signatures, cancel, expiry, reminders."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from docflow_dev.testing.asserts import eventually
from docflow_shared.events.catalogue import UserUpdated
from docflow_signing.crypto.devca import sign_detached

ROUTES_ENV = {"ROUTES_REMINDER_SECONDS": "1.5"}


async def setup_signers(world, pki, count: int):
    owner = await world.user("Olga Owner")
    doc = await world.document(owner, {"contract.pdf": os.urandom(3000)}, title="Supply contract")
    signers = []
    for index in range(count):
        user = await world.user(f"Signer {index + 1}")
        issued = pki.issue(user.full_name, key_type="rsa" if index % 2 else "ec")
        await world.upload_certificate(user, issued)
        signers.append((user, issued))
    return owner, doc, signers


def sign_as(world, doc, signer):
    user, issued = signer
    return world.sign(user, doc, "contract.pdf", sign_detached(doc.content["contract.pdf"], issued))


async def sign_answered(world, doc, signer, status: int):
    """Signing learns who may sign from routes' events, so its answer settles after a moment."""
    async def answered():
        response = await sign_as(world, doc, signer)
        assert response.status_code == status, response.text
        return response

    return await eventually(answered, timeout=30, what=f"signing answering {status}")


async def status_of(world, url: str, user, status: int):
    async def answered():
        response = await world.http.get(url, headers=user.headers)
        assert response.status_code == status, response.text
        return response

    return await eventually(answered, timeout=30, what=f"GET {url} answering {status}")


class _Address:
    """A signer known only by address (``create_request`` reads ``.email``)."""

    def __init__(self, email: str) -> None:
        self.email = email


async def create_request(world, owner, doc, signers, **extra):
    body = {"signers": [u.email for u, _ in signers], **extra}
    response = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests", json=body,
                                     headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


def non_reminders(events, request_id: str, signer_id: str):
    return [e for e in events.of_type("signature.requested")
            if e.data["request_id"] == request_id and e.data["signer"]["user_id"] == signer_id
            and not e.data["reminder"]]


class TestSequential:
    async def test_three_signers_in_order_then_completed(self, world, pki, route_events) -> None:
        owner, doc, signers = await setup_signers(world, pki, 3)
        (s1, _), (s2, _), (s3, _) = signers
        request = await create_request(world, owner, doc, signers, order="sequential", message="Please sign")
        assert request["status"] == "open" and [s["position"] for s in request["signers"]] == [0, 1, 2]
        first = await route_events.wait_for("signature.requested", lambda e: e.data["request_id"] == request["id"])
        assert first.data["signer"]["user_id"] == s1.id and first.data["signer"]["email"] == s1.email
        assert first.data["owner"]["user_id"] == owner.id and first.data["title"] == "Supply contract"
        assert first.data["message"] == "Please sign"
        await asyncio.sleep(0.5)
        assert non_reminders(route_events, request["id"], s2.id) == []

        mine = (await world.http.get("/api/v1/signature-requests", headers=s1.headers)).json()["items"]
        assert [(i["request_id"], i["your_turn"]) for i in mine] == [(request["id"], True)]
        theirs = (await world.http.get("/api/v1/signature-requests", headers=s2.headers)).json()["items"]
        assert theirs[0]["your_turn"] is False and theirs[0]["document_title"] == "Supply contract"

        for out_of_turn in (signers[1], signers[2]):
            refused = await sign_answered(world, doc, out_of_turn, 409)
            assert refused.json()["type"].endswith("out-of-turn")

        for index, signer in enumerate(signers):
            accepted = await sign_answered(world, doc, signer, 201)
            assert accepted.json()["request_id"] == request["id"]
            if index < 2:
                following = signers[index + 1][0]
                await route_events.wait_for(
                    "signature.requested",
                    lambda e, uid=following.id: e.data["request_id"] == request["id"]
                    and e.data["signer"]["user_id"] == uid and not e.data["reminder"],
                )
        completed = await route_events.wait_for("document.completed",
                                                  lambda e: e.data["request_id"] == request["id"])
        participants = {p["user_id"] for p in completed.data["participants"]}
        assert participants == {owner.id, s1.id, s2.id, s3.id}
        assert completed.data["document_id"] == doc.id and completed.data["owner"]["email"] == owner.email
        signed_events = [e for e in route_events.of_type("document.signed") if e.data["request_id"] == request["id"]]
        assert len(signed_events) == 3
        for signer in (s1, s2, s3):
            assert len(non_reminders(route_events, request["id"], signer.id)) == 1

        listed = (await world.http.get(f"/api/v1/documents/{doc.id}/signature-requests",
                                       headers=owner.headers)).json()["items"]
        assert listed[0]["status"] == "completed" and all(s["status"] == "signed" for s in listed[0]["signers"])
        await sign_answered(world, doc, signers[0], 403)
        assert (await world.http.get("/api/v1/signature-requests", headers=s1.headers)).json()["items"] == []
        history = (await world.http.get("/api/v1/signature-requests?include_closed=true",
                                         headers=s1.headers)).json()["items"]
        assert history[0]["signer_status"] == "signed" and history[0]["status"] == "completed"


class TestParallel:
    async def test_hidden_signatures_until_complete(self, world, pki, route_events) -> None:
        owner, doc, signers = await setup_signers(world, pki, 2)
        (s1, _), (s2, _) = signers
        request = await create_request(world, owner, doc, signers, hide_signatures_until_complete=True)
        for user, _ in signers:
            await route_events.wait_for("signature.requested",
                                          lambda e, uid=user.id: e.data["signer"]["user_id"] == uid)
        first = await sign_answered(world, doc, signers[0], 201)
        url = f"/api/v1/documents/{doc.id}/signatures"
        assert (await world.http.get(url, headers=s2.headers)).json()["items"] == []
        assert len((await world.http.get(url, headers=s1.headers)).json()["items"]) == 1
        assert len((await world.http.get(url, headers=owner.headers)).json()["items"]) == 1
        hidden = await world.http.get(f"{url}/{first.json()['id']}/p7s", headers=s2.headers)
        assert hidden.status_code == 404
        seen_by_s2 = (await world.http.get(f"/api/v1/documents/{doc.id}/signature-requests",
                                           headers=s2.headers)).json()["items"][0]
        assert {s["user_id"]: s["status"] for s in seen_by_s2["signers"]} == {s1.id: "undisclosed", s2.id: "pending"}
        await sign_answered(world, doc, signers[1], 201)
        await route_events.wait_for("document.completed", lambda e: e.data["request_id"] == request["id"])

        async def both_shown() -> bool:
            return len((await world.http.get(url, headers=s2.headers)).json()["items"]) == 2

        await eventually(both_shown, timeout=30, what="signatures shown once the request completed")

    async def test_reminders_go_to_pending_signers_only(self, world, pki, route_events) -> None:
        owner, doc, signers = await setup_signers(world, pki, 2)
        request = await create_request(world, owner, doc, signers)
        await sign_answered(world, doc, signers[0], 201)
        pending = signers[1][0]
        reminder = await route_events.wait_for(
            "signature.requested", lambda e: e.data["request_id"] == request["id"] and e.data["reminder"])
        assert reminder.data["signer"]["user_id"] == pending.id
        await asyncio.sleep(2)
        reminded = {e.data["signer"]["user_id"] for e in route_events.of_type("signature.requested")
                    if e.data["request_id"] == request["id"] and e.data["reminder"]}
        assert reminded == {pending.id}


class TestLifecycle:
    async def test_cancel(self, world, pki, route_events) -> None:
        owner, doc, signers = await setup_signers(world, pki, 2)
        request = await create_request(world, owner, doc, signers, order="sequential")
        url = f"/api/v1/documents/{doc.id}/signature-requests/{request['id']}"
        stranger = await world.user()
        assert (await world.http.delete(url, headers=stranger.headers)).status_code == 404
        assert (await world.http.delete(url, headers=signers[0][0].headers)).status_code == 403
        cancelled = await world.http.delete(url, headers=owner.headers)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        event = await route_events.wait_for("signature.request_cancelled",
                                              lambda e: e.data["request_id"] == request["id"])
        assert set(event.data["signer_ids"]) == {u.id for u, _ in signers}
        assert (await world.http.delete(url, headers=owner.headers)).status_code == 409
        await sign_answered(world, doc, signers[0], 404)  # a former signer no longer sees the document
        assert (await world.http.get("/api/v1/signature-requests", headers=signers[0][0].headers)).json()["items"] == []
        assert (await world.http.delete(f"/api/v1/documents/{doc.id}/signature-requests/srq_bogus",
                                        headers=owner.headers)).status_code == 404

    async def test_expiry_tells_the_owner(self, world, pki, route_events) -> None:
        owner, doc, signers = await setup_signers(world, pki, 2)
        expires = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        request = await create_request(world, owner, doc, signers, expires_at=expires)
        await sign_answered(world, doc, signers[0], 201)
        expired = await route_events.wait_for("signature.request_expired",
                                                lambda e: e.data["request_id"] == request["id"])
        assert expired.data["owner"]["user_id"] == owner.id
        assert [p["user_id"] for p in expired.data["pending_signers"]] == [signers[1][0].id]
        listed = (await world.http.get(f"/api/v1/documents/{doc.id}/signature-requests",
                                       headers=owner.headers)).json()["items"]
        assert listed[0]["status"] == "expired"
        await sign_answered(world, doc, signers[1], 404)

    async def test_a_signer_nobody_has_proven_waits_for_whoever_proves_it(self, world, pki,
                                                                          route_events) -> None:
        owner, doc, signers = await setup_signers(world, pki, 1)
        address = f"later-{uuid.uuid4().hex[:8]}@example.kz"
        request = await create_request(world, owner, doc, [(_Address(address), None), signers[0]],
                                       order="sequential")
        first = request["signers"][0]
        assert first["delivery"] == "pending" and first["user_id"] is None and first["email"] == address
        assert request["signers"][1]["delivery"] == "delivered"

        squatter = await world.user("Squatter", verified=False)
        await world.publish(UserUpdated(user_id=squatter.id, email=address, full_name="Squatter", locale="en"))
        await world.wait_for("users", {"_id": squatter.id, "email_key": address})
        owner_view = f"/api/v1/documents/{doc.id}/signature-requests"
        assert (await world.http.get(owner_view, headers=squatter.headers)).status_code == 404
        assert (await world.http.get("/api/v1/signature-requests", headers=squatter.headers)).json()["items"] == []

        proven = await world.user("Later", email=address)
        asked = await route_events.wait_for("signature.requested", lambda e: e.data["request_id"] == request["id"])
        assert asked.data["signer"]["user_id"] == proven.id and asked.data["signer"]["email"] == address
        mine = (await world.http.get("/api/v1/signature-requests", headers=proven.headers)).json()["items"]
        assert [(r["request_id"], r["your_turn"]) for r in mine] == [(request["id"], True)]
        assert (await world.http.get("/api/v1/signature-requests", headers=squatter.headers)).json()["items"] == []

        issued = pki.issue("Later")
        await world.upload_certificate(proven, issued)
        await sign_answered(world, doc, (proven, issued), 201)
        await route_events.wait_for("signature.requested", lambda e: e.data["request_id"] == request["id"]
                                      and e.data["signer"]["user_id"] == signers[0][0].id)

    async def test_validation(self, world, pki) -> None:
        owner, doc, signers = await setup_signers(world, pki, 1)
        url = f"/api/v1/documents/{doc.id}/signature-requests"
        twice = [signers[0][0].email, signers[0][0].email.upper()]
        assert (await world.http.post(url, json={"signers": twice}, headers=owner.headers)).status_code == 422
        past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        assert (await world.http.post(url, json={"signers": [signers[0][0].email], "expires_at": past},
                                      headers=owner.headers)).status_code == 422
        assert (await world.http.post(url, json={"signers": []}, headers=owner.headers)).status_code == 422
        assert (await world.http.post(url, json={"signers": [signers[0][0].email], "order": "random"},
                                      headers=owner.headers)).status_code == 422
        assert (await world.http.post(url, content=b"{", headers={**owner.headers,
                                      "Content-Type": "application/json"})).status_code == 400
        stranger = await world.user()
        assert (await world.http.post(url, json={"signers": [owner.email]},
                                      headers=stranger.headers)).status_code == 404
        await create_request(world, owner, doc, signers)
        again = await world.http.post(url, json={"signers": [signers[0][0].email]}, headers=owner.headers)
        assert again.status_code == 409
        assert (await world.http.post(url, json={"signers": [owner.email]},
                                      headers=signers[0][0].headers)).status_code == 403
        empty = await world.document(owner, {})
        no_files = await world.http.post(f"/api/v1/documents/{empty.id}/signature-requests",
                                         json={"signers": [owner.email]}, headers=owner.headers)
        assert no_files.status_code == 422

    async def test_requested_signer_without_grant_may_sign_and_see(self, world, pki) -> None:
        owner, doc, signers = await setup_signers(world, pki, 1)
        await create_request(world, owner, doc, signers)
        signer = signers[0][0]
        await status_of(world, f"/api/v1/documents/{doc.id}/signatures", signer, 200)
        await sign_answered(world, doc, signers[0], 201)


class TestRepair:
    async def test_signature_stored_without_its_entry_marked_is_picked_up(self, world, pki, route_events) -> None:
        owner, doc, signers = await setup_signers(world, pki, 2)
        request = await create_request(world, owner, doc, signers)
        first = await sign_answered(world, doc, signers[0], 201)
        await world.wait_for_entry(request["id"], signers[0][0].id, "signed")
        # as if the process had stopped between storing the signature and marking the signer entry
        await world.db.request_signers.update_one(
            {"request_id": request["id"], "user_id": signers[0][0].id},
            {"$set": {"status": "pending", "signature_id": None, "signed_at": None}},
        )
        await sign_answered(world, doc, signers[1], 201)
        completed = await route_events.wait_for("document.completed", lambda e: e.data["request_id"] == request["id"])
        assert {p["user_id"] for p in completed.data["participants"]} >= {signers[0][0].id, signers[1][0].id}
        entry = await world.db.request_signers.find_one({"request_id": request["id"], "user_id": signers[0][0].id})
        assert entry["status"] == "signed" and entry["signature_id"] == first.json()["id"]


class TestFormerSigners:
    async def test_signer_of_a_cancelled_request_loses_access(self, world, pki) -> None:
        owner, doc, signers = await setup_signers(world, pki, 2)
        request = await create_request(world, owner, doc, signers)
        signed = await sign_answered(world, doc, signers[0], 201)
        former = signers[0][0]
        p7s = f"/api/v1/documents/{doc.id}/signatures/{signed.json()['id']}/p7s"
        assert (await world.http.get(p7s, headers=former.headers)).status_code == 200
        url = f"/api/v1/documents/{doc.id}/signature-requests/{request['id']}"
        assert (await world.http.delete(url, headers=owner.headers)).status_code == 200
        await status_of(world, p7s, former, 404)
        assert (await world.http.get(f"/api/v1/documents/{doc.id}/signatures",
                                     headers=former.headers)).status_code == 404
        assert (await world.http.get(p7s, headers=owner.headers)).status_code == 200

    async def test_signer_of_an_expired_request_loses_access(self, world, pki, route_events) -> None:
        owner, doc, signers = await setup_signers(world, pki, 1)
        expires = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        request = await create_request(world, owner, doc, signers, expires_at=expires)
        signer = signers[0][0]
        await status_of(world, f"/api/v1/documents/{doc.id}/signatures", signer, 200)
        await route_events.wait_for("signature.request_expired", lambda e: e.data["request_id"] == request["id"])
        await status_of(world, f"/api/v1/documents/{doc.id}/signatures", signer, 404)

    async def test_removed_signer_loses_access(self, world, pki) -> None:
        owner, doc, signers = await setup_signers(world, pki, 2)
        request = await create_request(world, owner, doc, signers)
        removed = signers[1][0]
        await status_of(world, f"/api/v1/documents/{doc.id}/signatures", removed, 200)
        await world.db.request_signers.update_one({"request_id": request["id"], "user_id": removed.id},
                                                  {"$set": {"status": "removed"}})
        # the background pass settles the request and tells signing
        await status_of(world, f"/api/v1/documents/{doc.id}/signatures", removed, 404)


class TestCrashBetweenWrites:
    async def test_signer_entries_without_their_request_grant_nothing(self, world, pki, routes_stack) -> None:
        owner, doc, signers = await setup_signers(world, pki, 1)
        signer = signers[0][0]
        crash = {"DOCFLOW_TESTING": "1", "DOCFLOW_CRASH_AT": "routes.request.after_signers"}
        routes_stack.restart("routes", crash)
        try:
            process = routes_stack.processes["routes"].process
            try:
                await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests",
                                      json={"signers": [signer.email]}, headers=owner.headers)
            except httpx.HTTPError:  # the process dies mid-request
                pass
            assert await asyncio.to_thread(process.wait, 15) == 70
        finally:
            routes_stack.restart("routes", {"DOCFLOW_CRASH_AT": ""})
        assert await world.db.request_signers.find_one({"document_id": doc.id, "user_id": signer.id}) is not None
        assert await world.db.signature_requests.find_one({"document_id": doc.id}) is None
        assert (await world.http.get(f"/api/v1/documents/{doc.id}/signatures",
                                     headers=signer.headers)).status_code == 404
        assert (await world.http.get("/api/v1/signature-requests", headers=signer.headers)).json()["items"] == []
        assert (await sign_as(world, doc, signers[0])).status_code == 404
