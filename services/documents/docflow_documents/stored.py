"""Typed reads of what this service stored: ``StoredRead``, the base of the read models that are
validated straight from their stored document, and the times they show."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from docflow_shared.mongo import stored_datetime


def stored_time(value: object) -> datetime:
    """A time this service wrote. One that cannot be read means a damaged document: fail rather
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
Text = Annotated[str, BeforeValidator(_text)]
OptionalText = Annotated[str | None, BeforeValidator(optional_text)]


class StoredRead(BaseModel):
    """A read model validated from the document as stored: ``_id`` becomes ``id`` (the API keeps
    ``id``: the alias is for validation only), times are read with ``stored_time``, and the fields
    an older document may lack take their defaults (always present in answers, so required in the
    API's schema)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Self:
        return cls.model_validate(doc)


class Identified(StoredRead):
    id: str = Field(validation_alias=AliasChoices("_id", "id"))


class CreatedAndUpdated(Identified):
    """A record that may have changed: one never changed has no ``updated_at`` and shows its creation."""

    created_at: StoredTime
    updated_at: StoredTime

    @model_validator(mode="before")
    @classmethod
    def _unchanged_shows_created(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not data.get("updated_at"):
            return {**data, "updated_at": data.get("created_at")}
        return data
