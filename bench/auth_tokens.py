"""Logins/s and refresh-token grants/s per core of one auth process, against bare argon2id.

Starts auth alone (embedded MongoDB-wire server unless MONGODB_URL is set, the local RabbitMQ)
as one uvicorn process, makes accounts, then runs two bounded phases with ``--concurrency``
clients: POST /api/v1/auth/login (argon2id verify + session) and POST /api/v1/auth/refresh
(rotation). Baseline, measured in the same run: bare argon2id verifications per CPU-second in this
process (one thread, same parameters), so that "login per core / bare verify per core" says
how much of a login's CPU is the password hash.

Per core: the service is one process, so "per core" is the measured rate divided by the CPU
cores that process actually used (its CPU seconds / wall seconds, read from /proc). The
argon2 thread pool can spread one process over both cores here, so dividing by 1 would flatter
logins; dividing by the cores used does not. Both figures are reported. The database server,
the load generator and the service share the machine's cores.
Targets (issue 2): >= 22 logins/s and >= 480 refresh/s per core; anchor: Keycloak's sizing
guide, 15 logins/s and 120 refresh-token grants/s per vCPU.
Run: python -m bench.auth_tokens [--seconds 20] [--concurrency 16] [--accounts 64]
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from argon2 import PasswordHasher

from bench.figures import percentile
from bench.stack import TICKS, bench_stack, options, process_cpu_seconds, save
from docflow_auth.settings import AuthSettings

PASSWORD = "Bench-Lantern-2026"


def machine_busy_seconds() -> float:
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICKS


def argon2_baseline(seconds: float) -> dict[str, Any]:
    settings = AuthSettings()
    hasher = PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib,
                            parallelism=settings.argon2_parallelism, hash_len=32, salt_len=16)
    stored = hasher.hash(PASSWORD)
    count, started, cpu_started = 0, time.perf_counter(), time.thread_time()
    while time.perf_counter() - started < seconds:
        hasher.verify(stored, PASSWORD)
        count += 1
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    return {"verify_per_cpu_s": round(count / cpu, 1), "verify_per_wall_s": round(count / elapsed, 1),
            "cpu_ms_per_verify": round(1000 * cpu / count, 2),
            "parameters": {"algorithm": "argon2id", "memory_kib": hasher.memory_cost,
                           "time_cost": hasher.time_cost, "parallelism": hasher.parallelism}}


async def phase(name: str, pid: int, seconds: float, concurrency: int,
                work: Callable[[int], Awaitable[bool]]) -> dict[str, Any]:
    """Run ``work(worker)`` in ``concurrency`` loops for ``seconds``; rate and CPU use."""
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def loop(worker: int) -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = await work(worker)
            latencies.append(time.perf_counter() - started)
            failures += 0 if ok else 1

    cpu0, busy0, wall0 = process_cpu_seconds(pid), machine_busy_seconds(), time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(concurrency)))
    wall = time.perf_counter() - wall0
    cpu, busy = process_cpu_seconds(pid) - cpu0, machine_busy_seconds() - busy0
    done = len(latencies) - failures
    rate = done / wall
    cores_used = cpu / wall
    return {
        "phase": name, "ok": done, "failed": failures, "seconds": round(wall, 2),
        "per_s": round(rate, 1), "service_cores_used": round(cores_used, 2),
        "per_core": round(rate / max(cores_used, 0.01), 1), "per_process": round(rate, 1),
        "machine_cores_busy": round(busy / wall, 2),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 1) if latencies else None,
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1) if latencies else None,
    }


async def run(base: str, pid: int, *, seconds: float, concurrency: int, accounts: int) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(base, connector=connector) as http:
        emails = [f"bench.{uuid.uuid4().hex[:10]}@example.com" for _ in range(accounts)]
        semaphore = asyncio.Semaphore(4)

        async def signup(email: str) -> None:
            async with semaphore, http.post("/api/v1/auth/signup", json={
                    "email": email, "password": PASSWORD, "full_name": "Bench User"}) as response:
                assert response.status == 201, await response.text()

        await asyncio.gather(*(signup(e) for e in emails))
        refresh_tokens: dict[int, str] = {}
        turn = iter(range(10 ** 9))

        async def login(worker: int) -> bool:
            email = emails[next(turn) % len(emails)]
            async with http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}) as response:
                if response.status != 200:
                    return False
                refresh_tokens[worker] = (await response.json())["refresh_token"]
                return True

        logins = await phase("login", pid, seconds, concurrency, login)

        async def refresh(worker: int) -> bool:
            async with http.post("/api/v1/auth/refresh", json={"refresh_token": refresh_tokens[worker]}) as response:
                if response.status != 200:
                    return False
                refresh_tokens[worker] = (await response.json())["refresh_token"]
                return True

        await asyncio.gather(*(login(i) for i in range(concurrency) if i not in refresh_tokens))
        refreshes = await phase("refresh", pid, seconds, concurrency, refresh)
    return {"login": logins, "refresh": refreshes}


def main() -> None:
    args = options(__doc__, seconds=20.0, concurrency=16, accounts=64)
    baseline = argon2_baseline(3.0)
    print(f"argon2id baseline: {baseline['verify_per_cpu_s']} verify per CPU-second in-process", flush=True)
    with bench_stack(("auth",)) as stack:
        process = stack.processes["auth"].process
        assert process is not None
        pid = process.pid
        phases = asyncio.run(run(stack.url("auth"), pid, seconds=args.seconds, concurrency=args.concurrency,
                                 accounts=args.accounts))
    login, refresh = phases["login"], phases["refresh"]
    figures = {
        "benchmark": "auth_tokens",
        "machine_cores": os.cpu_count(),
        "concurrency": args.concurrency, "seconds_per_phase": args.seconds, "accounts": args.accounts,
        "argon2id_baseline": baseline,
        "login": login, "refresh": refresh,
        "ratios": {
            "login_per_core_vs_bare_argon2_verify": round(login["per_core"] / baseline["verify_per_cpu_s"], 2),
            "refresh_per_core_vs_login_per_core": round(refresh["per_core"] / max(login["per_core"], 0.1), 1),
        },
        "targets": {
            "logins_per_core": 22, "refresh_per_core": 480,
            "login_met": login["per_core"] >= 22, "refresh_met": refresh["per_core"] >= 480,
        },
        "anchor": "Keycloak sizing guide: 15 logins/s and 120 refresh-token grants/s per vCPU",
        "per_core_means": "rate / cores used by the auth process (its CPU seconds / wall seconds)",
    }
    save("auth_tokens", figures)


if __name__ == "__main__":
    main()
