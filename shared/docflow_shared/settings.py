"""One settings base for every DocFlow service.

Platform-wide values (MongoDB, broker, JWT) are read without a prefix so that one `.env`
serves all services; each service's own values carry its prefix (``AUTH_``, ``MAIL_``, ...).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar, Literal, TypeVar
from urllib.parse import unquote, urlparse

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that stand in for a secret in examples and development set-ups; refused in production.
PLACEHOLDER_MARKERS = ("change-me", "changeme", "change_me", "placeholder", "replace-me", "example", "guest")


def env_alias(*names: str) -> AliasChoices:
    """A field read from these environment variables (the first one set wins) rather than from
    the service's prefix plus its name; lower-case forms are accepted too."""
    return AliasChoices(*names, *(name.lower() for name in names))


class ServiceSettings(BaseSettings):
    """Settings every service has; subclasses add their own with ``env_prefix``."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "service"
    # fields holding secrets this service needs: in production each must be set and not a placeholder
    required_secrets: ClassVar[tuple[str, ...]] = ()

    # "production" refuses to start with empty or placeholder secrets and the shared guest broker user
    environment: Literal["development", "production"] = Field(
        "development", validation_alias=env_alias("DOCFLOW_ENV")
    )

    mongodb_url: str = Field("mongodb://127.0.0.1:27017", validation_alias=env_alias("MONGODB_URL"))
    mongodb_db_prefix: str = Field("", validation_alias=env_alias("MONGODB_DB_PREFIX"))
    mongodb_timeout_ms: int = Field(3000, validation_alias=env_alias("MONGODB_TIMEOUT_MS"))
    amqp_url: str = Field(
        "amqp://guest:guest@127.0.0.1:5672/", validation_alias=env_alias("AMQP_URL")
    )
    broker_namespace: str = Field("", validation_alias=env_alias("BROKER_NAMESPACE"))
    # per-service broker users are named <prefix><service>; set, consumers check who published
    broker_user_prefix: str = Field("", validation_alias=env_alias("BROKER_USER_PREFIX"))
    # keys sealing secrets in events for the mail service ("kid:base64,kid2:base64")
    event_secret_keys: str = Field("", validation_alias=env_alias("EVENT_SECRET_KEYS"))
    event_secret_key_id: str = Field("", validation_alias=env_alias("EVENT_SECRET_KEY_ID"))
    jwt_issuer: str = Field("docflow-auth", validation_alias=env_alias("JWT_ISSUER"))
    jwt_audience: str = Field("docflow", validation_alias=env_alias("JWT_AUDIENCE"))
    # How long a revoked session or user is remembered by each replica: the access-token lifetime.
    access_token_lifetime: float = Field(900.0, validation_alias=env_alias("ACCESS_TOKEN_LIFETIME"))
    jwks_url: str = Field(
        "http://127.0.0.1:8001/.well-known/jwks.json", validation_alias=env_alias("JWKS_URL")
    )
    public_base_url: str = Field("http://127.0.0.1:8000", validation_alias=env_alias("PUBLIC_BASE_URL"))
    # Peers whose X-Forwarded-For/-Proto are believed (IPs or CIDRs): the gateway in front of a service.
    # Services run uvicorn with --no-proxy-headers; the app applies this list (docs/architecture.md).
    trusted_proxies: list[str] = Field(["127.0.0.1", "::1"], validation_alias=env_alias("TRUSTED_PROXIES"))
    # The largest request body (JSON and the rest); upload routes have their own caps.
    max_body_bytes: int = Field(1024 * 1024, gt=0, validation_alias=env_alias("MAX_BODY_BYTES"))
    log_level: str = Field("INFO", validation_alias=env_alias("LOG_LEVEL"))
    log_json: bool = Field(True, validation_alias=env_alias("LOG_JSON"))
    outbox_poll_seconds: float = Field(1.0, validation_alias=env_alias("OUTBOX_POLL_SECONDS"))
    # how long a consumer remembers a handled event id (redeliveries and DLQ replays come sooner)
    processed_events_ttl_seconds: int = Field(
        14 * 24 * 3600, ge=3600, validation_alias=env_alias("PROCESSED_EVENTS_TTL_SECONDS")
    )
    event_retry_delays: tuple[int, ...] = Field(
        (1, 10, 60), validation_alias=env_alias("EVENT_RETRY_DELAYS")
    )
    # Prometheus /metrics on a port of its own, never the API port, so the gateway cannot expose
    # it (read with the service's prefix: AUTH_METRICS_PORT, ...); 0 serves no metrics.
    metrics_port: int = Field(0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    # how often queue depths and the outbox backlog are measured for the metrics
    metrics_poll_seconds: float = Field(15.0, gt=0, validation_alias=env_alias("METRICS_POLL_SECONDS"))
    # OpenTelemetry's standard variables: traces are exported over OTLP/HTTP only when an
    # endpoint is set, and not at all otherwise (docs/architecture.md, "Metrics and traces")
    otel_exporter_otlp_endpoint: str = Field("", validation_alias=env_alias("OTEL_EXPORTER_OTLP_ENDPOINT"))
    otel_exporter_otlp_traces_endpoint: str = Field(
        "", validation_alias=env_alias("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    otel_traces_exporter: str = Field("otlp", validation_alias=env_alias("OTEL_TRACES_EXPORTER"))
    otel_sdk_disabled: bool = Field(False, validation_alias=env_alias("OTEL_SDK_DISABLED"))
    otel_service_name: str = Field("", validation_alias=env_alias("OTEL_SERVICE_NAME"))

    @property
    def database_name(self) -> str:
        return f"{self.mongodb_db_prefix}{self.service_name}"

    @property
    def traces_endpoint(self) -> str | None:
        """Where spans go (OTLP/HTTP), or None when tracing is off."""
        if self.otel_sdk_disabled or self.otel_traces_exporter.strip().lower() == "none":
            return None
        if self.otel_exporter_otlp_traces_endpoint:
            return self.otel_exporter_otlp_traces_endpoint
        if self.otel_exporter_otlp_endpoint:
            return self.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        return None

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> ServiceSettings:
        if self.environment == "production" and (problems := self.production_problems()):
            raise ValueError(
                f"DocFlow {self.service_name} refuses to start in production mode (DOCFLOW_ENV=production): "
                + "; ".join(problems)
            )
        return self

    def production_problems(self) -> list[str]:
        """What makes these settings unfit for production (development values, placeholders)."""
        problems: list[str] = []
        broker = urlparse(self.amqp_url)
        if unquote(broker.username or "guest") == "guest":
            problems.append("AMQP_URL uses the development broker user guest; give the service its own user")
        elif is_placeholder(unquote(broker.password or "")):
            problems.append("AMQP_URL carries an empty or placeholder password")
        if not self.broker_user_prefix:
            problems.append("BROKER_USER_PREFIX is not set, so consumers cannot check who published an event")
        for name in self.required_secrets:
            if is_placeholder(str(getattr(self, name) or "")):
                problems.append(f"{self.env_name(name)} is empty or a placeholder; set a real secret")
        return problems

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable a field is read from."""
        alias = cls.model_fields[field].validation_alias
        if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
            return alias.choices[0]
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


