"""A started stack is ready for events: ``Stack.start`` returns once each service's queues are
bound, not when its port opens. An event published before the queue exists is dropped by the
exchange, so a test (or ``make run``'s first sign-up) would otherwise lose it."""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.plugin import own_database_and_namespace
from docflow_dev.testing.tcpproxy import TcpProxy


def test_start_returns_once_the_service_is_ready_with_a_broker_that_comes_late(
        platform_env: dict[str, str], amqp_url: str, tmp_path: Path) -> None:
    broker = urlparse(amqp_url)
    proxy = TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672)
    late = amqp_url.replace(f"{broker.hostname}:{broker.port or 5672}", f"127.0.0.1:{proxy.port}")
    env = {**own_database_and_namespace(platform_env, "late"), "AMQP_URL": late}
    # the broker answers only after the service's port is long open
    opened = threading.Event()

    def open_late() -> None:
        proxy.start()
        opened.set()

    opens = threading.Timer(4.0, open_late)
    opens.start()
    stack = Stack(env=env, ports={"mail": free_port()}, only=("mail",), log_dir=tmp_path)
    try:
        stack.start()
        ready = httpx.get(f"{stack.url('mail')}/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["broker"] == "up"
    finally:
        opens.cancel()
        stack.stop()
        opens.join()
        if opened.is_set():
            proxy.stop()


def test_a_stack_started_without_its_broker_may_skip_the_wait(
        platform_env: dict[str, str], tmp_path: Path) -> None:
    env = {**own_database_and_namespace(platform_env, "late"), "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/"}
    stack = Stack(env=env, ports={"mail": free_port()}, only=("mail",), log_dir=tmp_path, ready=False)
    try:
        stack.start()
        assert httpx.get(f"{stack.url('mail')}/ready", timeout=10).status_code == 503
    finally:
        stack.stop()


def test_waiting_for_a_broker_that_never_comes_fails_in_time(
        platform_env: dict[str, str], tmp_path: Path) -> None:
    env = {**own_database_and_namespace(platform_env, "late"), "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/"}
    stack = Stack(env=env, ports={"mail": free_port()}, only=("mail",), log_dir=tmp_path)
    stack.start_timeout = 8
    with pytest.raises(TimeoutError, match="not ready"):
        stack.start()
