"""Event published → e-mail accepted by a local SMTP sink: p50 / p95 through the mail service.

One event at a time (the next is published once the previous e-mail arrived), so the figure
is the latency of the path: broker → mail consumer → MongoDB delivery log → render → SMTP.
Target (issue 3): p95 < 300 ms.
Run: python -m bench.mail_latency [--samples 200]
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.figures import percentiles
from bench.mail_common import TimingSink, drop_mail_topology, publisher
from bench.stack import bench_stack, options, save
from docflow_dev.devstack import Stack
from docflow_shared.events import new_event
from docflow_shared.events.catalogue import UserEmailVerificationRequested


def verification(email: str) -> UserEmailVerificationRequested:
    return UserEmailVerificationRequested(user_id=uuid.uuid4().hex, email=email, full_name="Bench User",
                                          locale="ru", code="123456", token=uuid.uuid4().hex,
                                          expires_at=datetime.now(UTC) + timedelta(minutes=10))


async def measure(stack: Stack, sink: TimingSink, samples: int) -> list[float]:
    bus = await publisher(stack)
    try:
        for _ in range(10):  # warm-up: connections, indexes, templates
            email = f"warm-{uuid.uuid4().hex[:8]}@bench.kz"
            await bus.publish(new_event(verification(email), producer="auth"))
            await sink.wait_for(email, 60)
        latencies = []
        for _ in range(samples):
            email = f"lat-{uuid.uuid4().hex[:8]}@bench.kz"
            event = new_event(verification(email), producer="auth")
            started = time.perf_counter()
            await bus.publish(event)
            accepted = await sink.wait_for(email)
            latencies.append((accepted - started) * 1000)
        return latencies
    finally:
        await bus.close()


def main() -> None:
    args = options(samples=200)
    sink = TimingSink().start()
    try:
        with bench_stack(("mail",), SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port), SMTP_TLS="none") as stack:
            latencies = asyncio.run(measure(stack, sink, args.samples))
        asyncio.run(drop_mail_topology(stack))
    finally:
        sink.stop()
    figures = {"path": "event published -> e-mail accepted by the SMTP sink", **percentiles(latencies),
               "target": "p95 < 300 ms"}
    figures["meets_target"] = figures["p95_ms"] < 300
    save("mail_latency", figures)


if __name__ == "__main__":
    main()
