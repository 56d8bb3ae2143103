"""The users collection: the only module that queries it.

Soft-deleted users lose ``email``, ``phone`` and ``iin`` at once (so they become usable again)
and are purged after their ``user.deleted`` event is published.

An e-mail address is unique among *verified* accounts only: several unverified accounts may
claim the same address (a squatter cannot block its owner), and the claim of whoever verifies
it first wins. ``verified_email`` holds the address only while it is verified, and carries the
unique index (see ``unique_when_set`` in ``docflow_shared.mongo`` for why not a partial index on
``email_verified``). ``pending_email`` is an address a verified account asked to move to; it
replaces ``email`` only once verified.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypedDict

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from docflow_auth.errors import account_exists
from docflow_shared.errors import Conflict
from docflow_shared.events import Event
from docflow_shared.mongo import Document, drop_unique_index, unique_when_set
from docflow_shared.outbox import REV, Whole, take_one
from docflow_shared.pagination import OLDEST_FIRST
from docflow_shared.repository import Repository, SoftDeleted

UNIQUE_FIELDS = ("email", "phone", "iin")
# the stored field that keeps each one unique: an e-mail only while it is verified
UNIQUE_KEYS = {"email": "verified_email", "phone": "phone", "iin": "iin"}
# an address claim is looked at for at most this many accounts (signup is rate-limited per IP)
MAX_CLAIMANTS = 10


class Secret(TypedDict):
    """A single-use code or token, stored hashed (verification, reset)."""

    token_hash: str
    expires_at: datetime


class UserDocument(SoftDeleted, total=False):
    _id: str
    email: str
    verified_email: str  # only while verified: carries the unique index
    pending_email: str
    email_verified: bool
    email_verified_at: datetime
    full_name: str
    search_name: str
    locale: str
    role: str
    blocked: bool
    phone: str
    iin: str
    password_hash: str
    password_changed_at: datetime
    failed_logins: int
    locked_until: datetime | None
    verification: Secret
    reset: Secret
    created_at: datetime
    updated_at: datetime


class UsersRepository(Repository[UserDocument]):
    async def ensure_indexes(self) -> None:
        await self._unique_email_among_verified()
        for name in ("phone", "iin", "verified_email"):
            await self.collection.create_index(name, name=f"unique_{name}", **unique_when_set(name))
        for name in ("email", "pending_email"):
            await self.collection.create_index(
                name, name=name, partialFilterExpression={name: {"$type": "string"}},
            )
        for name in ("verification.token_hash", "reset.token_hash"):
            await self.collection.create_index(
                name, name=name.replace(".", "_"), partialFilterExpression={name: {"$type": "string"}},
            )
        await self.collection.create_index("search_name", name="search_name")

    async def _unique_email_among_verified(self) -> None:
        """Before addresses were unique among verified accounts only, ``email`` itself was unique:
        drop that index and copy every verified address to ``verified_email``."""
        await drop_unique_index(self.collection, "email")
        async for user in self.collection.find({"email_verified": True, "verified_email": {"$exists": False}},
                                               {"email": 1}):
            if isinstance(user.get("email"), str):
                await self.bump({"_id": user["_id"]}, {"$set": {"verified_email": user["email"]}})

    async def verified_holder(self, email: str) -> Whole | None:
        """The one account whose verified address this is."""
        return await self.read_live({"verified_email": email})

    async def holders(self, email: str) -> list[Whole]:
        """Who may log in with ``email``: its verified holder alone, else every account that signed
        up with it and has not verified it yet, oldest first."""
        verified = await self.verified_holder(email)
        if verified is not None:
            return [verified]
        return await self.find_live({"email": email, "email_verified": False}, sort=[("created_at", ASCENDING)],
                                    limit=MAX_CLAIMANTS)

    async def by_email(self, email: str) -> Whole | None:
        """The verified holder of ``email``, else the oldest account claiming it unverified."""
        found = await self.holders(email)
        return found[0] if found else None

    async def claimants(self, email: str) -> list[Whole]:
        """Accounts waiting to verify ``email``: signed up with it, or asked to move to it."""
        query = {"$or": [{"email": email, "email_verified": False}, {"pending_email": email}]}
        return await self.find_live(query, sort=[("created_at", ASCENDING)], limit=MAX_CLAIMANTS)

    async def by_token(self, kind: str, hashed: str) -> Whole | None:
        return await self.read_live({f"{kind}.token_hash": hashed})

    async def taken(self, values: Mapping[str, str | None], *, exclude_id: str | None = None) -> list[str]:
        """Which of ``email``/``phone``/``iin`` in ``values`` belong to another account (an e-mail
        only when that account verified it)."""
        wanted = {UNIQUE_KEYS[k]: (k, v) for k, v in values.items() if k in UNIQUE_FIELDS and v}
        if not wanted:
            return []
        query: dict[str, Any] = {"$or": [{key: v} for key, (_, v) in wanted.items()]}
        docs = await self.collection.find(query, {key: 1 for key in wanted}).to_list(10)
        return sorted({k for d in docs if d["_id"] != exclude_id for key, (k, v) in wanted.items()
                       if d.get(key) == v})

    async def insert(self, document: Mapping[str, Any], events: Sequence[Event] = ()) -> None:
        try:
            await self.add(document, events)
        except DuplicateKeyError as exc:
            raise duplicate_conflict(exc) from exc

    async def update(
        self, current: Whole, changes: Mapping[str, Any], events: Sequence[Event] = (), *,
        unset: Sequence[str] = (), purge_when_published: bool = False,
    ) -> Whole:
        """Single-document write with its events; raises StaleDocument on a concurrent change."""
        try:
            return await super().update(current, changes, events, unset=unset,
                                        purge_when_published=purge_when_published)
        except DuplicateKeyError as exc:
            raise duplicate_conflict(exc) from exc

    async def claim_login_attempt(self, user_id: str, *, limit: int) -> Whole | None:
        """Count one password check before it runs, in one atomic update: allowed only while the
        account is not locked and fewer than ``limit`` checks are counted. None when refused.
        Bumps ``outbox_rev`` so that a replacement read before the count cannot undo it."""
        return await take_one(
            self.collection,
            self.live({"_id": user_id, "locked_until": None, "failed_logins": {"$lt": limit}}),
            {"$inc": {"failed_logins": 1, REV: 1}},
        )

    async def clear_failures(self, user_id: str) -> None:
        """A correct password resets the count of failed checks."""
        await self.bump(self.live({"_id": user_id}), {"$set": {"failed_logins": 0}})

    async def search(self, prefix: str | None, *, after: dict[str, Any], limit: int) -> list[Document]:
        query: dict[str, Any] = self.live()
        if prefix:
            pattern = {"$regex": "^" + re.escape(prefix.lower())}
            query["$or"] = [{"email": pattern}, {"search_name": pattern}]
        return await self.collection.find({**query, **after}).sort(OLDEST_FIRST.sort).limit(limit).to_list(limit)


def duplicate_conflict(exc: DuplicateKeyError) -> Conflict:
    text = str(exc.details or exc)
    fields = [name for name in UNIQUE_FIELDS if name in text] or ["email"]
    return account_exists(fields)
