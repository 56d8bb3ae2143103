"""Gateway settings: upstreams (unprefixed, shared with devstack) and GATEWAY_ values."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from docflow_shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore",
                                      populate_by_name=True)
    service_name: ClassVar[str] = "gateway"

    auth_url: str = Field("", validation_alias=AliasChoices("AUTH_URL", "auth_url"))
    documents_url: str = Field("", validation_alias=AliasChoices("DOCUMENTS_URL", "documents_url"))
    signing_url: str = Field("", validation_alias=AliasChoices("SIGNING_URL", "signing_url"))
    mail_url: str = Field("", validation_alias=AliasChoices("MAIL_URL", "mail_url"))
    # Extra or overriding routes: a JSON list of [regex, service] pairs, tried first.
    routes: list[tuple[str, str]] = []

    upstream_connect_timeout: float = 3.0
    upstream_read_timeout: float = 300.0
    upstream_connections: int = 512

    rate_limit_enabled: bool = True
    # Per client IP, per minute, on the sensitive public endpoints.
    rate_limit_signup_per_minute: int = 10
    rate_limit_login_per_minute: int = 20
    rate_limit_forgot_per_minute: int = 5
    rate_limit_verify_per_minute: int = 20
    # Per authenticated user, per minute, on everything.
    rate_limit_user_per_minute: int = 1200
    # Client IPs are taken from X-Forwarded-For only when the peer is one of these proxies.
    trusted_proxies: list[str] = ["127.0.0.1", "::1"]
    trust_forwarded_for: bool = False

    openapi_cache_seconds: float = 30.0
