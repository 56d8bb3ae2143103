"""What auth keeps in MongoDB: secrets only as hashes, indexes, purge after deletion."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from auth_testkit import API, PASSWORD, AuthApi
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from docflow_auth.accounts.repository import UsersRepository
from docflow_auth.sessions.repository import SessionsRepository
from docflow_dev.testing.events import EventTap
from docflow_shared.mongo import Document, create_client
from docflow_shared.outbox import Outbox, StaleDocument, read_one


@pytest_asyncio.fixture(loop_scope="session")
async def auth_db(mongo_url: str, auth_env: dict[str, str]) -> AsyncIterator[AsyncDatabase[Document]]:
    client = create_client(mongo_url)
    yield client[f"{auth_env['MONGODB_DB_PREFIX']}auth"]
    await client.close()


async def published(db: AsyncDatabase[Document], user_id: str) -> Document | None:
    """The user document once the relay has published and cleared its outbox."""
    for _ in range(100):
        doc = await db.users.find_one({"_id": user_id})
        if doc is None or not doc.get("outbox_pending"):
            return doc
        await asyncio.sleep(0.1)
    raise AssertionError("the outbox was not drained")


class TestSecretsAreHashed:
    async def test_password_code_and_link_token_are_not_stored(self, api: AuthApi,
                                                               auth_db: AsyncDatabase[Document]) -> None:
        user = (await api.signup()).json()
        event = await api.verification_event(user["id"])
        doc = await published(auth_db, user["id"])
        assert doc is not None
        text = str(doc)
        assert PASSWORD not in text and event.data["code"] not in text and event.data["token"] not in text
        assert doc["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert doc["verification"]["token_hash"] == hashlib.sha256(event.data["token"].encode()).hexdigest()

    async def test_refresh_tokens_are_stored_as_sha256_only(self, api: AuthApi,
                                                            auth_db: AsyncDatabase[Document]) -> None:
        account = await api.account()
        sessions = await auth_db.sessions.find({"user_id": account.id}).to_list(10)
        assert len(sessions) == 2, "one from signup, one from login"
        assert account.refresh_token not in str(sessions)
        sid = account.refresh_token.split(".")[0]
        [session] = [s for s in sessions if s["_id"] == sid]
        assert session["token_hash"] == hashlib.sha256(account.refresh_token.encode()).hexdigest()
        rotated = (await api.refresh(account.refresh_token)).json()["refresh_token"]
        stored = str(await auth_db.sessions.find_one({"_id": sid}))
        assert account.refresh_token not in stored and rotated not in stored

    async def test_reset_token_is_stored_hashed(self, api: AuthApi, http: httpx.AsyncClient, events: EventTap,
                                                auth_db: AsyncDatabase[Document]) -> None:
        account = await api.account()
        await http.post(f"{API}/auth/password/forgot", json={"email": account.email})
        token = (await events.wait_for("user.password_reset_requested",
                                       lambda e: e.data["user_id"] == account.id)).data["token"]
        doc = await published(auth_db, account.id)
        assert doc is not None and token not in str(doc)
        assert doc["reset"]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()


class TestIndexes:
    async def test_unique_and_lookup_indexes_exist(self, api: AuthApi, auth_db: AsyncDatabase[Document]) -> None:
        await api.signup()
        users = {tuple(ix["key"]): ix for ix in await (await auth_db.users.list_indexes()).to_list()}
        for field in ("verified_email", "phone", "iin"):
            assert users[(field,)].get("unique") is True, users[(field,)]
        assert not users[("email",)].get("unique"), "several unverified accounts may claim one address"
        assert {("outbox_pending",), ("verification.token_hash",), ("reset.token_hash",)} <= set(users)
        sessions = {tuple(ix["key"]) for ix in await (await auth_db.sessions.list_indexes()).to_list()}
        assert {("user_id", "created_at"), ("token_hash",), ("purge_at",)} <= sessions

    async def test_a_database_from_before_keeps_its_verified_addresses_unique(
        self, auth_db: AsyncDatabase[Document]
    ) -> None:
        """Once ``email`` itself was unique: starting auth drops that index and copies verified
        addresses to ``verified_email``, so unverified claims may share an address from then on."""
        collection = auth_db[f"users_before_{uuid.uuid4().hex[:6]}"]
        await collection.create_index("email", unique=True, name="unique_email",
                                      partialFilterExpression={"email": {"$type": "string"}})
        await collection.insert_one({"_id": "old", "email": "old@x.kz", "email_verified": True, "deleted_at": None})
        await UsersRepository(collection, Outbox()).ensure_indexes()
        stored = await collection.find_one({"_id": "old"})
        assert stored is not None and stored["verified_email"] == "old@x.kz"
        await collection.insert_one({"_id": "a", "email": "old@x.kz", "email_verified": False})
        await collection.insert_one({"_id": "b", "email": "old@x.kz", "email_verified": False})
        with pytest.raises(DuplicateKeyError):
            await collection.update_one({"_id": "a"}, {"$set": {"verified_email": "old@x.kz"}})
        await collection.drop()


class TestDeletion:
    async def test_deleted_user_is_purged_after_its_event_is_published(
        self, api: AuthApi, http: httpx.AsyncClient, events: EventTap, auth_db: AsyncDatabase[Document]
    ) -> None:
        account = await api.account()
        await http.request("DELETE", f"{API}/users/me", headers=account.headers, json={"password": PASSWORD})
        await events.wait_for("user.deleted", lambda e: e.data["user_id"] == account.id)
        assert await published(auth_db, account.id) is None


class TestSessionWritesGuardTheOutbox:
    """A session changed by rotation, a mass revoke or a claims sync cannot be written back by a
    writer holding the copy from before (``Outbox.update`` then re-reads instead)."""

    @pytest.mark.parametrize("write", ["rotate", "revoke_for_user", "sync_claims"])
    async def test_each_write_makes_an_older_copy_stale(self, auth_db: AsyncDatabase[Document], write: str) -> None:
        sessions = SessionsRepository(auth_db.sessions, Outbox())
        at = datetime.now(UTC)
        sid, user_id = f"s-{uuid.uuid4().hex}", uuid.uuid4().hex
        await sessions.outbox.insert(auth_db.sessions, {
            "_id": sid, "user_id": user_id, "token_hash": "old", "revoked_at": None, "role": "user",
            "expires_at": at + timedelta(minutes=10), "absolute_expires_at": at + timedelta(minutes=10)})
        before = await read_one(auth_db.sessions, {"_id": sid})
        assert before is not None
        if write == "rotate":
            assert await sessions.rotate(sid, old_hash="old", new_hash="new", generation=1, now=at,
                                         expires_at=at + timedelta(minutes=10)) is not None
        elif write == "revoke_for_user":
            assert await sessions.revoke_for_user(user_id, reason="blocked", now=at) == 1
        else:
            await sessions.sync_claims(user_id, role="admin")
        with pytest.raises(StaleDocument):
            await sessions.outbox.update(auth_db.sessions, before, {"last_used_at": at})


class TestSessionTimes:
    async def test_a_session_stored_with_numeric_twins_is_rewritten_as_dates_at_start(
            self, auth_db: AsyncDatabase[Document]) -> None:
        """Sessions once kept ``*_ts`` twins beside their dates, and the embedded server kept a
        rotated expiry as text: the start-up migration leaves one BSON date per time."""
        sessions = SessionsRepository(auth_db.sessions, Outbox())
        at = datetime.now(UTC).replace(microsecond=0)
        sid, user_id = f"s-{uuid.uuid4().hex}", uuid.uuid4().hex
        expires, absolute = at + timedelta(minutes=10), at + timedelta(days=30)
        await auth_db.sessions.insert_one({
            "_id": sid, "user_id": user_id, "token_hash": "h", "revoked_at": None, "created_at": at,
            "expires_at": expires.replace(tzinfo=None).isoformat(sep=" "), "absolute_expires_at": absolute,
            "expires_ts": expires.timestamp(), "absolute_ts": absolute.timestamp(), "rotated_ts": at.timestamp(),
            "outbox": [], "outbox_pending": False, "outbox_rev": 2})
        await sessions.ensure_indexes()
        [live] = await sessions.live_for_user(user_id, now=at)
        assert (live["expires_at"], live["absolute_expires_at"], live["rotated_at"]) == (expires, absolute, at)
        assert not {"expires_ts", "absolute_ts", "rotated_ts"} & set(live) and live["outbox_rev"] == 3
