"""The documents service's read-model base for records that may change; the rest of its read
models use the shared bases of ``docflow_shared.stored`` directly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import model_validator

from docflow_shared.stored import Created, StoredTime


class CreatedAndUpdated(Created):
    """A record that may have changed: one never changed has no ``updated_at`` and shows its creation."""

    updated_at: StoredTime

    @model_validator(mode="before")
    @classmethod
    def _unchanged_shows_created(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not data.get("updated_at"):
            return {**data, "updated_at": data.get("created_at")}
        return data
