"""Where the test servers come from: env URLs, testcontainers when a Docker engine answers,
else the embedded MongoDB-wire server and the local RabbitMQ."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import aio_pika

from docflow_dev.localservers import EmbeddedMongo, ensure_rabbitmq

logger = logging.getLogger(__name__)


def docker_engine_answers() -> bool:
    if os.environ.get("DOCFLOW_NO_DOCKER"):
        return False
    try:
        import docker  # testcontainers' dependency

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def mongodb_server(data_dir: Path) -> Iterator[str]:
    if url := os.environ.get("MONGODB_URL"):
        yield url
        return
    if docker_engine_answers():
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        container = DockerContainer("mongo:7").with_command("--replSet rs0 --bind_ip_all").with_exposed_ports(27017)
        with container:
            wait_for_logs(container, "Waiting for connections", timeout=60)
            port = container.get_exposed_port(27017)
            container.exec(
                ["mongosh", "--quiet", "--eval",
                 "rs.initiate({_id:'rs0',members:[{_id:0,host:'127.0.0.1:27017'}]})"]
            )
            time.sleep(2)
            yield f"mongodb://{container.get_container_host_ip()}:{port}/?directConnection=true"
        return
    mongo = EmbeddedMongo(data_dir).start()
    try:
        yield mongo.url
    finally:
        mongo.stop()


@contextlib.contextmanager
def rabbitmq_server() -> Iterator[str]:
    if url := os.environ.get("AMQP_URL"):
        yield url
        return
    if docker_engine_answers():
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        container = DockerContainer("rabbitmq:3.13-management").with_exposed_ports(5672)
        with container:
            wait_for_logs(container, "Server startup complete", timeout=90)
            port = container.get_exposed_port(5672)
            yield f"amqp://guest:guest@{container.get_container_host_ip()}:{port}/"
        return
    url = "amqp://guest:guest@127.0.0.1:5672/"
    ensure_rabbitmq(url)
    yield url


def _rabbitmqctl_names(kind: str) -> list[str]:
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        return []
    try:
        out = subprocess.run([ctl, "-q", kind, "name", "--no-table-headers"], capture_output=True, text=True,
                             timeout=60, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


async def delete_broker_namespace(amqp_url: str, prefix: str) -> int:
    """Delete every queue and exchange whose name starts with ``prefix`` (a test run's namespace).

    Quorum queues are durable and heavy; a broker that keeps every run's queues slows down and
    eventually stalls, so each run removes its own. Names come from the local rabbitmqctl.
    """
    if not prefix or urlparse(amqp_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        return 0
    queues = [q for q in _rabbitmqctl_names("list_queues") if q.startswith(prefix)]
    exchanges = [e for e in _rabbitmqctl_names("list_exchanges") if e.startswith(prefix)]
    if not queues and not exchanges:
        return 0
    connection = await aio_pika.connect(amqp_url, timeout=15)
    async with connection:
        for name in queues:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.queue_delete(name)
        for name in exchanges:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.exchange_delete(name)
    return len(queues) + len(exchanges)
