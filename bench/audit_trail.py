"""Audit records stored per second by the audit service, against bare inserts of the same records.

The service side: ``document.viewed`` events published to the broker as documents would, spread
over a number of documents, into the audit service's queue while the service is stopped; then
the service starts and drains it. Its rate is taken from its own clock, the first to the last
``recorded_at`` of the round's records (consumed, access projection updated, chained, inserted,
acknowledged), so neither the publisher nor the service's start counts. The baseline:
the very records the service stored, inserted again by ``insert_one`` into another collection of
the same database, with as many writers as the service's consumer prefetch. Rounds alternate
who goes first. The ratio is what the chain, the projection and the broker cost over the insert.
Run: python -m bench.audit_trail [--events 2000] [--documents 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
from pymongo.asynchronous.collection import AsyncCollection

from bench.figures import compared_rates
from bench.stack import BenchStack, bench_stack, options, save
from docflow_dev.testing.asserts import eventually
from docflow_shared.bus import EventBus
from docflow_shared.events import Client, new_event
from docflow_shared.events.catalogue import DocumentViewed
from docflow_shared.mongo import Document, create_client

PREFETCH = 32  # the EventBus default: the service handles this many events at once


def views(n: int, documents: int) -> list[Any]:
    ids = [uuid.uuid4().hex for _ in range(documents)]
    return [new_event(DocumentViewed(document_id=ids[i % documents], owner_id="u-owner", viewer_id=f"u-{i}",
                                     client=Client(ip="192.0.2.7", user_agent="bench/1", request_id=f"r{i}")),
                      producer="documents") for i in range(n)]


async def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=3) as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(f"{url}/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} not ready")


async def service_round(stack: BenchStack, producer: EventBus, records: AsyncCollection[Document], n: int,
                        documents: int, concurrency: int) -> tuple[float, list[str]]:
    batch = views(n, documents)
    ids = [str(event.id) for event in batch]
    iterator = iter(batch)

    async def publisher() -> None:
        for event in iterator:
            await producer.publish(event)

    audit = stack.processes["audit"]
    await asyncio.to_thread(audit.stop)
    await asyncio.gather(*(publisher() for _ in range(concurrency)))  # waiting in audit.events
    await asyncio.to_thread(audit.start)

    async def all_stored() -> bool:
        # a record's _id is its event's id: a look-up by primary key, light on the database the
        # service is writing to (the rate itself comes from the records' own times)
        return await records.count_documents({"_id": {"$in": ids}}) >= n

    await eventually(all_stored, timeout=600, interval=0.5, what="every record stored")
    times = [datetime.fromisoformat(r["recorded_at"])
             for r in await records.find({"_id": {"$in": ids}}, {"recorded_at": 1}).to_list()]
    return (n - 1) / (max(times) - min(times)).total_seconds(), ids


async def bare_round(records: AsyncCollection[Document], bare: AsyncCollection[Document], ids: list[str]) -> float:
    stored = await records.find({"_id": {"$in": ids}}).to_list()
    for record in stored:
        record["_id"] = f"bare-{record['_id']}"
    iterator = iter(stored)

    async def writer() -> None:
        for record in iterator:
            await bare.insert_one(dict(record))

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(PREFETCH)))
    return len(stored) / (time.perf_counter() - started)


async def run(args: argparse.Namespace) -> dict[str, object]:
    with bench_stack(("audit",)) as stack:
        env = stack.env
        await wait_ready(stack.url("audit"))
        mongo = create_client(env["MONGODB_URL"])
        db = mongo[f"{env['MONGODB_DB_PREFIX']}audit"]
        records, bare = db["records"], db["bench_bare_records"]
        # the same indexes as the service's records: the bare side pays for them too
        await bare.create_index([("document_id", 1), ("seq", 1)], unique=True)
        producer = EventBus(amqp_url=env["AMQP_URL"], service="documents", namespace=env["BROKER_NAMESPACE"])
        await producer.start()
        try:
            assert await producer.wait_ready(15)
            await service_round(stack, producer, records, min(200, args.events), args.documents,
                                args.concurrency)  # warm-up
            service, baseline = [], []
            for _ in range(args.rounds):
                rate, ids = await service_round(stack, producer, records, args.events, args.documents,
                                                args.concurrency)
                service.append(rate)
                baseline.append(await bare_round(records, bare, ids))
                print(f"round: audit service {service[-1]:.0f} records/s, bare inserts {baseline[-1]:.0f}/s",
                      flush=True)
        finally:
            await producer.close()
            await mongo.close()
    return {
        "events_per_round": args.events,
        "documents": args.documents,
        "publish_concurrency": args.concurrency,
        "bare_writers": PREFETCH,
        **compared_rates(("audit_records", service), ("bare_inserts", baseline)),
    }


def main() -> None:
    args = options(events=2000, documents=50, rounds=3, concurrency=32)
    save("audit_trail", asyncio.run(run(args)))


if __name__ == "__main__":
    main()
