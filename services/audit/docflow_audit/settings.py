"""Audit service settings: the platform's, plus its own under ``AUDIT_``."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from docflow_shared.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    """How hard the audit service tries to append a record to a chain another writer moved."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_")

    service_name: ClassVar[str] = "audit"

    # two consumers appending to one chain: the loser of a sequence number reads the new end and
    # tries again, this many times before the event goes back to the broker's retries
    append_attempts: int = Field(64, ge=1, le=10_000)
    # the largest export one request builds (records of one document)
    export_max_records: int = Field(100_000, ge=1)
