"""The trail's records as stored, read and exported, and the fact an event is turned into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from docflow_audit.access.schemas import AccessChange
from docflow_audit.trail.chain import ALGORITHM, CANONICAL

if TYPE_CHECKING:
    from docflow_audit.trail.repository import AuditRecordDocument


class Actor(BaseModel):
    """Someone who acted, as the event named them (outside DocFlow: an address, no user id)."""

    user_id: str = ""
    email: str = ""
    name: str = ""


class ClientRead(BaseModel):
    """Where the request that did it came from."""

    ip: str = ""
    user_agent: str = ""
    request_id: str = ""


@dataclass(frozen=True)
class Fact:
    """What one event says happened to a document, before it is numbered and chained; an
    empty ``action`` is no record, only a change of who may read the trail."""

    document_id: str
    owner_id: str
    action: str
    actor: Actor | None = None
    on_behalf_of: Actor | None = None
    client: ClientRead = field(default_factory=ClientRead)
    details: Mapping[str, Any] = field(default_factory=dict)
    access: tuple[AccessChange, ...] = ()


class AuditRecordRead(BaseModel):
    """One record of a document's trail, exactly as it is hashed (docflow_audit.trail.chain)."""

    document_id: str
    seq: int
    event_id: str
    event_type: str
    action: str
    occurred_at: str
    recorded_at: str
    actor: Actor | None
    on_behalf_of: Actor | None
    client: ClientRead
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def from_doc(cls, doc: AuditRecordDocument) -> AuditRecordRead:
        return cls.model_validate({k: v for k, v in doc.items() if k != "_id"})


class ChainHead(BaseModel):
    """The chain's last record as the service knows it."""

    seq: int
    hash: str


class AuditExport(BaseModel):
    """A whole trail; ``python -m docflow_audit.verify <file>`` checks its chain offline."""

    format: str = "docflow-audit-export/1"
    document_id: str
    exported_at: str
    algorithm: str = ALGORITHM
    canonical: str = CANONICAL
    verify: str = "python -m docflow_audit.verify <this file>"
    head: ChainHead | None
    records: list[AuditRecordRead]
