"""The MongoDB operations DocFlow relies on, pinned against whichever server the run uses.

Real MongoDB is the reference; the embedded MongoDB-wire server must pass these too. Every
repository in DocFlow keeps to this list. Operations known to misbehave on the embedded
server (``$push``/``$pull`` of objects, ``$elemMatch``, regex on arrays, multi-document
transactions, dates compared after ``$set`` wrote them, ``$ne`` in an update's filter on a field the document
lacks, ``$or`` in an update's filter, which reports a match and writes nothing when a tombstone
shares the collection) are deliberately absent: DocFlow does not use them, and always writes
the flags it filters on.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from gridfs import AsyncGridFSBucket
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_shared.mongo import (
    NOT_DELETED,
    Document,
    count_in_window,
    drop_unique_index,
    ensure_expiry,
    ensure_index,
    migrate_times,
    stored_datetime,
    unique_when_set,
    update_first,
    utc_now,
)


class TestIndexes:
    async def test_unique_index_refuses_duplicates(self, db: AsyncDatabase[Document]) -> None:
        await db.users.create_index("email", unique=True)
        await db.users.insert_one({"_id": "a", "email": "a@x.kz"})
        with pytest.raises(DuplicateKeyError):
            await db.users.insert_one({"_id": "b", "email": "a@x.kz"})

    async def test_compound_unique_index_refuses_a_taken_pair_only(self, db: AsyncDatabase[Document]) -> None:
        """audit's chains: one record per (document_id, seq); the same seq in another chain is fine."""
        await db.records.create_index([("document_id", 1), ("seq", 1)], unique=True)
        await db.records.insert_one({"_id": "a", "document_id": "d1", "seq": 1})
        await db.records.insert_one({"_id": "b", "document_id": "d2", "seq": 1})
        await db.records.insert_one({"_id": "c", "document_id": "d1", "seq": 2})
        with pytest.raises(DuplicateKeyError):
            await db.records.insert_one({"_id": "d", "document_id": "d1", "seq": 2})
        last = await db.records.find_one({"document_id": "d1"}, sort=[("seq", -1)])
        assert last is not None and last["_id"] == "c"

    async def test_partial_unique_index_allows_many_missing(self, db: AsyncDatabase[Document]) -> None:
        await db.users.create_index("phone", unique=True, partialFilterExpression={"phone": {"$type": "string"}})
        await db.users.insert_one({"_id": "a", "phone": None})
        await db.users.insert_one({"_id": "b", "phone": None})
        await db.users.insert_one({"_id": "c", "phone": "+77011234567"})
        with pytest.raises(DuplicateKeyError):
            await db.users.insert_one({"_id": "d", "phone": "+77011234567"})

    async def test_unique_among_a_subset_through_a_field_only_it_carries(
        self, db: AsyncDatabase[Document]
    ) -> None:
        """The embedded server ignores a partial filter on a flag (``email_verified: true``), so
        auth keeps an e-mail unique among verified accounts through ``verified_email``, a field
        only verified accounts carry (``unique_when_set``)."""
        await db.users.create_index("verified_email", name="unique_verified_email",
                                    **unique_when_set("verified_email"))
        await db.users.create_index("email", name="email")
        await db.users.insert_one({"_id": "a", "email": "a@x.kz", "email_verified": False})
        await db.users.insert_one({"_id": "b", "email": "a@x.kz", "email_verified": False})
        await db.users.update_one({"_id": "a"}, {"$set": {"email_verified": True, "verified_email": "a@x.kz"}})
        with pytest.raises(DuplicateKeyError):
            await db.users.update_one({"_id": "b"}, {"$set": {"verified_email": "a@x.kz"}})
        with pytest.raises(DuplicateKeyError):
            await db.users.insert_one({"_id": "c", "email": "a@x.kz", "verified_email": "a@x.kz"})
        waiting = db.users.find({"email": "a@x.kz", "email_verified": False, "verified_email": {"$exists": False}})
        assert [d["_id"] async for d in waiting] == ["b"]
        await db.users.update_one({"_id": "a"}, {"$unset": {"verified_email": ""}})
        await db.users.update_one({"_id": "b"}, {"$set": {"verified_email": "a@x.kz"}})

    async def test_unique_index_dropped_by_its_listed_name(self, db: AsyncDatabase[Document]) -> None:
        """The embedded server names indexes after their keys whatever name was asked for: an
        index is found by its key in ``list_indexes`` and dropped by the name listed there."""
        await db.users.create_index("email", unique=True, name="unique_email")
        listed = [ix async for ix in await db.users.list_indexes() if dict(ix["key"]) == {"email": 1}]
        assert len(listed) == 1 and listed[0].get("unique") is True, listed
        await drop_unique_index(db.users, "email")
        await db.users.create_index("email", name="email")
        await db.users.insert_one({"_id": "a", "email": "a@x.kz"})
        await db.users.insert_one({"_id": "b", "email": "a@x.kz"})

    async def test_compound_unique_index(self, db: AsyncDatabase[Document]) -> None:
        await db.deliveries.create_index([("event_id", ASCENDING), ("recipient", ASCENDING)], unique=True)
        await db.deliveries.insert_one({"event_id": "e", "recipient": "a"})
        await db.deliveries.insert_one({"event_id": "e", "recipient": "b"})
        with pytest.raises(DuplicateKeyError):
            await db.deliveries.insert_one({"event_id": "e", "recipient": "a"})


