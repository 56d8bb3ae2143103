"""A Kazakh GOST 34.10-2015 signature through the gateway: trusted once the NCA RK test root is in
signing's trust directory, reported with the signer's IIN and role; a changed file fails. A file
uploaded through the gateway is signed with the test PKI's individual key and the signature is
stored, documents having sent the file's Streebog digest by event."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asn1crypto import x509

from docflow_dev.testing.asserts import eventually
from docflow_signing.crypto import kzkeys, streebog
from docflow_signing.crypto.certificates import pem_of

KZ = Path(__file__).resolve().parents[2] / "services" / "signing" / "tests" / "fixtures" / "kz-gost"

API = "/api/v1"
pytestmark = pytest.mark.skipif(not streebog.available(),
                                reason="OpenSSL's GOST provider (libengine-gost-openssl) is not installed")


def trust_kz_root(platform_env: dict[str, str]) -> None:
    """Put the NCA RK test root in signing's trust directory (re-read within seconds)."""
    root = Path(platform_env["DATA_DIR"]) / "signing" / "trust" / f"kz-root-{uuid.uuid4().hex[:8]}.cer"
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_bytes((KZ / "trust" / "root_test_gost_2022.cer").read_bytes())



async def test_kazakh_gost_signature_through_the_gateway(client: httpx.AsyncClient, verified_headers: Any,
                                                          platform_env: dict[str, str]) -> None:
    cert = x509.Certificate.load((KZ / "individual/valid/individual_valid.cert.der").read_bytes())
    if not cert["tbs_certificate"]["validity"]["not_after"].native > datetime.now(UTC):
        pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
    key = kzkeys.read_pkcs12((KZ / "individual/valid/individual_valid.p12").read_bytes(), "Qwerty12", cert)
    intermediate = x509.Certificate.load((KZ / "nca_gost2022_test.cer").read_bytes())
    headers = await verified_headers("Тестов Тест", "ru")
    content = os.urandom(300_000)
    signature = kzkeys.sign_detached(content, key, chain=[intermediate])

    async def verify(data: bytes) -> httpx.Response:
        return await client.post(f"{API}/signatures/verify", headers=headers, files={
            "file": ("contract.pdf", data, "application/pdf"), "signature": ("contract.p7s", signature)})

    untrusted = await verify(content)
    assert untrusted.status_code == 200, untrusted.text
    trusted_already = any((Path(platform_env["DATA_DIR"]) / "signing" / "trust").glob("kz-root-*"))
    if untrusted.json()["trusted"] and not trusted_already:  # the other test of this file may have put it there
        pytest.fail("the NCA RK test root must not be trusted before it is in the trust directory")
    assert untrusted.json()["intact"] and untrusted.json()["valid"]

    trust_kz_root(platform_env)

    async def trusted() -> dict[str, Any] | None:
        report: dict[str, Any] = (await verify(content)).json()
        return report if report.get("trusted") else None

    report = await eventually(trusted, timeout=20)  # signing re-reads its trust directory every few seconds
    assert report["signature_algorithm"] == "gost34.10-2015-512" and len(report["chain"]) == 3
    assert report["kz_signer"] == {
        "iin": "123456789011", "iin_valid": False, "bin": None, "surname": "ТЕСТОВ", "given_name": "ТЕСТОВИЧ",
        "common_name": "ТЕСТОВ ТЕСТ", "organisation": None, "role": "person", "sign_right": None}
    changed = (await verify(content[:-1] + b"\0")).json()
    assert changed["intact"] is False and changed["trusted"] is False


async def test_a_gost_signature_of_a_file_uploaded_through_the_gateway_is_stored(
        client: httpx.AsyncClient, verified_headers: Any, platform_env: dict[str, str]) -> None:
    cert = x509.Certificate.load((KZ / "individual/valid/individual_valid.cert.der").read_bytes())
    if not cert["tbs_certificate"]["validity"]["not_after"].native > datetime.now(UTC):
        pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
    key = kzkeys.read_pkcs12((KZ / "individual/valid/individual_valid.p12").read_bytes(), "Qwerty12", cert)
    intermediate = x509.Certificate.load((KZ / "nca_gost2022_test.cer").read_bytes())
    trust_kz_root(platform_env)
    headers = await verified_headers("Тестов Тест", "ru")

    async def registered() -> httpx.Response:
        challenge = (await client.post(f"{API}/certificates/challenges", headers=headers)).json()["challenge"]
        proved = {**headers, "DocFlow-Key-Challenge": challenge, "DocFlow-Key-Proof": kzkeys.key_proof(challenge, key)}
        response = await client.post(f"{API}/certificates", headers=proved,
                                     json={"pem": pem_of(cert.dump()) + pem_of(intermediate.dump())})
        assert response.status_code == 201, response.text  # the trust directory is re-read within seconds
        return response

    certificate = (await eventually(registered, timeout=30)).json()
    assert certificate["key_algorithm"] == "GOST34.10-2015-512" and certificate["trusted"] is True

    created = await client.post(f"{API}/documents", json={"title": "Шарт"}, headers=headers)
    assert created.status_code == 201, created.text
    doc_id = created.json()["id"]
    content = os.urandom(2 * 1024 * 1024 + 5)
    upload = await client.post(f"{API}/documents/{doc_id}/files", headers=headers,
                               files={"file": ("contract.pdf", content, "application/pdf")})
    assert upload.status_code == 201, upload.text
    file_id = upload.json()["id"]
    signature = kzkeys.sign_detached(content, key, chain=[intermediate])

    async def signed() -> httpx.Response:
        response = await client.post(f"{API}/documents/{doc_id}/files/{file_id}/signatures", headers=headers,
                                     files={"signature": ("contract.p7s", signature, "application/pkcs7-signature")})
        assert response.status_code == 201, response.text  # 404 until signing has heard of the file
        return response

    body = (await eventually(signed, timeout=60)).json()
    assert body["trusted"] is True and body["certificate_id"] == certificate["id"]
    report = body["report"]
    assert report["signature_algorithm"] == "gost34.10-2015-512" and len(report["chain"]) == 3
    assert report["kz_signer"]["iin"] == "123456789011" and report["kz_signer"]["role"] == "person"
    shown = (await client.get(f"{API}/documents/{doc_id}/files/{file_id}", headers=headers)).json()
    assert shown["streebog512"] == streebog.digest(content, 512).hex()
    assert shown["streebog256"] == streebog.digest(content, 256).hex()
