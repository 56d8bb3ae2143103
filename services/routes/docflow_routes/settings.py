"""Settings of the routes service (prefix ``ROUTES_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from docflow_shared.settings import DataDirSettings


class RoutesSettings(DataDirSettings):
    """Reminders and the background loop of open routes."""

    model_config = SettingsConfigDict(env_prefix="ROUTES_")

    service_name: ClassVar[str] = "routes"
    required_secrets: ClassVar[tuple[str, ...]] = ("event_secret_keys", "secret_key")

    # data_dir: without EVENT_SECRET_KEYS or ROUTES_SECRET_KEY (development), keys are kept there
    secret_key: str = ""
    """Key of the HMAC that stores the outside participants' 6-digit codes."""
    external_link_days: float = 14.0
    """How long a link for someone outside DocFlow is valid (never past the request's expiry)."""
    external_link_path: str = "/api/v1/external/"
    """Path that opens a link, under PUBLIC_BASE_URL; the token follows it (the API itself by
    default, as the e-mail verification link; a front end may put its own page here)."""
    external_code_seconds: int = 600
    external_code_gap_seconds: float = 60.0
    """At most one code per link in this time..."""
    external_code_sends: int = 5
    """...and this many in all."""
    external_max_failures: int = 5
    """Wrong codes before the link locks."""
    external_session_hours: float = 24.0

    reminder_seconds: float = 86400.0
    """Default interval between reminders to the pending participants of an open stage."""
    reminder_min_seconds: float = 3600.0
    """The shortest interval a request may ask for."""
    reminder_limit: int = 5
    """Reminders per stage at most."""
    scheduler_tick_seconds: float = 30.0
    """How often the background loop looks for due reminders and expired routes."""
