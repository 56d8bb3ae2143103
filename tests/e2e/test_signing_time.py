"""A backdated signature through the gateway: a key that has expired cannot sign by writing last
week's date into its signingTime; a trusted RFC 3161 timestamp from last week can prove the time."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from docflow_dev.testing.asserts import eventually
from docflow_signing.crypto.devca import (
    create_ca,
    issue_tsa_certificate,
    issue_user_certificate,
    sign_detached,
    sign_detached_at,
)

API = "/api/v1"




async def test_backdated_signature_of_an_expired_key(client: httpx.AsyncClient, verified_headers: Any,
                                                     platform_env: dict[str, str],
                                                     register_certificate: Any) -> None:
    ca = create_ca("Clock Test CA")
    ca_file = Path(platform_env["DATA_DIR"]) / "signing" / "trust" / f"clock-{uuid.uuid4().hex[:8]}.pem"
    ca_file.parent.mkdir(parents=True, exist_ok=True)
    ca_file.write_bytes(ca.cert_pem)
    headers = await verified_headers("Clock Signer", "en")

    async def ca_trusted() -> bool:
        probe = issue_user_certificate(ca, "Probe")
        verified = await client.post(f"{API}/signatures/verify", headers=headers, files={
            "file": ("p", b"p", "application/octet-stream"), "signature": ("p.p7s", sign_detached(b"p", probe))})
        return bool(verified.json().get("trusted"))

    await eventually(ca_trusted, timeout=20)  # signing re-reads its trust directory every few seconds
    content = os.urandom(2000)
    doc_id = (await client.post(f"{API}/documents", json={"title": "Backdated"}, headers=headers)).json()["id"]
    uploaded = await client.post(f"{API}/documents/{doc_id}/files", headers=headers,
                                 files={"file": ("contract.pdf", content, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    sign_url = f"{API}/documents/{doc_id}/files/{uploaded.json()['id']}/signatures"

    now = datetime.now(UTC)
    key = issue_user_certificate(ca, "Clock Signer", not_before=now - timedelta(days=9),
                                 not_after=now + timedelta(seconds=3))
    registered = await register_certificate(client, headers, key)
    assert registered.status_code == 201, registered.text
    await asyncio.sleep((key.cert.not_valid_after_utc - datetime.now(UTC)).total_seconds() + 1.5)

    last_week = (datetime.now(UTC) - timedelta(days=7)).replace(microsecond=0)
    backdated = await sign_detached_at(content, key, signing_time=last_week)

    async def signed_once_projected() -> httpx.Response | None:
        response = await client.post(sign_url, headers=headers, files={"signature": ("s.p7s", backdated)})
        return None if response.status_code == 404 else response

    refused = await eventually(signed_once_projected, timeout=20)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("certificate-validity")

    rogue_tsa = issue_tsa_certificate(create_ca("Rogue TSA CA"), "Rogue TSA")
    stamped_at = last_week + timedelta(days=1)
    untrusted = await sign_detached_at(content, key, signing_time=last_week, tsa=rogue_tsa, timestamp_at=stamped_at)
    refused = await client.post(sign_url, headers=headers, files={"signature": ("s.p7s", untrusted)})
    assert refused.status_code == 422, refused.text

    stamped = await sign_detached_at(content, key, signing_time=last_week, tsa=issue_tsa_certificate(ca),
                                     timestamp_at=stamped_at)
    accepted = await client.post(sign_url, headers=headers, files={"signature": ("s.p7s", stamped)})
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["time_basis"] == "timestamp"
    assert at(body["timestamp_time"]) == stamped_at == at(body["signing_time"])
    assert at(body["claimed_signing_time"]) == last_week
    assert at(body["received_at"]) > now


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
