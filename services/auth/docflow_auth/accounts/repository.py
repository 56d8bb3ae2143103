"""The users collection: the only module that queries it.

Soft-deleted users lose ``email``, ``phone`` and ``iin`` at once (so they become usable again)
and are purged after their ``user.deleted`` event is published.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from docflow_shared.errors import Conflict, field_error
from docflow_shared.events import Event
from docflow_shared.mongo import Document
from docflow_shared.outbox import Outbox

UNIQUE_FIELDS = ("email", "phone", "iin")
ACTIVE: dict[str, Any] = {"deleted_at": None}


class UsersRepository:
    def __init__(self, collection: AsyncCollection[Document], outbox: Outbox) -> None:
        self.collection = collection
        self.outbox = outbox

    async def ensure_indexes(self) -> None:
        for name in UNIQUE_FIELDS:
            await self.collection.create_index(
                name, unique=True, name=f"unique_{name}",
                partialFilterExpression={name: {"$type": "string"}},
            )
        for name in ("verification.token_hash", "reset.token_hash"):
            await self.collection.create_index(
                name, name=name.replace(".", "_"), partialFilterExpression={name: {"$type": "string"}},
            )
        await self.collection.create_index("outbox_pending", name="outbox_pending")
        await self.collection.create_index("search_name", name="search_name")

    async def get(self, user_id: str) -> Document | None:
        return await self.collection.find_one({"_id": user_id, **ACTIVE})

    async def by_email(self, email: str) -> Document | None:
        return await self.collection.find_one({"email": email, **ACTIVE})

    async def by_token(self, kind: str, hashed: str) -> Document | None:
        return await self.collection.find_one({f"{kind}.token_hash": hashed, **ACTIVE})

    async def taken(self, values: Mapping[str, str | None], *, exclude_id: str | None = None) -> list[str]:
        """Which of ``email``/``phone``/``iin`` in ``values`` belong to another account."""
        wanted = {k: v for k, v in values.items() if k in UNIQUE_FIELDS and v}
        if not wanted:
            return []
        query: dict[str, Any] = {"$or": [{k: v} for k, v in wanted.items()]}
        docs = await self.collection.find(query, {k: 1 for k in UNIQUE_FIELDS}).to_list(10)
        return sorted({k for d in docs if d["_id"] != exclude_id for k, v in wanted.items() if d.get(k) == v})

    async def insert(self, document: Document, events: Sequence[Event]) -> None:
        try:
            await self.outbox.insert(self.collection, document, events)
        except DuplicateKeyError as exc:
            raise duplicate_conflict(exc) from exc

    async def update(
        self, current: Document, changes: Mapping[str, Any], events: Sequence[Event] = (), *,
        unset: Sequence[str] = (), purge_when_published: bool = False,
    ) -> Document:
        """Single-document write with its events; raises StaleDocument on a concurrent change."""
        try:
            return await self.outbox.update(self.collection, current, changes, events, unset=unset,
                                            purge_when_published=purge_when_published)
        except DuplicateKeyError as exc:
            raise duplicate_conflict(exc) from exc

    async def search(self, prefix: str | None, *, after: str | None, limit: int) -> list[Document]:
        query: dict[str, Any] = dict(ACTIVE)
        if prefix:
            pattern = {"$regex": "^" + re.escape(prefix.lower())}
            query["$or"] = [{"email": pattern}, {"search_name": pattern}]
        if after:
            query["_id"] = {"$gt": after}
        return await self.collection.find(query).sort("_id", ASCENDING).limit(limit).to_list(limit)


def duplicate_conflict(exc: DuplicateKeyError) -> Conflict:
    text = str(exc.details or exc)
    fields = [name for name in UNIQUE_FIELDS if name in text] or ["email"]
    return Conflict(
        "An account with this " + " / ".join(fields) + " already exists.", slug="account-exists",
        errors=[field_error(f, "Already registered.", "duplicate") for f in fields],
    )
