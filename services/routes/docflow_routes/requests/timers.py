"""The routes' clock: expiry, reminders of the open stage, and the repair pass, one tick at a time.

Every transition is an ``outbox_rev``-guarded update, so with several replicas one wins it and
the others skip (the next pass retries what lost a race)."""

from __future__ import annotations

import logging
from datetime import datetime

from docflow_routes.projection.repository import ProjectionRepository
from docflow_routes.requests import events
from docflow_routes.requests.lifecycle import RequestLifecycle, title_of
from docflow_routes.requests.repository import SignatureRequestRepository
from docflow_routes.requests.stages import role_of, rules_of, stage_of, your_turn
from docflow_shared.events import Event
from docflow_shared.mongo import utc_now
from docflow_shared.outbox import StaleDocument, Whole

logger = logging.getLogger(__name__)


class RouteTimers:
    def __init__(self, *, lifecycle: RequestLifecycle, repository: SignatureRequestRepository,
                 projection: ProjectionRepository) -> None:
        self.lifecycle = lifecycle
        self.repository = repository
        self.projection = projection
        self.make_event = lifecycle.make_event
        self.reminder_limit = lifecycle.reminder_limit
        self._repair_after: str | None = None

    async def tick(self) -> None:
        """One pass of the background loop: expire, remind, and settle the next batch of open requests
        (which repairs a signature stored without its signer entry being marked, e.g. after a crash)."""
        now = utc_now()
        for request in await self.repository.expired(now):
            await self._expire(request, now)
        for request in await self.repository.due_reminders(now):
            await self._remind(request, now)
        batch = await self.repository.open_requests(after=self._repair_after)
        for unsettled in batch:
            await self.lifecycle.settle(unsettled["_id"])
        self._repair_after = batch[-1]["_id"] if len(batch) == 100 else None

    async def _expire(self, request: Whole, now: datetime) -> None:
        entries = await self.repository.signers_of(request["_id"])
        pending = [await self.lifecycle.person_of(e) for e in entries if e["status"] == "pending"]
        document = await self.projection.document(request["document_id"])
        owner = await self.projection.person(request["owner_id"])
        event = events.expired(request, title=title_of(document), owner=owner,
                               pending=pending)
        route_expired = events.route_expired(request, title=title_of(document), owner=owner, pending=pending, at=now)
        try:
            await self.lifecycle.write(
                request, entries, {"status": "expired", "closed_at": now, "close_reason": "expired"},
                [self.make_event(event), self.make_event(route_expired)],
            )
        except StaleDocument:
            logger.info("request %s changed while expiring; the next pass retries", request["_id"])

    async def _remind(self, request: Whole, now: datetime) -> None:
        """Remind the open stage's pending participants: signers through ``signature.requested``,
        approvers through ``route.stage_opened``, people outside DocFlow (participants and the
        delegates of an active delegation) through ``route.external_invited`` with a fresh link
        (all with ``reminder``); at most ``reminder_limit`` times per stage, then no more."""
        entries = await self.repository.signers_of(request["_id"])
        waiting = [e for e in entries if your_turn(request, entries, e)]
        due = [e for e in waiting if e["user_id"] is not None]
        document = await self.projection.document(request["document_id"])
        title = title_of(document)
        owner = await self.projection.person(request["owner_id"])
        outsiders: list[Event] = []
        for entry in waiting:
            outsiders += await self.lifecycle.links(request, entry, title=title, owner=owner, reminder=True)
        reminders = [
            self.make_event(events.requested(request, title=title, owner=owner,
                                             signer=await self.projection.person(str(e["user_id"])), reminder=True))
            for e in due if role_of(e) == "sign"
        ]
        approvers = [e for e in due if role_of(e) == "approve"]
        if approvers:
            stage = stage_of(request, approvers[0])
            people = {e["_id"]: await self.lifecycle.person_of(e) for e in approvers}
            reminders.append(self.make_event(events.stage_opened(
                request, title=title, owner=owner, stage=stage, rule=rules_of(request, entries)[stage],
                entries=approvers, people=people, reminder=True)))
        reminders += outsiders
        sent = int(request.get("reminders_sent") or 0) + 1
        following = now + self.lifecycle.interval(request) if sent < self.reminder_limit else None
        try:
            await self.repository.update(request, {"next_reminder_at": following, "reminders_sent": sent}, reminders)
        except StaleDocument:
            logger.info("request %s changed while reminding; the next pass retries", request["_id"])
