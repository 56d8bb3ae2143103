"""The event envelope: one schema for every event DocFlow publishes."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from docflow_shared.logging import causation_id_var, correlation_id_var
from docflow_shared.tracing import current_traceparent

P = TypeVar("P", bound="EventPayload")


class EventPayload(BaseModel):
    """Base of every typed payload; ``TYPE`` is the event type and routing key."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1


class Event(BaseModel):
    """An immutable fact that something happened, as it travels on the broker."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int = 1
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    correlation_id: str | None = None
    causation_id: uuid.UUID | None = None
    data: dict[str, Any]
    # W3C trace context of the request or handler that produced the event, kept with it while it
    # waits in an outbox; set only while tracing is on (docflow_shared.tracing)
    traceparent: str | None = None

    def payload(self, model: builtins.type[P]) -> P:
        """The typed payload; raises pydantic.ValidationError when the data does not fit."""
        return model.model_validate(self.data)

    def to_document(self) -> dict[str, Any]:
        """Plain JSON-compatible form, as stored in an outbox and sent on the wire."""
        return self.model_dump(mode="json")


def new_event(
    payload: EventPayload,
    *,
    producer: str,
    correlation_id: str | None = None,
    causation_id: uuid.UUID | str | None = None,
) -> Event:
    """Wrap a payload in an envelope, taking the ids of the request or event being handled."""
    if causation_id is None and (current := causation_id_var.get()) is not None:
        causation_id = current
    return Event(
        type=payload.TYPE,
        version=payload.VERSION,
        producer=producer,
        correlation_id=correlation_id or correlation_id_var.get(),
        causation_id=uuid.UUID(str(causation_id)) if causation_id else None,
        data=payload.model_dump(mode="json"),
        traceparent=current_traceparent(),
    )
