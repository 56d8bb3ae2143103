"""Starting DocFlow for a benchmark: embedded MongoDB-wire server (or MONGODB_URL), the local
RabbitMQ, and the chosen services on free ports, in an isolated database and namespace."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docflow_dev.devstack import Stack, free_port
from docflow_dev.localservers import EmbeddedMongo, ensure_rabbitmq
from docflow_dev.testing.servers import delete_broker_namespace

RESULTS = Path(__file__).resolve().parent / "results"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class BenchStack(Stack):
    """A stack that also knows the embedded database's process (None with MONGODB_URL)."""

    database_pid: int | None = None


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@contextlib.contextmanager
def bench_stack(services: tuple[str, ...], replicas: dict[str, int] | None = None,
                **extra_env: str) -> Iterator[BenchStack]:
    run = uuid.uuid4().hex[:8]
    tmp = Path(tempfile.mkdtemp(prefix="docflow-bench-"))
    amqp = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    ensure_rabbitmq(amqp)
    mongo = None
    mongo_url = os.environ.get("MONGODB_URL")
    if not mongo_url:
        mongo = EmbeddedMongo(tmp / "mongo").start()
        mongo_url = mongo.url
    env = {**os.environ, "MONGODB_URL": mongo_url, "MONGODB_DB_PREFIX": f"b{run}_", "AMQP_URL": amqp,
           "BROKER_NAMESPACE": f"b{run}.", "DATA_DIR": str(tmp / "data"), "LOG_LEVEL": "WARNING",
           "GATEWAY_RATE_LIMIT_ENABLED": "false", **extra_env}
    stack = BenchStack(env=env, ports={name: free_port() for name in services}, only=services, log_dir=tmp,
                       database_pid=mongo.process.pid if mongo is not None and mongo.process else None,
                       replicas=dict(replicas or {}))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        # in a thread of its own: the caller may be inside a running event loop
        with ThreadPoolExecutor(1) as worker:
            worker.submit(asyncio.run, delete_broker_namespace(amqp, f"b{run}.")).result()
        if mongo is not None:
            mongo.stop()
        shutil.rmtree(tmp, ignore_errors=True)


WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("WRKJSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p90_us\\": %d, "
    .. "\\"p99_us\\": %d, \\"errors\\": %d, \\"non2xx\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def wrk(url: str, *, headers: dict[str, str], connections: int = 32, seconds: int = 10,
        threads: int = 1) -> dict[str, Any]:
    """Run wrk against one URL; requests/s and latency percentiles in milliseconds."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for this benchmark: make bench installs it (or apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_REPORT)
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", script.name]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    return {
        "requests_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
        "errors": raw["errors"], "non_2xx": raw["non2xx"], "requests": raw["requests"],
    }


def options(description: str | None = None, **defaults: float) -> argparse.Namespace:
    """The benchmark's command line: ``--<name>`` (``_`` written ``-``) for each default, of its type."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    return parser.parse_args()


def save(name: str, figures: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2, default=str))
    print(json.dumps(figures, indent=2, default=str))
