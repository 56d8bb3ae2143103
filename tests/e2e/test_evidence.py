"""The evidence report of a document through the gateway: a PDF sealed by DocFlow and its JSON
twin, with the files' digests and an ECDSA and a Kazakh GOST signature; a stranger gets 404."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from asn1crypto import x509
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from docflow_dev.testing.asserts import eventually
from docflow_signing.crypto import kzkeys, streebog
from docflow_signing.crypto.certificates import pem_of
from docflow_signing.crypto.devca import Issued, create_ca, issue_user_certificate, key_proof, sign_detached

KZ = Path(__file__).resolve().parents[2] / "services" / "signing" / "tests" / "fixtures" / "kz-gost"
API = "/api/v1"
OWNER = "Сәрсенбаева Әйгерім"
TITLE = "Шарт №7: қызмет көрсету"
ROLE_KK = "Қол қою құқығы бар қызметкер"

pytestmark = [
    pytest.mark.skipif(not streebog.available(),
                       reason="OpenSSL's GOST provider (libengine-gost-openssl) is not installed"),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"),
]
SignUp = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture(scope="module")
def ca(platform_env: dict[str, str]) -> Issued:
    """An ECDSA CA and the NCA RK test root, both in signing's trust directory."""
    authority = create_ca("Evidence Test CA")
    trust = Path(platform_env["DATA_DIR"]) / "signing" / "trust"
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "evidence-ca.pem").write_bytes(authority.cert_pem)
    (trust / f"kz-root-{uuid.uuid4().hex[:8]}.cer").write_bytes((KZ / "trust" / "root_test_gost_2022.cer").read_bytes())
    return authority


async def proved(client: httpx.AsyncClient, headers: dict[str, str], prove: Callable[[str], str],
                 pem: str) -> dict[str, Any]:
    async def attempt() -> httpx.Response:
        challenge = (await client.post(f"{API}/certificates/challenges", headers=headers)).json()["challenge"]
        response = await client.post(f"{API}/certificates", json={"pem": pem}, headers={
            **headers, "DocFlow-Key-Challenge": challenge, "DocFlow-Key-Proof": prove(challenge)})
        assert response.status_code == 201, response.text  # the trust directory is re-read within seconds
        return response

    body: dict[str, Any] = (await eventually(attempt, timeout=30)).json()
    return body


async def signed(client: httpx.AsyncClient, headers: dict[str, str], doc_id: str, file_id: str,
                 signature: bytes) -> dict[str, Any]:
    async def attempt() -> httpx.Response:
        response = await client.post(f"{API}/documents/{doc_id}/files/{file_id}/signatures", headers=headers,
                                     files={"signature": ("s.p7s", signature, "application/pkcs7-signature")})
        assert response.status_code == 201, response.text  # 404 until signing has heard of the file
        return response

    body: dict[str, Any] = (await eventually(attempt, timeout=60)).json()
    return body


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "evidence.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


async def seal_status(pdf: bytes, seal_ca: Path) -> Any:
    signature = PdfFileReader(BytesIO(pdf)).embedded_signatures[0]
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(seal_ca))])
    return await async_validate_pdf_signature(signature, context)


