"""Read models validated straight from the document a service stored: ``StoredRead`` and the
bases and field types every service's ``*Read`` models share (docs/architecture.md, "Times").

A read model declares the fields the API shows; ``from_doc`` validates the stored document
into it, so no service maps ``_id`` or converts stored times by hand."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from docflow_shared.mongo import stored_datetime


def stored_time(value: object) -> datetime:
    """A time the service wrote. One that cannot be read means a damaged document: fail rather
    than show a time that never was."""
    at = stored_datetime(value)
    if at is None:
        raise ValueError(f"unreadable stored time: {value!r}")
    return at


def optional_text(value: object) -> str | None:
    """A stored string that may be absent (None stays None, not ``"None"``)."""
    return None if value is None else str(value)


def _text(value: object) -> str:
    """A stored string that may be absent or null: shown as empty."""
    return "" if value is None else str(value)


StoredTime = Annotated[datetime, BeforeValidator(stored_time)]
OptionalStoredTime = Annotated[datetime | None, BeforeValidator(stored_datetime)]
Text = Annotated[str, BeforeValidator(_text)]
OptionalText = Annotated[str | None, BeforeValidator(optional_text)]


class StoredRead(BaseModel):
    """A read model validated from the document as stored: ``_id`` becomes ``id`` (the API keeps
    ``id``: the alias is for validation only), times are read with ``stored_time``, and the fields
    an older document may lack take their defaults (always present in answers, so required in the
    API's schema). Stored fields the model does not declare are not shown."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Self:
        return cls.model_validate(doc)


class Identified(StoredRead):
    id: str = Field(validation_alias=AliasChoices("_id", "id"))


class Created(Identified):
    created_at: StoredTime
