"""Settings of the documents service (``DOCUMENTS_`` prefix, platform values without one)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from docflow_shared.settings import ServiceSettings, env_alias

MIB = 1024 * 1024


class DocumentsSettings(ServiceSettings):
    """Upload limits, ZIP inspection limits and the master keys that wrap file keys."""

    model_config = SettingsConfigDict(env_prefix="DOCUMENTS_")

    service_name: ClassVar[str] = "documents"
    required_secrets: ClassVar[tuple[str, ...]] = ("master_keys",)

    max_upload_mb: float = Field(
        100, validation_alias=AliasChoices("DOCUMENTS_MAX_UPLOAD_MB", "MAX_UPLOAD_MB", "max_upload_mb")
    )
    # Master keys: "kid1:base64key,kid2:base64key" (32-byte keys); the current one wraps new files,
    # the others stay to unwrap older files (see docs/documents.md, "Key rotation").
    master_keys: str = ""
    master_key_id: str = ""
    data_dir: Path | None = Field(None, validation_alias=env_alias("DATA_DIR"))
    zip_max_entries: int = 10_000
    zip_max_ratio: float = 100.0
    zip_max_total_mb: float = 1024.0
    zip_max_directory_mb: float = 4.0
    # an upload that stores nothing for this long is dropped, and what a process that died
    # mid-upload left behind is removed; the sweep runs every upload_sweep_seconds
    upload_idle_seconds: float = Field(900.0, gt=0)
    upload_sweep_seconds: float = Field(300.0, gt=0)
    shared_scope_limit: int = 5_000
    page_limit_max: int = 100

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * MIB)
