"""The crypto layer on its own: certificate parsing, CMS decoding and verification, the trust store."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from docflow_shared.errors import Unprocessable
from docflow_shared.mongo import utc_now
from docflow_signing.crypto.certificates import parse_certificate, pem_of
from docflow_signing.crypto.cms import decode_signature
from docflow_signing.crypto.devca import create_ca, issue_user_certificate, sign_detached
from docflow_signing.crypto.signing_times import SigningTimes, signing_times
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.crypto.verification import verify_digest


def asn1(issued) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(issued.cert_der)


class TestCertificates:
    def test_pem_der_and_base64_give_the_same_fields(self, pki) -> None:
        issued = pki.issue("Aida", key_type="rsa", iin="900101300123", email="aida@example.kz")
        forms = [issued.cert_pem, issued.cert_der, base64.b64encode(issued.cert_der), b"\n" + issued.cert_pem]
        parsed = [parse_certificate(form) for form in forms]
        assert len({p.fingerprint_sha256 for p in parsed}) == 1
        first = parsed[0]
        assert first.iin == "900101300123" and first.email == "aida@example.kz"
        assert first.key_algorithm == "RSA-2048" and first.can_sign
        assert first.fingerprint_sha256 == hashlib.sha256(issued.cert_der).hexdigest()
        assert parse_certificate(pem_of(issued.cert_der).encode()).der == issued.cert_der

    def test_serial_number_without_iin_prefix_is_not_an_iin(self, pki) -> None:
        assert parse_certificate(pki.issue("NoIIN").cert_pem).iin is None

    def test_der_ending_in_a_whitespace_byte_is_kept_whole(self, pki) -> None:
        for _ in range(200):
            issued = pki.issue("W")
            if issued.cert_der[-1:] in (b" ", b"\n", b"\t", b"\r", b"\x0b", b"\x0c"):
                assert parse_certificate(issued.cert_der).der == issued.cert_der
                return
        pytest.skip("no certificate ending in a whitespace byte came up")

    @pytest.mark.parametrize("garbage", [b"", b"hello", b"\x30\x03\x02\x01", b"-----BEGIN CERTIFICATE-----\n!!\n"])
    def test_garbage(self, garbage: bytes) -> None:
        with pytest.raises(Unprocessable):
            parse_certificate(garbage)


class TestTrustStore:
    async def test_trusted_untrusted_and_expired(self, pki) -> None:
        store = TrustStore(pki.trust_dir)
        assert (await store.evaluate(asn1(pki.issue("T")))).trusted
        rogue = issue_user_certificate(pki.rogue, "R")
        result = await store.evaluate(asn1(rogue))
        assert not result.trusted and "trusted CA" in (result.reason or "")
        now = datetime.now(UTC)
        old = pki.issue("Old", not_before=now - timedelta(days=3), not_after=now - timedelta(days=1))
        expired = await store.evaluate(asn1(old))
        assert not expired.trusted and expired.expired
        assert (await store.evaluate(asn1(old), moment=now - timedelta(days=2))).trusted

    async def test_reloads_when_the_directory_changes(self, tmp_path) -> None:
        store = TrustStore(tmp_path / "trust", recheck_seconds=0)
        ca = create_ca("Later CA")
        user = issue_user_certificate(ca, "U")
        assert not (await store.evaluate(asn1(user))).trusted
        ca.write(tmp_path / "trust", "later")
        assert (await store.evaluate(asn1(user))).trusted


class TestSignatures:
    @pytest.mark.parametrize("key_type", ["rsa", "ec"])
    async def test_intact_tampered_and_untrusted(self, pki, key_type) -> None:
        store = TrustStore(pki.trust_dir)
        issued = pki.issue("S", key_type=key_type)
        decoded = decode_signature(sign_detached(b"data", issued))
        times = SigningTimes(received_at=utc_now(), claimed=decoded.signing_time)
        good = await verify_digest(decoded, hashlib.sha256(b"data").digest(), store,
                                   signer_cert=decoded.signer_certificate(), times=times)
        assert good.intact and good.valid and good.trusted and len(good.chain) == 2
        bad = await verify_digest(decoded, hashlib.sha256(b"other").digest(), store,
                                  signer_cert=decoded.signer_certificate(), times=times)
        assert not bad.intact and not bad.trusted
        rogue = decode_signature(sign_detached(b"data", issue_user_certificate(pki.rogue, "R", key_type=key_type)))
        untrusted = await verify_digest(rogue, hashlib.sha256(b"data").digest(), store,
                                        signer_cert=rogue.signer_certificate(), times=times)
        assert untrusted.intact and untrusted.valid and not untrusted.trusted
        assert untrusted.trust_indication == "NO_CERTIFICATE_CHAIN_FOUND"

    def test_pem_and_base64_forms(self, pki) -> None:
        der = sign_detached(b"x", pki.issue("F"))
        pem = b"-----BEGIN CMS-----\n" + base64.encodebytes(der) + b"-----END CMS-----\n"
        for form in (der, pem, base64.b64encode(der)):
            assert decode_signature(form).der == der

    def test_attached_signature_is_refused(self, pki) -> None:
        issued = pki.issue("A")
        attached = (pkcs7.PKCS7SignatureBuilder().set_data(b"content")
                    .add_signer(issued.cert, issued.key, hashes.SHA256())
                    .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))
        with pytest.raises(Unprocessable) as error:
            decode_signature(attached)
        assert error.value.slug == "signature-not-detached"

    def test_sha1_is_refused(self, pki, tmp_path) -> None:
        issued = pki.issue("Old", key_type="rsa")
        cert, key = issued.write(tmp_path, "old")
        (tmp_path / "f").write_bytes(b"f")
        subprocess.run(["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha1", "-in",
                        str(tmp_path / "f"), "-signer", str(cert), "-inkey", str(key), "-out", str(tmp_path / "s")],
                       check=True, capture_output=True)
        with pytest.raises(Unprocessable) as error:
            decode_signature((tmp_path / "s").read_bytes())
        assert error.value.slug == "signature-digest"

    async def test_signer_certificate_from_candidates(self, pki, tmp_path) -> None:
        issued = pki.issue("NoCerts")
        cert, key = issued.write(tmp_path, "n")
        (tmp_path / "f").write_bytes(b"payload")
        subprocess.run(["openssl", "cms", "-sign", "-binary", "-nocerts", "-outform", "DER", "-md", "sha256", "-in",
                        str(tmp_path / "f"), "-signer", str(cert), "-inkey", str(key), "-out", str(tmp_path / "s")],
                       check=True, capture_output=True)
        decoded = decode_signature((tmp_path / "s").read_bytes())
        assert decoded.signer_certificate() is None
        other = asn1(pki.issue("Other"))
        signer = decoded.signer_certificate([other, asn1(issued)])
        assert signer is not None and signer.sha256 == asn1(issued).sha256
        report = await verify_digest(decoded, hashlib.sha256(b"payload").digest(), TrustStore(pki.trust_dir),
                                     signer_cert=signer, times=SigningTimes(received_at=utc_now()))
        assert report.trusted

    async def test_future_signing_time_is_refused(self, pki) -> None:
        decoded = decode_signature(sign_detached(b"x", pki.issue("F")))
        with pytest.raises(Unprocessable):
            await signing_times(decoded, TrustStore(pki.trust_dir), received_at=utc_now(), skew_seconds=-3600)
