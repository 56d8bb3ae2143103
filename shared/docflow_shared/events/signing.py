"""Events of signing and of routes' signature requests: ``signature.*``, ``document.signed``,
``document.completed`` (catalogue v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from docflow_shared.events.envelope import EventPayload
from docflow_shared.events.facts import FileRef, RouteFacts
from docflow_shared.events.person import Client, Person


class SignatureFileDigestsRequested(FileRef):
    """A GOST signature of a stored file arrived: signing needs the file's Streebog digests, which
    documents computes once and answers with ``document.file_digested``."""

    TYPE = "signature.file_digests_requested"


class SignatureRequested(RouteFacts):
    TYPE = "signature.requested"
    signer: Person
    message: str = ""
    expires_at: datetime | None = None
    reminder: bool = False


class SignatureRequestExpired(RouteFacts):
    """Added to v1: a request closed unsigned at its expiry; the owner is told."""

    TYPE = "signature.request_expired"
    pending_signers: list[Person] = []


class SignatureRequestCancelled(EventPayload):
    """Added to v1: the owner withdrew a request (documents drops the inbox items)."""

    TYPE = "signature.request_cancelled"
    request_id: str
    document_id: str
    owner_id: str
    signer_ids: list[str] = []


class DocumentSigned(FileRef):
    """``signed_at`` is the time signing vouches for: when it received the signature, or the
    earlier time a trusted RFC 3161 timestamp proves (``time_basis``). Added fields:
    ``received_at``, ``claimed_signing_time`` (the signer's own ``signingTime``, a claim),
    ``timestamp_time`` and ``time_basis``; events without them are from before the change.
    ``signer_role`` and ``sign_right`` are set for a Kazakh (NCA RK) certificate: the holder's role
    from its extended key usage, and whether it may sign for its organisation (null for a person),
    so that a route can require the right to sign.
    ``on_behalf_of`` (added): the route participant a delegate signed for. ``client`` (added):
    where the upload came from (ip, user agent, request id), for the audit trail."""

    TYPE = "document.signed"
    signature_id: str
    title: str
    signer: Person
    owner: Person
    signed_at: datetime
    request_id: str | None = None
    on_behalf_of: Person | None = None
    """A delegate signed for this participant of the request."""
    received_at: datetime | None = None
    claimed_signing_time: datetime | None = None
    timestamp_time: datetime | None = None
    time_basis: Literal["received", "timestamp"] | None = None
    signer_role: str | None = None
    sign_right: bool | None = None
    client: Client = Client()


class DocumentCompleted(EventPayload):
    TYPE = "document.completed"
    document_id: str
    request_id: str
    title: str
    owner: Person
    participants: list[Person]
    completed_at: datetime
