"""Contacts: registered users someone keeps at hand for sharing."""

from __future__ import annotations

from docflow_documents.contacts.repository import ContactRepository
from docflow_documents.contacts.schemas import ContactCreate, ContactRead
from docflow_documents.ids import ID_LENGTH, LISTING_ORDER, checked_id, sort_key, stamp
from docflow_documents.users.service import UserDirectory
from docflow_shared.errors import Conflict, NotFound, Unprocessable, field_error
from docflow_shared.ids import new_id
from docflow_shared.pagination import Page


class ContactService:
    def __init__(self, contacts: ContactRepository, users: UserDirectory) -> None:
        self.contacts = contacts
        self.users = users

    async def add(self, *, user_id: str, data: ContactCreate) -> ContactRead:
        found, unknown = await self.users.resolve_emails([data.email])
        if unknown:
            raise Unprocessable("No registered user has this e-mail.", slug="unknown-user",
                                errors=[field_error("email", data.email, "unknown_user")])
        contact_user_id = found[data.email]
        if contact_user_id == user_id:
            raise Unprocessable("You cannot add yourself as a contact.",
                                errors=[field_error("email", "self", "self_contact")])
        person = await self.users.person(contact_user_id)
        now, now_us = stamp()
        contact_id = new_id(length=ID_LENGTH)
        doc = {"_id": contact_id, "owner_id": user_id, "contact_user_id": contact_user_id, "email": person.email,
               "full_name": person.full_name, "created_at": now, "created_us": now_us,
               "sort_key": sort_key(now_us, contact_id)}
        if not await self.contacts.insert(doc):
            raise Conflict("This user is already among your contacts.", slug="contact-exists")
        return ContactRead.from_doc(doc)

    async def list(self, *, user_id: str, cursor: str | None, limit: int) -> Page[ContactRead]:
        docs, next_cursor = LISTING_ORDER.page(await self.contacts.page(user_id, cursor, limit + 1), limit)
        items = []
        for doc in docs:
            person = await self.users.person(doc["contact_user_id"])
            items.append(ContactRead.from_doc(doc, {"email": person.email, "full_name": person.full_name}))
        return Page[ContactRead](items=items, next_cursor=next_cursor)

    async def delete(self, *, user_id: str, contact_id: str) -> None:
        doc = await self.contacts.get_for(checked_id(contact_id, "contact"), user_id)
        if doc is None:
            raise NotFound("No such contact.")
        await self.contacts.delete(doc["_id"])
