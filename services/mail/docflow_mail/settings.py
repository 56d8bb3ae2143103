"""Mail service settings: SMTP as the issue names it (``SMTP_*``, ``MAIL_FROM``), the rest ``MAIL_``."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from docflow_shared.settings import DataDirSettings, env_alias


class MailSettings(DataDirSettings):
    """Where and how the mail service sends, and how long it keeps trying."""

    model_config = SettingsConfigDict(env_prefix="MAIL_")

    service_name: ClassVar[str] = "mail"
    required_secrets: ClassVar[tuple[str, ...]] = ("event_secret_keys",)

    # data_dir: without EVENT_SECRET_KEYS (development), the event-secrets key auth keeps there

    smtp_host: str = Field("127.0.0.1", validation_alias=env_alias("SMTP_HOST", "MAIL_SMTP_HOST"))
    smtp_port: int = Field(1025, validation_alias=env_alias("SMTP_PORT", "MAIL_SMTP_PORT"))
    smtp_user: str = Field("", validation_alias=env_alias("SMTP_USER", "MAIL_SMTP_USER"))
    smtp_password: str = Field("", validation_alias=env_alias("SMTP_PASSWORD", "MAIL_SMTP_PASSWORD"))
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        "none", validation_alias=env_alias("SMTP_TLS", "MAIL_SMTP_TLS")
    )
    smtp_timeout: float = Field(10.0, validation_alias=env_alias("SMTP_TIMEOUT", "MAIL_SMTP_TIMEOUT"))
    smtp_validate_certs: bool = Field(True, validation_alias=env_alias("SMTP_VALIDATE_CERTS"))
    mail_from: str = Field("DocFlow <no-reply@docflow.local>", validation_alias=env_alias("MAIL_FROM"))

    # connections kept open to the SMTP server (and so messages sent at the same time)
    smtp_pool_size: int = Field(4, ge=1, le=64)
    # a transient failure (4xx, refused, timeout) is tried again after base * 2**(n-1) seconds
    retry_base_seconds: float = Field(5.0, gt=0)
    retry_max_seconds: float = Field(600.0, gt=0)
    # nothing is retried forever: after this many attempts or this age the delivery fails
    max_attempts: int = Field(10, ge=1)
    max_age_seconds: float = Field(24 * 3600.0, gt=0)
    # how often the retry loop looks for due deliveries, and how long a claim lasts
    retry_poll_seconds: float = Field(1.0, gt=0)
    claim_seconds: float = Field(60.0, gt=0)

    verify_email_path: str = "/api/v1/auth/email/verify"
    reset_password_path: str = "/password/reset"
    templates_dir: str = ""

    def link(self, path: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/{path.lstrip('/')}"
