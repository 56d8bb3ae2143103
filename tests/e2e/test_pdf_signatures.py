"""A signed PDF through the gateway: stored in documents, downloaded as a client would, and its embedded
signatures verified by signing's ``POST /signatures/verify-pdf``, which never calls documents."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from docflow_dev.testing import pdfs as devpdf
from docflow_dev.testing.asserts import eventually
from docflow_signing.crypto.devca import create_ca, issue_user_certificate

API = "/api/v1"
PDF = "application/pdf"


async def test_a_signed_pdf_stored_in_documents_verifies_and_a_later_change_is_flagged(
        client: httpx.AsyncClient, verified_headers: Any, platform_env: dict[str, str]) -> None:
    ca = create_ca("PAdES Test CA", key_type="rsa")
    ca_file = Path(platform_env["DATA_DIR"]) / "signing" / "trust" / f"pades-{uuid.uuid4().hex[:8]}.pem"
    ca_file.parent.mkdir(parents=True, exist_ok=True)
    ca_file.write_bytes(ca.cert_pem)
    headers = await verified_headers("PDF Signer", "en")
    signer = issue_user_certificate(ca, "PDF Signer", key_type="rsa")
    signed = await devpdf.sign_pdf(devpdf.plain_pdf(), signer)

    doc_id = (await client.post(f"{API}/documents", json={"title": "Signed PDF"}, headers=headers)).json()["id"]
    uploaded = await client.post(f"{API}/documents/{doc_id}/files", headers=headers,
                                 files={"file": ("contract.pdf", signed, PDF)})
    assert uploaded.status_code == 201, uploaded.text
    downloaded = await client.get(f"{API}/documents/{doc_id}/files/{uploaded.json()['id']}/content", headers=headers)
    assert downloaded.status_code == 200 and downloaded.content == signed

    async def verified_trusted() -> dict[str, Any] | None:
        response = await client.post(f"{API}/signatures/verify-pdf", headers=headers,
                                     files={"file": ("contract.pdf", downloaded.content, PDF)})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["signatures"] and body["signatures"][0]["trusted"] else None

    body = await eventually(verified_trusted, timeout=30)  # signing re-reads its trust directory every few seconds
    [signature] = body["signatures"]
    assert "PDF Signer" in signature["signer_subject"] and signature["covers_whole_document"] is True
    assert signature["updated_after_signing"] is False and signature["problems"] == []

    changed = await client.post(f"{API}/signatures/verify-pdf", headers=headers,
                                files={"file": ("contract.pdf", devpdf.add_page_after_signing(signed), PDF)})
    assert changed.status_code == 200, changed.text
    [signature] = changed.json()["signatures"]
    assert signature["covers_whole_document"] is False and signature["updated_after_signing"] is True
    assert signature["modification_level"] == "OTHER" and signature["problems"]

    large = await devpdf.sign_pdf(devpdf.plain_pdf(b"A" * (3 * 1024 * 1024)), signer)  # over the JSON body cap
    verified = await client.post(f"{API}/signatures/verify-pdf", headers=headers,
                                 files={"file": ("large.pdf", large, PDF)})
    assert verified.status_code == 200, verified.text
    assert verified.json()["signatures"][0]["trusted"] is True

    unsigned = await client.post(f"{API}/signatures/verify-pdf", headers=headers,
                                 files={"file": ("plain.pdf", devpdf.plain_pdf(), PDF)})
    assert unsigned.status_code == 200 and unsigned.json()["signed"] is False

    broken = await client.post(f"{API}/signatures/verify-pdf", headers=headers,
                               files={"file": ("broken.pdf", b"%PDF-1.7\nnothing here", PDF)})
    assert broken.status_code == 422, broken.text
    assert broken.headers["content-type"].startswith("application/problem+json")
    assert broken.json()["type"].endswith("pdf-unreadable")
