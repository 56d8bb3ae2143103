"""Sustained e-mails/s through the mail service to a local SMTP sink, against a bare aiosmtplib
loop sending the same messages to the same sink in the same run.

The sink is ``python -m docflow_dev.mailsink`` in its own process; it writes each message to an
.eml file, in /dev/shm where there is one. The baseline opens as many connections as the
service's pool (BENCH_MAIL_POOL, 4) and sends pre-rendered messages over them; the service drains
a queue of events published while it was stopped, so neither side's input is prepared on the
clock. Both rates run from the first message kept to the last, and both sides learn that a
message was kept from the line the sink prints for it (listing a folder of thousands of files
every few milliseconds would tax only the side still running). After a service round the bench
waits until the service's outbox is empty, so its leftover work (the mail.sent relay) never runs
during a bare round.

A third side, the bare loop that also keeps the least delivery log the issue asks for, and the
CPU each process spent per e-mail, show where the gap between the two goes.
Target (issue 3): service ≥ 0.7× the bare loop.
Run: python -m bench.mail_throughput [--messages 1000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import aiosmtplib
from pymongo import ASCENDING, AsyncMongoClient, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection

from bench.mail_common import drop_mail_topology, publisher
from bench.stack import BenchStack, bench_stack, options, process_cpu_seconds, save
from docflow_dev.devstack import free_port, wait_port
from docflow_mail.deliveries.rules import RULES_BY_TYPE
from docflow_mail.settings import MailSettings
from docflow_mail.smtp.message import compose
from docflow_mail.templates.renderer import TemplateRenderer
from docflow_shared.events import new_event
from docflow_shared.events.catalogue import UserRegistered

POOL = int(os.environ.get("BENCH_MAIL_POOL", "4"))
# the sink's files go to memory where it can: on a disk, the journal's work on thousands of small
# files made the sink's own cost per message drift by 3x within one run, and the bare loop, bound
# by the sink, drifted with it
MEMORY_DIR = Path("/dev/shm")
LOG_BATCH = 8  # messages a logged bare loop stores, sends and marks at a time
SENDER = "DocFlow <no-reply@docflow.local>"


def welcome(email: str) -> UserRegistered:
    return UserRegistered(user_id=uuid.uuid4().hex, email=email, full_name="Bench User", locale="ru")


def rendered_messages(n: int) -> list[tuple[str, bytes]]:
    """What the service would send for n welcome events, built the way it builds them."""
    renderer, settings = TemplateRenderer(), MailSettings()
    rule = RULES_BY_TYPE[UserRegistered.TYPE]
    messages = []
    for _ in range(n):
        payload = welcome(f"base-{uuid.uuid4().hex[:10]}@bench.kz")
        [recipient] = rule.recipients(payload)
        rendered = renderer.render(rule.template, recipient.locale,
                                   {**rule.context(payload, settings), "name": recipient.name,
                                    "base_url": settings.public_base_url})
        messages.append((recipient.email, compose(sender=SENDER, recipient=recipient.email,
                                                  recipient_name=recipient.name, rendered=rendered,
                                                  delivery_id=uuid.uuid4().hex, event_id=str(uuid.uuid4()))))
    return messages


class SinkLog:
    """Notes when each message was kept, from the line the sink prints for it: the same cheap
    check for both sides (no directory listings)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.arrivals: list[float] = []
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    @property
    def count(self) -> int:
        return len(self.arrivals)

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            if line.startswith(b"mail to "):
                self.arrivals.append(time.perf_counter())

    async def measure(self, start: int, n: int, processes: dict[str, int | None],
                      timeout: float = 180) -> Round:
        """Waits until messages ``start`` .. ``start + n - 1`` were kept; their rate from the first
        of them to the last, and the CPU each process spent per message meanwhile."""
        deadline = time.monotonic() + timeout

        async def reach(count: int) -> None:
            while self.count < count:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.count - start} of {n} messages arrived")
                await asyncio.sleep(0.005)

        await reach(start + 1)
        counted_from, cpu_before = self.count, cpu_of(processes)
        await reach(start + n)
        counted, cpu_after = self.count - counted_from, cpu_of(processes)
        rate = (n - 1) / (self.arrivals[start + n - 1] - self.arrivals[start])
        return Round(rate, {name: round((cpu_after[name] - cpu_before[name]) * 1000 / max(counted, 1), 2)
                            for name in cpu_before})


