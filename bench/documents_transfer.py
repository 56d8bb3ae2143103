"""Upload and download MB/s of a large file to the documents service, against the in-process
limit (SHA-256 + AES-256-GCM over the same bytes) measured in the same run; and the service's
peak memory growth while a very large file streams in.

Targets (issue 4): direct >= 0.25x the in-process limit; RSS growth < 64 MB during a 1 GB upload.
Run: python -m bench.documents_transfer [--size-mb 256] [--rss-size-mb 1024]
     python -m bench.documents_transfer --base-url http://127.0.0.1:8000 --token ... [--pid N]
(the second form measures any deployment, e.g. through the gateway).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.documents_common import (
    Target,
    documents_target,
    memory_kb,
    multipart_body,
    multipart_overhead,
    reset_peak,
)
from bench.stack import save
from docflow_documents.files.crypto import CHUNK_SIZE, ChunkCipher, KeyRing

MB = 1024 * 1024
TIMEOUT = httpx.Timeout(600.0, connect=10.0)


def in_process_limit(size: int) -> dict[str, float]:
    """What one core does with the same bytes: hash + seal (upload), open (download)."""
    keyring = KeyRing({"bench": os.urandom(32)}, "bench")
    cipher, _ = ChunkCipher.new("bench", keyring)
    block = os.urandom(CHUNK_SIZE)
    chunks = max(1, size // CHUNK_SIZE)
    sealed: list[bytes] = []
    started = time.perf_counter()
    sha = hashlib.sha256()
    for i in range(chunks):
        sha.update(block)
        sealed_chunk = cipher.seal(i, block, final=i == chunks - 1)
        if i < 8:
            sealed.append(sealed_chunk)
    upload_s = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(chunks):
        cipher.open_chunk(i % 8, sealed[i % 8], final=(i % 8) == min(7, chunks - 1) and chunks <= 8)
    download_s = time.perf_counter() - started
    total = chunks * CHUNK_SIZE / MB
    return {"upload_mb_s": round(total / upload_s, 1), "download_mb_s": round(total / download_s, 1)}


async def storage_limit(target: Target, size: int) -> dict[str, float] | None:
    """The database alone: the same sealed-size chunks written to and read from a GridFS bucket in
    the batches the service uses, from this process (no HTTP, no crypto)."""
    if not target.mongo_url:
        return None
    from docflow_shared.mongo import create_client

    client = create_client(target.mongo_url, timeout_ms=10_000)
    db = client[f"{target.db_prefix}documents_bench"]
    block = os.urandom(CHUNK_SIZE + 16)
    chunks = max(1, size // CHUNK_SIZE)
    try:
        started = time.perf_counter()
        for first in range(0, chunks, 4):
            await db["fs.chunks"].insert_many([{"files_id": "bench", "n": n, "data": block}
                                               for n in range(first, min(chunks, first + 4))])
        await db["fs.files"].insert_one({"_id": "bench", "length": chunks * len(block), "chunkSize": len(block),
                                         "filename": "bench", "uploadDate": datetime.now(UTC)})
        write_s = time.perf_counter() - started
        started = time.perf_counter()
        for first in range(0, chunks, 4):
            await db["fs.chunks"].find({"files_id": "bench", "n": {"$gte": first, "$lte": first + 3}}).to_list()
        read_s = time.perf_counter() - started
    finally:
        await client.drop_database(f"{target.db_prefix}documents_bench")
        await client.close()
    total = chunks * CHUNK_SIZE / MB
    return {"write_mb_s": round(total / write_s, 1), "read_mb_s": round(total / read_s, 1), "size_mb": total}


async def create_document(http: httpx.AsyncClient, target: Target) -> str:
    response = await http.post("/api/v1/documents", json={"title": "Benchmark"}, headers=target.headers)
    response.raise_for_status()
    return str(response.json()["id"])


async def upload(http: httpx.AsyncClient, target: Target, document_id: str, size: int) -> tuple[dict[str, Any], float]:
    headers = {**target.headers, "Content-Type": "multipart/form-data; boundary=docflowbenchboundary",
               "Content-Length": str(size + multipart_overhead())}
    started = time.perf_counter()
    response = await http.post(f"/api/v1/documents/{document_id}/files", content=multipart_body(size),
                               headers=headers)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return response.json(), elapsed


async def download(http: httpx.AsyncClient, target: Target, document_id: str, file: dict[str, Any]) -> float:
    received = 0
    started = time.perf_counter()
    url = f"/api/v1/documents/{document_id}/files/{file['id']}/content"
    async with http.stream("GET", url, headers=target.headers) as response:
        response.raise_for_status()
        async for part in response.aiter_raw(MB):
            received += len(part)
    elapsed = time.perf_counter() - started
    if received != file["size"]:
        raise RuntimeError(f"downloaded {received} of {file['size']} bytes")
    return elapsed


class RssSampler:
    """Samples VmRSS of a process every few milliseconds in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, memory_kb(self.pid, "VmRSS"))
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def measure(target: Target, size: int, rss_size: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=target.base_url, timeout=TIMEOUT) as http:
        document_id = await create_document(http, target)
        warm, _ = await upload(http, target, document_id, 2 * MB)
        await download(http, target, document_id, warm)
        file, up_s = await upload(http, target, document_id, size)
        down_s = await download(http, target, document_id, file)
        figures: dict[str, Any] = {
            "file_mb": size // MB,
            "upload_mb_s": round(size / MB / up_s, 1),
            "download_mb_s": round(size / MB / down_s, 1),
            "upload_s": round(up_s, 2), "download_s": round(down_s, 2),
        }
        await http.delete(f"/api/v1/documents/{document_id}/files/{file['id']}", headers=target.headers)
        figures["storage_limit"] = await storage_limit(target, min(size, 64 * MB))
        if target.pid is None or rss_size <= 0:
            return figures
        await asyncio.sleep(1.0)
        baseline_kb = memory_kb(target.pid, "VmRSS")
        peak_reset = reset_peak(target.pid)
        with RssSampler(target.pid) as sampler:
            big, big_s = await upload(http, target, document_id, rss_size)
        hwm_kb = memory_kb(target.pid, "VmHWM") if peak_reset else sampler.peak_kb
        peak_kb = max(hwm_kb, sampler.peak_kb)
        figures["rss"] = {
            "upload_mb": rss_size // MB,
            "upload_mb_s": round(rss_size / MB / big_s, 1),
            "baseline_mb": round(baseline_kb / 1024, 1),
            "peak_mb": round(peak_kb / 1024, 1),
            "growth_mb": round((peak_kb - baseline_kb) / 1024, 1),
            "peak_source": "VmHWM after clear_refs + sampled VmRSS" if peak_reset else "sampled VmRSS (20 ms)",
        }
        await http.delete(f"/api/v1/documents/{document_id}/files/{big['id']}", headers=target.headers)
        return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--rss-size-mb", type=int, default=1024, help="0 skips the memory run")
    parser.add_argument("--base-url", help="measure this deployment instead of starting the service")
    parser.add_argument("--token", help="access token of a verified user (with --base-url)")
    parser.add_argument("--pid", type=int, help="process to watch for memory (with --base-url)")
    parser.add_argument("--name", default="documents_transfer")
    args = parser.parse_args()
    size, rss_size = args.size_mb * MB, args.rss_size_mb * MB
    limit = in_process_limit(size)
    with documents_target(args.base_url, args.token, args.pid) as target:
        measured = asyncio.run(measure(target, size, rss_size))
    figures: dict[str, Any] = {
        "benchmark": "documents file upload/download vs the in-process SHA-256 + AES-256-GCM limit",
        "target": args.base_url or "documents service started by the benchmark (embedded MongoDB-wire server)",
        "measured": measured,
        "in_process_limit": limit,
        "upload_ratio": round(measured["upload_mb_s"] / limit["upload_mb_s"], 3),
        "download_ratio": round(measured["download_mb_s"] / limit["download_mb_s"], 3),
        "targets": {"ratio_vs_in_process": ">= 0.25", "rss_growth_mb": "< 64"},
    }
    if storage := measured.get("storage_limit"):
        figures["upload_ratio_vs_storage"] = round(measured["upload_mb_s"] / storage["write_mb_s"], 3)
        figures["download_ratio_vs_storage"] = round(measured["download_mb_s"] / storage["read_mb_s"], 3)
    figures["met"] = {
        "upload_ratio": figures["upload_ratio"] >= 0.25,
        "download_ratio": figures["download_ratio"] >= 0.25,
        "rss_growth": measured.get("rss", {}).get("growth_mb", 0) < 64 if "rss" in measured else None,
    }
    save(args.name, figures)


if __name__ == "__main__":
    main()
