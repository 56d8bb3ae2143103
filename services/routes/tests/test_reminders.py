"""Reminders per open stage, at the request's own interval, at most ROUTES_REMINDER_LIMIT of them."""

from __future__ import annotations

import asyncio
import os

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
