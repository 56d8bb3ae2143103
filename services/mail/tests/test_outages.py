"""Dependencies going away under the consumer: MongoDB down, RabbitMQ restarted."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from docflow_dev.devstack import free_port
from docflow_dev.localservers import EmbeddedMongo
from docflow_dev.testing.mail import StartMail, address, wait_for_mail
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.broker import BrokerUnavailable
from docflow_shared.dlq import DeadLetterQueues
from docflow_shared.events import Event, new_event
from docflow_shared.events.catalogue import UserRegistered


def welcome(email: str) -> UserRegistered:
    return UserRegistered(user_id="u", email=email, full_name="Ann", locale="en")


async def ready(url: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        return await http.get("/ready")


class TestMongoOutage:
    @pytest.mark.slow
    async def test_consumer_stops_acking_and_delivers_when_the_database_is_back(
        self, start_mail: StartMail, smtp_sink: SmtpSink, amqp_url: str, tmp_path: Path
    ) -> None:
        data_dir, port = tmp_path / "mongo", free_port()
        mongo = EmbeddedMongo(data_dir, port).start()
        try:
            mail = await start_mail(MONGODB_URL=mongo.url, MONGODB_TIMEOUT_MS="1000")
            before = address("before")
            await mail.publish(welcome(before))
            await wait_for_mail(smtp_sink, before)

            mongo.stop()
            response = await ready(mail.url)
            assert response.status_code == 503
            assert response.json()["checks"] == {"database": "down", "broker": "up"}
            during = [address("during") for _ in range(3)]
            for email in during:
                await mail.publish(welcome(email))
            await asyncio.sleep(6)  # longer than the bus's three 1-second retries
            assert all(smtp_sink.to(email) == [] for email in during)
            async with DeadLetterQueues(amqp_url, mail.namespace) as dlqs:
                assert await dlqs.list(["mail"]) == []  # kept unacked, not counted as failures

            mongo = EmbeddedMongo(data_dir, port).start()
            for email in during:
                await wait_for_mail(smtp_sink, email, timeout=30)
            assert (await ready(mail.url)).status_code == 200
            await asyncio.sleep(1)
            assert all(len(smtp_sink.to(email)) == 1 for email in during)
            assert len(smtp_sink.to(before)) == 1
        finally:
            mongo.stop()


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


async def publish_until_confirmed(publish: Callable[[Event], Awaitable[object]], event: Event,
                                  deadline: float) -> None:
    while True:
        try:
            await publish(event)
            return
        except BrokerUnavailable:
            assert time.monotonic() < deadline, "broker did not come back"
            await asyncio.sleep(0.2)


class TestBrokerRestart:
    @pytest.mark.slow
    async def test_every_email_is_sent_exactly_once(self, start_mail: StartMail, smtp_sink: SmtpSink) -> None:
        mail = await start_mail()
        recipients = [address("flow") for _ in range(40)]
        deadline = time.monotonic() + 90

        async def produce() -> None:
            for email in recipients:
                await publish_until_confirmed(mail.bus.publish, new_event(welcome(email), producer="auth"),
                                              deadline)
                await asyncio.sleep(0.05)

        async def restart_broker() -> None:
            await asyncio.sleep(0.6)
            await asyncio.to_thread(rabbitmqctl, "stop_app")
            await asyncio.sleep(1.5)
            await asyncio.to_thread(rabbitmqctl, "start_app")

        try:
            await asyncio.gather(produce(), restart_broker())
        finally:
            await asyncio.to_thread(rabbitmqctl, "start_app")
        for email in recipients:
            await wait_for_mail(smtp_sink, email, timeout=max(deadline - time.monotonic(), 1))
        await asyncio.sleep(2)
        counts = {email: len(smtp_sink.to(email)) for email in recipients}
        assert set(counts.values()) == {1}, counts
        assert (await ready(mail.url)).json()["checks"]["broker"] == "up"
