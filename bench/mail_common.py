"""What the mail benchmarks share: an SMTP sink that notes when each message was accepted,
a publisher on the stack's namespace."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.mail import drop_topology
from docflow_shared.bus import EventBus


class TimingSink:
    """aiosmtpd in a thread of this process; records acceptance time per recipient."""

    def __init__(self) -> None:
        self.port = free_port()
        self.accepted: dict[str, float] = {}
        self.count = 0
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        at = time.perf_counter()
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.accepted.setdefault(rcpt.lower(), at)
            self.count += 1
        return "250 OK"

    def start(self) -> TimingSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    async def wait_for(self, recipient: str, timeout: float = 30) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            at = self.accepted.get(recipient)
            if at is not None:
                return at
            await asyncio.sleep(0.001)
        raise TimeoutError(f"no e-mail to {recipient} within {timeout}s")


async def wait_ready(url: str, timeout: float = 60) -> None:
    """The service's queue exists once /ready says the broker is up (events before that are lost)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        while time.monotonic() < deadline:
            if (await http.get("/ready")).status_code == 200:
                return
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url} not ready")


async def publisher(stack: Stack) -> EventBus:
    await wait_ready(stack.url("mail"))
    bus = EventBus(amqp_url=stack.env["AMQP_URL"], service="bench-publisher",
                   namespace=stack.env["BROKER_NAMESPACE"])
    await bus.start()
    if not await bus.wait_ready(15):
        raise SystemExit("broker not reachable")
    return bus




async def drop_mail_topology(stack: Stack) -> None:
    """The bench namespace's queues go when the run ends."""
    await drop_topology(stack.env["AMQP_URL"], stack.env["BROKER_NAMESPACE"], ["mail"], [1, 10, 60])
