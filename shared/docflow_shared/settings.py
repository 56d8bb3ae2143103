"""One settings base for every DocFlow service.

Platform-wide values (MongoDB, broker, JWT) are read without a prefix so that one `.env`
serves all services; each service's own values carry its prefix (``AUTH_``, ``MAIL_``, ...).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class ServiceSettings(BaseSettings):
    """Settings every service has; subclasses add their own with ``env_prefix``."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "service"

    mongodb_url: str = Field("mongodb://127.0.0.1:27017", validation_alias=_env("MONGODB_URL"))
    mongodb_db_prefix: str = Field("", validation_alias=_env("MONGODB_DB_PREFIX"))
    mongodb_timeout_ms: int = Field(3000, validation_alias=_env("MONGODB_TIMEOUT_MS"))
    amqp_url: str = Field(
        "amqp://guest:guest@127.0.0.1:5672/", validation_alias=_env("AMQP_URL")
    )
    broker_namespace: str = Field("", validation_alias=_env("BROKER_NAMESPACE"))
    jwt_issuer: str = Field("docflow-auth", validation_alias=_env("JWT_ISSUER"))
    jwt_audience: str = Field("docflow", validation_alias=_env("JWT_AUDIENCE"))
    jwks_url: str = Field(
        "http://127.0.0.1:8001/.well-known/jwks.json", validation_alias=_env("JWKS_URL")
    )
    public_base_url: str = Field("http://127.0.0.1:8000", validation_alias=_env("PUBLIC_BASE_URL"))
    log_level: str = Field("INFO", validation_alias=_env("LOG_LEVEL"))
    log_json: bool = Field(True, validation_alias=_env("LOG_JSON"))
    outbox_poll_seconds: float = Field(1.0, validation_alias=_env("OUTBOX_POLL_SECONDS"))
    event_retry_delays: tuple[int, ...] = Field(
        (1, 10, 60), validation_alias=_env("EVENT_RETRY_DELAYS")
    )

    @property
    def database_name(self) -> str:
        return f"{self.mongodb_db_prefix}{self.service_name}"
