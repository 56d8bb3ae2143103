"""What auth keeps in MongoDB: secrets only as hashes, indexes, purge after deletion."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from auth_testkit import API, PASSWORD, AuthApi
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import Document, create_client
from docflow_shared.testing.events import EventTap


@pytest_asyncio.fixture(loop_scope="session")
async def auth_db(mongo_url: str, platform_env: dict[str, str]) -> AsyncIterator[AsyncDatabase[Document]]:
    client = create_client(mongo_url)
    yield client[f"{platform_env['MONGODB_DB_PREFIX']}auth"]
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
        assert len(sessions) == 1
        assert account.refresh_token not in str(sessions)
        assert sessions[0]["token_hash"] == hashlib.sha256(account.refresh_token.encode()).hexdigest()

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
        for field in ("email", "phone", "iin"):
            assert users[(field,)].get("unique") is True, users[(field,)]
        assert {("outbox_pending",), ("verification.token_hash",), ("reset.token_hash",)} <= set(users)
        sessions = {tuple(ix["key"]) for ix in await (await auth_db.sessions.list_indexes()).to_list()}
        assert {("user_id", "created_at"), ("token_hash",), ("purge_at",)} <= sessions


class TestDeletion:
    async def test_deleted_user_is_purged_after_its_event_is_published(
        self, api: AuthApi, http: httpx.AsyncClient, events: EventTap, auth_db: AsyncDatabase[Document]
    ) -> None:
        account = await api.account()
        await http.request("DELETE", f"{API}/users/me", headers=account.headers, json={"password": PASSWORD})
        await events.wait_for("user.deleted", lambda e: e.data["user_id"] == account.id)
        assert await published(auth_db, account.id) is None
