"""RFC 3161 timestamps against a local TSA made of ``openssl ts`` behind an HTTP handler on 127.0.0.1.

The TSA's CA (made with ``openssl`` here) is only in the TSA trust store (``SIGNING_TSA_TRUST_DIR``),
not in the trust store of signers; the service asks the same TSA for an archive timestamp of
every signature it accepts (``SIGNING_TSA_URL``).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.signers.pdf_cms import SimpleSigner
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from docflow_dev.testing.pkiservers import OpensslTsa, free_port, make_openssl_tsa_pki
from docflow_signing.crypto.cms import decode_signature
from docflow_signing.crypto.devca import Issued, sign_detached
from docflow_signing.crypto.signing_times import signing_times
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.crypto.tsa import ArchiveStamper, verify_token


@dataclass
class LocalTsa:
    server: OpensslTsa
    trust_dir: Path

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTsa]:
    root = tmp_path_factory.mktemp("tsa")
    config = make_openssl_tsa_pki(root / "openssl")
    trust = root / "trust"
    trust.mkdir()
    shutil.copy(root / "openssl" / "tsa-ca.pem", trust)
    server = OpensslTsa(config)
    yield LocalTsa(server, trust)
    server.close()


@pytest.fixture(scope="module")
def signing_env(signing_env, tsa: LocalTsa):
    """The conftest's environment, with the local TSA as the TSA trust store and archive TSA."""
    signing_env.env.update({"SIGNING_TSA_URL": tsa.url, "SIGNING_TSA_TRUST_DIR": str(tsa.trust_dir)})
    return signing_env


async def sign_stamped(data: bytes, signer: Issued, tsa_url: str) -> bytes:
    """A detached CMS whose signature a TSA timestamped (unsigned attribute signatureTimeStampToken)."""
    cert = asn1_x509.Certificate.load(signer.cert_der)
    key = asn1_keys.PrivateKeyInfo.load(signer.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    simple = SimpleSigner(signing_cert=cert, signing_key=key,
                          cert_registry=SimpleCertificateStore.from_certs([cert]))  # type: ignore[no-untyped-call]
    info = await simple.async_sign_general_data(data, "sha256", detached=True, timestamper=HTTPTimeStamper(tsa_url))
    return bytes(info.dump())


class TestSignatureTimestamp:
    async def test_openssl_tsa_token_counts_only_against_the_tsa_trust_store(self, pki, tsa) -> None:
        signature = await sign_stamped(b"content", pki.issue("Stamped"), tsa.url)
        decoded = decode_signature(signature)
        now = datetime.now(UTC)
        proven = await signing_times(decoded, TrustStore(tsa.trust_dir), received_at=now, skew_seconds=60)
        assert proven.basis == "timestamp" and proven.timestamp is not None, proven.timestamp_problem
        assert now - timedelta(minutes=2) < proven.timestamp <= now
        signers_only = await signing_times(decoded, TrustStore(pki.trust_dir), received_at=now, skew_seconds=60)
        assert signers_only.basis == "received"
        assert signers_only.timestamp_problem == "The timestamp authority is not trusted."

    async def test_stamped_signature_is_judged_at_the_tsa_time(self, world, pki, tsa) -> None:
        owner, issued = await world.user("Stamped Signer"), pki.issue("Stamped Signer")
        await world.upload_certificate(owner, issued)
        doc = await world.document(owner, {"a.pdf": b"stamped content"})
        response = await world.sign(owner, doc, "a.pdf", await sign_stamped(b"stamped content", issued, tsa.url))
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["time_basis"] == "timestamp" and body["timestamp_time"] is not None, body
        assert body["report"]["timestamp_problem"] is None


class TestArchiveTimestamp:
    async def test_accepted_signature_gets_a_verified_archive_timestamp(self, world, pki, tsa) -> None:
        owner, issued = await world.user("Archived"), pki.issue("Archived")
        await world.upload_certificate(owner, issued)
        doc = await world.document(owner, {"a.pdf": b"archived content"})
        before = tsa.server.requests
        p7s = sign_detached(b"archived content", issued)
        response = await world.sign(owner, doc, "a.pdf", p7s)
        assert response.status_code == 201, response.text
        archived = response.json()["archive_timestamp"]
        assert archived["problem"] is None, archived
        assert archived["time"] is not None and "DocFlow Test TSA" in archived["tsa"]
        assert archived["imprint_sha256"] == hashlib.sha256(p7s).hexdigest()
        assert tsa.server.requests > before
        stored = await world.db["signatures"].find_one({"_id": response.json()["id"]})
        token = cms.ContentInfo.load(bytes(stored["archive_timestamp"]["token"]))
        time, _, problem = await verify_token(token, bytes(stored["der"]), TrustStore(tsa.trust_dir),
                                              datetime.now(UTC))
        assert problem is None and time is not None
        _, _, other = await verify_token(token, b"another signature", TrustStore(tsa.trust_dir), datetime.now(UTC))
        assert other == "The timestamp token was not made over this signature."

    async def test_tsa_down_or_untrusted_is_recorded_not_fatal(self, tsa, tmp_path) -> None:
        down = await ArchiveStamper(f"http://127.0.0.1:{free_port()}/", TrustStore(tsa.trust_dir),
                                    timeout=5).stamp(b"x")
        assert down.token is None and down.problem and "no token" in down.problem
        untrusted = await ArchiveStamper(tsa.url, TrustStore(tmp_path)).stamp(b"x")
        assert untrusted.token is not None and untrusted.time is None
        assert untrusted.problem == "The timestamp authority is not trusted."
