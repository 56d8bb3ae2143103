"""pytest fixtures shared by every DocFlow test suite (load with ``pytest_plugins``).

Each run isolates its data: a unique database prefix and a unique broker namespace.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from docflow_shared.devstack import Stack, free_port
from docflow_shared.testing.events import EventTap
from docflow_shared.testing.issuer import LocalIssuer
from docflow_shared.testing.servers import delete_broker_namespace, mongodb_server, rabbitmq_server
from docflow_shared.testing.smtp import SmtpSink


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with mongodb_server(tmp_path_factory.mktemp("mongo")) as url:
        yield url


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
    own_prefixes = ("AUTH_", "GATEWAY_", "MAIL_", "DOCUMENTS_", "SIGNING_", "SMTP_")
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
        "PUBLIC_BASE_URL": "http://docflow.test",
        # Every test client comes from 127.0.0.1: per-IP limits are tested on a gateway of their own.
        "GATEWAY_RATE_LIMIT_SIGNUP_PER_MINUTE": "100000",
        "GATEWAY_RATE_LIMIT_LOGIN_PER_MINUTE": "100000",
        "GATEWAY_RATE_LIMIT_FORGOT_PER_MINUTE": "100000",
        "GATEWAY_RATE_LIMIT_VERIFY_PER_MINUTE": "100000",
        "GATEWAY_RATE_LIMIT_USER_PER_MINUTE": "100000",
    })
    return env


def free_ports() -> dict[str, int]:
    return {name: free_port() for name in ("gateway", "auth", "documents", "signing", "mail")}


@pytest.fixture(scope="session")
def stack(platform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Every installed service, running as processes, for end-to-end tests through the gateway."""
    logs = tmp_path_factory.mktemp("logs")
    running = Stack(env=dict(platform_env), ports=free_ports(), log_dir=Path(logs)).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def gateway_url(stack: Stack) -> str:
    return stack.url("gateway")


@pytest_asyncio.fixture(loop_scope="session")
async def client(gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        yield http


@pytest_asyncio.fixture(loop_scope="session")
async def events(amqp_url: str, platform_env: dict[str, str]) -> AsyncIterator[EventTap]:
    async with EventTap(amqp_url, platform_env["BROKER_NAMESPACE"]) as tap:
        yield tap


@pytest.fixture(scope="session")
def local_issuer() -> Iterator[LocalIssuer]:
    """Issues tokens with a key of its own; point a service's JWKS_URL at it to test it alone."""
    issuer = LocalIssuer().start()
    yield issuer
    issuer.stop()
