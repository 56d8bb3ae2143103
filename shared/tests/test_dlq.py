"""DLQ tooling against the real RabbitMQ: list without losing, replay chosen or all, the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys

import aio_pika

from docflow_shared.broker import dead_letter_queue_name, queue_name, retry_queue_name
from docflow_shared.bus import EventBus
from docflow_shared.dlq import DeadLetterQueues
from docflow_shared.events import Event
from docflow_shared.events.catalogue import UserEmailVerified
from docflow_shared.events.envelope import new_event


def verified(user: str) -> Event:
    return new_event(UserEmailVerified(user_id=user, email=f"{user}@example.com"), producer="auth")


async def wait_until(condition, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


class Consumer:
    """A service whose handler fails for the users in ``broken``."""

    def __init__(self, amqp_url: str, namespace: str, service: str) -> None:
        self.broken: set[str] = set()
        self.handled: list[str] = []
        self.attempts: dict[str, int] = {}
        self.bus = EventBus(amqp_url=amqp_url, service=service, namespace=namespace, retry_delays=(1,))
        self.bus.subscribe(UserEmailVerified.TYPE, self.handle)

    async def handle(self, event: Event) -> None:
        user = event.payload(UserEmailVerified).user_id
        self.attempts[user] = self.attempts.get(user, 0) + 1
        if user in self.broken:
            raise RuntimeError(f"no mailbox for {user}")
        self.handled.append(user)

    async def __aenter__(self) -> Consumer:
        await self.bus.start()
        assert await self.bus.wait_ready(15)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bus.close()
        await drop(self.bus)


async def drop(bus: EventBus) -> None:
    """Delete the test's queues (quorum queues cost the broker memory); the exchanges stay shared."""
    with contextlib.suppress(Exception):
        connection = await aio_pika.connect(bus.amqp_url, timeout=5)
        async with connection:
            channel = await connection.channel()
            names = [queue_name(bus.namespace, bus.service), dead_letter_queue_name(bus.namespace, bus.service)]
            names += [retry_queue_name(bus.namespace, bus.service, d) for d in bus.retry_delays]
            for name in names:
                await channel.queue_delete(name, timeout=5)


async def dead_lettered(dlqs: DeadLetterQueues, service: str, count: int) -> None:
    async def enough() -> bool:
        return len(await dlqs.list([service])) >= count
    await wait_until(enough, 20)


class TestList:
    async def test_lists_every_service_with_the_error_and_keeps_the_messages(
        self, amqp_url: str, namespace: str
    ) -> None:
        async with Consumer(amqp_url, namespace, "alpha") as alpha, Consumer(amqp_url, namespace, "beta") as beta:
            alpha.broken = {"a1", "a2"}
            beta.broken = {"b1"}
            events = {u: verified(u) for u in ("a1", "a2", "b1")}
            for event in events.values():
                await alpha.bus.publish(event)
            async with DeadLetterQueues(amqp_url, namespace) as dlqs:
                await dead_lettered(dlqs, "alpha", 2)
                await dead_lettered(dlqs, "beta", 1)
                letters = await dlqs.list(["alpha", "beta", "nobody"])
                again = await dlqs.list(["alpha", "beta"])
        assert sorted((x.service, x.event_id) for x in letters) == sorted(
            [("alpha", str(events["a1"].id)), ("alpha", str(events["a2"].id)), ("beta", str(events["b1"].id))])
        assert again == letters
        first = next(x for x in letters if x.event_id == str(events["a1"].id))
        assert first.error == "RuntimeError: no mailbox for a1"
        assert first.attempts == 1 and first.event_type == "user.email_verified" and first.failed_at
        assert first.routing_key == "user.email_verified"


class TestReplay:
    async def test_replays_the_chosen_message_with_a_fresh_attempt_count(
        self, amqp_url: str, namespace: str
    ) -> None:
        async with Consumer(amqp_url, namespace, "gamma") as gamma:
            gamma.broken = {"g1", "g2"}
            e1, e2 = verified("g1"), verified("g2")
            await gamma.bus.publish(e1)
            await gamma.bus.publish(e2)
            async with DeadLetterQueues(amqp_url, namespace) as dlqs:
                await dead_lettered(dlqs, "gamma", 2)
                assert gamma.attempts == {"g1": 2, "g2": 2}
                gamma.broken = {"g2"}  # the fix for g1
                replayed = await dlqs.replay("gamma", [str(e1.id)])
                assert [x.event_id for x in replayed] == [str(e1.id)]
                await wait_until(lambda: _true(gamma.handled == ["g1"]))
                remaining = await dlqs.list(["gamma"])
                assert [x.event_id for x in remaining] == [str(e2.id)]

                # still broken: the replayed copy gets the full retries again, then comes back
                await dlqs.replay("gamma", [str(e2.id)])
                async def back() -> bool:
                    letters = await dlqs.list(["gamma"])
                    return len(letters) == 1 and letters[0].replays == 1
                await wait_until(back, 20)
                [letter] = await dlqs.list(["gamma"])
                assert letter.attempts == 1 and gamma.attempts["g2"] == 4

                gamma.broken = set()
                assert len(await dlqs.replay("gamma")) == 1  # all
                await wait_until(lambda: _true(sorted(gamma.handled) == ["g1", "g2"]))
                assert await dlqs.list(["gamma"]) == []


async def _true(value: bool) -> bool:
    return value


class TestCommandLine:
    async def test_list_and_replay_from_the_command_line(self, amqp_url: str, namespace: str) -> None:
        env = {**os.environ, "AMQP_URL": amqp_url, "BROKER_NAMESPACE": namespace}

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "docflow_shared.dlq", *args], env=env,
                                  capture_output=True, text=True, timeout=60)

        async with Consumer(amqp_url, namespace, "delta") as delta:
            delta.broken = {"d1"}
            event = verified("d1")
            await delta.bus.publish(event)
            async with DeadLetterQueues(amqp_url, namespace) as dlqs:
                await dead_lettered(dlqs, "delta", 1)
            listed = await asyncio.to_thread(cli, "list", "--service", "delta", "--json")
            assert listed.returncode == 0, listed.stderr
            [row] = json.loads(listed.stdout)
            assert row["event_id"] == str(event.id) and "no mailbox for d1" in row["error"]
            text = await asyncio.to_thread(cli, "list", "--service", "delta")
            assert str(event.id) in text.stdout and "error: RuntimeError: no mailbox for d1" in text.stdout

            missing = await asyncio.to_thread(cli, "replay", "--service", "delta", "--id", "not-there")
            assert missing.returncode == 1 and "not-there" in missing.stderr

            delta.broken = set()
            replayed = await asyncio.to_thread(cli, "replay", "--service", "delta", "--id", str(event.id))
            assert replayed.returncode == 0, replayed.stderr
            assert "replayed 1 message(s)" in replayed.stdout
            await wait_until(lambda: _true(delta.handled == ["d1"]))
            empty = await asyncio.to_thread(cli, "list", "--service", "delta")
            assert "no dead-lettered messages" in empty.stdout
