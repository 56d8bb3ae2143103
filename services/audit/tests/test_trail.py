"""The trail's chain on the real database: appends from several replicas at once never fork a
chain, a redelivered event is recorded once, and any edit or gap shows."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pymongo.asynchronous.database import AsyncDatabase

from docflow_audit.access.repository import AccessRepository
from docflow_audit.access.service import AccessService
from docflow_audit.trail.chain import GENESIS, chain_problems, record_hash
from docflow_audit.trail.repository import TrailRepository
from docflow_audit.trail.service import TrailService
from docflow_shared.errors import NotFound
from docflow_shared.events import Client, Event, new_event
from docflow_shared.events.catalogue import DocumentViewed
from docflow_shared.events.producers import producer_of
from docflow_shared.mongo import Document, create_client


@pytest_asyncio.fixture(loop_scope="session")
async def database(mongo_url: str, run_id: str) -> AsyncIterator[str]:
    name = f"t{run_id}_audit_{uuid.uuid4().hex[:6]}"
    yield name
    client = create_client(mongo_url)
    await client.drop_database(name)
    await client.close()


async def replica(mongo_url: str, database: str) -> tuple[TrailService, AsyncDatabase[Document]]:
    """A trail service on a client of its own, as another process would have."""
    db = create_client(mongo_url)[database]
    trail = TrailRepository(db)
    await trail.create_indexes()
    return TrailService(trail, AccessService(AccessRepository(db)), append_attempts=500,
                        export_max_records=10_000), db


def view(document_id: str, n: int) -> Any:
    payload = DocumentViewed(document_id=document_id, owner_id="u-owner", viewer_id=f"u-{n}",
                             client=Client(ip="192.0.2.1", user_agent="test", request_id=f"r{n}"))
    return new_event(payload, producer=producer_of(payload.TYPE) or "")


async def stored(db: AsyncDatabase[Document], document_id: str) -> list[dict[str, Any]]:
    return await db["records"].find({"document_id": document_id}, {"_id": 0}).sort("seq", 1).to_list()


class TestAppend:
    async def test_two_replicas_appending_at_once_keep_one_chain(self, mongo_url: str, database: str) -> None:
        (first, db), (second, _) = await replica(mongo_url, database), await replica(mongo_url, database)
        document_id = uuid.uuid4().hex
        events = [view(document_id, n) for n in range(40)]
        await asyncio.gather(*(
            (first if n % 2 else second).record(event) for n, event in enumerate(events)))
        records = await stored(db, document_id)
        assert [r["seq"] for r in records] == list(range(1, 41))
        assert {r["event_id"] for r in records} == {str(e.id) for e in events}
        assert chain_problems(document_id, records, await db["heads"].find_one({"_id": document_id})) == []

    async def test_a_redelivered_event_is_recorded_once(self, mongo_url: str, database: str) -> None:
        (trail, db) = await replica(mongo_url, database)
        document_id = uuid.uuid4().hex
        event = view(document_id, 1)
        await asyncio.gather(trail.record(event), trail.record(event))
        await trail.record(event)
        records = await stored(db, document_id)
        assert len(records) == 1 and records[0]["prev_hash"] == GENESIS

    async def test_the_trail_is_read_by_the_owner_only(self, mongo_url: str, database: str) -> None:
        (trail, _db) = await replica(mongo_url, database)
        document_id = uuid.uuid4().hex
        await trail.record(view(document_id, 1))
        page = await trail.page(user_id="u-owner", document_id=document_id, cursor=None, limit=10)
        assert [r.actor.user_id for r in page.items if r.actor] == ["u-1"]
        with pytest.raises(NotFound):  # a viewer who is no participant
            await trail.page(user_id="u-1", document_id=document_id, cursor=None, limit=10)


class TestChain:
    def chain(self, document_id: str, length: int) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        previous = GENESIS
        for seq in range(1, length + 1):
            record = {"document_id": document_id, "seq": seq, "event_id": str(uuid.uuid4()),
                      "event_type": "document.viewed", "action": "viewed", "occurred_at": "2026-12-04T08:00:00+00:00",
                      "recorded_at": "2026-12-04T08:00:01+00:00", "actor": {"user_id": "u1", "email": "", "name": ""},
                      "on_behalf_of": None, "client": {"ip": "", "user_agent": "", "request_id": ""},
                      "details": {}, "prev_hash": previous}
            record["hash"] = previous = record_hash(record)
            records.append(record)
        return records

    def test_an_intact_chain_has_no_problem(self) -> None:
        records = self.chain("d1", 4)
        assert chain_problems("d1", records, {"seq": 4, "hash": records[-1]["hash"]}) == []

    def test_an_edit_a_gap_a_swap_and_a_cut_tail_show(self) -> None:
        records = self.chain("d1", 4)
        edited = copy.deepcopy(records)
        edited[1]["actor"]["user_id"] = "u2"
        assert any("edited" in p for p in chain_problems("d1", edited))
        assert chain_problems("d1", records[:1] + records[2:])
        assert chain_problems("d1", [records[1], records[0], *records[2:]])
        assert chain_problems("d1", records[:3], {"seq": 4, "hash": records[-1]["hash"]})
        assert chain_problems("d2", records)


def route_event(event_type: str, data: dict[str, Any]) -> Event:
    """A ``route.*`` event as routes publishes it (its payload classes are routes' own)."""
    return Event(type=event_type, producer="routes", data=data, correlation_id="req-route")


def person(user_id: str, name: str = "") -> dict[str, str]:
    return {"user_id": user_id, "email": f"{user_id}@example.kz", "full_name": name, "locale": "en"}


class TestRouteEvents:
    async def test_route_actions_are_recorded_by_name_with_who_for_whom_and_from_where(
        self, mongo_url: str, database: str
    ) -> None:
        (trail, db) = await replica(mongo_url, database)
        doc = uuid.uuid4().hex
        base = {"request_id": "r1", "document_id": doc, "title": "Contract", "owner": person("u-owner")}
        origin = {"ip": "198.51.100.4", "user_agent": "browser/1", "request_id": "req-approve"}
        await trail.record(route_event("route.stage_opened", {**base, "stage": 1, "rule": "all", "participants": [
            {"person": person("u-lawyer"), "role": "approve", "stage": 1}]}))
        await trail.record(route_event("route.approved", {**base, "stage": 1, "actor": person("u-lawyer"),
                                                          "origin": origin, "approved_at": "2026-12-04T08:00:00Z"}))
        await trail.record(route_event("route.delegated", {**base, "delegator": person("u-director"),
                                                           "delegate": person("u-deputy"), "role": "sign"}))
        await trail.record(route_event("route.declined", {
            **base, "stage": 2, "actor": person("u-deputy"), "on_behalf_of": person("u-director"),
            "reason": "Wrong amount", "participants": [person("u-lawyer")], "declined_at": "2026-12-04T09:00:00Z"}))

        records = await stored(db, doc)
        assert [r["action"] for r in records] == ["stage_opened", "approved", "delegated", "declined"]
        approved, delegated, declined = records[1], records[2], records[3]
        assert approved["actor"]["user_id"] == "u-lawyer"
        assert approved["client"] == origin
        assert delegated["actor"]["user_id"] == "u-director"
        assert delegated["details"]["delegate"]["user_id"] == "u-deputy"
        assert declined["actor"]["user_id"] == "u-deputy" and declined["on_behalf_of"]["user_id"] == "u-director"
        assert declined["details"]["reason"] == "Wrong amount"
        assert declined["client"]["request_id"] == "req-route"  # the event's correlation id
        assert chain_problems(doc, records) == []
        for participant in ("u-owner", "u-lawyer", "u-director", "u-deputy"):
            await trail.page(user_id=participant, document_id=doc, cursor=None, limit=10)
        with pytest.raises(NotFound):
            await trail.page(user_id="u-stranger", document_id=doc, cursor=None, limit=10)

    async def test_an_access_snapshot_is_no_record_but_lets_its_participants_read(
        self, mongo_url: str, database: str
    ) -> None:
        (trail, db) = await replica(mongo_url, database)
        doc = uuid.uuid4().hex
        await trail.record(route_event("route.access_changed", {
            "request_id": "r1", "document_id": doc, "owner_id": "u-owner", "version": 3, "open": True,
            "participants": [{"user_id": "u-cc", "access": "view"}, {"user_id": "u-gone", "access": "none"},
                             {"user_id": "u-deputy", "access": "sign", "on_behalf_of": "u-director"}]}))
        assert await stored(db, doc) == []
        for reader in ("u-owner", "u-cc", "u-deputy", "u-director"):
            await trail.page(user_id=reader, document_id=doc, cursor=None, limit=10)
        with pytest.raises(NotFound):
            await trail.page(user_id="u-gone", document_id=doc, cursor=None, limit=10)

    async def test_a_route_event_without_a_document_is_refused(self, mongo_url: str, database: str) -> None:
        (trail, _db) = await replica(mongo_url, database)
        with pytest.raises(ValueError, match="document_id"):
            await trail.record(route_event("route.approved", {"request_id": "r1"}))
