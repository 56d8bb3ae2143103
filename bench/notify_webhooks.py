"""Webhook deliveries per second through notify, against a bare aiohttp poster that writes the
same delivery-log record per delivery to the same database, in the same run.

The receiver runs in its own process and prints a line per delivery it answers; both sides
learn of an arrival from that line. The service drains a queue of ``document.created`` events
published while it was stopped (its durable queue keeps them), so the publisher's work stays off
the clock, as the bare poster's payloads are built before its clock starts. The bare poster, with
as many workers as the service's send concurrency, stores each delivery (insert), posts it signed
and records the outcome (update): the log the issue requires, without the broker, the claim, the
webhook lookup or the send loop. On the embedded database the log dominates both.
Target (issue 14): service >= 0.7x the logging poster.
Run: python -m bench.notify_webhooks [--deliveries 500] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import IO, Any

import aiohttp
import httpx
from aiohttp import web
from pymongo import AsyncMongoClient

from bench.mail_common import wait_ready
from bench.stack import bench_stack, process_cpu_seconds, save
from docflow_dev.devstack import free_port, wait_port
from docflow_dev.testing.issuer import LocalIssuer
from docflow_notify.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header
from docflow_shared.bus import EventBus
from docflow_shared.events import new_event
from docflow_shared.events.catalogue import DocumentCreated

CONCURRENCY = 16
OWNER = "bench-owner"


def serve(port: int) -> None:
    """The receiver: answers 204 and prints a line per delivery."""
    async def hook(request: web.Request) -> web.Response:
        await request.read()
        sys.stdout.write("hit\n")
        sys.stdout.flush()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class Arrivals:
    def __init__(self, stream: IO[bytes]) -> None:
        self.times: list[float] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            if line.startswith(b"hit"):
                self.times.append(time.perf_counter())

    async def rate(self, start: int, n: int, pid: int, timeout: float = 300) -> tuple[float, float]:
        """Deliveries per second from the first of them to the last, and the CPU milliseconds the
        sending process (``pid``) spent per delivery meanwhile."""
        deadline = time.monotonic() + timeout
        cpu_from: float | None = None
        while len(self.times) < start + n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.times) - start} of {n} deliveries arrived")
            if cpu_from is None and len(self.times) > start:
                cpu_from, counted_from = process_cpu_seconds(pid), len(self.times)
            await asyncio.sleep(0.005)
        cpu_ms = (process_cpu_seconds(pid) - (cpu_from or 0)) * 1000 / max(start + n - counted_from, 1)
        return (n - 1) / (self.times[start + n - 1] - self.times[start]), cpu_ms


async def bare_round(url: str, mongo_url: str, database: str, arrivals: Arrivals, n: int) -> tuple[float, float]:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    log = mongo[database]["bench_deliveries"]
    bodies = iter([f'{{"id":"{uuid.uuid4()}","type":"document.created","time":"{datetime.now(UTC).isoformat()}",'
                   f'"links":{{"document":"/api/v1/documents/{uuid.uuid4().hex}"}}}}' for _ in range(n)])
    start = len(arrivals.times)

    async def worker(http: aiohttp.ClientSession) -> None:
        for body in bodies:
            doc = {"_id": uuid.uuid4().hex, "webhook_id": "bench", "owner_id": OWNER, "event_id": uuid.uuid4().hex,
                   "event_type": "document.created", "body": body, "status": "sending", "attempts": 1,
                   "next_attempt_at": time.time() + 60, "created_at": datetime.now(UTC)}
            await log.insert_one(doc)
            raw = body.encode()
            stamp = int(time.time())
            async with http.post(url, data=raw, headers={
                    "Content-Type": "application/json", TIMESTAMP_HEADER: str(stamp),
                    SIGNATURE_HEADER: signature_header(["whsec_bench"], stamp, raw)}) as resp:
                await resp.read()
            await log.update_one({"_id": doc["_id"]}, {"$set": {"status": "delivered", "last_status_code": resp.status,
                                                               "delivered_at": datetime.now(UTC)}})

    try:
        async with aiohttp.ClientSession() as http:
            posting = asyncio.gather(*(worker(http) for _ in range(CONCURRENCY)))
            rate = await arrivals.rate(start, n, os.getpid())
            await posting
    finally:
        await mongo.close()
    return rate


async def service_round(stack: Any, bus: EventBus, arrivals: Arrivals, n: int) -> tuple[float, float]:
    notify = stack.processes["notify"]
    await asyncio.to_thread(notify.stop)
    start = len(arrivals.times)
    events = iter([new_event(DocumentCreated(document_id=uuid.uuid4().hex, owner_id=OWNER, title="B", status="draft"),
                             producer="documents") for _ in range(n)])

    async def feed() -> None:
        for event in events:
            await bus.publish(event)

    await asyncio.gather(*(feed() for _ in range(16)))
    await asyncio.to_thread(notify.start)
    return await arrivals.rate(start, n, notify.process.pid)


async def run(n: int, rounds: int, receiver: subprocess.Popen[bytes], port: int) -> dict[str, object]:
    issuer = LocalIssuer().start()
    try:
        wait_port("127.0.0.1", port, 30, receiver)
        assert receiver.stdout is not None
        arrivals = Arrivals(receiver.stdout)
        url = f"http://127.0.0.1:{port}/hook"
        with bench_stack(("notify",), JWKS_URL=issuer.jwks_url,
                         NOTIFY_WEBHOOK_ALLOWED_NETWORKS='["127.0.0.1/32"]',
                         NOTIFY_WEBHOOK_CONCURRENCY=str(CONCURRENCY)) as stack:
            await wait_ready(stack.url("notify"))
            async with httpx.AsyncClient(base_url=stack.url("notify"), timeout=30) as api:
                created = await api.post("/api/v1/webhooks", json={"url": url, "event_types": ["document.created"]},
                                         headers={"Authorization": f"Bearer {issuer.token(OWNER)}"})
                assert created.status_code == 201, created.text
            bus = EventBus(amqp_url=stack.env["AMQP_URL"], service="bench-publisher",
                           namespace=stack.env["BROKER_NAMESPACE"])
            await bus.start()
            if not await bus.wait_ready(15):
                raise SystemExit("broker not reachable")
            database = f"{stack.env['MONGODB_DB_PREFIX']}notify"
            service_rounds, bare_rounds = [], []
            try:
                for _ in range(rounds):
                    bare_rounds.append(await bare_round(url, stack.env["MONGODB_URL"], database, arrivals, n))
                    service_rounds.append(await service_round(stack, bus, arrivals, n))
            finally:
                await bus.close()
    finally:
        issuer.stop()
    service, bare = max(r for r, _ in service_rounds), max(r for r, _ in bare_rounds)
    return {
        "deliveries": n, "rounds": rounds, "concurrency": CONCURRENCY,
        "service_per_s": round(service, 1), "logging_poster_per_s": round(bare, 1),
        "service_rounds_per_s": [round(r, 1) for r, _ in service_rounds],
        "poster_rounds_per_s": [round(r, 1) for r, _ in bare_rounds],
        # CPU of the sending process per delivery: notify, or the bench process running the poster
        "service_cpu_ms_per_delivery": [round(c, 2) for _, c in service_rounds],
        "poster_cpu_ms_per_delivery": [round(c, 2) for _, c in bare_rounds],
        "ratio": round(service / bare, 2), "target_ratio": 0.7, "within_target": service / bare >= 0.7,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "bench.notify_webhooks", "--serve", str(port)],
                                stdout=subprocess.PIPE)
    try:
        save("notify_webhooks", asyncio.run(run(args.deliveries, args.rounds, receiver, port)))
    finally:
        receiver.terminate()
        receiver.wait(10)


if __name__ == "__main__":
    main()
