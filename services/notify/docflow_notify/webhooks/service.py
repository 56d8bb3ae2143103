"""Registering webhooks: a user's for their own documents, an admin's for every document."""

from __future__ import annotations

import secrets
from datetime import timedelta

from docflow_notify.webhooks.guard import AddressGuard, RefusedAddress
from docflow_notify.webhooks.repository import EVERYONE, WebhookDocument, WebhookRepository
from docflow_notify.webhooks.schemas import WebhookCreate, WebhookRead, WebhookSecret, WebhookUpdate
from docflow_shared.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from docflow_shared.ids import new_id
from docflow_shared.mongo import stored_datetime, utc_now
from docflow_shared.pagination import NEWEST_FIRST, Page
from docflow_shared.tokens import Principal


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookService:
    def __init__(self, *, repository: WebhookRepository, guard: AddressGuard, max_per_owner: int,
                 secret_overlap_seconds: int) -> None:
        self.repository = repository
        self.guard = guard
        self.max_per_owner = max_per_owner
        self.secret_overlap_seconds = secret_overlap_seconds

    async def _check_url(self, url: str) -> None:
        try:
            await self.guard.check_url(url)
        except RefusedAddress as exc:
            raise Unprocessable("Webhooks reach public addresses only.", slug="webhook-address-refused",
                                errors=[field_error("url", str(exc))]) from exc

    async def create(self, user: Principal, data: WebhookCreate) -> WebhookSecret:
        if data.scope == "all" and not user.is_admin:
            raise Forbidden("Only an admin registers a webhook for every document.")
        await self._check_url(data.url)
        if await self.repository.count_for(user.user_id) >= self.max_per_owner:
            raise Conflict(f"At most {self.max_per_owner} webhooks per account.", slug="too-many-webhooks")
        secret = new_secret()
        doc: WebhookDocument = {
            "_id": new_id("whk"), "url": data.url, "event_types": data.event_types, "scope": data.scope,
            "audience": EVERYONE if data.scope == "all" else user.user_id, "owner_id": user.user_id,
            "active": True, "description": data.description, "secret": secret, "created_at": utc_now(),
            "deleted_at": None,
        }
        await self.repository.insert(doc)
        return WebhookSecret(**WebhookRead.from_doc(doc).model_dump(), secret=secret)

    async def visible(self, user: Principal, webhook_id: str) -> WebhookDocument:
        """The webhook, if the caller owns it or is an admin; 404 otherwise."""
        doc = await self.repository.get(webhook_id)
        if doc is None or (doc["owner_id"] != user.user_id and not user.is_admin):
            raise NotFound("No such webhook.")
        return doc

    async def get(self, user: Principal, webhook_id: str) -> WebhookRead:
        return WebhookRead.from_doc(await self.visible(user, webhook_id))

    async def list(self, user: Principal, *, cursor: str | None, limit: int) -> Page[WebhookRead]:
        docs = await self.repository.page(owner_id=None if user.is_admin else user.user_id,
                                          after=NEWEST_FIRST.after(cursor), limit=limit + 1)
        items, next_cursor = NEWEST_FIRST.page(docs, limit)
        return Page(items=[WebhookRead.from_doc(doc) for doc in items], next_cursor=next_cursor)

    async def update(self, user: Principal, webhook_id: str, data: WebhookUpdate) -> WebhookRead:
        await self.visible(user, webhook_id)
        changes = data.model_dump(exclude_none=True)
        if "url" in changes:
            await self._check_url(changes["url"])
        updated = await self.repository.update(webhook_id, changes)
        if updated is None:
            raise NotFound("No such webhook.")
        return WebhookRead.from_doc(updated)

    async def delete(self, user: Principal, webhook_id: str) -> None:
        await self.visible(user, webhook_id)
        if not await self.repository.delete(webhook_id):
            raise NotFound("No such webhook.")

    async def rotate_secret(self, user: Principal, webhook_id: str) -> WebhookSecret:
        """A new secret; the current one goes on signing deliveries beside it for the overlap."""
        current = await self.visible(user, webhook_id)
        secret = new_secret()
        until = utc_now() + timedelta(seconds=self.secret_overlap_seconds)
        updated = await self.repository.update(webhook_id, {"secret": secret, "previous_secret": current["secret"],
                                                            "previous_secret_expires_at": until})
        if updated is None:
            raise NotFound("No such webhook.")
        return WebhookSecret(**WebhookRead.from_doc(updated).model_dump(), secret=secret)


def signing_secrets(webhook: WebhookDocument) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous one during
    the overlap after a rotation."""
    found = [webhook["secret"]]
    until = stored_datetime(webhook.get("previous_secret_expires_at"))
    if webhook.get("previous_secret") and until is not None and until > utc_now():
        found.append(webhook["previous_secret"])
    return found
