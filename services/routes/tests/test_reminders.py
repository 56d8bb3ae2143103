"""Reminders per open stage, at the request's own interval, at most ROUTES_REMINDER_LIMIT of them."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime

from docflow_dev.testing.asserts import assert_problem, eventually

ROUTES_ENV = {"ROUTES_REMINDER_MIN_SECONDS": "1", "ROUTES_REMINDER_LIMIT": "2", "ROUTES_REMINDER_SECONDS": "3600"}


class TestReminders:
    async def test_approvers_are_reminded_at_the_request_interval_up_to_the_cap(self, world, route_events) -> None:
        owner, lawyer, director = await world.user("Owner"), await world.user("Lawyer"), await world.user("Director")
        doc = await world.document(owner, {"contract.pdf": os.urandom(500)})
        url = f"/api/v1/documents/{doc.id}/signature-requests"
        stages = [{"participants": [{"email": lawyer.email, "role": "approve"}]},
                  {"participants": [{"email": director.email, "role": "sign"}]}]
        too_often = await world.http.post(url, json={"stages": stages, "reminder_seconds": 0.5}, headers=owner.headers)
        assert_problem(too_often, 422)
        created = await world.http.post(url, json={"stages": stages, "reminder_seconds": 1}, headers=owner.headers)
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]

        def reminders():
            return [e for e in route_events.of_type("route.stage_opened")
                    if e.data["request_id"] == request_id and e.data["reminder"]]

        async def two() -> bool:
            return len(reminders()) == 2

        await eventually(two, timeout=30, what="two reminders")
        assert all([p["person"]["user_id"] for p in e.data["participants"]] == [lawyer.id] for e in reminders())
        assert not [e for e in route_events.of_type("signature.requested") if e.data["request_id"] == request_id]
        await asyncio.sleep(2.5)  # the interval passes twice more: the cap holds
        assert len(reminders()) == 2


def invitations(route_events, request_id: str, address: str, *, reminder: bool) -> list:
    return [e for e in route_events.of_type("route.external_invited") if e.data["request_id"] == request_id
            and e.data["recipient"]["email"] == address and bool(e.data.get("reminder")) is reminder]


def token_of(invitation) -> str:
    return str(invitation.data["link"].rsplit("/", 1)[1])


async def outsider_session(world, route_events, request_id: str, token: str) -> dict:
    """The fresh link does what a first one does: a code, then a session."""
    opened = await world.http.get(f"/api/v1/external/{token}")
    assert opened.status_code == 200, opened.text
    asked = await route_events.wait_for("route.external_code_requested", lambda e: e.data["request_id"] == request_id)
    verified = await world.http.post(f"/api/v1/external/{token}/code", json={"code": asked.data["code"]})
    assert verified.status_code == 200, verified.text
    view = await world.http.get("/api/v1/external/session",
                                headers={"DocFlow-External-Session": verified.json()["session_token"]})
    assert view.status_code == 200, view.text
    return dict(view.json())


class TestOutsiderReminders:
    async def test_an_outsider_is_reminded_with_a_fresh_link_up_to_the_cap(self, world, route_events) -> None:
        owner = await world.user("Owner")
        doc = await world.document(owner, {"contract.pdf": os.urandom(500)})
        address = f"partner-{uuid.uuid4().hex[:8]}@counterparty.kz"
        stages = [{"participants": [{"email": address, "role": "sign", "external": True}]}]
        created = await world.http.post(f"/api/v1/documents/{doc.id}/signature-requests",
                                        json={"stages": stages, "reminder_seconds": 1}, headers=owner.headers)
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]
        first = await route_events.wait_for("route.external_invited", lambda e: e.data["request_id"] == request_id)
        assert first.data["reminder"] is False

        async def two() -> list:
            found = invitations(route_events, request_id, address, reminder=True)
            assert len(found) == 2, found
            return found

        reminders = await eventually(two, timeout=30, what="two reminders to the outsider")
        assert all(e.data["role"] == "sign" and e.data["expires_at"] for e in reminders)
        tokens = [token_of(first), *map(token_of, reminders)]
        assert len(set(tokens)) == 3  # a new single-use token each time
        for earlier in tokens[:2]:  # the newest link replaces the unused earlier ones
            gone = assert_problem(await world.http.get(f"/api/v1/external/{earlier}"), 410)
            assert gone["type"].endswith("link-superseded")
        view = await outsider_session(world, route_events, request_id, tokens[-1])
        assert view["request_id"] == request_id and view["role"] == "sign" and view["your_turn"] is True
        await asyncio.sleep(2.5)  # the interval passes twice more: the cap holds for outsiders too
        assert len(invitations(route_events, request_id, address, reminder=True)) == 2

    async def test_a_delegated_outsider_is_reminded_as_the_delegate(self, world, route_events) -> None:
        owner, director = await world.user("Owner"), await world.user("Director")
        doc = await world.document(owner, {"contract.pdf": os.urandom(500)})
        url = f"/api/v1/documents/{doc.id}/signature-requests"
        stages = [{"participants": [{"email": director.email, "role": "sign"}]}]
        created = await world.http.post(url, json={"stages": stages, "reminder_seconds": 3600}, headers=owner.headers)
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]
        delegate = f"deputy-{uuid.uuid4().hex[:8]}@counterparty.kz"
        handed = await world.http.post(f"{url}/{request_id}/delegate", json={"email": delegate},
                                       headers=director.headers)
        assert handed.status_code == 202, handed.text
        await eventually(lambda: invitations(route_events, request_id, delegate, reminder=False) or None,
                         timeout=30, what="the delegate's first link")
        # the hour passes: the next reminder is due now
        await world.db.signature_requests.update_one({"_id": request_id},
                                                     {"$set": {"next_reminder_at": datetime.now(UTC)}})
        reminded = await eventually(lambda: invitations(route_events, request_id, delegate, reminder=True) or None,
                                    timeout=30, what="a reminder to the delegate")
        await route_events.wait_for("signature.requested", lambda e: e.data["request_id"] == request_id
                                    and e.data["reminder"] and e.data["signer"]["user_id"] == director.id)
        view = await outsider_session(world, route_events, request_id, token_of(reminded[-1]))
        assert view["signer_id"].endswith(":d")  # acting as the director's delegate
