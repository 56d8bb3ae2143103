"""Who the users are, as far as documents knows: names, e-mails and locales for events."""

from __future__ import annotations

from docflow_documents.users.repository import UserRepository
from docflow_shared.events import Person
from docflow_shared.events.catalogue import UserRegistered, UserUpdated


def normalise_email(email: str) -> str:
    return email.strip().lower()


class UserDirectory:
    def __init__(self, repository: UserRepository) -> None:
        self.repository = repository

    async def remember(self, user: UserRegistered | UserUpdated, event_us: int) -> None:
        fields: dict[str, object] = {"email": normalise_email(user.email), "full_name": user.full_name,
                                     "locale": user.locale}
        if isinstance(user, UserUpdated):
            fields["email_verified"] = user.email_verified
        await self.repository.upsert(user.user_id, fields, event_us)

    async def forget(self, user_id: str, event_us: int) -> None:
        await self.repository.mark_deleted(user_id, event_us)

    async def person(self, user_id: str) -> Person:
        """The user as events name them; an unknown user still gets an id-only Person."""
        doc = await self.repository.get(user_id)
        if doc is None:
            return Person(user_id=user_id, email="", full_name="")
        locale = doc.get("locale") if doc.get("locale") in ("ru", "en") else "ru"
        return Person(user_id=user_id, email=doc.get("email", ""), full_name=doc.get("full_name", ""),
                      locale=locale)

    async def resolve_emails(self, emails: list[str]) -> tuple[dict[str, str], list[str]]:
        """E-mail → user id for the registered ones, and the e-mails nobody has."""
        wanted = list(dict.fromkeys(normalise_email(e) for e in emails))
        found = {doc["email"]: doc["_id"] for doc in await self.repository.by_emails(wanted)}
        return found, [e for e in wanted if e not in found]
