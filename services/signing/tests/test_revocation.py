"""Revocation: the Kazakh test CRL (GOST-signed), local ``openssl ocsp`` responders for an RSA and an
ECDSA PKI made here, the policy when no source answers, and the evidence kept for an offline check.

The signing process runs with ``SIGNING_REVOCATION_CHECK`` on and a URL map that points the NCA RK
test PKI's CRL address (test.pki.gov.kz, unreachable here) at the fixture CRL file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as cx509

from docflow_dev.testing.pkiservers import (
    FileServer,
    OcspResponder,
    free_port,
    issue_intermediate_ca,
    issue_with_revocation,
    make_crl,
)
from docflow_shared.errors import Unprocessable
from docflow_signing.crypto import revocation, streebog
from docflow_signing.crypto.devca import (
    Issued,
    KeyType,
    create_ca,
    issue_tsa_certificate,
    sign_detached,
    sign_detached_at,
)
from docflow_signing.crypto.revocation import RevocationChecker, RevocationPolicy, RevocationStatus
from docflow_signing.crypto.signing_times import SigningTimes
from docflow_signing.crypto.verification import VerificationReport

KZ = Path(__file__).parent / "fixtures" / "kz-gost"
KZ_CRL_PREFIX = "http://test.pki.gov.kz/crl/"
INTERMEDIATE = asn1_x509.Certificate.load((KZ / "nca_gost2022_test.cer").read_bytes())
KZ_REVOKED = sorted((KZ / "individual" / "revoked").glob("*.cert.der")) + sorted(
    (KZ / "legal" / "revoked").glob("*.cert.der"))
gost = pytest.mark.skipif(not streebog.available(),
                          reason="OpenSSL's GOST provider (libengine-gost-openssl) is not installed")


def asn1(issued: Issued) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(issued.cert_der)


def kz_cert(path: Path) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(path.read_bytes())


@dataclass
class OcspPki:
    """A CA, certificates naming its ``openssl ocsp`` responder, and the revocations it answers with."""

    ca: Issued
    responder: OcspResponder
    certs: dict[str, Issued] = field(default_factory=dict)
    revoked_at: dict[str, datetime] = field(default_factory=dict)


def ocsp_pki(key_type: KeyType, directory: Path) -> OcspPki:
    now = datetime.now(UTC)
    ca = create_ca(f"OCSP Test CA {key_type}", key_type=key_type)
    url = f"http://127.0.0.1:{free_port()}/"  # the certificates' address; the URL map points it at the responder
    certs = {name: issue_with_revocation(ca, f"{name} {key_type}", ocsp_url=url, key_type=key_type,
                                         not_before=now - timedelta(days=10))
             for name in ("good", "revoked", "revoked-later")}
    certs["unlisted"] = issue_with_revocation(ca, f"unlisted {key_type}", ocsp_url=url, key_type=key_type)
    revoked_at = {"revoked": now - timedelta(days=5), "revoked-later": now - timedelta(days=1)}
    listed = [c for name, c in certs.items() if name != "unlisted"]
    responder = OcspResponder(ca, listed, {certs[n].cert.serial_number: t for n, t in revoked_at.items()},
                              directory)
    return OcspPki(ca, responder, certs, revoked_at)


@pytest.fixture(scope="module")
def pkis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, OcspPki]]:
    root = tmp_path_factory.mktemp("ocsp")
    made = {key_type: ocsp_pki(key_type, root / key_type) for key_type in ("rsa", "ec")}
    yield made
    for pki in made.values():
        pki.responder.close()


@dataclass
class LayeredPki:
    """A root, two issuing CAs under it (one revoked on the root's CRL two days ago), a leaf under
    each, and the HTTP server publishing the three CRLs at the addresses the certificates name."""

    root: Issued
    revoked_ca: Issued
    good_ca: Issued
    under_revoked: Issued
    under_good: Issued
    files: FileServer
    revoked_at: datetime


@pytest.fixture(scope="module")
def layered() -> Iterator[LayeredPki]:
    files = FileServer()
    now = datetime.now(UTC).replace(microsecond=0)
    root = create_ca("Layered Root CA", path_length=1)
    revoked_ca = issue_intermediate_ca(root, "Revoked Issuing CA", crl_url=f"{files.url}/root.crl")
    good_ca = issue_intermediate_ca(root, "Good Issuing CA", crl_url=f"{files.url}/root.crl")
    leaves = {name: issue_with_revocation(ca, f"Leaf under {name}", crl_url=f"{files.url}/{name}.crl",
                                          not_before=now - timedelta(days=10))
              for name, ca in (("revoked-ca", revoked_ca), ("good-ca", good_ca))}
    revoked_at = now - timedelta(days=2)
    files.files.update({"root.crl": make_crl(root, [(revoked_ca.cert.serial_number, revoked_at)], number=3),
                        "revoked-ca.crl": make_crl(revoked_ca, [], number=1),
                        "good-ca.crl": make_crl(good_ca, [], number=1)})
    try:
        yield LayeredPki(root, revoked_ca, good_ca, leaves["revoked-ca"], leaves["good-ca"], files, revoked_at)
    finally:
        files.close()


def url_map(pkis: dict[str, OcspPki]) -> dict[str, str]:
    """The certificates' OCSP addresses onto the responders, and the NCA RK CRL address onto the fixture."""
    mapped = {KZ_CRL_PREFIX: f"{KZ}/"}
    for pki in pkis.values():
        aia = asn1(pki.certs["good"]).ocsp_urls[0]
        mapped[aia] = pki.responder.url
    return mapped


@pytest.fixture(scope="module")
def signing_env(signing_env, pki, pkis, layered, tmp_path_factory: pytest.TempPathFactory):
    """Revocation checking on; trusted: the conftest's CA, both OCSP CAs, the layered root and the NCA RK root."""
    trust = tmp_path_factory.mktemp("revocation-trust")
    (trust / "layered-root.pem").write_bytes(layered.root.cert_pem)
    pki.ca.write(trust, "test-ca")
    (trust / "test-ca.key").unlink()
    for key_type, made in pkis.items():
        (trust / f"ocsp-{key_type}.pem").write_bytes(made.ca.cert_pem)
    shutil.copy(KZ / "trust" / "root_test_gost_2022.cer", trust)
    signing_env.env.update({"SIGNING_TRUST_DIR": str(trust), "SIGNING_REVOCATION_CHECK": "true",
                            "SIGNING_REVOCATION_UNKNOWN": "accept",
                            "SIGNING_REVOCATION_URL_MAP": json.dumps(url_map(pkis)),
                            "SIGNING_REVOCATION_TIMEOUT_SECONDS": "5"})
    return signing_env


@gost
class TestKazakhCrl:
    async def test_the_revoked_certificates_are_on_the_gost_signed_crl(self) -> None:
        checker = RevocationChecker(url_map={KZ_CRL_PREFIX: f"{KZ}/"})
        assert len(KZ_REVOKED) == 6
        for path in KZ_REVOKED:
            status = await checker.check(kz_cert(path), INTERMEDIATE)
            assert status.state == "revoked", (path.name, status)
            assert status.source == "crl" and status.crl_number == 166 and status.revoked_at is not None
            assert status.url == KZ_CRL_PREFIX + "nca_gost2022_test.crl"
        valid = await checker.check(kz_cert(KZ / "individual" / "valid" / "individual_valid.cert.der"), INTERMEDIATE)
        assert valid.state == "good" and valid.crl_number == 166

    def test_a_crl_whose_gost_signature_is_broken_is_refused(self) -> None:
        der = bytearray((KZ / "nca_gost2022_test.crl").read_bytes())
        der[-5] ^= 0x01  # inside the signature value
        with pytest.raises(revocation.RevocationError, match="signature"):
            revocation.load_crl(bytes(der), INTERMEDIATE)
        root = asn1_x509.Certificate.load((KZ / "trust" / "root_test_gost_2022.cer").read_bytes())
        with pytest.raises(revocation.RevocationError, match="another CA"):
            revocation.load_crl((KZ / "nca_gost2022_test.crl").read_bytes(), root)

    async def test_unreachable_distribution_point_is_unknown(self) -> None:
        status = await RevocationChecker(url_map={KZ_CRL_PREFIX: f"http://127.0.0.1:{free_port()}/"},
                                         timeout=5).check(kz_cert(KZ_REVOKED[0]), INTERMEDIATE)
        assert status.state == "unknown" and status.problems

    async def test_offline_recheck_of_the_stored_crl(self) -> None:
        revoked = kz_cert(KZ_REVOKED[0])
        status = revocation.recheck(revoked, INTERMEDIATE, crl_der=(KZ / "nca_gost2022_test.crl").read_bytes())
        assert status.state == "revoked" and status.crl_number == 166


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
class TestOcsp:
    async def test_responder_answers_good_revoked_and_unknown(self, pkis, key_type) -> None:
        made = pkis[key_type]
        checker = RevocationChecker(url_map=url_map(pkis))
        good = await checker.check(asn1(made.certs["good"]), asn1(made.ca))
        assert good.state == "good" and good.source == "ocsp" and good.ocsp_response, good
        revoked = await checker.check(asn1(made.certs["revoked"]), asn1(made.ca))
        assert revoked.state == "revoked" and revoked.reason == "key_compromise"
        assert revoked.revoked_at == made.revoked_at["revoked"].replace(microsecond=0)
        unlisted = await checker.check(asn1(made.certs["unlisted"]), asn1(made.ca))
        assert unlisted.state == "unknown" and unlisted.source == "ocsp"

    async def test_stored_response_rechecks_offline_and_only_for_its_certificate(self, pkis, key_type) -> None:
        made = pkis[key_type]
        status = await RevocationChecker(url_map=url_map(pkis)).check(asn1(made.certs["revoked"]), asn1(made.ca))
        assert status.ocsp_response is not None
        again = revocation.recheck(asn1(made.certs["revoked"]), asn1(made.ca), ocsp_response=status.ocsp_response,
                                   now=status.checked_at)
        assert again.state == "revoked" and again.revoked_at == status.revoked_at
        with pytest.raises(revocation.RevocationError, match="another certificate"):
            revocation.recheck(asn1(made.certs["good"]), asn1(made.ca), ocsp_response=status.ocsp_response)
        rogue = create_ca(f"OCSP Test CA {key_type}", key_type=key_type)  # same name, another key
        with pytest.raises(revocation.RevocationError):
            revocation.recheck(asn1(made.certs["revoked"]), asn1(rogue), ocsp_response=status.ocsp_response)

    async def test_responder_down_is_revocation_unknown(self, pkis, key_type) -> None:
        made = pkis[key_type]
        aia = asn1(made.certs["good"]).ocsp_urls[0]
        checker = RevocationChecker(url_map={aia: f"http://127.0.0.1:{free_port()}/"}, timeout=5)
        status = await checker.check(asn1(made.certs["good"]), asn1(made.ca))
        assert status.state == "unknown" and "OCSP" in status.problems[0]


class TestCrlCache:
    async def test_a_crl_is_kept_until_its_next_update_then_fetched_again(self, pkis) -> None:
        ca = pkis["ec"].ca
        files = FileServer()
        try:
            signer = issue_with_revocation(ca, "Cached", crl_url=f"{files.url}/ca.crl")
            files.files["ca.crl"] = make_crl(ca, [], number=1, next_update=timedelta(hours=1))
            checker = RevocationChecker()
            first = await checker.check(asn1(signer), asn1(ca))
            assert first.state == "good" and first.crl_number == 1 and files.hits == 1
            revoked_at = datetime.now(UTC).replace(microsecond=0)
            files.files["ca.crl"] = make_crl(ca, [(signer.cert.serial_number, revoked_at)], number=2)
            cached = await checker.check(asn1(signer), asn1(ca))
            assert cached.state == "good" and cached.crl_number == 1 and files.hits == 1
            later = await checker.check(asn1(signer), asn1(ca), now=datetime.now(UTC) + timedelta(hours=2))
            assert later.state == "revoked" and later.crl_number == 2 and later.revoked_at == revoked_at
            assert files.hits == 2
        finally:
            files.close()


class TestSources:
    async def test_ocsp_that_does_not_know_the_certificate_falls_back_to_the_crl(self, pkis) -> None:
        made = pkis["rsa"]
        files = FileServer()
        try:
            aia = asn1(made.certs["good"]).ocsp_urls[0]
            signer = issue_with_revocation(made.ca, "Both", ocsp_url=aia, crl_url=f"{files.url}/ca.crl",
                                           key_type="rsa")
            revoked_at = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
            files.files["ca.crl"] = make_crl(made.ca, [(signer.cert.serial_number, revoked_at)], number=3)
            status = await RevocationChecker(url_map=url_map(pkis)).check(asn1(signer), asn1(made.ca))
            assert status.state == "revoked" and status.source == "crl" and status.revoked_at == revoked_at
        finally:
            files.close()

    async def test_garbage_answers_are_revocation_unknown_never_an_error(self, pkis) -> None:
        ca = pkis["ec"].ca
        files = FileServer({"ocsp": b"\x30\x03\x0a\x01\x00", "ca.crl": os.urandom(200)})
        try:
            signer = issue_with_revocation(ca, "Garbage", ocsp_url=f"{files.url}/ocsp", crl_url=f"{files.url}/ca.crl")
            status = await RevocationChecker().check(asn1(signer), asn1(ca))
            assert status.state == "unknown" and len(status.problems) == 2, status.problems
        finally:
            files.close()


def report() -> VerificationReport:
    now = datetime.now(UTC)
    return VerificationReport(intact=True, valid=True, trusted=True, signer_subject="s", signer_issuer="i",
                              signer_serial_number="1", signer_fingerprint_sha256="00",
                              times=SigningTimes(received_at=now), digest_algorithm="sha256",
                              signature_algorithm="ecdsa")


class TestPolicy:
    async def test_unknown_is_refused_or_accepted_marked_per_policy(self, pkis) -> None:
        made = pkis["ec"]
        aia = asn1(made.certs["good"]).ocsp_urls[0]
        down = RevocationChecker(url_map={aia: f"http://127.0.0.1:{free_port()}/"}, timeout=5)
        refusing = RevocationPolicy(down, unknown="refuse")
        with pytest.raises(Unprocessable) as refused:
            await refusing.apply(report(), asn1(made.certs["good"]), [asn1(made.ca)], datetime.now(UTC), refuse=True)
        assert refused.value.slug == "revocation-unknown" and "Revocation unknown" in refused.value.detail
        marked = report()
        await RevocationPolicy(down, unknown="accept").apply(marked, asn1(made.certs["good"]), [asn1(made.ca)],
                                                             datetime.now(UTC), refuse=True)
        assert marked.trusted and marked.revocation is not None and marked.revocation["status"] == "unknown"
        assert any(p.startswith("Revocation unknown") for p in marked.problems)
        only_reported = report()
        await refusing.apply(only_reported, asn1(made.certs["good"]), [asn1(made.ca)], datetime.now(UTC),
                             refuse=False)
        assert not only_reported.trusted and only_reported.trust_indication == "TRY_LATER"

    def test_revoked_before_refuses_revoked_after_reports_both_times(self) -> None:
        revoked_at = datetime(2026, 5, 8, 14, 57, 29, tzinfo=UTC)
        status = RevocationStatus("revoked", datetime.now(UTC), source="crl", revoked_at=revoked_at)
        before = revocation.judge(status, revoked_at - timedelta(days=1), unknown="accept")
        assert not before.refused and "2026-05-08 14:57:29 UTC" in (before.problem or "")
        assert "2026-05-07 14:57:29 UTC" in (before.problem or "")
        after = revocation.judge(status, revoked_at + timedelta(seconds=1), unknown="accept")
        assert after.refused and after.slug == "certificate-revoked"


class TestIssuingCas:
    """The CA certificates on the path are checked like the signer's, from their own distribution point."""

    async def test_an_intermediate_revoked_on_the_roots_crl_refuses_the_signature(self, layered) -> None:
        policy = RevocationPolicy(RevocationChecker(timeout=5))
        pool = [asn1(layered.revoked_ca), asn1(layered.root)]
        with pytest.raises(Unprocessable) as refused:
            await policy.apply(report(), asn1(layered.under_revoked), pool, datetime.now(UTC), refuse=True)
        assert refused.value.slug == "certificate-revoked"
        assert "issuing CA certificate" in refused.value.detail and "Revoked Issuing CA" in refused.value.detail
        only_reported = report()
        status = await policy.apply(only_reported, asn1(layered.under_revoked), pool, datetime.now(UTC),
                                    refuse=False)
        assert status.state == "good"  # the leaf itself is not on its CA's CRL
        assert not only_reported.trusted and only_reported.trust_indication == "REVOKED"
        assert only_reported.revocation is not None
        (ca,) = only_reported.revocation["ca_certificates"]
        assert ca["status"] == "revoked" and ca["source"] == "crl" and ca["crl_number"] == 3
        assert ca["revoked_at"] == layered.revoked_at and "Revoked Issuing CA" in ca["subject"]

    async def test_a_signature_made_before_the_ca_was_revoked_is_kept_with_both_times(self, layered) -> None:
        marked = report()
        before = layered.revoked_at - timedelta(hours=1)
        await RevocationPolicy(RevocationChecker(timeout=5)).apply(
            marked, asn1(layered.under_revoked), [asn1(layered.revoked_ca), asn1(layered.root)], before,
            refuse=True)
        assert marked.trusted
        assert any("issuing CA certificate" in p and "after the signing time" in p for p in marked.problems)

    async def test_a_good_path_lists_each_ca_checked(self, layered) -> None:
        marked = report()
        await RevocationPolicy(RevocationChecker(timeout=5), unknown="refuse").apply(
            marked, asn1(layered.under_good), [asn1(layered.good_ca), asn1(layered.root)], datetime.now(UTC),
            refuse=True)
        assert marked.trusted and marked.problems == []
        assert marked.revocation is not None and marked.revocation["status"] == "good"
        (ca,) = marked.revocation["ca_certificates"]
        assert ca["status"] == "good" and ca["url"] == f"{layered.files.url}/root.crl"

    async def test_an_unreachable_ca_distribution_point_follows_the_unknown_policy(self, layered) -> None:
        down = RevocationChecker(url_map={f"{layered.files.url}/root.crl": f"http://127.0.0.1:{free_port()}/x"},
                                 timeout=5)
        pool = [asn1(layered.good_ca), asn1(layered.root)]
        with pytest.raises(Unprocessable) as refused:
            await RevocationPolicy(down, unknown="refuse").apply(report(), asn1(layered.under_good), pool,
                                                                 datetime.now(UTC), refuse=True)
        assert refused.value.slug == "revocation-unknown" and "issuing CA certificate" in refused.value.detail
        accepted = report()
        await RevocationPolicy(down, unknown="accept").apply(accepted, asn1(layered.under_good), pool,
                                                             datetime.now(UTC), refuse=True)
        assert accepted.trusted and any(p.startswith("Revocation unknown of the issuing CA") for p in accepted.problems)

    async def test_verify_reports_a_signature_under_a_revoked_ca_as_revoked(self, world, layered) -> None:
        content = os.urandom(700)
        signature = sign_detached(content, layered.under_revoked, extra_certs=(layered.revoked_ca.cert,))
        user = await world.user()
        response = await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
            "file": ("f.pdf", content, "application/pdf"), "signature": ("f.p7s", signature)})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["intact"] and not body["trusted"] and body["chain"] == []
        assert body["revocation"]["status"] == "good"
        (ca,) = body["revocation"]["ca_certificates"]
        assert ca["status"] == "revoked" and "Revoked Issuing CA" in ca["subject"]
        assert any("issuing CA certificate" in p for p in body["problems"]), body["problems"]