@dataclass(frozen=True)
class Round:
    rate: float
    cpu_ms_per_mail: dict[str, float]


def cpu_of(processes: dict[str, int | None]) -> dict[str, float]:
    return {name: process_cpu_seconds(pid) for name, pid in processes.items() if pid}


def broker_pid() -> int | None:
    """The local RabbitMQ node, when it runs on this machine."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"beam.smp" in command and b"rabbit" in command:
                return int(entry.name)
    return None


async def bare_round(port: int, sink: SinkLog, n: int, processes: dict[str, int | None],
                     log: AsyncCollection[dict[str, Any]] | None = None) -> Round:
    """The bare loop; with ``log``, it also keeps the least delivery log the issue asks for: each
    batch of messages stored under the unique (event id, recipient) index before it is sent, and
    marked sent afterwards (no broker, no rendering, no retries, no events)."""
    messages = rendered_messages(n)
    start_count = sink.count
    queue = iter(messages)

    async def loop() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False)
        await client.connect()
        if log is None:
            for recipient, message in queue:
                await client.sendmail("no-reply@docflow.local", [recipient], message)
        while log is not None and (batch := list(itertools.islice(queue, LOG_BATCH))):
            docs = [{"_id": uuid.uuid4().hex, "event_id": uuid.uuid4().hex, "recipient": recipient,
                     "status": "sending", "attempts": 1, "created_at": datetime.now(UTC)}
                    for recipient, _ in batch]
            await log.insert_many(docs, ordered=False)
            for recipient, message in batch:
                await client.sendmail("no-reply@docflow.local", [recipient], message)
            sent_at = datetime.now(UTC)
            await log.bulk_write([ReplaceOne({"_id": doc["_id"]}, {**doc, "status": "sent", "sent_at": sent_at})
                                  for doc in docs], ordered=False)
        await client.quit()

    sent = asyncio.gather(*(loop() for _ in range(POOL)))
    measured = await sink.measure(start_count, n, {**processes, "bench_client": os.getpid()})
    await sent
    return measured


async def service_round(stack: BenchStack, sink: SinkLog, n: int, processes: dict[str, int | None]) -> Round:
    """The events wait in the service's queue while it is stopped, as the bare loop's messages
    wait rendered in a list: the publisher's work stays out of the measured time."""
    bus = await publisher(stack)
    try:
        stack.processes["mail"].stop()
        start_count = sink.count
        events = [new_event(welcome(f"svc-{uuid.uuid4().hex[:10]}@bench.kz"), producer="auth") for _ in range(n)]
        pending = iter(events)

        async def feed() -> None:
            for event in pending:
                await bus.publish(event)

        await asyncio.gather(*(feed() for _ in range(32)))
    finally:
        await bus.close()
    mail = stack.processes["mail"]
    await asyncio.to_thread(mail.start)
    assert mail.process is not None
    return await sink.measure(start_count, n, {**processes, "mail_service": mail.process.pid,
                                                "bench": os.getpid()})


