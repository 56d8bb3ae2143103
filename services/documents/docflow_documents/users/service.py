"""Who the users are, as far as documents knows: names, e-mails and locales for events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from docflow_documents.users.repository import UserRepository
from docflow_shared.events import Person
from docflow_shared.events.catalogue import UserEmailVerified, UserRegistered, UserUpdated

if TYPE_CHECKING:
    from docflow_documents.comments.repository import CommentRepository
    from docflow_documents.contacts.repository import ContactRepository
    from docflow_documents.documents.repository import DocumentRepository
    from docflow_documents.documents.service import DocumentService
    from docflow_documents.sharing.repository import InboxRepository, ShareRepository


def normalise_email(email: str) -> str:
    return email.strip().lower()


class UserDirectory:
    """Names and locales for events, and who receives what is sent to an address.

    Only an address its account has proven (``user.email_verified``, or ``user.updated`` saying
    so) leads to that account: anyone may sign up claiming any address, and what is shared to it
    must not reach them before they prove it (docs/architecture.md, "Recipients").
    """

    def __init__(self, repository: UserRepository) -> None:
        self.repository = repository

    async def remember(self, user: UserRegistered | UserUpdated, event_us: int) -> None:
        fields: dict[str, object] = {"email": normalise_email(user.email), "full_name": user.full_name,
                                     "locale": user.locale}
        if isinstance(user, UserUpdated):
            fields["email_verified"] = user.email_verified
        await self.repository.upsert(user.user_id, fields, event_us)
        if isinstance(user, UserUpdated):
            # an unverified address on a newer update means the account has none proven now
            proven = normalise_email(user.email) if user.email_verified else None
            await self.repository.set_verified_address(user.user_id, proven, event_us)

    async def verified(self, event: UserEmailVerified, event_us: int) -> None:
        await self.repository.set_verified_address(event.user_id, normalise_email(event.email), event_us)

    async def proven_address(self, user_id: str) -> str | None:
        """The address this user has proven, as the projection holds it now."""
        doc = await self.repository.get(user_id)
        return str(doc["verified_email"]) if doc and doc.get("verified_email") else None

    async def forget(self, user_id: str, event_us: int) -> None:
        await self.repository.mark_deleted(user_id, event_us)

    async def person(self, user_id: str) -> Person:
        """The user as events name them; an unknown user still gets an id-only Person."""
        doc = await self.repository.get(user_id)
        if doc is None:
            return Person(user_id=user_id, email="", full_name="")
        locale = doc.get("locale") if doc.get("locale") in ("ru", "en") else "ru"
        email = doc.get("email") or doc.get("verified_email") or ""  # verified before its registration arrived
        return Person(user_id=user_id, email=email, full_name=doc.get("full_name", ""),
                      locale=locale)

    async def resolve_emails(self, emails: list[str]) -> tuple[dict[str, str], list[str]]:
        """E-mail → user id for the addresses an account has proven, and the e-mails nobody has
        proven (whether or not some unverified account claims them)."""
        wanted = list(dict.fromkeys(normalise_email(e) for e in emails))
        found = {doc["verified_email"]: doc["_id"] for doc in await self.repository.by_verified_emails(wanted)}
        return found, [e for e in wanted if e not in found]


@dataclass
class UserErasure:
    """What a deleted user leaves behind in this service (``user.deleted``).

    Their documents go (files follow through each ``document.deleted``), with the shares, inbox
    items and comments on them; so do the shares, inbox and contacts that name them. Their
    comments on other people's documents stay, without their name. Every step can run again.
    """

    users: UserDirectory
    documents: DocumentService
    document_repository: DocumentRepository
    shares: ShareRepository
    inbox: InboxRepository
    comments: CommentRepository
    contacts: ContactRepository

    async def erase(self, user_id: str, event_us: int) -> None:
        await self.users.forget(user_id, event_us)
        owned = await self.document_repository.owned_ids(user_id)
        await self.shares.delete_for_documents(owned)
        await self.inbox.delete_for_documents(owned)
        await self.comments.delete_for_documents(owned)
        await self.documents.delete_all_of(user_id)
        await self.shares.delete_involving(user_id)
        await self.inbox.delete_for_user(user_id)
        await self.contacts.delete_involving(user_id)
        await self.comments.anonymise_author(user_id)
