"""pytest fixtures shared by every DocFlow test suite (load with ``pytest_plugins``).

Each run isolates its data: a unique database prefix and a unique broker namespace.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pymongo.asynchronous.database import AsyncDatabase

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.servers import delete_broker_namespace, mongodb_server, rabbitmq_server
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared import broker_users
from docflow_shared.mongo import Document, create_client
from docflow_shared.sealed import SecretSealer, new_key_spec, parse_keys

TESTS_VIA = "DOCFLOW_TESTS_VIA"


def tests_via() -> str:
    """Where a service's suite sends its requests: ``service`` (the default), to an instance of
    the service started for the suite; ``gateway``, through the whole stack's gateway."""
    via = os.environ.get(TESTS_VIA, "service")
    if via not in ("service", "gateway"):
        raise pytest.UsageError(f"{TESTS_VIA} is 'service' or 'gateway', not {via!r}")
    return via


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with mongodb_server(tmp_path_factory.mktemp("mongo")) as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session")
async def db(mongo_url: str, run_id: str) -> AsyncIterator[AsyncDatabase[Document]]:
    """A fresh database per test on the session's server, dropped afterwards."""
    client = create_client(mongo_url)
    database: AsyncDatabase[Document] = client[f"t{run_id}_{uuid.uuid4().hex[:8]}"]
    yield database
    await client.drop_database(database.name)
    await client.close()


@pytest.fixture(scope="session")
def amqp_url(run_id: str) -> Iterator[str]:
    with rabbitmq_server() as url:
        yield url
        cleanup = threading.Thread(target=asyncio.run, args=(delete_broker_namespace(url, f"t{run_id}."),))
        cleanup.start()
        cleanup.join(120)


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def platform_env(run_id: str, mongo_url: str, amqp_url: str, smtp_sink: SmtpSink,
                 tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for services under test: the run's database prefix and broker namespace."""
    data_dir = tmp_path_factory.mktemp("data")
    own_prefixes = ("AUTH_", "GATEWAY_", "MAIL_", "DOCUMENTS_", "SIGNING_", "SMTP_", "AUDIT_", "NOTIFY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own_prefixes)}
    env.update({
        "MONGODB_URL": mongo_url,
        "MONGODB_DB_PREFIX": f"t{run_id}_",
        "AMQP_URL": amqp_url,
        "BROKER_NAMESPACE": f"t{run_id}.",
        "EVENT_RETRY_DELAYS": "[1,1,1]",
        "OUTBOX_POLL_SECONDS": "0.5",
        "DATA_DIR": str(data_dir),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_sink.port),
        "SMTP_TLS": "none",
        "LOG_LEVEL": "INFO",
        "METRICS_POLL_SECONDS": "1",
        "PUBLIC_BASE_URL": "http://docflow.test",
        "EVENT_SECRET_KEYS": new_key_spec("t1"),
        "AUTH_REFRESH_GRACE_SECONDS": "2",
        # Every test client comes from 127.0.0.1: per-IP limits are tested on a gateway of their own.
        "GATEWAY_RATE_LIMIT_SIGNUP_PER_MINUTE": "100000",
        "GATEWAY_RATE_LIMIT_LOGIN_PER_MINUTE": "100000",
        "GATEWAY_RATE_LIMIT_FORGOT_PER_MINUTE": "100000",
        "GATEWAY_RATE_LIMIT_VERIFY_PER_MINUTE": "100000",
        "GATEWAY_RATE_LIMIT_AVAILABILITY_PER_MINUTE": "100000",
        "GATEWAY_RATE_LIMIT_USER_PER_MINUTE": "100000",
        # webhook receivers in tests listen on this machine (the SSRF guard refuses it otherwise)
        "NOTIFY_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.1/32"]',
        "NOTIFY_WEBHOOK_RETRY_BASE_SECONDS": "1",
        "ROUTES_SCHEDULER_TICK_SECONDS": "0.5",  # expiry and reminders within a test's wait
    })
    return env


def own_database_and_namespace(platform_env: dict[str, str], label: str) -> dict[str, str]:
    """The run's platform env with a database prefix and broker namespace of its own, for a
    service a suite starts beside the session stack: on the stack's database it would publish
    part of the stack's events itself (``docflow_dev.devstack.claim_database`` refuses that)."""
    tag = f"{label}{uuid.uuid4().hex[:6]}"
    return {**platform_env, "MONGODB_DB_PREFIX": f"{platform_env['MONGODB_DB_PREFIX']}{tag}_",
            "BROKER_NAMESPACE": f"{platform_env['BROKER_NAMESPACE']}{tag}."}


def free_ports() -> dict[str, int]:
    names = ("gateway", "auth", "documents", "signing", "mail", "routes", "audit", "notify")
    return {name: free_port() for name in names}


@dataclass(frozen=True)
class BrokerUsers:
    """The run's per-service broker users: ``<prefix><service>``, each with its AMQP URL."""

    prefix: str
    urls: dict[str, str]


@pytest.fixture(scope="session")
def service_broker_users(run_id: str, amqp_url: str, platform_env: dict[str, str]) -> Iterator[BrokerUsers | None]:
    """One broker user per service for the run's stack, deleted at the end; None when the
    local rabbitmqctl cannot create users (then the stack shares the development user)."""
    prefix = f"t{run_id}-"
    try:
        urls = broker_users.local_service_users(amqp_url, prefix=prefix, namespace=platform_env["BROKER_NAMESPACE"],
                                                passwords=broker_users.new_passwords())
    except (RuntimeError, OSError, subprocess.SubprocessError):
        yield None
        return
    yield BrokerUsers(prefix=prefix, urls=urls)
    broker_users.delete_locally([broker_users.service_user(prefix, service) for service in urls])


@pytest.fixture(scope="session")
def stack(platform_env: dict[str, str], service_broker_users: BrokerUsers | None,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Every installed service, running as processes, for end-to-end tests through the gateway;
    each service on its own broker user when the broker allows creating them."""
    logs = tmp_path_factory.mktemp("logs")
    env, service_env = dict(platform_env), {}
    if service_broker_users is not None:
        env["BROKER_USER_PREFIX"] = service_broker_users.prefix
        service_env = {service: {"AMQP_URL": url} for service, url in service_broker_users.urls.items()}
    running = Stack(env=env, ports=free_ports(), log_dir=Path(logs), service_env=service_env,
                    metrics_ports=free_ports()).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def gateway_url(stack: Stack) -> str:
    return stack.url("gateway")


@pytest_asyncio.fixture(loop_scope="session")
async def client(gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        yield http


def event_sealer(platform_env: dict[str, str]) -> SecretSealer:
    """The key auth seals codes and tokens with in the run's services."""
    return SecretSealer(parse_keys(platform_env["EVENT_SECRET_KEYS"]))


@pytest_asyncio.fixture(loop_scope="session")
async def events(amqp_url: str, platform_env: dict[str, str]) -> AsyncIterator[EventTap]:
    async with EventTap(amqp_url, platform_env["BROKER_NAMESPACE"], sealer=event_sealer(platform_env)) as tap:
        yield tap


@pytest.fixture(scope="session")
def local_issuer() -> Iterator[LocalIssuer]:
    """Issues tokens with a key of its own; point a service's JWKS_URL at it to test it alone."""
    issuer = LocalIssuer().start()
    yield issuer
    issuer.stop()