async def settle(stack: BenchStack) -> None:
    """Wait until the service has published every mail.sent of the round just measured, so that
    its leftover work does not run during the next round."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.env["MONGODB_URL"])
    try:
        deliveries = client[f"{stack.env['MONGODB_DB_PREFIX']}mail"]["deliveries"]
        for _ in range(600):
            if not await deliveries.count_documents({"outbox_pending": True}):
                return
            await asyncio.sleep(0.2)
    finally:
        await client.close()


async def run(stack: BenchStack, port: int, sink: SinkLog, sink_pid: int,
              args: argparse.Namespace) -> dict[str, object]:
    shared = {"sink": sink_pid, "database": stack.database_pid, "broker": broker_pid()}
    await service_round(stack, sink, 50, shared)  # warm-up
    await settle(stack)
    await bare_round(port, sink, 50, shared)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.env["MONGODB_URL"])
    log = client[f"{stack.env['MONGODB_DB_PREFIX']}bench"]["deliveries"]
    await log.create_index([("event_id", ASCENDING), ("recipient", ASCENDING)], unique=True)
    bare: list[Round] = []
    logged: list[Round] = []
    service: list[Round] = []
    try:
        for index in range(args.rounds):  # alternate who goes first: the machine's load drifts
            if index % 2:
                service.append(await service_round(stack, sink, args.messages, shared))
                await settle(stack)
                logged.append(await bare_round(port, sink, args.messages, shared, log))
                bare.append(await bare_round(port, sink, args.messages, shared))
            else:
                bare.append(await bare_round(port, sink, args.messages, shared))
                logged.append(await bare_round(port, sink, args.messages, shared, log))
                service.append(await service_round(stack, sink, args.messages, shared))
                await settle(stack)
            print(f"round: bare aiosmtplib {bare[-1].rate:.0f}/s, with a delivery log {logged[-1].rate:.0f}/s, "
                  f"mail service {service[-1].rate:.0f}/s", flush=True)
    finally:
        await client.close()
    best_bare, best_logged, best_service = (max(side, key=lambda r: r.rate) for side in (bare, logged, service))
    return {
        "messages_per_round": args.messages,
        "smtp_connections": POOL,
        "bare_aiosmtplib_per_s": round(best_bare.rate, 1),
        "mail_service_per_s": round(best_service.rate, 1),
        "ratio": round(best_service.rate / best_bare.rate, 3),
        # the bare loop plus the least delivery log, on the same database: what any service that
        # logs deliveries could reach on this machine, whatever else it does
        "bare_with_delivery_log_per_s": round(best_logged.rate, 1),
        "bare_with_delivery_log_ratio": round(best_logged.rate / best_bare.rate, 3),
        "rounds": {"bare": [round(r.rate, 1) for r in bare],
                   "bare_with_delivery_log": [round(r.rate, 1) for r in logged],
                   "service": [round(r.rate, 1) for r in service]},
        # where the machine's CPU went per e-mail in the fastest round of each side (ms)
        "cpu_ms_per_mail": {"bare": best_bare.cpu_ms_per_mail, "bare_with_delivery_log": best_logged.cpu_ms_per_mail,
                            "service": best_service.cpu_ms_per_mail},
        "target": "ratio >= 0.7",
        "meets_target": best_service.rate / best_bare.rate >= 0.7,
    }


def main() -> None:
    args = options(messages=1000, rounds=2)
    folder = Path(tempfile.mkdtemp(prefix="docflow-sink-", dir=MEMORY_DIR if MEMORY_DIR.is_dir() else None))
    port, web_port = free_port(), free_port()
    sink = subprocess.Popen([sys.executable, "-m", "docflow_dev.mailsink", "--port", str(port), "--web-port",
                             str(web_port), "--dir", str(folder)], stdout=subprocess.PIPE)
    try:
        wait_port("127.0.0.1", port, 15, sink)
        assert sink.stdout is not None
        kept = SinkLog(sink.stdout)
        with bench_stack(("mail",), SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TLS="none",
                         MAIL_SMTP_POOL_SIZE=str(POOL)) as stack:
            figures = asyncio.run(run(stack, port, kept, sink.pid, args))
        asyncio.run(drop_mail_topology(stack))
    finally:
        sink.terminate()
        sink.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    save("mail_throughput", figures)


if __name__ == "__main__":
    main()
