"""Latency of the evidence PDF (``GET /api/v1/documents/{id}/evidence``) of a document with 10
signatures: p50, p95 and p99 over ``--requests`` sequential requests, and the JSON form beside it.

Starts the signing service alone (as ``bench.signing_verify`` does). The document and its file are
written into signing's projection directly, as its handlers would from documents' events; the ten
signatures (ECDSA P-256, one registered certificate) go through the API, so the records are real.
Each PDF is laid out (fpdf2, DejaVu embedded) and sealed (pyHanko, the development seal).
Run: python -m bench.evidence_pdf [--requests 100] [--signatures 10]
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from pymongo import AsyncMongoClient

from bench.figures import percentiles
from bench.stack import bench_stack, options, process_cpu_seconds, save
from docflow_dev.testing.issuer import LocalIssuer
from docflow_shared.ids import new_id
from docflow_signing.crypto.devca import create_ca, issue_user_certificate, key_proof, sign_detached

FILE_BYTES = 64 * 1024
USER = "usr_bench"


async def seed_projection(mongo_url: str, database: str, document_id: str, file_id: str, content: bytes) -> None:
    """What signing's projection holds after documents' ``document.created`` and ``file_added``."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        db = client[database]
        await db["users"].insert_one({"_id": USER, "email": "bench@example.com", "email_key": "bench@example.com",
                                      "full_name": "Бенчмарк Әйгерім", "locale": "ru", "iin": None,
                                      "deleted": False, "event_us": 0})
        await db["documents"].insert_one({"_id": document_id, "owner_id": USER, "title": "Шарт (bench)",
                                          "status": "draft", "deleted": False, "event_us": 0})
        await db["files"].insert_one({"_id": file_id, "document_id": document_id, "owner_id": USER,
                                      "name": "contract.pdf", "size": len(content),
                                      "sha256": hashlib.sha256(content).hexdigest(),
                                      "content_type": "application/pdf", "removed": False})
    finally:
        await client.close()


async def sign_many(session: aiohttp.ClientSession, url: str, headers: dict[str, str], document_id: str,
                    file_id: str, content: bytes, ca: Any, count: int) -> None:
    signer = issue_user_certificate(ca, "Bench Signer")
    async with session.post(f"{url}/api/v1/certificates/challenges", headers=headers) as response:
        challenge = (await response.json())["challenge"]
    proved = {**headers, "DocFlow-Key-Challenge": challenge, "DocFlow-Key-Proof": key_proof(challenge, signer)}
    async with session.post(f"{url}/api/v1/certificates", json={"pem": signer.cert_pem.decode()},
                            headers=proved) as response:
        assert response.status == 201, await response.text()
    for _ in range(count):
        form = aiohttp.FormData()
        form.add_field("signature", sign_detached(content, signer), filename="s.p7s",
                       content_type="application/pkcs7-signature")
        async with session.post(f"{url}/api/v1/documents/{document_id}/files/{file_id}/signatures", data=form,
                                headers=headers) as response:
            assert response.status == 201, await response.text()


async def latencies(session: aiohttp.ClientSession, url: str, headers: dict[str, str], requests: int,
                    pid: int, **params: str) -> dict[str, Any]:
    timings: list[float] = []
    size = 0
    for _ in range(5):  # warm-up (the development seal is made at first use)
        async with session.get(url, headers=headers, params=params) as response:
            assert response.status == 200, await response.text()
    cpu_started = process_cpu_seconds(pid)
    for _ in range(requests):
        began = time.perf_counter()
        async with session.get(url, headers=headers, params=params) as response:
            body = await response.read()
        timings.append(time.perf_counter() - began)
        assert response.status == 200, body[:300]
        size = len(body)
    cpu = process_cpu_seconds(pid) - cpu_started
    figures = percentiles([timing * 1000 for timing in timings])
    return {"requests": requests, "bytes": size, "p50_ms": figures["p50_ms"], "p95_ms": figures["p95_ms"],
            "p99_ms": figures["p99_ms"], "service_cpu_ms_per_request": round(cpu * 1000 / requests, 1)}


async def run(requests: int, signatures: int) -> dict[str, Any]:
    trust = Path(tempfile.mkdtemp(prefix="docflow-bench-trust-"))
    ca = create_ca("Bench CA", key_type="ec")
    ca.write(trust, "bench-ca")
    (trust / "bench-ca.key").unlink()
    content = os.urandom(FILE_BYTES)
    document_id, file_id = new_id(length=32), new_id(length=32)
    issuer = LocalIssuer().start()
    try:
        with bench_stack(("signing",), JWKS_URL=issuer.jwks_url, SIGNING_TRUST_DIR=str(trust)) as stack:
            process = stack.processes["signing"].process
            assert process is not None
            await seed_projection(stack.env["MONGODB_URL"], f"{stack.env['MONGODB_DB_PREFIX']}signing",
                                  document_id, file_id, content)
            url, headers = stack.url("signing"), {"Authorization": f"Bearer {issuer.token(USER)}"}
            async with aiohttp.ClientSession() as session:
                await sign_many(session, url, headers, document_id, file_id, content, ca, signatures)
                evidence = f"{url}/api/v1/documents/{document_id}/evidence"
                pdf = await latencies(session, evidence, headers, requests, process.pid)
                json = await latencies(session, evidence, headers, requests, process.pid, format="json")
    finally:
        issuer.stop()
        shutil.rmtree(trust, ignore_errors=True)
    return {"benchmark": "evidence_pdf", "signatures": signatures, "cpu_count": os.cpu_count(),
            "results": {"pdf": pdf, "json": json}}


def main() -> None:
    args = options(__doc__, requests=100, signatures=10)
    save("evidence_pdf", asyncio.run(run(args.requests, args.signatures)))


if __name__ == "__main__":
    main()