class TestExpiry:
    """TTL indexes, as ``processed_events`` uses them (through ``docflow_shared.mongo``)."""

    async def test_documents_past_their_expiry_go(self, db: AsyncDatabase[Document]) -> None:
        await ensure_expiry(db.processed, "at", 3600)
        now = datetime.now(UTC)
        await db.processed.insert_many([{"_id": "old", "at": now - timedelta(hours=2)}, {"_id": "new", "at": now}])
        # MongoDB's TTL monitor deletes once a minute; the embedded server when the collection is read
        deadline = asyncio.get_running_loop().time() + 90
        while [d["_id"] async for d in db.processed.find({})] != ["new"]:
            assert asyncio.get_running_loop().time() < deadline, "the expired document stayed"
            await asyncio.sleep(1)

    async def test_the_expiry_can_be_changed_and_a_plain_index_become_one(self, db: AsyncDatabase[Document]) -> None:
        await db.processed.create_index([("at", ASCENDING)])
        await ensure_expiry(db.processed, "at", 3600)
        await ensure_expiry(db.processed, "at", 7200)
        await ensure_expiry(db.processed, "at", 7200)
        [index] = [i async for i in await db.processed.list_indexes() if dict(i["key"]) == {"at": 1}]
        assert index["expireAfterSeconds"] == 7200

    async def test_an_index_on_the_same_key_under_another_name_serves(self, db: AsyncDatabase[Document]) -> None:
        await db.docs.create_index([("outbox_pending", ASCENDING)])  # named outbox_pending_1
        await ensure_index(db.docs, "outbox_pending")
        keys = [dict(i["key"]) async for i in await db.docs.list_indexes()]
        assert keys.count({"outbox_pending": 1}) == 1


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

    async def test_counted_claim_with_a_limit_and_a_missing_field(self, db: AsyncDatabase[Document]) -> None:
        """The login lockout counts a password check only below the limit and while unlocked (auth)."""
        await db.users.insert_one({"_id": "u", "failed_logins": 0, "outbox_rev": 0, "deleted_at": None})
        claim = {"_id": "u", "deleted_at": None, "locked_until": None, "failed_logins": {"$lt": 2}}
        counted = [await db.users.find_one_and_update(claim, {"$inc": {"failed_logins": 1, "outbox_rev": 1}},
                                                      return_document=ReturnDocument.AFTER) for _ in range(3)]
        assert [c and c["failed_logins"] for c in counted] == [1, 2, None]
        await db.users.update_one({"_id": "u"}, {"$set": {"failed_logins": 0}})
        await db.users.replace_one({"_id": "u"}, {"failed_logins": 0, "locked_until": datetime.now(UTC)})
        assert await db.users.find_one_and_update(claim, {"$inc": {"failed_logins": 1}}) is None

    async def test_set_and_inc_in_one_update(self, db: AsyncDatabase[Document]) -> None:
        """documents' comments: an edit sets the body and moves the outbox revision at once."""
        await db.comments.insert_one({"_id": "c", "body": "old", "outbox_rev": 0})
        changed = await db.comments.update_one({"_id": "c"}, {"$set": {"body": "new"}, "$inc": {"outbox_rev": 1}})
        assert changed.matched_count == 1
        assert await db.comments.find_one({"_id": "c"}) == {"_id": "c", "body": "new", "outbox_rev": 1}

    async def test_guarded_upsert_that_finds_a_newer_document_is_a_duplicate(self, db: AsyncDatabase[Document]) -> None:
        """audit's chain heads: moved forward only; an older seq meets the stored _id and is refused."""
        await db.heads.update_one({"_id": "d", "seq": {"$lt": 5}}, {"$set": {"seq": 5}}, upsert=True)
        with pytest.raises(DuplicateKeyError):
            await db.heads.update_one({"_id": "d", "seq": {"$lt": 3}}, {"$set": {"seq": 3}}, upsert=True)
        assert await db.heads.find_one({"_id": "d"}) == {"_id": "d", "seq": 5}

    async def test_upsert_with_set_on_insert(self, db: AsyncDatabase[Document]) -> None:
        for name in ("first", "second"):
            await db.people.update_one({"_id": "p"}, {"$set": {"name": name}, "$setOnInsert": {"created": 1}},
                                       upsert=True)
        assert await db.people.find_one({"_id": "p"}) == {"_id": "p", "name": "second", "created": 1}

    async def test_conditional_delete(self, db: AsyncDatabase[Document]) -> None:
        await db.docs.insert_one({"_id": "x", "outbox_rev": 2})
        assert (await db.docs.delete_one({"_id": "x", "outbox_rev": 1})).deleted_count == 0
        assert (await db.docs.delete_one({"_id": "x", "outbox_rev": 2})).deleted_count == 1


    async def test_delete_guarded_by_an_owner_and_an_unexpired_date(self, db: AsyncDatabase[Document]) -> None:
        now = datetime.now(UTC)
        await db.challenges.insert_many([{"_id": "open", "user_id": "u", "expires_at": now + timedelta(minutes=5)},
                                         {"_id": "old", "user_id": "u", "expires_at": now - timedelta(seconds=1)}])
        live = {"user_id": "u", "expires_at": {"$gt": now}}
        assert (await db.challenges.delete_one({"_id": "open", "user_id": "v", "expires_at": {"$gt": now}})
                ).deleted_count == 0
        assert (await db.challenges.delete_one({"_id": "old", **live})).deleted_count == 0
        assert await db.challenges.count_documents(live) == 1
        assert (await db.challenges.delete_one({"_id": "open", **live})).deleted_count == 1
        assert (await db.challenges.delete_one({"_id": "open", **live})).deleted_count == 0

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

    async def test_the_soft_delete_filter_matches_null_and_missing(self, db: AsyncDatabase[Document]) -> None:
        await db.docs.insert_many([{"_id": 1, "deleted_at": None}, {"_id": 2},
                                   {"_id": 3, "deleted_at": datetime.now(UTC)}])
        await db.docs.update_one({"_id": 1}, {"$set": {"title": "kept"}})
        found = await db.docs.find({"_id": {"$in": [1, 2, 3]}, **NOT_DELETED}).sort("_id", ASCENDING).to_list()
        assert [d["_id"] for d in found] == [1, 2]

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

    async def test_compare_and_set_on_a_stored_version_or_a_missing_one(self, db: AsyncDatabase[Document]) -> None:
        await db.grants.insert_one({"_id": "legacy", "permission": "sign"})
        assert (await db.grants.update_one({"_id": "legacy", "version": None},
                                           {"$set": {"version": 5, "permission": None}})).matched_count == 1
        assert (await db.grants.update_one({"_id": "legacy", "version": 4},
                                           {"$set": {"version": 6}})).matched_count == 0
        assert (await db.grants.update_one({"_id": "legacy", "version": 5},
                                           {"$set": {"version": 6}})).matched_count == 1
        found = await db.grants.find({"_id": {"$in": ["legacy", "other"]}, "version": 6}).to_list()
        assert [g["_id"] for g in found] == ["legacy"]

    async def test_a_second_clock_beside_a_tombstone(self, db: AsyncDatabase[Document]) -> None:
        """The users projections order the proven address by ``address_us``, apart from the
        profile's ``event_us``: an upsert fills the second clock in on insert only, an entry
        without it is matched by ``$exists`` (never ``$or``, which misbehaves next to a
        tombstone on the embedded server), and lookups sort by it."""
        await db.users.create_index([("verified_email", ASCENDING)])
        await db.users.replace_one({"_id": "gone"}, {"_id": "gone", "deleted": True, "event_us": 7}, upsert=True)
        await db.users.update_one({"_id": "u", "deleted": {"$ne": True}, "event_us": {"$lte": 5}},
                                  {"$set": {"email": "u@x.kz", "deleted": False, "event_us": 5},
                                   "$setOnInsert": {"address_us": 0, "verified_email": None}}, upsert=True)
        newer = {"_id": "u", "deleted": {"$ne": True}, "address_us": {"$lte": 10}}
        proven = {"$set": {"verified_email": "u@x.kz", "address_us": 10}}
        assert (await db.users.update_one(newer, proven)).matched_count
        stale = {"_id": "u", "deleted": {"$ne": True}, "address_us": {"$lte": 9}}
        assert not (await db.users.update_one(stale, {"$set": {"verified_email": None, "address_us": 9}})).matched_count
        await db.users.insert_one({"_id": "legacy", "email": "u@x.kz", "deleted": False, "event_us": 3})
        unclocked = {"_id": "legacy", "deleted": {"$ne": True}, "address_us": {"$exists": False}}
        assert (await db.users.update_one(unclocked, {"$set": {"verified_email": "u@x.kz", "address_us": 12}})
                ).matched_count
        holders = await db.users.find({"verified_email": {"$in": ["u@x.kz"]}, "deleted": {"$ne": True}}).sort(
            "address_us", ASCENDING).to_list()
        assert [h["_id"] for h in holders] == ["u", "legacy"]
        assert (await db.users.find_one({"_id": "u"}) or {})["email"] == "u@x.kz"


