"""Revocation through the gateway: a revoked RSA certificate's signature is refused as revoked.

The run's shared stack checks no revocation, so this module starts a stack of its own (own database
prefix and broker namespace) whose signing service has ``SIGNING_REVOCATION_CHECK`` on; the
certificate's OCSP address is mapped onto a local ``openssl ocsp`` responder.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from asn1crypto import x509 as asn1_x509

from docflow_dev.devstack import Stack
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.pkiservers import OcspResponder, free_port, issue_with_revocation
from docflow_dev.testing.plugin import event_sealer, free_ports
from docflow_signing.crypto import kzkeys, streebog
from docflow_signing.crypto.devca import Issued, create_ca, sign_detached

API = "/api/v1"
KZ = Path(__file__).resolve().parents[2] / "services" / "signing" / "tests" / "fixtures" / "kz-gost"


@dataclass
class RevokedPki:
    ca: Issued
    good: Issued
    revoked: Issued
    revoked_at: datetime
    aia: str
    responder: OcspResponder


@pytest.fixture(scope="module")
def revoked_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RevokedPki]:
    now = datetime.now(UTC)
    ca = create_ca("E2E Revocation CA", key_type="rsa")
    aia = f"http://127.0.0.1:{free_port()}/"
    good, revoked = (issue_with_revocation(ca, name, ocsp_url=aia, key_type="rsa", not_before=now - timedelta(days=9))
                     for name in ("Good Signer", "Revoked Signer"))
    revoked_at = (now - timedelta(days=2)).replace(microsecond=0)
    responder = OcspResponder(ca, [good, revoked], {revoked.cert.serial_number: revoked_at},
                              tmp_path_factory.mktemp("e2e-ocsp"))
    yield RevokedPki(ca, good, revoked, revoked_at, aia, responder)
    responder.close()


@pytest.fixture(scope="module")
def revocation_env(platform_env: dict[str, str], revoked_pki: RevokedPki,
                   tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:6]
    data = tmp_path_factory.mktemp("e2e-revocation-data")
    trust = data / "signing" / "trust"
    trust.mkdir(parents=True)
    (trust / "revocation-ca.pem").write_bytes(revoked_pki.ca.cert_pem)
    (trust / "kz-root.cer").write_bytes((KZ / "trust" / "root_test_gost_2022.cer").read_bytes())
    return {
        **platform_env,
        "MONGODB_DB_PREFIX": f"{platform_env['MONGODB_DB_PREFIX']}rv{suffix}_",
        "BROKER_NAMESPACE": f"{platform_env['BROKER_NAMESPACE']}rv{suffix}.",
        "DATA_DIR": str(data),
        "SIGNING_REVOCATION_CHECK": "true",
        "SIGNING_REVOCATION_URL_MAP": json.dumps({revoked_pki.aia: revoked_pki.responder.url,
                                                  "http://test.pki.gov.kz/crl/": f"{KZ}/"}),
    }


@pytest.fixture(scope="module")
def stack(revocation_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(env=revocation_env, ports=free_ports(), log_dir=Path(tmp_path_factory.mktemp("e2e-rv-logs")),
                    metrics_ports=free_ports()).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def gateway_url(stack: Stack) -> str:
    return stack.url("gateway")


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def client(gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        yield http


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def events(amqp_url: str, revocation_env: dict[str, str]) -> AsyncIterator[EventTap]:
    async with EventTap(amqp_url, revocation_env["BROKER_NAMESPACE"], sealer=event_sealer(revocation_env)) as tap:
        yield tap


async def test_revoked_rsa_certificate_signature_is_refused_as_revoked(
        client: httpx.AsyncClient, verified_headers, register_certificate, revoked_pki: RevokedPki) -> None:
    headers = await verified_headers("Revoked Signer", "en")
    registered = await register_certificate(client, headers, revoked_pki.revoked)
    assert registered.status_code == 201, registered.text
    content = os.urandom(3000)
    doc_id = (await client.post(f"{API}/documents", json={"title": "Revoked"}, headers=headers)).json()["id"]
    uploaded = await client.post(f"{API}/documents/{doc_id}/files", headers=headers,
                                 files={"file": ("contract.pdf", content, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    sign_url = f"{API}/documents/{doc_id}/files/{uploaded.json()['id']}/signatures"

    async def answered() -> httpx.Response | None:  # 404 until signing has projected the uploaded file
        response = await client.post(sign_url, headers=headers,
                                     files={"signature": ("s.p7s", sign_detached(content, revoked_pki.revoked))})
        return None if response.status_code == 404 else response

    refused = await eventually(answered, timeout=30)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("/certificate-revoked")
    assert revoked_pki.revoked_at.strftime("%Y-%m-%d %H:%M:%S UTC") in problem["detail"]
    listed = await client.get(f"{API}/documents/{doc_id}/signatures", headers=headers)
    assert listed.status_code == 200 and listed.json()["items"] == []


async def test_good_rsa_certificate_signature_is_accepted_with_its_status(
        client: httpx.AsyncClient, verified_headers, register_certificate, revoked_pki: RevokedPki) -> None:
    headers = await verified_headers("Good Signer", "en")
    registered = await register_certificate(client, headers, revoked_pki.good)
    assert registered.status_code == 201, registered.text
    content = os.urandom(3000)
    doc_id = (await client.post(f"{API}/documents", json={"title": "Good"}, headers=headers)).json()["id"]
    uploaded = await client.post(f"{API}/documents/{doc_id}/files", headers=headers,
                                 files={"file": ("contract.pdf", content, "application/pdf")})
    sign_url = f"{API}/documents/{doc_id}/files/{uploaded.json()['id']}/signatures"

    async def answered() -> httpx.Response | None:
        response = await client.post(sign_url, headers=headers,
                                     files={"signature": ("s.p7s", sign_detached(content, revoked_pki.good))})
        return None if response.status_code == 404 else response

    accepted = await eventually(answered, timeout=30)
    assert accepted.status_code == 201, accepted.text
    revocation = accepted.json()["report"]["revocation"]
    assert revocation["status"] == "good" and revocation["source"] == "ocsp"
    assert revocation["url"] == revoked_pki.aia


@pytest.mark.skipif(not streebog.available(),
                    reason="OpenSSL's GOST provider (libengine-gost-openssl) is not installed")
async def test_revoked_kazakh_certificate_is_reported_revoked_from_the_nca_crl(
        client: httpx.AsyncClient, verified_headers) -> None:
    """The NCA RK test CRL, found through the URL map, shows the revoked person's key as revoked."""
    headers = await verified_headers("KZ Verifier", "en")
    folder = KZ / "individual" / "revoked"
    cert = asn1_x509.Certificate.load((folder / "individual_revoked.cert.der").read_bytes())
    key = kzkeys.read_pkcs12((folder / "individual_revoked.p12").read_bytes(), "Qwerty12", cert)
    intermediate = asn1_x509.Certificate.load((KZ / "nca_gost2022_test.cer").read_bytes())
    content = os.urandom(2000)
    response = await client.post(f"{API}/signatures/verify", headers=headers, files={
        "file": ("f.pdf", content, "application/pdf"),
        "signature": ("f.p7s", kzkeys.sign_detached(content, key, chain=[intermediate]))})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["revocation"]["status"] == "revoked" and body["revocation"]["source"] == "crl"
    assert body["revocation"]["crl_number"] == 166 and not body["trusted"]
    assert body["kz_signer"]["iin"] == "123456789011"
