"""Where the test servers come from: env URLs, testcontainers when a Docker engine answers,
else the embedded MongoDB-wire server and the local RabbitMQ."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from docflow_shared.devstack import EmbeddedMongo, ensure_rabbitmq

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
