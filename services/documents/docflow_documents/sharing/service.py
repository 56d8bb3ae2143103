"""Share grants, their inbox items, and the inbox itself."""

from __future__ import annotations

import uuid
from typing import Any

from docflow_documents.documents.access import AccessPolicy
from docflow_documents.documents.service import MakeEvent
from docflow_documents.ids import LISTING_ORDER, checked_id, sort_key, stamp
from docflow_documents.sharing import events
from docflow_documents.sharing.repository import InboxRepository, ShareRepository, pending_id, share_id
from docflow_documents.sharing.schemas import InboxItemRead, ShareCreate, SharePermission, ShareRead, ShareResult
from docflow_documents.users.service import UserDirectory, normalise_email
from docflow_shared.errors import NotFound, Unprocessable, field_error
from docflow_shared.events import Client, Person
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

    async def share(self, *, user_id: str, document_id: str, data: ShareCreate, client: Client) -> ShareResult:
        """Grant each address's proven owner; an address nobody has proven waits (``pending``)."""
        access = await self.access.resolve(document_id, user_id)
        access.require_owner()
        found, unproven = await self.users.resolve_emails(data.recipients)
        if user_id in found.values():
            raise Unprocessable("You cannot share a document with yourself.",
                                errors=[field_error("recipients", "self", "self_share")])
        owner = await self.users.person(user_id)
        doc = access.document
        shares = []
        for recipient_id in found.values():
            recipient = await self.users.person(recipient_id)
            shares.append(await self._grant(doc, owner, recipient, data.permission, data.message, client))
        for email in unproven:
            shares.append(await self._wait(doc, email, data))
        await self._deliver_if_proven_meanwhile(unproven)
        return ShareResult(shares=shares)

    async def _deliver_if_proven_meanwhile(self, emails: list[str]) -> None:
        """An address proven while its share was being stored: the verification's delivery may
        have looked before the share existed, so look again now that it does."""
        if not emails:
            return
        proven, _ = await self.users.resolve_emails(emails)
        for email, user_id in proven.items():
            await self.deliver_pending(user_id, email)

    async def _wait(self, doc: dict[str, Any], email: str, data: ShareCreate) -> ShareRead:
        now, now_us = stamp()
        await self.shares.put_pending({
            "_id": pending_id(doc["_id"], email), "document_id": doc["_id"], "owner_id": doc["owner_id"],
            "email": email, "permission": data.permission.value, "message": data.message, "created_at": now,
            "updated_us": now_us,
        })
        return ShareRead(document_id=doc["_id"], recipient_id=None, email=email, full_name="",
                         permission=data.permission, message=data.message, created_at=now, status="pending")

    async def deliver_waiting_for(self, user_id: str) -> None:
        """Shares waiting for the address this user has proven become theirs.

        Decided by the projection as it stands after the event, not by the event itself: a late,
        superseded verification delivers nothing, and repeating an event repeats nothing.
        """
        address = await self.users.proven_address(user_id)
        if address:
            await self.deliver_pending(user_id, address)

    async def deliver_pending(self, user_id: str, email: str) -> None:
        """Turn the shares waiting for ``email`` into grants for ``user_id``, who has just proven it.

        Each waiting share is claimed before it is granted, so a revoke that came first wins and
        a share is delivered once; a grant that fails puts the share back for the next event.
        """
        for waiting in await self.shares.pending_to(email):
            if not await self.shares.claim_pending(waiting):
                continue
            try:
                doc = await self.access.documents.get(waiting["document_id"])
                if doc is None or doc["owner_id"] == user_id:
                    continue
                owner = await self.users.person(doc["owner_id"])
                recipient = await self.users.person(user_id)
                await self._grant(doc, owner, recipient, SharePermission(waiting["permission"]),
                                  str(waiting["message"]))
            except BaseException:
                await self.shares.restore_pending(waiting)
                raise

    async def _grant(self, doc: dict[str, Any], owner: Person, recipient: Person, permission: SharePermission,
                     message: str, client: Client | None = None) -> ShareRead:
        now, now_us = stamp()

        async def attempt() -> None:
            current = await self.shares.any_state(doc["_id"], recipient.user_id)
            version = events.next_grant_version(current, now_us)
            event = self.event(events.shared(
                document_id=doc["_id"], title=doc["title"], owner=owner, recipient=recipient,
                permission=permission, message=message, grant_version=version, client=client or Client(),
            ))
            fields = {"permission": permission.value, "message": message, "shared_at": now,
                      "deleted_at": None, "grant_version": version}
            if current is None:
                await self.shares.add({
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
            "sender_name": owner.full_name, "sender_email": owner.email, "permission": permission.value,
            "message": message, "archived": False, "created_at": now, "created_us": now_us,
            "sort_key": sort_key(now_us, item_id),
        }
        await self.inbox.put(item, refresh={"permission": permission.value, "message": message,
                                            "archived": False, "title": doc["title"]})
        return ShareRead(document_id=doc["_id"], recipient_id=recipient.user_id, email=recipient.email,
                         full_name=recipient.full_name, permission=permission,
                         message=message, created_at=now)

    async def revoke(self, *, user_id: str, document_id: str, recipient_id: str, client: Client) -> None:
        """Withdraw a grant (``recipient_id`` a user id) or a waiting share (an e-mail address)."""
        access = await self.access.resolve(document_id, user_id)
        access.require_owner()
        if "@" in recipient_id:
            if not await self.shares.drop_pending(document_id, normalise_email(recipient_id)):
                raise NotFound("No such share.")
            return

        async def attempt() -> None:
            current = await self.shares.active(document_id, recipient_id)
            if current is None:
                raise NotFound("No such share.")
            now, now_us = stamp()
            version = events.next_grant_version(current, now_us)
            event = self.event(events.revoked(document_id=document_id, owner_id=user_id, recipient_id=recipient_id,
                                              grant_version=version, client=client))
            await self.shares.soft_delete(current, [event], {"grant_version": version}, at=now)

        await retry_stale(attempt)
        await self.inbox.delete(inbox_id("share", document_id, recipient_id))

    async def list_inbox(self, *, user_id: str, archived: bool | None, cursor: str | None,
                         limit: int) -> Page[InboxItemRead]:
        docs, next_cursor = LISTING_ORDER.page(await self.inbox.page(user_id, archived, cursor, limit + 1), limit)
        return Page[InboxItemRead](items=[InboxItemRead.from_doc(d) for d in docs], next_cursor=next_cursor)

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
