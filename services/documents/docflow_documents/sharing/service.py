"""Share grants, their inbox items, and the inbox itself."""

from __future__ import annotations

import uuid
from typing import Any

from docflow_documents.documents.access import AccessPolicy
from docflow_documents.documents.service import MakeEvent
from docflow_documents.identifiers import checked_id, stamp
from docflow_documents.paging import next_cursor, sort_key
from docflow_documents.sharing import events
from docflow_documents.sharing.repository import InboxRepository, ShareRepository, share_id
from docflow_documents.sharing.schemas import InboxItemRead, ShareCreate, ShareRead, ShareResult
from docflow_documents.users.service import UserDirectory
from docflow_shared.errors import NotFound, Unprocessable, field_error
from docflow_shared.events import Person
from docflow_shared.outbox import retry_stale
from docflow_shared.pagination import Page

INBOX_NAMESPACE = uuid.UUID("7a1c9a52-4f0e-4d55-9a3c-1d0c2b6f3e11")


def inbox_id(*parts: str) -> str:
    """A stable id per (kind, subject, user): the same fact never makes two inbox items."""
    return uuid.uuid5(INBOX_NAMESPACE, ":".join(parts)).hex


class SharingService:
    def __init__(self, shares: ShareRepository, inbox: InboxRepository, access: AccessPolicy,
                 users: UserDirectory, make_event: MakeEvent) -> None:
        self.shares = shares
        self.inbox = inbox
        self.access = access
        self.users = users
        self.event = make_event

    async def share(self, *, user_id: str, document_id: str, data: ShareCreate) -> ShareResult:
        access = await self.access.resolve(document_id, user_id)
        access.require_owner()
        found, unknown = await self.users.resolve_emails(data.recipients)
        if unknown:
            raise Unprocessable(
                "Some recipients are not registered DocFlow users.", slug="unknown-recipients",
                errors=[field_error("recipients", email, "unknown_recipient") for email in unknown],
            )
        if user_id in found.values():
            raise Unprocessable("You cannot share a document with yourself.",
                                errors=[field_error("recipients", "self", "self_share")])
        owner = await self.users.person(user_id)
        doc = access.document
        shares = []
        for recipient_id in found.values():
            recipient = await self.users.person(recipient_id)
            shares.append(await self._grant(doc, owner, recipient, data))
        return ShareResult(shares=shares)

    async def _grant(self, doc: dict[str, Any], owner: Person, recipient: Person, data: ShareCreate) -> ShareRead:
        now, now_us = stamp()
        event = self.event(events.shared(
            document_id=doc["_id"], title=doc["title"], owner=owner, recipient=recipient,
            permission=data.permission.value, message=data.message,
        ))
        fields = {"permission": data.permission.value, "message": data.message, "shared_at": now, "deleted_at": None}

        async def attempt() -> None:
            current = await self.shares.any_state(doc["_id"], recipient.user_id)
            if current is None:
                await self.shares.insert({
                    "_id": share_id(doc["_id"], recipient.user_id), "document_id": doc["_id"],
                    "owner_id": doc["owner_id"], "recipient_id": recipient.user_id, "created_at": now,
                    "created_us": now_us, **fields,
                }, [event])
            else:
                await self.shares.update(current, fields, [event], unset=("purge_when_published",))

        await retry_stale(attempt)
        item_id = inbox_id("share", doc["_id"], recipient.user_id)
        item = {
            "_id": item_id, "kind": "share", "user_id": recipient.user_id,
            "document_id": doc["_id"], "title": doc["title"], "sender_id": owner.user_id,
            "sender_name": owner.full_name, "sender_email": owner.email, "permission": data.permission.value,
            "message": data.message, "archived": False, "created_at": now, "created_us": now_us,
            "sort_key": sort_key(now_us, item_id),
        }
        await self.inbox.put(item, refresh={"permission": data.permission.value, "message": data.message,
                                            "archived": False, "title": doc["title"]})
        return ShareRead(document_id=doc["_id"], recipient_id=recipient.user_id, email=recipient.email,
                         full_name=recipient.full_name, permission=data.permission, message=data.message,
                         created_at=now)  # type: ignore[arg-type]

    async def revoke(self, *, user_id: str, document_id: str, recipient_id: str) -> None:
        access = await self.access.resolve(document_id, user_id)
        access.require_owner()

        async def attempt() -> None:
            current = await self.shares.active(document_id, recipient_id)
            if current is None:
                raise NotFound("No such share.")
            now, _ = stamp()
            event = self.event(events.revoked(document_id=document_id, owner_id=user_id, recipient_id=recipient_id))
            await self.shares.update(current, {"deleted_at": now}, [event], purge=True)

        await retry_stale(attempt)
        await self.inbox.delete(inbox_id("share", document_id, recipient_id))

    async def list_inbox(self, *, user_id: str, archived: bool | None, cursor: str | None,
                         limit: int) -> Page[InboxItemRead]:
        docs = await self.inbox.page(user_id, archived, cursor, limit)
        return Page[InboxItemRead](items=[InboxItemRead.from_doc(d) for d in docs],
                                   next_cursor=next_cursor(docs, limit))

    async def set_archived(self, *, user_id: str, item_id: str, archived: bool) -> InboxItemRead:
        item = await self.inbox.get_for(checked_id(item_id, "inbox item"), user_id)
        if item is None:
            raise NotFound("No such inbox item.")
        await self.inbox.set_archived(item["_id"], archived)
        return InboxItemRead.from_doc({**item, "archived": archived})

    async def signature_requested(self, *, request_id: str, document_id: str, title: str, owner: Person,
                                  signer: Person, message: str, reminder: bool) -> None:
        now, now_us = stamp()
        item_id = inbox_id("signature", request_id, signer.user_id)
        item = {
            "_id": item_id, "kind": "signature_request",
            "user_id": signer.user_id, "document_id": document_id, "title": title, "sender_id": owner.user_id,
            "sender_name": owner.full_name, "sender_email": owner.email, "permission": "sign",
            "request_id": request_id, "message": message, "archived": False, "created_at": now,
            "created_us": now_us, "sort_key": sort_key(now_us, item_id),
        }
        await self.inbox.put(item, refresh={"archived": False} if reminder else {})

    async def signature_cancelled(self, *, request_id: str, signer_ids: list[str]) -> None:
        await self.inbox.delete_for_request(request_id, signer_ids or None)