class TestDates:
    """Times are BSON dates; ``docflow_shared.mongo`` says how each is written and read."""

    async def test_a_date_set_by_an_update_reads_back_as_the_same_moment(self, db: AsyncDatabase[Document]) -> None:
        """MongoDB keeps a date written by ``$set``; the embedded server keeps text, which
        ``stored_datetime`` reads as the same moment."""
        at = utc_now()
        await db.sessions.insert_one({"_id": "s", "revoked_at": None})
        await db.sessions.update_one({"_id": "s"}, {"$set": {"revoked_at": at}})
        stored = await db.sessions.find_one({"_id": "s"})
        assert stored is not None and stored_datetime(stored["revoked_at"]) == at
        assert await db.sessions.count_documents({"_id": "s", **{"revoked_at": None}}) == 0

    async def test_dates_in_inserted_and_replaced_documents_compare_as_dates(
            self, db: AsyncDatabase[Document]) -> None:
        """A time that queries compare is written by an insert or a replacement, never ``$set``."""
        at = utc_now()
        await db.sessions.insert_one({"_id": "s", "expires_at": at + timedelta(minutes=5), "rev": 0})
        live = {"expires_at": {"$gt": at}}
        assert [d["_id"] async for d in db.sessions.find(live)] == ["s"]
        stored = await db.sessions.find_one({"_id": "s"})
        assert stored is not None and stored["expires_at"] == at + timedelta(minutes=5)
        replaced = await db.sessions.replace_one({"_id": "s", "rev": 0, **live},
                                                 {**stored, "expires_at": at - timedelta(seconds=1), "rev": 1})
        assert replaced.matched_count == 1
        assert await db.sessions.count_documents(live) == 0
        assert await db.sessions.count_documents({"expires_at": {"$lte": at}}) == 1
        await db.sessions.insert_one({"_id": "t", "expires_at": at - timedelta(minutes=1)})
        assert [d["_id"] async for d in db.sessions.find({}).sort("expires_at", ASCENDING)] == ["t", "s"]

    async def test_older_time_forms_are_found_one_type_at_a_time(self, db: AsyncDatabase[Document]) -> None:
        """Times stored as ISO text or epoch seconds are found by ``$type`` and rewritten as dates."""
        at = utc_now()
        await db.old.insert_many([
            {"_id": "text", "at": at.isoformat(), "outbox_rev": 3}, {"_id": "float", "at": at.timestamp()},
            {"_id": "twin", "at": at, "at_ts": at.timestamp()}, {"_id": "date", "at": at}, {"_id": "none"}])
        assert [d["_id"] async for d in db.old.find({"at": {"$type": "string"}})] == ["text"]
        assert [d["_id"] async for d in db.old.find({"at": {"$type": "number"}})] == ["float"]
        assert await migrate_times(db.old, ["at"], {"at": "at_ts"}) == 3
        assert await migrate_times(db.old, ["at"], {"at": "at_ts"}) == 0
        found = await db.old.find({"at": {"$gte": at, "$lte": at}}).sort("_id", ASCENDING).to_list()
        assert [d["_id"] for d in found] == ["date", "float", "text", "twin"]
        assert all("at_ts" not in d for d in found) and found[2]["outbox_rev"] == 4

    async def test_update_first_writes_through_the_first_matching_filter(self, db: AsyncDatabase[Document]) -> None:
        await db.users.replace_one({"_id": "gone"}, {"_id": "gone", "deleted": True, "clock": 9}, upsert=True)
        await db.users.insert_one({"_id": "u", "deleted": False})
        unclocked = {"_id": "u", "deleted": {"$ne": True}, "clock": {"$exists": False}}
        newer = {"_id": "u", "deleted": {"$ne": True}, "clock": {"$lte": 5}}
        assert await update_first(db.users, [newer, unclocked], {"$set": {"clock": 5}})
        assert not await update_first(db.users, [{"_id": "u", "clock": {"$lte": 4}}], {"$set": {"clock": 4}})
        assert (await db.users.find_one({"_id": "u"}) or {})["clock"] == 5

    async def test_a_window_counter_keeps_its_expiry_a_date(self, db: AsyncDatabase[Document]) -> None:
        """Rate-limit counters (auth, gateway) count atomically and expire by a BSON date."""
        expires = utc_now() + timedelta(minutes=2)
        counts = await asyncio.gather(*(count_in_window(db.limits, "k:1", expires) for _ in range(5)))
        assert sorted(counts) == [1, 2, 3, 4, 5]
        assert await db.limits.count_documents({"_id": "k:1", "expires_at": {"$gte": expires}}) == 1
        assert await count_in_window(db.limits, "k:2", expires, field="n") == 1
        stored = await db.limits.find_one({"_id": "k:2"})
        assert stored is not None and stored["n"] == 1 and stored["expires_at"] == expires
