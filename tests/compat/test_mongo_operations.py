"""The MongoDB operations DocFlow relies on, pinned against whichever server the run uses.

Real MongoDB is the reference; the embedded MongoDB-wire server must pass these too. Every
repository in DocFlow keeps to this list. Operations known to misbehave on the embedded
server (``$push``/``$pull`` of objects, ``$elemMatch``, regex on arrays, multi-document
transactions, dates written by ``$set``, ``$ne`` in an update's filter on a field the document
lacks) are deliberately absent: DocFlow does not use them, and always writes the flags it filters
on.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from gridfs import AsyncGridFSBucket
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.mongo import Document, create_client


@pytest_asyncio.fixture(loop_scope="session")
async def db(mongo_url: str, run_id: str) -> AsyncIterator[AsyncDatabase[Document]]:
    client = create_client(mongo_url)
    database = client[f"t{run_id}_compat_{uuid.uuid4().hex[:6]}"]
    yield database
    await client.drop_database(database.name)
    await client.close()


class TestIndexes:
    async def test_unique_index_refuses_duplicates(self, db: AsyncDatabase[Document]) -> None:
        await db.users.create_index("email", unique=True)
        await db.users.insert_one({"_id": "a", "email": "a@x.kz"})
        with pytest.raises(DuplicateKeyError):
            await db.users.insert_one({"_id": "b", "email": "a@x.kz"})

    async def test_partial_unique_index_allows_many_missing(self, db: AsyncDatabase[Document]) -> None:
        await db.users.create_index("phone", unique=True, partialFilterExpression={"phone": {"$type": "string"}})
        await db.users.insert_one({"_id": "a", "phone": None})
        await db.users.insert_one({"_id": "b", "phone": None})
        await db.users.insert_one({"_id": "c", "phone": "+77011234567"})
        with pytest.raises(DuplicateKeyError):
            await db.users.insert_one({"_id": "d", "phone": "+77011234567"})

    async def test_compound_unique_index(self, db: AsyncDatabase[Document]) -> None:
        await db.deliveries.create_index([("event_id", ASCENDING), ("recipient", ASCENDING)], unique=True)
        await db.deliveries.insert_one({"event_id": "e", "recipient": "a"})
        await db.deliveries.insert_one({"event_id": "e", "recipient": "b"})
        with pytest.raises(DuplicateKeyError):
            await db.deliveries.insert_one({"event_id": "e", "recipient": "a"})


class TestUpdates:
    async def test_guarded_set_of_a_list_of_objects_keeps_them_objects(self, db: AsyncDatabase[Document]) -> None:
        await db.docs.insert_one({"_id": "d", "outbox": [], "outbox_rev": 0})
        events = [{"id": "e1", "data": {"nested": [1, {"k": "v"}]}}]
        result = await db.docs.update_one({"_id": "d", "outbox_rev": 0},
                                          {"$set": {"outbox": events, "outbox_pending": True, "outbox_rev": 1}})
        assert result.matched_count == 1
        stale = await db.docs.update_one({"_id": "d", "outbox_rev": 0}, {"$set": {"outbox": []}})
        assert stale.matched_count == 0
        stored = await db.docs.find_one({"_id": "d"})
        assert stored is not None and stored["outbox"] == events and stored["outbox_rev"] == 1

    async def test_boolean_written_by_update_matches_a_boolean_query(self, db: AsyncDatabase[Document]) -> None:
        await db.docs.insert_one({"_id": "b", "flag": False})
        await db.docs.update_one({"_id": "b"}, {"$set": {"flag": True}})
        assert [d["_id"] async for d in db.docs.find({"flag": True})] == ["b"]
        stored = await db.docs.find_one({"_id": "b"})
        assert stored is not None and bool(stored["flag"]) is True

    async def test_inc_unset_and_find_one_and_update(self, db: AsyncDatabase[Document]) -> None:
        await db.docs.insert_one({"_id": "c", "n": 1, "tmp": "x"})
        after = await db.docs.find_one_and_update({"_id": "c"}, {"$inc": {"n": 2}, "$unset": {"tmp": ""}},
                                                  return_document=ReturnDocument.AFTER)
        assert after == {"_id": "c", "n": 3}

    async def test_upsert_with_set_on_insert(self, db: AsyncDatabase[Document]) -> None:
        for name in ("first", "second"):
            await db.people.update_one({"_id": "p"}, {"$set": {"name": name}, "$setOnInsert": {"created": 1}},
                                       upsert=True)
        assert await db.people.find_one({"_id": "p"}) == {"_id": "p", "name": "second", "created": 1}

    async def test_conditional_delete(self, db: AsyncDatabase[Document]) -> None:
        await db.docs.insert_one({"_id": "x", "outbox_rev": 2})
        assert (await db.docs.delete_one({"_id": "x", "outbox_rev": 1})).deleted_count == 0
        assert (await db.docs.delete_one({"_id": "x", "outbox_rev": 2})).deleted_count == 1


class TestQueries:
    async def test_keyset_pagination_by_date_and_id(self, db: AsyncDatabase[Document]) -> None:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        await db.items.insert_many([{"_id": f"i{n:02d}", "owner": "u", "at": start + timedelta(minutes=n // 2)}
                                    for n in range(10)])
        page = await db.items.find({"owner": "u"}).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(3).to_list()
        assert [d["_id"] for d in page] == ["i09", "i08", "i07"]
        last = page[-1]
        after = {"owner": "u", "$or": [{"at": {"$lt": last["at"]}}, {"at": last["at"], "_id": {"$lt": last["_id"]}}]}
        nxt = await db.items.find(after).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(3).to_list()
        assert [d["_id"] for d in nxt] == ["i06", "i05", "i04"]

    async def test_case_insensitive_prefix_regex_on_strings(self, db: AsyncDatabase[Document]) -> None:
        await db.users.insert_many([{"_id": 1, "email": "anna@x.kz"}, {"_id": 2, "email": "boris@x.kz"}])
        found = await db.users.find({"email": {"$regex": "^AN", "$options": "i"}}).to_list()
        assert [d["_id"] for d in found] == [1]

    async def test_in_ne_exists_and_dates(self, db: AsyncDatabase[Document]) -> None:
        now = datetime.now(UTC)
        await db.tokens.insert_many([
            {"_id": 1, "family": "f", "expires_at": now + timedelta(hours=1)},
            {"_id": 2, "family": "f", "expires_at": now - timedelta(hours=1), "revoked_at": now},
            {"_id": 3, "family": "g", "expires_at": now + timedelta(hours=1)},
        ])
        live = await db.tokens.find({"family": {"$in": ["f", "g"]}, "revoked_at": {"$exists": False},
                                     "expires_at": {"$gt": now}, "_id": {"$ne": 3}}).to_list()
        assert [d["_id"] for d in live] == [1]
        stored = await db.tokens.find_one({"_id": 1})
        assert stored is not None and stored["expires_at"].tzinfo is not None

    async def test_count_documents_on_an_existing_collection(self, db: AsyncDatabase[Document]) -> None:
        await db.counted.insert_many([{"k": 1}, {"k": 1}, {"k": 2}])
        assert await db.counted.count_documents({"k": 1}) == 2

    async def test_update_many_and_delete_many(self, db: AsyncDatabase[Document]) -> None:
        await db.shares.insert_many([{"doc": "d", "user": u} for u in "abc"])
        assert (await db.shares.update_many({"doc": "d"}, {"$set": {"revoked": True}})).modified_count == 3
        assert (await db.shares.delete_many({"doc": "d", "user": {"$in": ["a", "b"]}})).deleted_count == 2


class TestGridFS:
    async def test_round_trip_of_a_multi_chunk_file(self, db: AsyncDatabase[Document]) -> None:
        bucket = AsyncGridFSBucket(db, bucket_name="blobs")
        data = bytes(range(256)) * 2000
        file_id = await bucket.upload_from_stream("f.bin", data, chunk_size_bytes=65536)
        stream = await bucket.open_download_stream(file_id)
        assert await stream.read() == data
        await bucket.delete(file_id)
        assert await db["blobs.files"].find_one({"_id": file_id}) is None


class TestConditionalWrites:
    async def test_update_guarded_by_an_age_and_a_flag_written_by_update(self, db: AsyncDatabase[Document]) -> None:
        await db.people.insert_one({"_id": "p", "event_us": 5, "deleted": False})
        newer = {"_id": "p", "event_us": {"$lte": 7}, "deleted": {"$ne": True}}
        assert (await db.people.update_one(newer, {"$set": {"event_us": 7}})).matched_count == 1
        older = {"_id": "p", "event_us": {"$lte": 6}, "deleted": {"$ne": True}}
        assert (await db.people.update_one(older, {"$set": {"event_us": 6}})).matched_count == 0
        await db.people.update_one({"_id": "p"}, {"$set": {"deleted": True}})
        later = {"_id": "p", "event_us": {"$lte": 9}, "deleted": {"$ne": True}}
        assert (await db.people.update_one(later, {"$set": {"event_us": 9}})).matched_count == 0

    async def test_delete_guarded_by_an_epoch_float_written_by_update(self, db: AsyncDatabase[Document]) -> None:
        """The upload sweeper takes an idle upload by the refresh time it read (documents)."""
        await db.uploads.insert_one({"_id": "u", "touched_at": 1_790_000_000.123456})
        await db.uploads.update_one({"_id": "u"}, {"$set": {"touched_at": 1_790_000_100.654321}})
        [idle] = await db.uploads.find({"touched_at": {"$lt": 1_790_000_200.0}}).sort("touched_at", 1).to_list()
        assert (await db.uploads.delete_one({"_id": "u", "touched_at": 1_790_000_000.123456})).deleted_count == 0
        assert (await db.uploads.delete_one({"_id": "u", "touched_at": idle["touched_at"]})).deleted_count == 1

    async def test_conditional_upsert_orders_by_an_integer_age(self, db: AsyncDatabase[Document]) -> None:
        async def apply(name: str, age: int) -> bool:
            try:
                await db.projection.update_one({"_id": "x", "deleted": {"$ne": True}, "event_us": {"$lte": age}},
                                               {"$set": {"name": name, "event_us": age, "deleted": False}},
                                               upsert=True)
                return True
            except DuplicateKeyError:
                return False

        assert await apply("first", 100)
        assert await apply("second", 200)
        assert not await apply("stale", 150)
        stored = await db.projection.find_one({"_id": "x"})
        assert stored is not None and stored["name"] == "second"
