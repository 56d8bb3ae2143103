"""Notify service settings (``NOTIFY_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from docflow_shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    """How long streams replay, how they are kept alive, and how webhooks are delivered."""

    model_config = SettingsConfigDict(env_prefix="NOTIFY_")

    service_name: ClassVar[str] = "notify"

    # --- streams (WebSocket and SSE) ---
    # a client that reconnects with the last id it saw gets what it missed in this window
    replay_seconds: int = Field(600, ge=10)
    # events waiting for one slow client; past this the stream is closed with a reason
    client_queue_size: int = Field(256, ge=1)
    # a heartbeat message when nothing else was sent for this long
    heartbeat_seconds: float = Field(15.0, gt=0)
    # how long a WebSocket client has to send its token in the first message
    auth_timeout_seconds: float = Field(10.0, gt=0)

    # --- webhooks ---
    # hosts and ranges a webhook may reach although they are loopback, link-local or private
    # (CIDRs, e.g. ["127.0.0.1/32"] for local receivers); none by default (SSRF guard)
    webhook_allowed_networks: list[str] = []
    webhook_timeout_seconds: float = Field(10.0, gt=0)
    # a failed delivery is tried again after base * 2**(n-1) seconds, at most max, for max_age
    webhook_retry_base_seconds: float = Field(10.0, gt=0)
    webhook_retry_max_seconds: float = Field(3600.0, gt=0)
    webhook_max_age_seconds: float = Field(24 * 3600.0, gt=0)
    webhook_retry_poll_seconds: float = Field(1.0, gt=0)
    webhook_claim_seconds: float = Field(60.0, gt=0)
    webhook_concurrency: int = Field(16, ge=1)
    # how long the previous secret still signs deliveries after a rotation
    webhook_secret_overlap_seconds: int = Field(24 * 3600, ge=0)
    # endpoints per owner
    webhook_max_per_owner: int = Field(20, ge=1)
