"""The last signature of a route → the completion e-mail accepted by a local SMTP server: p50, p95.

Target (issue 13): p95 < 500 ms over 200 routes. Each sample is one route's end: signing stores
the signature (document.signed) → routes settles the request (document.completed) → mail renders
and sends. Users and documents come as the events auth and documents would publish; tokens from a
test issuer. Baseline, in the same run: document.completed published by hand → the same e-mail,
so the ratio is what routes and signing add to mail's own path.
Run: python -m bench.route_completion_latency [--routes 200]
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.figures import percentile, percentiles
from bench.stack import bench_stack, options, save
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.bus import EventBus
from docflow_shared.events import EventPayload, Person, new_event
from docflow_shared.events.catalogue import (
    DocumentCompleted,
    DocumentCreated,
    DocumentFileAdded,
    UserEmailVerified,
    UserRegistered,
)
from docflow_shared.events.producers import producer_of
from docflow_signing.crypto.devca import create_ca, issue_user_certificate, key_proof, sign_detached

TARGET_P95_MS = 500.0


async def arrival(sink: SmtpSink, address: str, marker: str, since: int, timeout: float = 30.0) -> float:
    """The monotonic time the first e-mail to ``address`` naming ``marker`` reached the sink."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sink.lock:
            for message, at in zip(sink.messages[since:], sink.arrivals[since:], strict=True):
                if address in str(message["To"]) and marker in str(message["Subject"]):
                    return float(at)
        await asyncio.sleep(0.001)
    raise SystemExit(f"no completion e-mail for {marker} within {timeout:.0f} s")


async def until(call, status: int) -> httpx.Response:
    """Retry while routes and signing catch up with the events (a document, a request)."""
    for _ in range(600):
        response = await call()
        if response.status_code == status:
            return response
        await asyncio.sleep(0.02)
    raise SystemExit(f"never {status}: {response.status_code} {response.text}")


async def run(routes: int, trust: Path, sink: SmtpSink, issuer: LocalIssuer) -> dict[str, object]:
    ca = create_ca("Bench CA", key_type="ec")
    ca.write(trust, "bench-ca")
    (trust / "bench-ca.key").unlink()
    extra = {"SIGNING_TRUST_DIR": str(trust), "JWKS_URL": issuer.jwks_url, "SMTP_HOST": "127.0.0.1",
             "SMTP_PORT": str(sink.port), "SMTP_TLS": "none", "ROUTES_SCHEDULER_TICK_SECONDS": "5"}
    with bench_stack(("routes", "signing", "mail", "gateway"), **extra) as stack:
        bus = EventBus(amqp_url=stack.env["AMQP_URL"], service="bench", namespace=stack.env["BROKER_NAMESPACE"])
        await bus.start()
        assert await bus.wait_ready(15)

        async def publish(payload: EventPayload) -> None:
            await bus.publish(new_event(payload, producer=producer_of(payload.TYPE) or "bench"))

        people = {}
        for name in ("owner", "signer"):
            user_id = f"usr_{uuid.uuid4().hex[:12]}"
            email = f"{name}.{user_id}@example.kz"
            await publish(UserRegistered(user_id=user_id, email=email, full_name=name.title(), locale="en"))
            await publish(UserEmailVerified(user_id=user_id, email=email))
            people[name] = (Person(user_id=user_id, email=email, full_name=name.title(), locale="en"),
                            {"Authorization": f"Bearer {issuer.token(user_id)}"})
        owner, owner_headers = people["owner"]
        signer, signer_headers = people["signer"]
        issued = issue_user_certificate(ca, "Signer", key_type="ec")
        async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30) as http:
            challenge = (await until(lambda: http.post("/api/v1/certificates/challenges", headers=signer_headers),
                                     201)).json()["challenge"]
            await until(lambda: http.post("/api/v1/certificates", json={"pem": issued.cert_pem.decode()}, headers={
                **signer_headers, "DocFlow-Key-Challenge": challenge,
                "DocFlow-Key-Proof": key_proof(challenge, issued)}), 201)
            latencies: list[float] = []
            for n in range(routes + 5):
                doc_id, file_id = uuid.uuid4().hex, uuid.uuid4().hex
                content = os.urandom(2048)
                marker = f"Bench {doc_id[:10]}"
                await publish(DocumentCreated(document_id=doc_id, owner_id=owner.user_id, title=marker, status="draft"))
                await publish(DocumentFileAdded(document_id=doc_id, file_id=file_id, owner_id=owner.user_id,
                                                name="c.pdf", size=len(content),
                                                sha256=hashlib.sha256(content).hexdigest(),
                                                content_type="application/pdf"))
                await until(lambda doc_id=doc_id: http.post(
                    f"/api/v1/documents/{doc_id}/signature-requests", json={"signers": [signer.email]},
                    headers=owner_headers), 201)
                signature = sign_detached(content, issued)
                seen = len(sink.messages)
                await until(lambda doc_id=doc_id, file_id=file_id, signature=signature: http.post(
                    f"/api/v1/documents/{doc_id}/files/{file_id}/signatures", headers=signer_headers,
                    files={"signature": ("s.p7s", signature, "application/pkcs7-signature")}), 201)
                signed_at = time.monotonic()
                arrived = await arrival(sink, signer.email, f"“{marker}” is signed by everyone", seen)
                if n >= 5:  # the first few warm caches and connections
                    latencies.append((arrived - signed_at) * 1000)

            baseline: list[float] = []
            for n in range(min(routes, 60) + 5):
                marker = f"Baseline {uuid.uuid4().hex[:10]}"
                seen = len(sink.messages)
                started = time.monotonic()
                await publish(DocumentCompleted(document_id=uuid.uuid4().hex, request_id=f"srq_{uuid.uuid4().hex[:24]}",
                                                title=marker, owner=owner, participants=[signer],
                                                completed_at=datetime.now(UTC)))
                arrived = await arrival(sink, signer.email, f"“{marker}” is signed by everyone", seen)
                if n >= 5:
                    baseline.append((arrived - started) * 1000)
        await bus.close()
    p95, baseline_p95 = percentile(latencies, 0.95), percentile(baseline, 0.95)
    return {
        "benchmark": "last signature of a route -> completion e-mail accepted by the SMTP server",
        "routes": len(latencies),
        **percentiles(latencies),
        "baseline": "document.completed published by hand -> the same e-mail",
        "baseline_p50_ms": round(percentile(baseline, 0.50), 1),
        "baseline_p95_ms": round(baseline_p95, 1),
        "p95_ratio_to_baseline": round(p95 / baseline_p95, 2),
        "target": {"p95_ms": f"< {TARGET_P95_MS:g}"},
        "met": p95 < TARGET_P95_MS,
    }


def main() -> None:
    args = options(routes=200)
    sink = SmtpSink().start()
    issuer = LocalIssuer().start()
    trust = Path(tempfile.mkdtemp(prefix="docflow-bench-trust-"))
    try:
        figures = asyncio.run(run(args.routes, trust, sink, issuer))
    finally:
        issuer.stop()
        sink.stop()
    save("route_completion_latency", figures)


if __name__ == "__main__":
    main()
