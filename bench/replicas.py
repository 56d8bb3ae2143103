"""Throughput through the gateway with one replica and with two replicas of the documents
service (the service that does the most work per API request), on this machine, as a ratio; and
where the CPU went, which is what bounds the ratio (docs/architecture.md, "Replicas").

The load: ``GET /api/v1/documents`` (a page of 20 of a user's 50 documents), from a closed loop of
``--connections`` clients in this process, for ``--seconds`` after a warm-up. The CPU seconds of
every process over the measured window (gateway, each documents replica, the embedded database,
this load generator) show which one is saturated: on 2 cores, a second replica only helps while
the other processes leave it a core's share.

Run: python -m bench.replicas [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import aiohttp

from bench.stack import TICKS, bench_stack, options, process_cpu_seconds, save
from docflow_dev.testing.issuer import LocalIssuer

DOCUMENTS = 50


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used (all cores), from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / TICKS


async def _load(url: str, headers: dict[str, str], connections: int, seconds: float) -> tuple[int, int]:
    """Requests answered 200 and other answers within ``seconds``, from ``connections`` loops."""
    ok = failed = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def loop() -> None:
            nonlocal ok, failed
            while time.monotonic() < deadline:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        ok += 1
                    else:
                        failed += 1

        await asyncio.gather(*(loop() for _ in range(connections)))
    return ok, failed


async def _fill(base: str, headers: dict[str, str]) -> None:
    async with aiohttp.ClientSession() as session:
        for n in range(DOCUMENTS):
            async with session.post(f"{base}/api/v1/documents", headers=headers,
                                    json={"title": f"Bench contract {n}", "content": "text"}) as response:
                if response.status != 201:
                    raise RuntimeError(f"creating a document: {response.status} {await response.text()}")


def measure(replicas: int, seconds: float, connections: int) -> dict[str, Any]:
    issuer = LocalIssuer().start()
    try:
        with bench_stack(("documents", "gateway"), replicas={"documents": replicas}, JWKS_URL=issuer.jwks_url,
                         GATEWAY_RATE_LIMIT_ENABLED="false") as stack:
            headers = {"Authorization": f"Bearer {issuer.token('bench-' + os.urandom(4).hex(), email_verified=True)}"}
            base = stack.url("gateway")
            url = f"{base}/api/v1/documents?limit=20"
            asyncio.run(_fill(base, headers))
            asyncio.run(_load(url, headers, connections, 2))  # warm-up
            pids = {name: proc.process.pid for name, proc in stack.processes.items() if proc.process is not None}
            if stack.database_pid is not None:
                pids["database"] = stack.database_pid
            before = {name: process_cpu_seconds(pid) for name, pid in pids.items()}
            own_before, machine_before, started = time.process_time(), machine_busy_seconds(), time.monotonic()
            ok, failed = asyncio.run(_load(url, headers, connections, seconds))
            elapsed = time.monotonic() - started
            machine = (machine_busy_seconds() - machine_before) / elapsed
            cpu = {name: (process_cpu_seconds(pid) - before[name]) / elapsed for name, pid in pids.items()}
            cpu["load generator"] = (time.process_time() - own_before) / elapsed
    finally:
        issuer.stop()
    return {
        "documents_replicas": replicas, "requests_per_s": round(ok / elapsed, 1), "non_200": failed,
        "cores_busy": {name: round(value, 2) for name, value in sorted(cpu.items())},
        "cores_busy_total": round(sum(cpu.values()), 2),
        # everything else running on the machine meanwhile (other programs, the broker)
        "cores_busy_elsewhere": round(max(machine - sum(cpu.values()), 0.0), 2),
        "machine_cores_busy": round(machine, 2),
        "cpu_ms_per_request": round(sum(cpu.values()) / (ok / elapsed) * 1000, 2) if ok else None,
    }


def ceiling(one: dict[str, Any], two: dict[str, Any], cores: int) -> dict[str, Any]:
    """Why two replicas give the ratio they give, from the run's own figures: the CPU a request
    costs in each process it crosses, and the cores there are for them."""
    rate = one["requests_per_s"] or 1.0
    per_request = {name: busy / rate for name, busy in one["cores_busy"].items()}  # core-seconds
    documents = sum(v for k, v in per_request.items() if k.startswith("documents"))
    total = sum(per_request.values())
    # one process runs on one core at most (one event loop; the embedded database answers on one thread)
    single = {name: 1 / cost for name, cost in per_request.items() if cost and not name.startswith("documents")}
    machine = cores / total if total else 0.0
    bound_one = min([machine, 1 / documents if documents else machine, *single.values()])
    bound_two = min([machine, 2 / documents if documents else machine, *single.values()])
    ratio = two["requests_per_s"] / rate
    return {
        "bound_one_replica_per_s": round(bound_one), "bound_two_replicas_per_s": round(bound_two),
        "ratio_ceiling": round(bound_two / bound_one, 2) if bound_one else None,
        "why": (
            f"A request costs {total * 1000:.2f} ms of CPU across the processes it crosses, "
            f"{documents * 1000:.2f} ms of it in documents. With the {cores} cores to themselves, the "
            f"processes could serve about {machine:.0f} requests/s, and one documents replica, on one core, "
            f"{1 / documents if documents else 0:.0f}/s: a second replica lifts only the second limit, so "
            f"the ceiling of the ratio on {cores} cores is {bound_two / bound_one if bound_one else 0:.2f} "
            "(replicas add processes, not cores; the gateway and the database, which every request "
            "crosses, do not scale with them). Measured: "
            f"{ratio:.2f}x, on a machine that had {one['machine_cores_busy']:.2f} and "
            f"{two['machine_cores_busy']:.2f} of its cores busy (DocFlow {one['cores_busy_total']:.2f} and "
            f"{two['cores_busy_total']:.2f}, the rest other programs): on contended cores a second process "
            "also gets the service a second share of the scheduler, so the measured ratio moves with the "
            "machine's other load and may pass that ceiling, which is for cores that are DocFlow's alone."
        ),
    }


def main() -> None:
    args = options(seconds=10.0, connections=32)
    one = measure(1, args.seconds, args.connections)
    two = measure(2, args.seconds, args.connections)
    cores = os.cpu_count() or 1
    ratio = round(two["requests_per_s"] / one["requests_per_s"], 2) if one["requests_per_s"] else None
    figures = {
        "benchmark": f"GET /api/v1/documents (limit 20 of {DOCUMENTS}) through the gateway, "
                     f"{args.connections} connections, {args.seconds:.0f} s",
        "cores": cores, "one_replica": one, "two_replicas": two, "ratio_two_to_one": ratio,
        "ceiling": ceiling(one, two, cores),
    }
    save("replicas", figures)


if __name__ == "__main__":
    main()
