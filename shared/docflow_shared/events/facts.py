"""Field groups that many payloads begin with, written once (docs/architecture.md, "Events").

A payload composes one of these and adds its own fields after them; pydantic puts a base's fields
first, so each event's JSON keeps the field names and order it always had. These are bases, not
events: they have no ``TYPE`` and are not in the catalogue.
"""

from __future__ import annotations

from docflow_shared.events.envelope import EventPayload
from docflow_shared.events.person import Locale, Person


class DocumentFacts(EventPayload):
    """A document and its owner."""

    document_id: str
    owner_id: str


class FileRef(EventPayload):
    """A file of a document."""

    document_id: str
    file_id: str


class FileFacts(FileRef):
    """A file of a document, and the document's owner."""

    owner_id: str


class AccountFacts(EventPayload):
    """An account as auth's events that lead to an e-mail carry it: whom to write to, and how."""

    user_id: str
    email: str
    full_name: str
    locale: Locale = "ru"


class RouteFacts(EventPayload):
    """A signature request (a route) of a document, as every event of it names it."""

    request_id: str
    document_id: str
    title: str
    owner: Person


class RouteActionFacts(RouteFacts):
    """A participant's action in a stage of a route: who acted, and for whom when a delegate did."""

    stage: int
    actor: Person
    on_behalf_of: Person | None = None