async def test_evidence_of_a_document_with_an_ecdsa_and_a_kazakh_gost_signature(
        client: httpx.AsyncClient, verified_headers: SignUp, ca: Issued, platform_env: dict[str, str],
        tmp_path: Path) -> None:
    kz_cert = x509.Certificate.load((KZ / "legal/valid/employee_signright.cert.der").read_bytes())
    if not kz_cert["tbs_certificate"]["validity"]["not_after"].native > datetime.now(UTC):
        pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
    kz_key = kzkeys.read_pkcs12((KZ / "legal/valid/employee_signright.p12").read_bytes(), "Qwerty12", kz_cert)
    intermediate = x509.Certificate.load((KZ / "nca_gost2022_test.cer").read_bytes())
    owner = await verified_headers(OWNER, "ru")
    stranger = await verified_headers("Stranger", "en")
    reader = await verified_headers("Reader", "en")
    reader_email = (await client.get(f"{API}/users/me", headers=reader)).json()["email"]

    created = await client.post(f"{API}/documents", json={"title": TITLE}, headers=owner)
    assert created.status_code == 201, created.text
    doc_id = created.json()["id"]
    content, unsigned = os.urandom(200_000), os.urandom(1000)
    file_ids = []
    for name, data in (("contract.pdf", content), ("annex.pdf", unsigned)):
        upload = await client.post(f"{API}/documents/{doc_id}/files", headers=owner,
                                   files={"file": (name, data, "application/pdf")})
        assert upload.status_code == 201, upload.text
        file_ids.append(upload.json()["id"])
    file_id, annex_id = file_ids
    seen = await client.get(f"{API}/documents/{doc_id}", headers=owner)
    assert seen.status_code == 200, seen.text
    shared = await client.post(f"{API}/documents/{doc_id}/share", headers=owner,
                               json={"recipients": [reader_email], "permission": "comment"})
    assert shared.status_code == 201, shared.text

    ec = issue_user_certificate(ca, "Aigerim Sarsenbayeva")
    await proved(client, owner, lambda c: key_proof(c, ec), ec.cert_pem.decode())
    await signed(client, owner, doc_id, file_id, sign_detached(content, ec))
    await proved(client, owner, lambda c: kzkeys.key_proof(c, kz_key),
                 pem_of(kz_cert.dump()) + pem_of(intermediate.dump()))
    gost = await signed(client, owner, doc_id, file_id, kzkeys.sign_detached(content, kz_key, chain=[intermediate]))
    kz_signer = gost["report"]["kz_signer"]
    assert kz_signer["role"] == "employee_signright" and kz_signer["bin"]

    # JSON: the same facts as the PDF
    async def complete() -> dict[str, Any] | None:
        response = await client.get(f"{API}/documents/{doc_id}/evidence", params={"format": "json"}, headers=owner)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        kinds = {e["type"] for e in body["trail"]}
        wanted = {"document.created", "document.file_added", "document.viewed", "document.shared"}
        return body if wanted <= kinds else None

    evidence = await eventually(complete, timeout=30)
    sha256 = hashlib.sha256(content).hexdigest()
    assert evidence["document"]["title"] == TITLE and evidence["document"]["owner"]["full_name"] == OWNER
    assert evidence["versions"][0]["version"] == 1
    files = {f["id"]: f for f in evidence["files"]}
    assert files[file_id]["sha256"] == sha256
    assert files[file_id]["streebog512"] == streebog.digest(content, 512).hex()
    assert files[annex_id]["streebog512"] == "not computed"
    by_algorithm = {s["signature_algorithm"]: s for s in evidence["signatures"]}
    assert set(by_algorithm) == {"sha256_ecdsa", "gost34.10-2015-512"}, list(by_algorithm)
    kz = by_algorithm["gost34.10-2015-512"]
    assert kz["signer"]["iin"] == kz_signer["iin"] and kz["signer"]["bin"] == kz_signer["bin"]
    assert kz["signer"]["role_kk"] == ROLE_KK and kz["signer"]["sign_right"] is True
    assert kz["trusted"] and len(kz["chain"]) == 3 and kz["time_basis"] == "received"
    ecdsa = by_algorithm["sha256_ecdsa"]
    assert ecdsa["signer"]["full_name"] == OWNER and ecdsa["file_sha256"] == sha256

    # PDF: readable facts, Cyrillic and Kazakh letters as text, a seal that validates
    response = await client.get(f"{API}/documents/{doc_id}/evidence", headers=owner)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    for fact in (TITLE, OWNER, sha256, kz_signer["iin"], kz_signer["bin"], ROLE_KK, "not computed",
                 "gost34.10-2015-512", "Қол қою дәлелдемесі"):
        assert fact in text, fact
    seal_ca = Path(platform_env["DATA_DIR"]) / "signing" / "seal" / "seal-ca.pem"
    status = await seal_status(response.content, seal_ca)
    assert status.intact and status.valid and status.trusted and status.bottom_line, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"

    # a changed byte inside the sealed report breaks the seal
    tampered = bytearray(response.content)
    inside = response.content.index(b"stream\n") + 20  # within the first page's content stream
    tampered[inside] ^= 0xFF
    assert not (await seal_status(bytes(tampered), seal_ca)).intact

    # a participant reads it too; a format it does not know is a 422 problem
    async def participant() -> httpx.Response:
        response = await client.get(f"{API}/documents/{doc_id}/evidence", params={"format": "json"}, headers=reader)
        assert response.status_code == 200, response.text  # 404 until signing has heard of the share
        return response

    assert (await eventually(participant, timeout=30)).json()["document"]["id"] == doc_id
    unknown = await client.get(f"{API}/documents/{doc_id}/evidence", params={"format": "docx"}, headers=owner)
    assert unknown.status_code == 422 and unknown.headers["content-type"].startswith("application/problem+json")

    # nobody else reads it, in either format
    for params in ({}, {"format": "json"}):
        refused = await client.get(f"{API}/documents/{doc_id}/evidence", params=params, headers=stranger)
        assert refused.status_code == 404, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
