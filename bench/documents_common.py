"""What the documents benchmarks share: a target (the service started here, or any base URL such
as the gateway's), a token for it, and streaming multipart bodies."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.stack import bench_stack
from docflow_dev.testing.issuer import LocalIssuer

BOUNDARY = "docflowbenchboundary"
BLOCK = 1024 * 1024


@dataclass
class Target:
    base_url: str  # ends before /api/v1
    token: str
    pid: int | None  # the process whose memory is watched, when known
    mongo_url: str | None = None
    db_prefix: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextlib.contextmanager
def documents_target(base_url: str | None, token: str | None, pid: int | None,
                     max_upload_mb: int = 4096) -> Iterator[Target]:
    """The documents service started for this run, or the given base URL with the given token."""
    if base_url:
        if not token:
            raise SystemExit("--base-url needs --token (an access token of a verified user)")
        yield Target(base_url.rstrip("/"), token, pid, os.environ.get("MONGODB_URL"),
                     os.environ.get("MONGODB_DB_PREFIX", ""))
        return
    issuer = LocalIssuer().start()
    try:
        with bench_stack(("documents",), JWKS_URL=issuer.jwks_url,
                         DOCUMENTS_MAX_UPLOAD_MB=str(max_upload_mb)) as stack:
            process = stack.processes["documents"]
            token = issuer.token("bench-" + os.urandom(4).hex(), email_verified=True)
            yield Target(stack.url("documents"), token, process.process.pid if process.process else None,
                         process.env["MONGODB_URL"], process.env["MONGODB_DB_PREFIX"])
    finally:
        issuer.stop()


async def multipart_body(size: int, name: str = "large.bin") -> AsyncIterator[bytes]:
    """A multipart/form-data body of ``size`` random-looking bytes, generated as it is sent."""
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
           "Content-Type: application/octet-stream\r\n\r\n").encode()
    block = os.urandom(BLOCK)
    sent = 0
    while sent < size:
        part = block[: min(BLOCK, size - sent)]
        sent += len(part)
        yield part
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def multipart_overhead(name: str = "large.bin") -> int:
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n")
    return len(head.encode()) + len(f"\r\n--{BOUNDARY}--\r\n".encode())


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> bool:
    """Reset VmHWM (Linux ≥ 4.0, writing 5 to clear_refs) so the next peak is this run's."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False
