"""A second process on a service's database must publish as the first does.

Replicas share a database and its outbox, and whichever relay claims an entry publishes it. A
process that publishes as another broker user has its share of the events dropped by every
consumer, and one in another namespace takes events from this one's consumers: test suites
that started such a process lost e-mails and projections at random. ``Stack`` refuses it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from docflow_dev.devstack import SERVICES, ServiceProcess, SharedDatabase, claim_database, release_database

MAIL = next(spec for spec in SERVICES if spec.name == "mail")
ENV = {"MONGODB_URL": "mongodb://127.0.0.1:1", "MONGODB_DB_PREFIX": "t_",
       "AMQP_URL": "amqp://docflow-mail:secret@127.0.0.1:5672/", "BROKER_NAMESPACE": "t."}


@pytest.fixture
def running() -> Iterator[list[ServiceProcess]]:
    """Processes that stand in for started services (a live child each), released afterwards."""
    started: list[ServiceProcess] = []
    yield started
    for proc in started:
        if proc.process is not None:
            proc.process.kill()
            proc.process.wait()
        release_database(proc)


def start(running: list[ServiceProcess], **env: str) -> ServiceProcess:
    proc = ServiceProcess(MAIL, 0, {**ENV, **env})
    claim_database(proc)
    proc.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    running.append(proc)
    return proc


def test_a_replica_that_publishes_alike_shares_the_database(running: list[ServiceProcess]) -> None:
    start(running)
    start(running)


def test_another_broker_user_on_the_same_database_is_refused(running: list[ServiceProcess]) -> None:
    start(running)
    with pytest.raises(SharedDatabase, match="MONGODB_DB_PREFIX of its own"):
        start(running, AMQP_URL="amqp://guest:guest@127.0.0.1:5672/")


def test_another_namespace_on_the_same_database_is_refused(running: list[ServiceProcess]) -> None:
    start(running)
    with pytest.raises(SharedDatabase):
        start(running, BROKER_NAMESPACE="other.")


def test_a_database_of_its_own_may_publish_as_anyone(running: list[ServiceProcess]) -> None:
    start(running)
    start(running, MONGODB_DB_PREFIX="t_own_", AMQP_URL="amqp://guest:guest@127.0.0.1:5672/")


def test_a_process_that_ended_holds_nothing(running: list[ServiceProcess]) -> None:
    first = start(running)
    assert first.process is not None
    first.process.kill()
    first.process.wait()
    start(running, AMQP_URL="amqp://guest:guest@127.0.0.1:5672/")