class TestDeltaCrls:
    """A complete CRL naming a delta CRL (freshestCRL): the delta updates it, or, unusable, is reported."""

    async def test_the_delta_revokes_and_lifts_a_hold(self, pkis) -> None:
        ca = pkis["ec"].ca
        files = FileServer()
        try:
            signers = {name: issue_with_revocation(ca, f"Delta {name}", crl_url=f"{files.url}/base.crl")
                       for name in ("newly-revoked", "held", "good")}
            serial = {name: issued.cert.serial_number for name, issued in signers.items()}
            revoked_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
            files.files["base.crl"] = make_crl(ca, [(serial["held"], revoked_at)], number=10,
                                               freshest_url=f"{files.url}/delta.crl",
                                               reasons={serial["held"]: cx509.ReasonFlags.certificate_hold})
            files.files["delta.crl"] = make_crl(
                ca, [(serial["newly-revoked"], revoked_at), (serial["held"], revoked_at)], number=11, delta_of=10,
                reasons={serial["held"]: cx509.ReasonFlags.remove_from_crl})
            checker = RevocationChecker(timeout=5)
            revoked = await checker.check(asn1(signers["newly-revoked"]), asn1(ca))
            assert revoked.state == "revoked" and revoked.revoked_at == revoked_at
            assert revoked.crl_number == 10 and revoked.delta_crl_number == 11
            assert revoked.delta_crl_url == f"{files.url}/delta.crl"
            lifted = await checker.check(asn1(signers["held"]), asn1(ca))
            assert lifted.state == "good" and lifted.delta_crl_number == 11
            assert (await checker.check(asn1(signers["good"]), asn1(ca))).state == "good"
        finally:
            files.close()

    async def test_an_unusable_delta_is_reported_and_the_complete_crl_decides(self, pkis) -> None:
        ca = pkis["ec"].ca
        files = FileServer()
        try:
            signer = issue_with_revocation(ca, "Delta signer", crl_url=f"{files.url}/base.crl")
            files.files["base.crl"] = make_crl(ca, [], number=10, freshest_url=f"{files.url}/delta.crl")
            missing = await RevocationChecker(timeout=5).check(asn1(signer), asn1(ca))
            assert missing.state == "good" and missing.delta_crl_number is None
            assert any(p.startswith(f"Delta CRL {files.url}/delta.crl") for p in missing.problems)
            files.files["delta.crl"] = make_crl(ca, [(signer.cert.serial_number, datetime.now(UTC))], number=12,
                                                delta_of=11)  # built on a complete CRL newer than number 10
            newer = await RevocationChecker(timeout=5).check(asn1(signer), asn1(ca))
            assert newer.state == "good" and any("newer than the one fetched" in p for p in newer.problems)
            files.files["base.crl"] = make_crl(ca, [], number=13, delta_of=12)  # a delta where the complete one is
            wrong = await RevocationChecker(timeout=5).check(asn1(signer), asn1(ca))
            assert wrong.state == "unknown" and any("delta CRL, not a complete one" in p for p in wrong.problems)
        finally:
            files.close()


