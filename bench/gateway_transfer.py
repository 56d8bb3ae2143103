"""Upload and download MB/s of a large file through the gateway against directly to documents,
in the same run, and the peak memory growth of both processes while a very large file streams
through the gateway.

Targets (issue 4): gateway >= 0.8x direct; RSS growth < 64 MB for documents and the gateway
during a 1 GB upload.
Run: python -m bench.gateway_transfer [--size-mb 256] [--rss-size-mb 1024] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import httpx

from bench.documents_common import Target, memory_kb, reset_peak
from bench.documents_transfer import TIMEOUT, RssSampler, create_document, download, upload
from bench.stack import bench_stack, save
from docflow_dev.testing.issuer import LocalIssuer

MB = 1024 * 1024


async def transfer(target: Target, size: int) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=target.base_url, timeout=TIMEOUT) as http:
        document_id = await create_document(http, target)
        file, up_s = await upload(http, target, document_id, size)
        down_s = await download(http, target, document_id, file)
        await http.delete(f"/api/v1/documents/{document_id}", headers=target.headers)
    return {"upload_mb_s": round(size / MB / up_s, 1), "download_mb_s": round(size / MB / down_s, 1)}


async def memory_during_upload(target: Target, pids: dict[str, int], size: int) -> dict[str, Any]:
    baselines = {name: memory_kb(pid, "VmRSS") for name, pid in pids.items()}
    reset = {name: reset_peak(pid) for name, pid in pids.items()}
    samplers = {name: RssSampler(pid) for name, pid in pids.items()}
    for sampler in samplers.values():
        sampler.__enter__()
    try:
        async with httpx.AsyncClient(base_url=target.base_url, timeout=TIMEOUT) as http:
            document_id = await create_document(http, target)
            await upload(http, target, document_id, size)
            await http.delete(f"/api/v1/documents/{document_id}", headers=target.headers)
    finally:
        for sampler in samplers.values():
            sampler.__exit__()
    out: dict[str, Any] = {"upload_mb": size // MB}
    for name, pid in pids.items():
        peak = max(samplers[name].peak_kb, memory_kb(pid, "VmHWM") if reset[name] else 0)
        out[name] = {"baseline_mb": round(baselines[name] / 1024, 1), "peak_mb": round(peak / 1024, 1),
                     "growth_mb": round((peak - baselines[name]) / 1024, 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--rss-size-mb", type=int, default=1024, help="0 skips the memory run")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    size = args.size_mb * MB
    issuer = LocalIssuer().start()
    try:
        with bench_stack(("documents", "gateway"), JWKS_URL=issuer.jwks_url,
                         DOCUMENTS_MAX_UPLOAD_MB=str(max(args.size_mb, args.rss_size_mb) + 16)) as stack:
            token = issuer.token("bench-" + os.urandom(4).hex(), email_verified=True)
            targets = {"direct": Target(stack.url("documents"), token, None),
                       "gateway": Target(stack.url("gateway"), token, None)}
            runs: dict[str, list[dict[str, float]]] = {"direct": [], "gateway": []}
            asyncio.run(transfer(targets["gateway"], 2 * MB))
            for _ in range(args.rounds):
                for name, target in targets.items():
                    runs[name].append(asyncio.run(transfer(target, size)))
            memory = None
            if args.rss_size_mb > 0:
                pids = {name: proc.process.pid for name, proc in stack.processes.items() if proc.process}
                memory = asyncio.run(memory_during_upload(targets["gateway"], pids, args.rss_size_mb * MB))
    finally:
        issuer.stop()
    best = {name: {key: max(r[key] for r in results) for key in ("upload_mb_s", "download_mb_s")}
            for name, results in runs.items()}
    figures: dict[str, Any] = {
        "benchmark": f"{args.size_mb} MB file upload/download, gateway vs direct to documents",
        "direct": best["direct"], "gateway": best["gateway"],
        "upload_ratio": round(best["gateway"]["upload_mb_s"] / best["direct"]["upload_mb_s"], 3),
        "download_ratio": round(best["gateway"]["download_mb_s"] / best["direct"]["download_mb_s"], 3),
        "memory_during_gateway_upload": memory,
        "targets": {"gateway_vs_direct": ">= 0.8", "rss_growth_mb": "< 64 each"},
        "all_runs": runs,
    }
    figures["met"] = figures["upload_ratio"] >= 0.8 and figures["download_ratio"] >= 0.8 and (
        memory is None or all(v["growth_mb"] < 64 for k, v in memory.items() if isinstance(v, dict)))
    save("gateway_transfer", figures)


if __name__ == "__main__":
    main()
