"""The outbox: events stored with the change, published by the relay, cleared by revision."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.events import EventTap
from docflow_shared.bus import EventBus
from docflow_shared.events.catalogue import UserEmailVerified
from docflow_shared.events.envelope import new_event
from docflow_shared.mongo import Document
from docflow_shared.outbox import Outbox, StaleDocument, Whole, read_one, retry_stale
from docflow_shared.relay import LEASE, LEASE_UNTIL, PAUSE, PAUSE_CHECK_SECONDS, PAUSE_ID, OutboxRelay


def verified(user: str):  # type: ignore[no-untyped-def]
    return new_event(UserEmailVerified(user_id=user, email=f"{user}@example.com"), producer="auth")


class TestOutboxWrites:
    async def test_update_with_stale_revision_is_refused(self, db: AsyncDatabase[Document]) -> None:
        outbox = Outbox()
        await outbox.insert(db.users, {"_id": "u1", "name": "a"}, [verified("u1")])
        current = await read_one(db.users, {"_id": "u1"})
        assert current is not None
        await outbox.update(db.users, current, {"name": "b"}, [verified("u1")])
        try:
            await outbox.update(db.users, current, {"name": "c"})
        except StaleDocument:
            pass
        else:
            raise AssertionError("a write based on a stale read must be refused")
        stored = await db.users.find_one({"_id": "u1"})
        assert stored is not None and stored["name"] == "b" and len(stored["outbox"]) == 2

    async def test_a_copy_read_with_a_projection_cannot_replace_the_record(self, db: AsyncDatabase[Document]) -> None:
        outbox = Outbox()
        await outbox.insert(db.files, {"_id": "f1", "name": "a.pdf", "size": 3, "key": "k1"})
        partial = await db.files.find_one({"_id": "f1"}, {"key": 1, "outbox_rev": 1})
        assert partial is not None
        with pytest.raises(TypeError):
            await outbox.update(db.files, partial, {"key": "k2"})  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Whole(partial)
        stored = await db.files.find_one({"_id": "f1"})
        assert stored is not None and stored["name"] == "a.pdf" and stored["key"] == "k1"

    async def test_retry_stale_rereads_and_applies(self, db: AsyncDatabase[Document]) -> None:
        outbox = Outbox()
        await outbox.insert(db.counters, {"_id": "c", "n": 0})

        async def increment() -> None:
            current = await read_one(db.counters, {"_id": "c"})
            assert current is not None
            await asyncio.sleep(0)
            await outbox.update(db.counters, current, {"n": current["n"] + 1})

        await asyncio.gather(*(retry_stale(increment) for _ in range(5)))
        stored = await db.counters.find_one({"_id": "c"})
        assert stored is not None and stored["n"] == 5


class TestRelay:
    async def test_relay_publishes_pending_events_and_clears_them(
        self, db: AsyncDatabase[Document], amqp_url: str, namespace: str
    ) -> None:
        bus = EventBus(amqp_url=amqp_url, service="relay-test", namespace=namespace)
        await bus.start()
        assert await bus.wait_ready(15)
        relay = OutboxRelay(bus, [db.users], poll_seconds=0.1)
        outbox = Outbox(relay)
        try:
            async with EventTap(amqp_url, namespace) as tap:
                first, second = verified("a"), verified("b")
                await outbox.insert(db.users, {"_id": "a"}, [first])
                await outbox.insert(db.users, {"_id": "b"}, [second])
                assert await relay.drain() == 2
                await tap.wait_for(UserEmailVerified.TYPE, lambda e: e.id == first.id)
                await tap.wait_for(UserEmailVerified.TYPE, lambda e: e.id == second.id)
            assert await db.users.count_documents({"outbox_pending": True}) == 0
            assert await relay.drain() == 0
        finally:
            await bus.close()

    async def test_soft_deleted_document_is_purged_after_publication(
        self, db: AsyncDatabase[Document], amqp_url: str, namespace: str
    ) -> None:
        bus = EventBus(amqp_url=amqp_url, service="relay-purge", namespace=namespace)
        await bus.start()
        assert await bus.wait_ready(15)
        relay = OutboxRelay(bus, [db.users])
        outbox = Outbox(relay)
        try:
            await outbox.insert(db.users, {"_id": "gone"})
            current = await read_one(db.users, {"_id": "gone"})
            assert current is not None
            await outbox.update(db.users, current, {"deleted": True}, [verified("gone")], purge_when_published=True)
            assert await db.users.find_one({"_id": "gone"}) is not None
            await relay.drain()
            assert await db.users.find_one({"_id": "gone"}) is None
        finally:
            await bus.close()

    async def test_events_wait_while_the_broker_is_unreachable(self, db: AsyncDatabase[Document]) -> None:
        bus = EventBus(amqp_url="amqp://guest:guest@127.0.0.1:1/", service="down")
        relay = OutboxRelay(bus, [db.users])
        outbox = Outbox(relay)
        await outbox.insert(db.users, {"_id": "kept"}, [verified("kept")])
        try:
            await relay.drain()
        except Exception as exc:
            assert type(exc).__name__ == "BrokerUnavailable"
        stored = await db.users.find_one({"_id": "kept"})
        assert stored is not None and stored["outbox_pending"] and len(stored["outbox"]) == 1


class TestBackupPause:
    async def test_the_relay_publishes_nothing_while_a_backup_pauses_it_and_catches_up_after(
        self, db: AsyncDatabase[Document], amqp_url: str, namespace: str
    ) -> None:
        bus = EventBus(amqp_url=amqp_url, service="relay-pause", namespace=namespace)
        await bus.start()
        assert await bus.wait_ready(15)
        relay = OutboxRelay(bus, [db.users])
        try:
            await Outbox().insert(db.users, {"_id": "p"}, [verified("p")])
            await db[PAUSE].insert_one({"_id": PAUSE_ID, "until": datetime.now(UTC) + timedelta(minutes=1)})
            assert await relay.drain() == 0
            assert await db.users.count_documents({"outbox_pending": True}) == 1
            await db[PAUSE].replace_one({"_id": PAUSE_ID}, {"until": datetime.now(UTC) - timedelta(seconds=1)})
            await asyncio.sleep(PAUSE_CHECK_SECONDS)  # the relay asks again this often
            assert await relay.drain() == 1  # a pause past its limit (a backup that died) holds nothing back
        finally:
            await bus.close()


class TestTypesAndPaths:
    async def test_dates_booleans_and_dotted_paths_survive_an_update(self, db: AsyncDatabase[Document]) -> None:
        from datetime import UTC, datetime, timedelta

        outbox = Outbox()
        await outbox.insert(db.users, {"_id": "t", "verification": {"attempts": 0, "code": "x"}, "flag": False})
        current = await read_one(db.users, {"_id": "t"})
        assert current is not None
        until = datetime.now(UTC) + timedelta(minutes=15)
        saved = await outbox.update(db.users, current, {"locked_until": until, "flag": True,
                                                        "verification.attempts": 2}, unset=["verification.code"])
        stored = await db.users.find_one({"_id": "t"})
        assert stored is not None and set(stored) == set(saved)
        assert stored is not None and stored["flag"] is True
        assert stored["verification"] == {"attempts": 2}
        assert isinstance(stored["locked_until"], datetime)
        assert await db.users.count_documents({"locked_until": {"$gt": datetime.now(UTC)}}) == 1


class TestRelayRace:
    async def test_a_document_changed_after_publication_keeps_only_its_new_events(
        self, db: AsyncDatabase[Document]
    ) -> None:
        bus = EventBus(amqp_url="amqp://guest:guest@127.0.0.1:1/", service="race")
        relay = OutboxRelay(bus, [db.users])
        outbox = Outbox()
        first, second = verified("r1"), verified("r2")
        await outbox.insert(db.users, {"_id": "race"}, [first])
        published = await read_one(db.users, {"_id": "race"})
        assert published is not None
        await outbox.update(db.users, published, {"name": "changed"}, [second])
        await relay._clear(db.users, [(published, {str(first.id)})])
        stored = await db.users.find_one({"_id": "race"})
        assert stored is not None
        assert [e["id"] for e in stored["outbox"]] == [str(second.id)]
        assert stored["outbox_pending"] and stored["name"] == "changed"


class TestRelayReplicas:
    """Replicas of a service each run a relay over the same collections (docs/architecture.md,
    "Replicas"): a document is published by the relay that claimed it, never by two."""

    async def test_two_relays_draining_together_publish_each_entry_once(
        self, db: AsyncDatabase[Document], amqp_url: str, namespace: str
    ) -> None:
        buses = [EventBus(amqp_url=amqp_url, service=f"relay-replica-{n}", namespace=namespace) for n in (1, 2)]
        for bus in buses:
            await bus.start()
            assert await bus.wait_ready(15)
        relays = [OutboxRelay(bus, [db.users], batch=20) for bus in buses]
        outbox = Outbox()
        events = [verified(f"rep{n}") for n in range(120)]
        try:
            async with EventTap(amqp_url, namespace) as tap:
                for n, event in enumerate(events):
                    await outbox.insert(db.users, {"_id": f"rep{n}"}, [event])
                for _round in range(3):
                    counts = await asyncio.gather(*(relay.drain() for relay in relays))
                    if sum(counts) == 0:
                        break
                wanted = {str(e.id) for e in events}

                def all_seen() -> bool:
                    return wanted <= {str(e.id) for e in tap.events}

                await eventually(all_seen, timeout=30)
                ids = [str(e.id) for e in tap.events if str(e.id) in wanted]
            assert sorted(ids) == sorted(wanted), "an entry was published twice or never"
            assert await db.users.count_documents({"outbox_pending": True}) == 0
            assert await db.users.count_documents({LEASE: {"$exists": True}}) == 0
        finally:
            for bus in buses:
                await bus.close()

    async def test_a_claim_held_by_a_dead_relay_is_taken_over_once_its_lease_ends(
        self, db: AsyncDatabase[Document], amqp_url: str, namespace: str
    ) -> None:
        bus = EventBus(amqp_url=amqp_url, service="relay-takeover", namespace=namespace)
        await bus.start()
        assert await bus.wait_ready(15)
        relay = OutboxRelay(bus, [db.users])
        outbox = Outbox()
        event = verified("held")
        await outbox.insert(db.users, {"_id": "held"}, [event])
        now = datetime.now(UTC)
        # another replica claimed it and died: while its lease lasts, nothing is published, nor
        # while a lease taken before leases were dates (epoch milliseconds) lasts
        await db.users.update_one({"_id": "held"}, {"$set": {LEASE: "dead-relay",
                                                             LEASE_UNTIL: now + timedelta(seconds=60)},
                                                    "$inc": {"outbox_rev": 1}})
        try:
            async with EventTap(amqp_url, namespace) as tap:
                assert await relay.drain() == 0
                await db.users.update_one({"_id": "held"}, {"$set": {LEASE_UNTIL: int(now.timestamp() * 1000) + 60_000},
                                                            "$inc": {"outbox_rev": 1}})
                assert await relay.drain() == 0
                await db.users.update_one({"_id": "held"}, {"$set": {LEASE_UNTIL: now - timedelta(seconds=1)},
                                                            "$inc": {"outbox_rev": 1}})
                assert await relay.drain() == 1
                await tap.wait_for(UserEmailVerified.TYPE, lambda e: e.id == event.id)
            stored = await db.users.find_one({"_id": "held"})
            assert stored is not None and not stored["outbox_pending"] and LEASE not in stored
        finally:
            await bus.close()
