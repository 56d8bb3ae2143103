"""Settings of the signing service (prefix ``SIGNING_``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from docflow_shared.settings import ServiceSettings


class SigningSettings(ServiceSettings):
    """Trust store, revocation policy, request reminders and upload limits."""

    model_config = SettingsConfigDict(env_prefix="SIGNING_", env_file=".env", extra="ignore")

    service_name: ClassVar[str] = "signing"

    trust_dir: str = ""
    """Directory of trusted CA certificates (PEM or DER files, several PEM blocks per file allowed);
    default ``$DATA_DIR/signing/trust``, else ``./trust``."""
    data_dir: str = Field("", validation_alias=AliasChoices("DATA_DIR", "data_dir"))
    allow_untrusted: bool = False
    """Store intact signatures (and accept certificates) that do not chain to the trust store."""
    revocation_check: bool = False
    """Fetch CRL/OCSP while validating (paths are then validated now, not at the signing time); off by default."""
    revocation_mode: Literal["soft-fail", "hard-fail", "require"] = "soft-fail"
    reminder_seconds: float = 86400.0
    """Interval between reminders to pending signers of an open request."""
    scheduler_tick_seconds: float = 30.0
    """How often the background loop looks for due reminders and expired requests."""
    max_signature_bytes: int = 1_000_000
    max_certificate_bytes: int = 100_000
    max_verify_file_bytes: int = 100 * 1024 * 1024
    clock_skew_seconds: int = 300

    @property
    def trust_path(self) -> Path:
        if self.trust_dir:
            return Path(self.trust_dir)
        return Path(self.data_dir) / "signing" / "trust" if self.data_dir else Path("trust")
