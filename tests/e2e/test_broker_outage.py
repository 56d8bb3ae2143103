"""Broker down during signup: the request still succeeds and its events go out when the broker
returns (docs/architecture.md, "Reliability rules", rule 1). The outage is cut for this stack only, by a proxy
between its services and the real RabbitMQ."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.plugin import event_sealer
from docflow_dev.testing.tcpproxy import TcpProxy


@pytest.fixture(scope="module")
def broker_proxy(amqp_url: str) -> Iterator[TcpProxy]:
    parsed = urlparse(amqp_url)
    proxy = TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or 5672).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def outage_stack(platform_env: dict[str, str], amqp_url: str, broker_proxy: TcpProxy,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    parsed = urlparse(amqp_url)
    proxied = amqp_url.replace(f"{parsed.hostname}:{parsed.port or 5672}", f"127.0.0.1:{broker_proxy.port}")
    namespace = f"{platform_env['BROKER_NAMESPACE']}outage{uuid.uuid4().hex[:4]}."
    env = {**platform_env, "AMQP_URL": proxied, "BROKER_NAMESPACE": namespace,
           "MONGODB_DB_PREFIX": f"{platform_env['MONGODB_DB_PREFIX']}outage_"}
    stack = Stack(env=env, ports={"auth": free_port(), "gateway": free_port()}, only=("auth", "gateway"),
                  log_dir=Path(tmp_path_factory.mktemp("outage-logs"))).start()
    yield stack, namespace
    stack.stop()


async def test_signup_succeeds_while_the_broker_is_down_and_its_events_follow(
    outage_stack: tuple[Stack, str], broker_proxy: TcpProxy, amqp_url: str, platform_env: dict[str, str]
) -> None:
    stack, namespace = outage_stack
    email = f"outage.{uuid.uuid4().hex[:8]}@example.kz"
    tap = EventTap(amqp_url, namespace, sealer=event_sealer(platform_env))
    async with tap, httpx.AsyncClient(base_url=stack.url("gateway")) as http:
        broker_proxy.down()
        try:
            response = await http.post("/api/v1/auth/signup", json={
                "email": email, "password": "Sturdy-Kettle-47", "full_name": "Outage Test", "locale": "en"})
            assert response.status_code == 201, response.text
            user_id = response.json()["id"]
            await asyncio.sleep(2)
            assert tap.of_type("user.registered") == []
        finally:
            broker_proxy.up()
        registered = await tap.wait_for("user.registered", lambda e: e.data["user_id"] == user_id, timeout=30)
        requested = await tap.wait_for("user.email_verification_requested",
                                       lambda e: e.data["user_id"] == user_id, timeout=30)
        assert registered.data["email"] == email
        assert requested.data["code"].isdigit() and len(requested.data["code"]) == 6
        assert registered.producer == "auth"
