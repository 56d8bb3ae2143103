"""Routes of stages: approve, sign and cc roles, rules all and any, decline with a reason,
delegation (with its end) and standing deputies, through the gateway in front of routes and signing."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

from docflow_dev.testing.asserts import eventually
from docflow_signing.crypto.devca import sign_detached


async def people(world, pki, *names: str, certificate: bool = True):
    found = []
    for name in names:
        user = await world.user(name)
        issued = pki.issue(name) if certificate else None
        if issued is not None:
            await world.upload_certificate(user, issued)
        found.append((user, issued))
    return found


async def contract(world, owner):
    return await world.document(owner, {"contract.pdf": os.urandom(2000)}, title="Supply contract")


async def route(world, owner, doc, stages, **extra):
    response = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests",
                                     json={"stages": stages, **extra}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


def stage(*participants, rule: str = "all"):
    return {"rule": rule, "participants": [{"email": user.email, "role": role} for user, role in participants]}


def action(world, doc, request, user, verb: str, body=None, headers=None):
    return world.http.post(f"/api/v1/documents/{doc.id}/signature-requests/{request['id']}/{verb}",
                           json=body, headers={**user.headers, **(headers or {})})


async def answered(call, status: int, what: str):
    async def check():
        response = await call()
        assert response.status_code == status, response.text
        return response

    return await eventually(check, timeout=30, what=what)


def sign(world, doc, signer):
    user, issued = signer
    return world.sign(user, doc, "contract.pdf", sign_detached(doc.content["contract.pdf"], issued))


async def read(world, owner, doc):
    listed = await world.http.get(f"/api/v1/documents/{doc.id}/signature-requests", headers=owner.headers)
    assert listed.status_code == 200, listed.text
    return listed.json()["items"][0]


class TestStages:
    async def test_approve_then_sign_then_cc_is_told(self, world, pki, route_events) -> None:
        (owner, _), (lawyer, _), director, (accounting, _) = await people(
            world, pki, "Owner", "Lawyer", "Director", "Accounting")
        doc = await contract(world, owner)
        request = await route(world, owner, doc, [stage((lawyer, "approve")), stage((director[0], "sign")),
                                                  stage((accounting, "cc"))])
        assert request["stages"] == ["all", "all", "all"] and request["current_stage"] == 0
        assert [(s["role"], s["stage"]) for s in request["signers"]] == [("approve", 0), ("sign", 1), ("cc", 2)]
        created = await route_events.wait_for("route.created", lambda e: e.data["request_id"] == request["id"])
        assert created.data["rules"] == ["all", "all", "all"] and created.data["owner"]["user_id"] == owner.id
        assert [(p["person"]["user_id"], p["role"], p["stage"]) for p in created.data["participants"]] == [
            (lawyer.id, "approve", 0), (director[0].id, "sign", 1), (accounting.id, "cc", 2)]
        assert created.data["origin"]["ip"]
        opened = await route_events.wait_for("route.stage_opened", lambda e: e.data["request_id"] == request["id"])
        assert opened.data["stage"] == 0
        assert [p["person"]["user_id"] for p in opened.data["participants"]] == [lawyer.id]

        early = await answered(lambda: sign(world, doc, director), 409, "the director out of turn")
        assert early.json()["type"].endswith("out-of-turn")
        assert (await action(world, doc, request, director[0], "approve")).status_code == 409
        assert (await action(world, doc, request, accounting, "approve")).status_code == 403

        approved = await action(world, doc, request, lawyer, "approve",
                                headers={"User-Agent": "lawyer-agent/1.0", "X-Request-ID": "req-approve-1"})
        assert approved.status_code == 202, approved.text
        event = await route_events.wait_for("route.approved", lambda e: e.data["request_id"] == request["id"])
        assert event.data["actor"]["user_id"] == lawyer.id and event.data["on_behalf_of"] is None
        assert event.data["origin"]["user_agent"] == "lawyer-agent/1.0" and event.data["origin"]["ip"]
        assert event.data["origin"]["request_id"] == "req-approve-1"
        assert (await action(world, doc, request, lawyer, "approve")).status_code == 403  # acted already
        await route_events.wait_for("route.stage_opened",
                                    lambda e: e.data["request_id"] == request["id"] and e.data["stage"] == 1)
        await route_events.wait_for("signature.requested", lambda e: e.data["request_id"] == request["id"]
                                    and e.data["signer"]["user_id"] == director[0].id)

        signed = await answered(lambda: sign(world, doc, director), 201, "the director's signature")
        assert signed.json()["request_id"] == request["id"]
        done = await route_events.wait_for("route.completed", lambda e: e.data["request_id"] == request["id"])
        told = {p["user_id"] for p in done.data["participants"]}
        assert told == {owner.id, lawyer.id, director[0].id, accounting.id}
        completed = await route_events.wait_for("document.completed", lambda e: e.data["request_id"] == request["id"])
        assert {p["user_id"] for p in completed.data["participants"]} == told
        final = await read(world, owner, doc)
        assert final["status"] == "completed"
        assert [s["status"] for s in final["signers"]] == ["approved", "signed", "pending"]
        assert final["signers"][0]["acted_by"] == lawyer.id
        # cc sees the document (signing learnt it from routes), but may not sign it
        await answered(lambda: world.http.get(f"/api/v1/documents/{doc.id}/signatures", headers=accounting.headers),
                       200, "cc reading the signatures")

    async def test_any_completes_a_stage_with_one_approval(self, world, pki, route_events) -> None:
        (owner, _), (first, _), (second, _), signer = await people(world, pki, "Owner", "First", "Second", "Signer")
        doc = await contract(world, owner)
        request = await route(world, owner, doc, [stage((first, "approve"), (second, "approve"), rule="any"),
                                                  stage((signer[0], "sign"))])
        assert (await action(world, doc, request, second, "approve")).status_code == 202
        await route_events.wait_for("route.stage_opened",
                                    lambda e: e.data["request_id"] == request["id"] and e.data["stage"] == 1)
        late = await action(world, doc, request, first, "approve")
        assert late.status_code == 409 and late.json()["type"].endswith("out-of-turn")
        await answered(lambda: sign(world, doc, signer), 201, "the signature after one approval")
        await route_events.wait_for("route.completed", lambda e: e.data["request_id"] == request["id"])

    async def test_validation(self, world, pki) -> None:
        (owner, _), (other, _) = await people(world, pki, "Owner", "Other", certificate=False)
        doc = await contract(world, owner)
        url = f"/api/v1/documents/{doc.id}/signature-requests"
        for body in ({"stages": [stage((other, "cc"))]},
                     {"stages": [stage((other, "sign"))], "signers": [other.email]},
                     {"stages": [stage((other, "sign")), stage((other, "approve"))]},
                     {"stages": [{"rule": "most", "participants": [{"email": other.email}]}]},
                     {"stages": [{"participants": [{"email": other.email, "role": "watch"}]}]},
                     {"stages": []}, {}):
            answer = await world.http.post(url, json=body, headers=owner.headers)
            assert answer.status_code == 422, (body, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")


class TestDecline:
    async def test_decline_at_stage_two_stops_the_route(self, world, pki, route_events) -> None:
        (owner, _), (lawyer, _), director, (accounting, _) = await people(
            world, pki, "Owner", "Lawyer", "Director", "Accounting")
        doc = await contract(world, owner)
        request = await route(world, owner, doc, [stage((lawyer, "approve")), stage((director[0], "sign")),
                                                  stage((accounting, "cc"))])
        assert (await action(world, doc, request, lawyer, "approve")).status_code == 202
        await route_events.wait_for("route.stage_opened",
                                    lambda e: e.data["request_id"] == request["id"] and e.data["stage"] == 1)
        for reason in ("", "   ", "x" * 2001):
            refused = await action(world, doc, request, director[0], "decline", {"reason": reason})
            assert refused.status_code == 422, refused.text
        stranger = await world.user("Stranger")
        assert (await action(world, doc, request, stranger, "decline", {"reason": "no"})).status_code == 404
        reason = "Пункт 4.2 противоречит договору поставки"
        declined = await action(world, doc, request, director[0], "decline", {"reason": reason})
        assert declined.status_code == 202, declined.text
        event = await route_events.wait_for("route.declined", lambda e: e.data["request_id"] == request["id"])
        assert event.data["reason"] == reason and event.data["actor"]["user_id"] == director[0].id
        assert event.data["stage"] == 1 and event.data["owner"]["user_id"] == owner.id
        assert {p["user_id"] for p in event.data["participants"]} == {lawyer.id, director[0].id, accounting.id}
        await route_events.wait_for("signature.request_cancelled", lambda e: e.data["request_id"] == request["id"])
        final = await read(world, owner, doc)
        assert final["status"] == "declined"
        assert final["signers"][1]["status"] == "declined" and final["signers"][1]["decline_reason"] == reason
        assert (await action(world, doc, request, director[0], "decline", {"reason": "again"})).status_code == 409
        await answered(lambda: sign(world, doc, director), 404, "the decliner losing access")
        await asyncio.sleep(0)
        assert not [e for e in route_events.of_type("route.completed") if e.data["request_id"] == request["id"]]


class TestDelegation:
    async def test_the_delegate_signs_on_behalf_of_the_director(self, world, pki, route_events) -> None:
        (owner, _), director, deputy = await people(world, pki, "Owner", "Director", "Deputy")
        doc = await contract(world, owner)
        request = await route(world, owner, doc, [stage((director[0], "sign"))])
        until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        delegated = await action(world, doc, request, director[0], "delegate", {"email": deputy[0].email,
                                                                                "until": until})
        assert delegated.status_code == 202, delegated.text
        event = await route_events.wait_for("route.delegated", lambda e: e.data["request_id"] == request["id"])
        assert event.data["delegator"]["user_id"] == director[0].id
        assert event.data["delegate"]["user_id"] == deputy[0].id
        again = await action(world, doc, request, director[0], "delegate", {"email": owner.email})
        assert again.status_code == 409
        signed = await answered(lambda: sign(world, doc, deputy), 201, "the delegate's signature")
        assert signed.json()["on_behalf_of"] == director[0].id and signed.json()["signer_id"] == deputy[0].id
        signed_event = await route_events.wait_for("document.signed",
                                                   lambda e: e.data["signature_id"] == signed.json()["id"])
        assert signed_event.data["on_behalf_of"]["user_id"] == director[0].id
        done = await route_events.wait_for("route.completed", lambda e: e.data["request_id"] == request["id"])
        assert deputy[0].id in {p["user_id"] for p in done.data["participants"]}
        final = await read(world, owner, doc)
        assert final["signers"][0]["status"] == "signed" and final["signers"][0]["acted_by"] == deputy[0].id
        assert final["signers"][0]["delegate_email"] == deputy[0].email

    async def test_a_delegate_cannot_act_after_the_delegation_ends(self, world, pki, route_events) -> None:
        (owner, _), (lawyer, _), deputy = await people(world, pki, "Owner", "Lawyer", "Deputy")
        doc = await contract(world, owner)
        request = await route(world, owner, doc, [stage((lawyer, "approve"), (deputy[0], "cc"))])
        stranger = await world.user("Stranger")
        until = datetime.now(UTC) + timedelta(seconds=2)
        assert (await action(world, doc, request, lawyer, "delegate", {"email": stranger.email,
                                                                       "until": until.isoformat()})).status_code == 202
        await route_events.wait_for("route.delegated", lambda e: e.data["request_id"] == request["id"])
        await asyncio.sleep((until - datetime.now(UTC)).total_seconds() + 0.2)  # the delegation's end passes
        ended = await action(world, doc, request, stranger, "approve")
        assert ended.status_code == 403 and ended.json()["type"].endswith("delegation-ended")
        assert (await action(world, doc, request, lawyer, "approve")).status_code == 202  # the lawyer still may


    async def test_signing_refuses_a_delegate_after_the_delegation_ends(self, world, pki, route_events) -> None:
        (owner, _), director, deputy = await people(world, pki, "Owner", "Director", "Deputy")
        doc = await contract(world, owner)
        request = await route(world, owner, doc, [stage((director[0], "sign"))])
        until = datetime.now(UTC) + timedelta(seconds=3)
        handed = await action(world, doc, request, director[0], "delegate",
                              {"email": deputy[0].email, "until": until.isoformat()})
        assert handed.status_code == 202, handed.text
        signature_url = f"/api/v1/documents/{doc.id}/signatures"
        await answered(lambda: world.http.get(signature_url, headers=deputy[0].headers), 200,
                       "signing knowing the delegate")
        await asyncio.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.2)  # the end passes
        late = await sign(world, doc, deputy)
        # signing's own check of the end (403), or routes' next snapshot, which no longer lists the
        # delegate (404), whichever comes first
        assert late.status_code in (403, 404), late.text
        assert (await sign(world, doc, director)).status_code == 201  # the director still may


class TestDeputy:
    async def test_new_requests_reach_the_standing_deputy(self, world, pki, route_events) -> None:
        (owner, _), director, deputy = await people(world, pki, "Owner", "Director", "Deputy")
        url = "/api/v1/users/me/deputy"
        assert (await world.http.get(url, headers=director[0].headers)).status_code == 404
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        assert (await world.http.put(url, json={"email": deputy[0].email, "until": past},
                                     headers=director[0].headers)).status_code == 422
        until = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        put = await world.http.put(url, json={"email": deputy[0].email, "until": until}, headers=director[0].headers)
        assert put.status_code == 200 and put.json()["active"] is True, put.text
        assert (await world.http.get(url, headers=director[0].headers)).json()["email"] == deputy[0].email

        doc = await contract(world, owner)
        request = await route(world, owner, doc, [stage((director[0], "sign"))])
        assert request["signers"][0]["delegate_email"] == deputy[0].email
        event = await route_events.wait_for("route.delegated", lambda e: e.data["request_id"] == request["id"])
        assert event.data["standing"] is True and event.data["delegator"]["user_id"] == director[0].id
        signed = await answered(lambda: sign(world, doc, deputy), 201, "the deputy's signature")
        assert signed.json()["on_behalf_of"] == director[0].id
        assert (await world.http.delete(url, headers=director[0].headers)).status_code == 204
        assert (await world.http.get(url, headers=director[0].headers)).status_code == 404

    async def test_a_deputy_period_not_yet_begun_hands_nothing_over(self, world, pki, route_events) -> None:
        (owner, _), (director, _), (deputy, _) = await people(world, pki, "Owner", "Director", "Deputy",
                                                              certificate=False)
        starts = datetime.now(UTC) + timedelta(days=1)
        put = await world.http.put("/api/v1/users/me/deputy", headers=director.headers, json={
            "email": deputy.email, "starts_at": starts.isoformat(), "until": (starts + timedelta(days=7)).isoformat()})
        assert put.status_code == 200 and put.json()["active"] is False, put.text
        self_deputy = await world.http.put("/api/v1/users/me/deputy", headers=director.headers, json={
            "email": director.email, "until": (starts + timedelta(days=7)).isoformat()})
        assert self_deputy.status_code == 422
        doc = await contract(world, owner)
        request = await route(world, owner, doc, [stage((director, "approve"))])
        assert request["signers"][0]["delegate_email"] is None
        await route_events.wait_for("route.stage_opened", lambda e: e.data["request_id"] == request["id"])
        assert not [e for e in route_events.of_type("route.delegated") if e.data["request_id"] == request["id"]]


class TestActionsRacingTheRepairPass:
    """An action is stored on its entry, then announced. The repair pass (every tick, in every
    replica) may settle the request in between; here a pause hook holds the approval there."""

    async def test_an_approval_is_announced_after_the_repair_pass_completed_the_route(
            self, world, pki, route_events, routes_stack) -> None:
        (owner, _), (approver, _) = await people(world, pki, "Owner", "Approver", certificate=False)
        doc = await contract(world, owner)
        request = await route(world, owner, doc, [stage((approver, "approve"))])
        routes_stack.restart("routes", {"DOCFLOW_TESTING": "1", "DOCFLOW_PAUSE_AT": "routes.action.after_mark",
                                        "DOCFLOW_PAUSE_SECONDS": "3"})
        try:
            assert (await action(world, doc, request, approver, "approve")).status_code == 202
        finally:
            routes_stack.restart("routes", {"DOCFLOW_PAUSE_AT": ""})
        ours = lambda e: e.data["request_id"] == request["id"]  # noqa: E731
        completed = await route_events.wait_for("route.completed", ours)
        approved = await route_events.wait_for("route.approved", ours)
        assert approved.data["actor"]["user_id"] == approver.id
        assert route_events.events.index(completed) < route_events.events.index(approved)  # the race was hit
        assert [p["user_id"] for p in completed.data["participants"]].count(approver.id) == 1
        history = await read(world, owner, doc)
        assert history["status"] == "completed"
