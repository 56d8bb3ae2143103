"""Event-to-socket latency with 1,000 open WebSockets on one notify replica, and the memory each
open socket costs it.

Each socket belongs to a user of its own (tokens from a local issuer notify trusts). The bench
publishes ``document.shared`` events, each for one of those users, at a steady rate, and times
each from the publish (broker confirm awaited) to its arrival on that user's socket: the broker,
notify's fan-out queue, its replay-store insert and the push. Memory per socket is the growth of
notify's resident set while the sockets open, divided by their number. The sockets go straight
to notify (one replica, as the issue asks); the gateway's relay is the same frames again.
Targets (issue 14): p99 < 250 ms at 1,000 sockets, under 50 KB per socket.
Run: python -m bench.notify_streams [--sockets 1000] [--events 500] [--rate 100]
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

import aiohttp

from bench.figures import percentiles
from bench.mail_common import wait_ready
from bench.stack import bench_stack, options, save
from docflow_dev.testing.issuer import LocalIssuer
from docflow_shared.bus import EventBus
from docflow_shared.events import new_event
from docflow_shared.events.catalogue import DocumentShared
from docflow_shared.events.person import Person


def resident_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1])


def shared_with(user_id: str) -> DocumentShared:
    return DocumentShared(document_id=uuid.uuid4().hex, title="Bench", permission="read",
                          owner=Person(user_id="bench-owner", email="owner@bench.kz"),
                          recipient=Person(user_id=user_id, email=f"{user_id}@bench.kz"))


async def run(sockets: int, events: int, rate: float) -> dict[str, object]:
    issuer = LocalIssuer().start()
    try:
        with bench_stack(("notify",), JWKS_URL=issuer.jwks_url, NOTIFY_CLIENT_QUEUE_SIZE="1024",
                         NOTIFY_HEARTBEAT_SECONDS=os.environ.get("BENCH_HEARTBEAT", "15")) as stack:
            notify = stack.processes["notify"]
            assert notify.process is not None
            await wait_ready(stack.url("notify"))
            url = "ws" + stack.url("notify").removeprefix("http") + "/api/v1/events"
            users = [f"u{n:05d}" for n in range(sockets)]
            sent_at: dict[str, float] = {}
            latencies: list[float] = []
            done = asyncio.Event()
            # no connection limit: each open socket holds one
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                await asyncio.sleep(1)
                before = resident_kib(notify.process.pid)
                opened = []
                for batch in range(0, sockets, 50):
                    opened += await asyncio.gather(*(
                        http.ws_connect(url, protocols=("docflow.events", f"bearer.{issuer.token(user)}"),
                                        heartbeat=None) for user in users[batch:batch + 50]))
                await asyncio.sleep(2)
                after = resident_kib(notify.process.pid)

                async def listen(ws: aiohttp.ClientWebSocketResponse) -> None:
                    async for message in ws:
                        body = json.loads(message.data)
                        started = sent_at.pop(body.get("id", ""), None)
                        if started is not None:
                            latencies.append((time.perf_counter() - started) * 1000)
                            if len(latencies) == events:
                                done.set()

                listeners = [asyncio.create_task(listen(ws)) for ws in opened]
                bus = EventBus(amqp_url=stack.env["AMQP_URL"], service="bench-publisher",
                               namespace=stack.env["BROKER_NAMESPACE"])
                await bus.start()
                if not await bus.wait_ready(15):
                    raise SystemExit("broker not reachable")
                try:
                    for n in range(events):
                        event = new_event(shared_with(users[(n * 7919) % sockets]), producer="documents")
                        sent_at[str(event.id)] = time.perf_counter()
                        await bus.publish(event)
                        await asyncio.sleep(1 / rate)
                    await asyncio.wait_for(done.wait(), 60)
                finally:
                    await bus.close()
                    for task in listeners:
                        task.cancel()
                    await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
    finally:
        issuer.stop()
    figures = percentiles(latencies)
    per_socket_kib = (after - before) / sockets
    return {
        "sockets": sockets, "events": events, "rate_per_s": rate,
        "latency": figures, "memory_per_socket_kib": round(per_socket_kib, 1),
        "notify_rss_before_kib": before, "notify_rss_after_kib": after,
        "targets": {"p99_ms_below": 250, "memory_per_socket_kib_below": 50},
        "p99_within_target": figures["p99_ms"] < 250, "memory_within_target": per_socket_kib < 50,
    }


def main() -> None:
    args = options(__doc__, sockets=1000, events=500, rate=100.0)
    save("notify_streams", asyncio.run(run(args.sockets, args.events, args.rate)))


if __name__ == "__main__":
    main()