class DataDirSettings(ServiceSettings):
    """Settings of a service that keeps files of its own below ``DATA_DIR`` (shared by every
    service; development keys when none are configured)."""

    data_dir: Path = Field(Path(".data"), validation_alias=env_alias("DATA_DIR"))


def is_placeholder(value: str) -> bool:
    """Empty, or a stand-in such as ``change-me`` rather than a secret."""
    lowered = value.strip().lower()
    return not lowered or any(marker in lowered for marker in PLACEHOLDER_MARKERS)


S = TypeVar("S", bound=BaseSettings)


def env_name(settings_class: type[BaseSettings], field: str) -> str:
    """The environment variable a settings field is read from (its first alias, else prefix + name)."""
    info = settings_class.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices):
        alias = next((choice for choice in alias.choices if isinstance(choice, str)), None)
    if isinstance(alias, str):
        return alias.upper()
    return f"{settings_class.model_config.get('env_prefix', '')}{field}".upper()


def settings_errors(settings_class: type[BaseSettings], error: ValidationError) -> list[str]:
    """One line per bad variable: its name, what is wrong with the value, and what is allowed."""
    lines = []
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else ""
        if not field:  # a check across variables, such as production mode's refusals
            lines.append(f"configuration error: {str(item['msg']).removeprefix('Value error, ')}")
            continue
        name = env_name(settings_class, field) if field in settings_class.model_fields else field.upper()
        value = item.get("input")
        given = f"{value!r}" if isinstance(value, str | int | float | bool) else "the value"
        ctx = item.get("ctx") or {}
        if "expected" in ctx:
            problem = f"{given} is not allowed; allowed: {ctx['expected'].replace(chr(39), '')}"
        else:
            problem = f"{given} is invalid: {item['msg'][:1].lower()}{item['msg'][1:]}"
        lines.append(f"configuration error: {name}: {problem}")
    return lines


def load_settings(settings_class: type[S]) -> S:
    """The settings from the environment; on bad values, one line per variable and exit status 2
    (instead of pydantic's traceback) -- every service's app factory reads its settings here."""
    try:
        return settings_class()
    except ValidationError as exc:
        for line in settings_errors(settings_class, exc):
            print(line, file=sys.stderr, flush=True)
        raise SystemExit(2) from None
