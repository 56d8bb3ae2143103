"""Signature verifications/s per core through the signing API, against the bare pyHanko call.

Starts the signing service alone as one uvicorn process (embedded MongoDB-wire server unless
MONGODB_URL is set, the local RabbitMQ) with a generated test CA as its trust store, then for
RSA-2048 and ECDSA P-256 signatures of a 64 KiB file:

* API: ``POST /api/v1/signatures/verify`` (multipart file + detached CMS signature; JWT check,
  multipart parsing, SHA-256 of the file, pyHanko CMS validation with path validation to the
  trust store, JSON report) from ``--concurrency`` aiohttp clients for ``--seconds``.
* Baseline, measured in the same run: the bare pyHanko call in this process,
  ``async_validate_detached_cms(file, signed_data, ValidationContext(trust_roots=[CA]))``,
  including parsing the signature, in one thread.

Per core: the API rate is divided by the CPU seconds the service process used (from /proc), the
baseline rate by this thread's CPU seconds, so both are "verifications per CPU-second" and the
load generator, database and broker sharing the machine do not distort the ratio.
Target (issue 5): API >= 0.5x the bare call.
Run: python -m bench.signing_verify [--seconds 15] [--concurrency 8]
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from asn1crypto import cms
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext

from bench.figures import percentile
from bench.stack import bench_stack, options, process_cpu_seconds, save
from docflow_dev.testing.issuer import LocalIssuer
from docflow_signing.crypto.devca import Issued, KeyType, create_ca, issue_user_certificate, sign_detached

FILE_BYTES = 64 * 1024


async def bare_pyhanko(ca: Issued, content: bytes, signature: bytes, seconds: float) -> dict[str, Any]:
    """The bare pyHanko detached-CMS validation, one thread, in this process."""
    from asn1crypto import x509

    root = x509.Certificate.load(ca.cert_der)

    async def once() -> None:
        signed_data = cms.ContentInfo.load(signature)["content"]
        status = await async_validate_detached_cms(
            content, signed_data, signer_validation_context=ValidationContext(trust_roots=[root])
        )
        assert status.intact and status.valid and status.trust_problem_indic is None

    for _ in range(20):
        await once()
    count, started, cpu_started = 0, time.perf_counter(), time.thread_time()
    while time.perf_counter() - started < seconds:
        await once()
        count += 1
    wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    return {"verifications": count, "per_s": round(count / wall, 1), "per_cpu_s": round(count / cpu, 1)}


async def through_api(url: str, token: str, content: bytes, signature: bytes, *, pid: int, seconds: float,
                      concurrency: int) -> dict[str, Any]:
    """POST /api/v1/signatures/verify from ``concurrency`` clients; rate per CPU-second of the service."""
    headers = {"Authorization": f"Bearer {token}"}
    counts = {"ok": 0, "failed": 0}
    latencies: list[float] = []

    async def post(session: aiohttp.ClientSession) -> None:
        form = aiohttp.FormData()
        form.add_field("file", content, filename="contract.pdf", content_type="application/pdf")
        form.add_field("signature", signature, filename="contract.p7s", content_type="application/pkcs7-signature")
        began = time.perf_counter()
        async with session.post(f"{url}/api/v1/signatures/verify", data=form, headers=headers) as response:
            body = await response.json()
        latencies.append(time.perf_counter() - began)
        if response.status == 200 and body["intact"] and body["valid"] and body["trusted"]:
            counts["ok"] += 1
        else:
            counts["failed"] += 1

    async with aiohttp.ClientSession() as session:
        for _ in range(20):
            await post(session)
        counts["ok"] = counts["failed"] = 0
        latencies.clear()
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            while time.perf_counter() < deadline:
                await post(session)

        started, cpu_started = time.perf_counter(), process_cpu_seconds(pid)
        await asyncio.gather(*(client() for _ in range(concurrency)))
        wall, cpu = time.perf_counter() - started, process_cpu_seconds(pid) - cpu_started
    return {
        "verifications": counts["ok"], "failed": counts["failed"], "per_s": round(counts["ok"] / wall, 1),
        "service_cpu_s": round(cpu, 2), "cores_used": round(cpu / wall, 2),
        "per_cpu_s": round(counts["ok"] / cpu, 1) if cpu else None,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
    }


async def run(seconds: float, concurrency: int) -> dict[str, Any]:
    ca = create_ca("Bench CA", key_type="ec")
    trust = Path(tempfile.mkdtemp(prefix="docflow-bench-trust-"))
    ca.write(trust, "bench-ca")
    (trust / "bench-ca.key").unlink()
    content = os.urandom(FILE_BYTES)
    issuer = LocalIssuer().start()
    figures: dict[str, Any] = {
        "benchmark": "signing_verify", "file_bytes": FILE_BYTES, "seconds": seconds, "concurrency": concurrency,
        "cpu_count": os.cpu_count(), "target_ratio": 0.5, "results": {},
    }
    try:
        with bench_stack(("signing",), JWKS_URL=issuer.jwks_url, SIGNING_TRUST_DIR=str(trust)) as stack:
            url = stack.url("signing")
            process = stack.processes["signing"].process
            assert process is not None
            token = issuer.token("usr_bench")
            kinds: tuple[tuple[KeyType, str], ...] = (("rsa", "RSA-2048"), ("ec", "ECDSA-P256"))
            for key_type, label in kinds:
                signer = issue_user_certificate(ca, f"Bench {label}", key_type=key_type)
                signature = sign_detached(content, signer)
                bare = await bare_pyhanko(ca, content, signature, seconds)
                api = await through_api(url, token, content, signature, pid=process.pid, seconds=seconds,
                                        concurrency=concurrency)
                ratio = round(api["per_cpu_s"] / bare["per_cpu_s"], 2) if api["per_cpu_s"] else None
                figures["results"][label] = {"api": api, "bare_pyhanko": bare, "ratio_per_core": ratio,
                                             "meets_target": bool(ratio and ratio >= 0.5)}
                print(f"{label}: API {api['per_cpu_s']}/CPU-s ({api['per_s']}/s wall, "
                      f"{api['cores_used']} cores, p50 {api['p50_ms']} ms), bare pyHanko {bare['per_cpu_s']}/CPU-s "
                      f"-> ratio {ratio}", flush=True)
    finally:
        issuer.stop()
    return figures


def main() -> None:
    args = options(__doc__, seconds=15.0, concurrency=8)
    save("signing_verify", asyncio.run(run(args.seconds, args.concurrency)))


if __name__ == "__main__":
    main()