class TestThroughTheService:
    async def _signed(self, world, issued: Issued, signature: bytes | None = None, content: bytes | None = None):
        owner = await world.user("Revocation Signer")
        await world.upload_certificate(owner, issued)
        content = content or os.urandom(500)
        doc = await world.document(owner, {"a.pdf": content})
        return await world.sign(owner, doc, "a.pdf", signature or sign_detached(content, issued)), (owner, doc)

    @pytest.mark.parametrize("key_type", ["rsa", "ec"])
    async def test_revoked_certificate_is_refused_as_revoked(self, world, pkis, key_type) -> None:
        revoked = pkis[key_type].certs["revoked"]
        owner = await world.user("Revoked Signer")
        # registration happens before revocation is looked at: the certificate itself is well-formed
        await world.upload_certificate(owner, revoked)
        content = os.urandom(300)
        doc = await world.document(owner, {"a.pdf": content})
        response = await world.sign(owner, doc, "a.pdf", sign_detached(content, revoked))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"].endswith("/certificate-revoked") and "revoked at" in problem["detail"]

    async def test_good_certificate_is_accepted_with_its_ocsp_evidence_stored(self, world, pkis) -> None:
        made = pkis["rsa"]
        response, _ = await self._signed(world, made.certs["good"])
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["report"]["revocation"]["status"] == "good"
        assert body["report"]["revocation"]["source"] == "ocsp"
        stored = await world.db["signatures"].find_one({"_id": body["id"]})
        evidence = bytes(stored["revocation_evidence"]["ocsp_response"])
        again = revocation.recheck(asn1(made.certs["good"]), asn1(made.ca), ocsp_response=evidence,
                                   now=stored["revocation_evidence"]["checked_at"].replace(tzinfo=UTC))
        assert again.state == "good"

    async def test_timestamp_before_revocation_is_accepted_with_both_times(self, world, pki, pkis) -> None:
        made = pkis["ec"]
        late = made.certs["revoked-later"]
        now = datetime.now(UTC)
        content = os.urandom(400)
        stamped_at = (now - timedelta(days=3)).replace(microsecond=0)
        signature = await sign_detached_at(content, late, signing_time=stamped_at, tsa=issue_tsa_certificate(pki.ca),
                                           timestamp_at=stamped_at)
        response, (owner, doc) = await self._signed(world, late, signature, content)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["time_basis"] == "timestamp"
        rev = body["report"]["revocation"]
        assert rev["status"] == "revoked" and rev["revoked_at"] is not None
        assert any("after the signing time" in p for p in body["report"]["problems"]), body["report"]["problems"]
        unstamped = await world.sign(owner, doc, "a.pdf", sign_detached(content, late))
        assert unstamped.status_code == 422 and unstamped.json()["type"].endswith("/certificate-revoked")

    async def test_responder_down_is_accepted_marked_revocation_unknown(self, world, pkis) -> None:
        ca = pkis["ec"].ca
        nowhere = issue_with_revocation(ca, "Nowhere", ocsp_url=f"http://127.0.0.1:{free_port()}/")
        response, _ = await self._signed(world, nowhere)
        assert response.status_code == 201, response.text
        report = response.json()["report"]
        assert report["revocation"]["status"] == "unknown"
        assert any(p.startswith("Revocation unknown") for p in report["problems"])

    @gost
    async def test_kazakh_revoked_certificate_is_reported_revoked_by_verify(self, world) -> None:
        from docflow_signing.crypto import kzkeys

        cert = kz_cert(KZ / "individual" / "revoked" / "individual_revoked.cert.der")
        key = kzkeys.read_pkcs12((KZ / "individual" / "revoked" / "individual_revoked.p12").read_bytes(),
                                 "Qwerty12", cert)
        content = os.urandom(1000)
        signature = kzkeys.sign_detached(content, key, chain=[INTERMEDIATE])
        user = await world.user()
        response = await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
            "file": ("f.pdf", content, "application/pdf"), "signature": ("f.p7s", signature)})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["revocation"]["status"] == "revoked" and body["revocation"]["crl_number"] == 166
        assert not body["trusted"] and body["chain"] == []
        assert any("revoked at 2026-05-08 14:57:29 UTC, before" in p for p in body["problems"]), body["problems"]
        assert body["file_sha256"] == hashlib.sha256(content).hexdigest()

    async def test_crl_from_the_distribution_point_is_fetched_and_kept(self, world, pkis) -> None:
        ca = pkis["rsa"].ca
        files = FileServer()
        try:
            crl_url = f"{files.url}/ca.crl"
            signer = issue_with_revocation(ca, "CRL Signer", crl_url=crl_url, key_type="rsa")
            files.files["ca.crl"] = make_crl(ca, [], number=7)
            response, _ = await self._signed(world, signer)
            assert response.status_code == 201, response.text
            rev = response.json()["report"]["revocation"]
            assert rev["status"] == "good" and rev["source"] == "crl" and rev["crl_number"] == 7
            kept = await world.db["revocation_crls"].find_one({"_id": rev["crl_sha256"]})
            assert kept is not None and bytes(kept["der"]) == files.files["ca.crl"]
        finally:
            files.close()
