"""When a signature was made: DocFlow's clock or a trusted RFC 3161 timestamp, never the signer's
``signingTime``. A key that expired cannot sign by writing last week's date into its signature."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import pytest_asyncio
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from docflow_signing.crypto.cms import decode_signature
from docflow_signing.crypto.devca import Issued, issue_tsa_certificate, sign_detached, sign_detached_at
from docflow_signing.crypto.signing_times import signing_times
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.crypto.verification import VerificationReport, verify_digest
from docflow_signing.signatures.schemas import SignatureRead

LAST_WEEK = timedelta(days=7)


@dataclass
class Tsas:
    trusted: Issued
    untrusted: Issued


@pytest.fixture(scope="module")
def tsas(pki) -> Tsas:
    """A TSA under the trusted test CA, and one under the rogue CA."""
    return Tsas(trusted=issue_tsa_certificate(pki.ca), untrusted=issue_tsa_certificate(pki.rogue, "Rogue TSA"))


@dataclass
class Expired:
    """A user whose registered certificate was valid for the past nine days and has since expired."""

    user: object
    issued: Issued
    not_before: datetime
    not_after: datetime


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def expired(world, pki) -> Expired:
    user = await world.user("Backdater")
    now = datetime.now(UTC)
    issued = pki.issue("Backdater", not_before=now - timedelta(days=9), not_after=now + timedelta(seconds=2))
    await world.upload_certificate(user, issued)
    await asyncio.sleep(max(0.0, (issued.cert.not_valid_after_utc - datetime.now(UTC)).total_seconds()) + 1.5)
    return Expired(user, issued, issued.cert.not_valid_before_utc, issued.cert.not_valid_after_utc)


def rejected(response, slug: str) -> dict:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"].endswith(slug), body
    return body


class TestSigningAfterExpiry:
    async def test_backdated_signing_time_does_not_revive_an_expired_certificate(self, world, expired) -> None:
        doc = await world.document(expired.user, {"a.pdf": os.urandom(500)})
        backdated = await sign_detached_at(doc.content["a.pdf"], expired.issued,
                                           signing_time=datetime.now(UTC) - LAST_WEEK)
        body = rejected(await world.sign(expired.user, doc, "a.pdf", backdated), "certificate-validity")
        assert "received" in body["detail"]
        listed = await world.http.get(f"/api/v1/documents/{doc.id}/signatures", headers=expired.user.headers)
        assert listed.json()["items"] == []

    async def test_trusted_timestamp_from_the_validity_window_proves_the_time(self, world, expired, tsas) -> None:
        doc = await world.document(expired.user, {"a.pdf": os.urandom(500)})
        claimed = (datetime.now(UTC) - LAST_WEEK).replace(microsecond=0)
        stamped_at = (datetime.now(UTC) - timedelta(days=6)).replace(microsecond=0)
        signature = await sign_detached_at(doc.content["a.pdf"], expired.issued, signing_time=claimed,
                                           tsa=tsas.trusted, timestamp_at=stamped_at)
        before = datetime.now(UTC)
        response = await world.sign(expired.user, doc, "a.pdf", signature)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["time_basis"] == "timestamp" and body["trusted"] is True
        assert parse(body["timestamp_time"]) == stamped_at == parse(body["signing_time"])
        assert parse(body["claimed_signing_time"]) == claimed
        assert parse(body["received_at"]) >= before - timedelta(seconds=1)
        report = body["report"]
        assert report["time_basis"] == "timestamp" and parse(report["validated_at"]) == stamped_at
        stored = await world.http.get(f"/api/v1/documents/{doc.id}/signatures/{body['id']}",
                                      headers=expired.user.headers)
        assert parse(stored.json()["timestamp_time"]) == stamped_at

    async def test_untrusted_timestamp_authority_does_not_help(self, world, expired, tsas) -> None:
        doc = await world.document(expired.user, {"a.pdf": os.urandom(500)})
        signature = await sign_detached_at(doc.content["a.pdf"], expired.issued,
                                           signing_time=datetime.now(UTC) - LAST_WEEK, tsa=tsas.untrusted,
                                           timestamp_at=datetime.now(UTC) - timedelta(days=6))
        body = rejected(await world.sign(expired.user, doc, "a.pdf", signature), "certificate-validity")
        assert "timestamp authority is not trusted" in body["detail"]

    async def test_timestamp_after_expiry_does_not_help(self, world, expired, tsas) -> None:
        doc = await world.document(expired.user, {"a.pdf": os.urandom(500)})
        signature = await sign_detached_at(doc.content["a.pdf"], expired.issued,
                                           signing_time=datetime.now(UTC) - LAST_WEEK, tsa=tsas.trusted)
        rejected(await world.sign(expired.user, doc, "a.pdf", signature), "certificate-validity")


class TestReportedTimes:
    async def test_received_and_claimed_times_are_reported_apart(self, world, pki, signing_events) -> None:
        user, issued = await world.user(), pki.issue("Honest")
        await world.upload_certificate(user, issued)
        doc = await world.document(user, {"a.pdf": os.urandom(500)})
        claimed = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
        before = datetime.now(UTC)
        response = await world.sign(user, doc, "a.pdf",
                                    await sign_detached_at(doc.content["a.pdf"], issued, signing_time=claimed))
        after = datetime.now(UTC)
        assert response.status_code == 201, response.text
        body = response.json()
        received = parse(body["received_at"])
        assert before - timedelta(seconds=1) <= received <= after
        assert parse(body["claimed_signing_time"]) == claimed and body["time_basis"] == "received"
        assert parse(body["signing_time"]) == received and body["timestamp_time"] is None
        assert parse(body["report"]["claimed_signing_time"]) == claimed
        event = (await signing_events.wait_for("document.signed", lambda e: e.data["signature_id"] == body["id"])).data
        assert parse(event["signed_at"]) == received == parse(event["received_at"])
        assert parse(event["claimed_signing_time"]) == claimed and event["time_basis"] == "received"


class TestVerifyTimes:
    async def _verify(self, world, user, content: bytes, signature: bytes) -> dict:
        response = await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
            "file": ("f.pdf", content, "application/pdf"),
            "signature": ("f.p7s", signature, "application/pkcs7-signature"),
        })
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def test_expired_yesterday_backdated_last_week(self, world, pki, tsas) -> None:
        user, now = await world.user(), datetime.now(UTC)
        old = pki.issue("Old", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))
        backdated = await sign_detached_at(b"content", old, signing_time=now - LAST_WEEK)
        report = await self._verify(world, user, b"content", backdated)
        assert report["intact"] and report["valid"] and report["trusted"] is False
        assert report["time_basis"] == "received" and report["claimed_signing_time"]
        stamped_at = (now - timedelta(days=6)).replace(microsecond=0)
        stamped = await sign_detached_at(b"content", old, signing_time=now - LAST_WEEK, tsa=tsas.trusted,
                                         timestamp_at=stamped_at)
        report = await self._verify(world, user, b"content", stamped)
        assert report["trusted"] is True and parse(report["timestamp_time"]) == stamped_at
        rogue = await sign_detached_at(b"content", old, signing_time=now - LAST_WEEK, tsa=tsas.untrusted,
                                       timestamp_at=stamped_at)
        report = await self._verify(world, user, b"content", rogue)
        assert report["trusted"] is False and report["timestamp_time"] is None
        assert "not trusted" in report["timestamp_problem"]


class TestTimestampToken:
    async def test_token_over_another_signature_does_not_count(self, pki, tsas) -> None:
        now = datetime.now(UTC)
        old = pki.issue("Old", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))
        donor = await sign_detached_at(b"other", old, signing_time=now - LAST_WEEK, tsa=tsas.trusted,
                                       timestamp_at=now - timedelta(days=6))
        target = sign_detached(b"content", pki.issue("Fresh"))
        grafted = graft_unsigned_attrs(target, donor)
        decoded = decode_signature(grafted)
        store = TrustStore(pki.trust_dir)
        times = await signing_times(decoded, store, received_at=now, skew_seconds=60)
        assert times.timestamp is None and times.basis == "received"
        assert times.timestamp_problem == "The timestamp token was not made over this signature."
        signer = decoded.signer_certificate()
        assert signer is not None
        report = await verify_digest(decoded, hashlib.sha256(b"content").digest(), store, signer_cert=signer,
                                     times=times)
        assert report.trusted and report.to_document()["validated_at"] == now

    async def test_timestamp_in_the_future_does_not_count(self, pki, tsas) -> None:
        now = datetime.now(UTC)
        future = await sign_detached_at(b"x", pki.issue("F"), signing_time=now, tsa=tsas.trusted,
                                        timestamp_at=now + timedelta(hours=2))
        times = await signing_times(decode_signature(future), TrustStore(pki.trust_dir), received_at=now,
                                    skew_seconds=60)
        assert times.timestamp is None and times.timestamp_problem == "The timestamp lies in the future."


class TestStoredBeforeTheRule:
    def test_old_records_read_as_judged_at_the_claimed_time(self) -> None:
        created, claimed = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
        report = {"intact": True, "valid": True, "trusted": True, "signer_subject": "S", "signer_issuer": "I",
                  "signer_serial_number": "1", "signer_fingerprint_sha256": "f", "signing_time": claimed,
                  "validated_at": claimed, "digest_algorithm": "sha256", "signature_algorithm": "sha256_ecdsa",
                  "chain": [], "problems": []}
        old = SignatureRead.from_doc({"_id": "sig_1", "document_id": "d", "file_id": "f", "signer_id": "u",
                                "certificate_id": "c", "request_id": None, "signing_time": claimed,
                                "created_at": created, "trusted": True, "file_sha256": "00", "report": report})
        assert old.time_basis == "claimed" and old.report.time_basis == "claimed"
        assert old.received_at == created and old.claimed_signing_time == claimed and old.timestamp_time is None


def graft_unsigned_attrs(target: bytes, donor: bytes) -> bytes:
    """``target`` carrying ``donor``'s unsigned attributes (its timestamp token)."""
    target_info, donor_info = cms.ContentInfo.load(target), cms.ContentInfo.load(donor)
    signer_info = target_info["content"]["signer_infos"][0]
    signer_info["unsigned_attrs"] = donor_info["content"]["signer_infos"][0]["unsigned_attrs"].copy()
    return bytes(target_info.dump(force=True))


def parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class CrlServer:
    """The test CA's CRL over HTTP on 127.0.0.1, reissued on demand."""

    def __init__(self, ca: Issued) -> None:
        self.ca, self.revoked = ca, []  # type: ignore[var-annotated]
        self.crl = b""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(owner.crl)))
                self.end_headers()
                self.wfile.write(owner.crl)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ca.crl"
        self.publish()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, *revoked: tuple[int, datetime]) -> None:
        now = datetime.now(UTC)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.ca.cert.subject)
                   .last_update(now - timedelta(minutes=1)).next_update(now + timedelta(days=1)))
        for serial, when in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
        self.crl = builder.sign(self.ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def issue(self, name: str, *, not_before: datetime) -> Issued:
        """A signing certificate whose CRL distribution point is this server."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.ca.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_before + timedelta(days=365))
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False,
                decipher_only=False), critical=True)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(self.url)], relative_name=None, reasons=None,
                crl_issuer=None)]), critical=False)
            .sign(self.ca.key, hashes.SHA256())
        )
        return Issued(key, cert)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class TestRevokedKey:
    async def test_revoked_key_cannot_backdate_but_a_timestamp_before_revocation_counts(self, pki, tsas) -> None:
        crls = CrlServer(pki.ca)
        try:
            now = datetime.now(UTC)
            issued = crls.issue("Revoked", not_before=now - timedelta(days=30))
            crls.publish((issued.cert.serial_number, now - timedelta(days=2)))
            store = TrustStore(pki.trust_dir, revocation_check=True, revocation_mode="hard-fail")
            backdated = await sign_detached_at(b"c", issued, signing_time=now - LAST_WEEK)
            refused = await judged(store, backdated, b"c")
            assert not refused.trusted and refused.trust_indication == "REVOKED_NO_POE", refused.problems
            stamped = await sign_detached_at(b"c", issued, signing_time=now - LAST_WEEK, tsa=tsas.trusted,
                                             timestamp_at=now - timedelta(days=6))
            report = await judged(store, stamped, b"c")
            assert report.trusted and report.times.basis == "timestamp", report.problems
            late = await sign_detached_at(b"c", issued, signing_time=now - LAST_WEEK, tsa=tsas.trusted,
                                          timestamp_at=now - timedelta(days=1))
            assert (await judged(store, late, b"c")).trust_indication == "REVOKED_NO_POE"
        finally:
            crls.close()


async def judged(store: TrustStore, signature: bytes, content: bytes) -> VerificationReport:
    decoded = decode_signature(signature)
    times = await signing_times(decoded, store, received_at=datetime.now(UTC), skew_seconds=60)
    signer = decoded.signer_certificate()
    assert signer is not None
    return await verify_digest(decoded, hashlib.sha256(content).digest(), store, signer_cert=signer, times=times)
