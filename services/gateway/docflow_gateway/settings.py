"""Gateway settings: upstreams (unprefixed, shared with devstack) and GATEWAY_ values."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from docflow_shared.settings import ServiceSettings, env_alias


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_")
    service_name: ClassVar[str] = "gateway"

    auth_url: str = Field("", validation_alias=env_alias("AUTH_URL"))
    documents_url: str = Field("", validation_alias=env_alias("DOCUMENTS_URL"))
    signing_url: str = Field("", validation_alias=env_alias("SIGNING_URL"))
    mail_url: str = Field("", validation_alias=env_alias("MAIL_URL"))
    routes_url: str = Field("", validation_alias=env_alias("ROUTES_URL"))
    audit_url: str = Field("", validation_alias=env_alias("AUDIT_URL"))
    notify_url: str = Field("", validation_alias=env_alias("NOTIFY_URL"))
    # Extra or overriding routes: a JSON list of [regex, service] pairs, tried first.
    routes: list[tuple[str, str]] = []

    upstream_connect_timeout: float = 3.0
    upstream_read_timeout: float = 300.0
    upstream_connections: int = 512

    rate_limit_enabled: bool = True
    # Counters shared by every replica in the gateway's MongoDB database; false keeps them in-process.
    rate_limit_shared: bool = True
    # Per client IP, per minute, on the sensitive public endpoints.
    rate_limit_signup_per_minute: int = 10
    rate_limit_login_per_minute: int = 20
    rate_limit_forgot_per_minute: int = 5
    rate_limit_verify_per_minute: int = 20
    # Availability answers whether an address or IIN is taken: as tight as signup itself.
    rate_limit_availability_per_minute: int = 10
    # Per authenticated user, per minute, on everything.
    rate_limit_user_per_minute: int = 1200
    # Client IPs are taken from X-Forwarded-For only when the peer is one of these proxies (IPs or
    # CIDRs, e.g. the ingress controller). None by default: the gateway faces the clients itself.
    trusted_proxies: list[str] = Field([], validation_alias=AliasChoices("GATEWAY_TRUSTED_PROXIES",
                                                                         "trusted_proxies"))

    # Bodies of the upload routes (files, signatures to verify); every other body is bounded by
    # MAX_BODY_BYTES (1 MiB). The services apply their own, finer caps behind this one.
    max_upload_bytes: int = Field(110 * 1024 * 1024, gt=0)

    openapi_cache_seconds: float = 30.0

    # WebSockets (WS /api/v1/events): how long a client has to send its token as the first
    # message, and the ping interval towards the upstream (a dead upstream is noticed in 2x that)
    ws_auth_timeout_seconds: float = Field(10.0, gt=0)
    ws_heartbeat_seconds: float = Field(20.0, gt=0)
