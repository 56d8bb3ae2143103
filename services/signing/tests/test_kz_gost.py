"""Kazakh GOST 34.10-2015 (512) signatures: Streebog from OpenSSL, the curve, the chain, the API.

Material: the Kazakhstan test PKI in ``fixtures/kz-gost`` (see its README for the attribution).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms, x509

from docflow_shared import streebog as shared_streebog
from docflow_shared.events.catalogue import DocumentFileDigested
from docflow_signing.crypto import gost3410, kzgost, kzkeys, kzsubject, streebog
from docflow_signing.crypto.certificates import pem_of
from docflow_signing.crypto.cms import decode_signature
from docflow_signing.crypto.kzkeys import KzKey
from docflow_signing.crypto.signing_times import SigningTimes
from docflow_signing.crypto.trust import TrustStore
from docflow_signing.crypto.verification import NO_CHAIN

pytestmark = pytest.mark.skipif(not streebog.available(),
                                reason="OpenSSL's GOST provider (libengine-gost-openssl) is not installed")

# The first example of GOST R 34.11-2012 (its message and digests as commonly quoted, e.g. by OpenSSL's tests).
M1 = b"012345678901234567890123456789012345678901234567890123456789012"
M1_512 = ("1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
          "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48")
M1_256 = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"


def test_streebog_matches_the_standards_example() -> None:
    assert streebog.digest(M1, 512).hex() == M1_512
    assert streebog.digest(M1, 256).hex() == M1_256


def test_streebog_without_provider_is_a_problem_naming_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_streebog, "_loaded", False)
    with pytest.raises(streebog.GostUnavailable) as raised:
        streebog.digest(b"x")
    assert raised.value.status == 503
    assert raised.value.slug == "gost-unavailable"
    assert "libengine-gost-openssl" in str(raised.value.detail)


FIXTURES = Path(__file__).parent / "fixtures" / "kz-gost"
TRUST = FIXTURES / "trust"
ROOT = x509.Certificate.load((TRUST / "root_test_gost_2022.cer").read_bytes())
INTERMEDIATE = x509.Certificate.load((FIXTURES / "nca_gost2022_test.cer").read_bytes())
PASSWORD = "Qwerty12"
KZ_2004, KZ_2004_HASH = "1.2.398.3.10.1.1.1.2", "1.2.398.3.10.1.3.1"  # GOST 34.310-2004 and 34.311-95 (NCA RK)
SIGNING_ENV = {"SIGNING_TRUST_DIR": str(TRUST), "SIGNING_DIGEST_WAIT_SECONDS": "20"}


def load_key(stem: str) -> KzKey:
    """The certificate and private scalar of a fixture (``stem``.cert.der and ``stem``.p12)."""
    cert = x509.Certificate.load((FIXTURES / f"{stem}.cert.der").read_bytes())
    return kzkeys.read_pkcs12((FIXTURES / f"{stem}.p12").read_bytes(), PASSWORD, cert)


def kz_sign(content: bytes, key: KzKey, **kwargs: Any) -> bytes:
    """A detached CMS as NCALayer makes it, with the intermediate CA embedded."""
    return kzkeys.sign_detached(content, key, chain=[INTERMEDIATE], **kwargs)


@pytest.fixture(scope="module")
def individual() -> KzKey:
    return load_key("individual/valid/individual_valid")


def _valid_now(cert: x509.Certificate) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    return bool(validity["not_before"].native <= datetime.now(UTC) <= validity["not_after"].native)


class TestCurve:
    def test_the_nca_certificates_verify_with_the_curve(self) -> None:
        """Real signatures of NCA RK (root self-signed, root → intermediate) check out, wrong issuers do not."""
        leaf = x509.Certificate.load((FIXTURES / "individual/valid/individual_valid.cert.der").read_bytes())
        assert kzgost.issued_by(ROOT, ROOT)
        assert kzgost.issued_by(INTERMEDIATE, ROOT)
        assert kzgost.issued_by(leaf, INTERMEDIATE)
        assert not kzgost.issued_by(leaf, ROOT)

    def test_both_scalars_in_one_pass_equal_two_multiplications(self) -> None:
        """Shamir's trick (verification's k1·G + k2·Q) against the plain double-and-add, edge cases included."""
        curve = gost3410.TC26_512_A
        g = (curve.x, curve.y)
        q = gost3410.public_key(curve, 12345)
        rng = random.Random(7)
        cases = [(rng.randrange(1, curve.q), rng.randrange(1, curve.q)) for _ in range(5)]
        cases += [(1, 0), (0, 1), (5, curve.q - 5 * pow(12345, -1, curve.q) % curve.q)]  # the last sums to infinity
        for k1, k2 in cases:
            plain = gost3410._affine(curve, gost3410._add(curve, gost3410._multiply(curve, k1, g),
                                                          gost3410._multiply(curve, k2, q)))
            assert gost3410._affine(curve, gost3410._multiply_both(curve, k1, g, k2, q)) == plain

    def test_the_p12_key_is_the_certificates_key(self, individual: KzKey) -> None:
        assert gost3410.public_key(gost3410.TC26_512_A, individual.private_key) == kzgost.public_key(individual.cert)

    def test_wrong_pkcs12_password_or_certificate_is_refused(self, individual: KzKey) -> None:
        data = (FIXTURES / "individual/valid/individual_valid.p12").read_bytes()
        with pytest.raises(ValueError, match="password"):
            kzkeys.read_pkcs12(data, "wrong", individual.cert)
        with pytest.raises(ValueError, match="no GOST key"):
            kzkeys.read_pkcs12(data, PASSWORD, INTERMEDIATE)

    def test_sign_and_verify_round_trip(self, individual: KzKey) -> None:
        digest = streebog.digest(b"content")
        value = kzgost.sign_digest(individual.private_key, digest)
        key = kzgost.public_key(individual.cert)
        assert kzgost.verify_digest_value(key, digest, value)
        assert not kzgost.verify_digest_value(key, streebog.digest(b"other"), value)
        assert not kzgost.verify_digest_value(key, digest, value[::-1])


class TestSubject:
    @pytest.mark.parametrize(("stem", "role", "sign_right"), [
        ("individual/valid/individual_valid", "person", None),
        ("legal/valid/head", "head", True),
        ("legal/valid/employee_signright", "employee_signright", True),
        ("legal/valid/employee", "employee", False),
    ])
    def test_iin_bin_names_and_role(self, stem: str, role: str, sign_right: bool | None) -> None:
        signer = kzsubject.kz_signer(x509.Certificate.load((FIXTURES / f"{stem}.cert.der").read_bytes()))
        assert signer.role == role and signer.sign_right is sign_right
        assert signer.iin in ("123456789011", "123456789012") and signer.surname and signer.given_name
        assert signer.bin == (None if role == "person" else "123456789021")


class TestPath:
    MOMENT = datetime(2026, 12, 1, tzinfo=UTC)

    def test_trusted_only_with_the_kz_root_in_the_trust_dir(self, individual: KzKey, tmp_path: Path) -> None:
        with_root = kzgost.validate_path(individual.cert, [ROOT], [INTERMEDIATE], self.MOMENT)
        assert with_root.trusted and [c.dump() for c in with_root.path] == [
            individual.cert.dump(), INTERMEDIATE.dump(), ROOT.dump()]
        assert not kzgost.validate_path(individual.cert, [], [INTERMEDIATE, ROOT], self.MOMENT).trusted
        other = kzgost.validate_path(individual.cert, [INTERMEDIATE], [], self.MOMENT)
        assert other.trusted and len(other.path) == 2  # any certificate of the trust dir is an anchor
        alone = kzgost.validate_path(individual.cert, [ROOT], [], self.MOMENT)
        assert not alone.trusted and alone.indication == NO_CHAIN

    def test_certificates_outside_their_validity_break_the_chain(self, individual: KzKey) -> None:
        later = kzgost.validate_path(individual.cert, [ROOT], [INTERMEDIATE], datetime(2027, 6, 1, tzinfo=UTC))
        assert not later.trusted and "not valid" in str(later.problem)

    async def test_trust_store_directory_decides(self, individual: KzKey, tmp_path: Path) -> None:
        """The same signature through a real trust store: untrusted until the KZ root is put there."""
        content = b"contract"
        decoded = decode_signature(kz_sign(content, individual))
        times = SigningTimes(received_at=self.MOMENT)
        store = TrustStore(tmp_path)
        before = kzgost.verify_signature(decoded, streebog.digest(content), store, signer_cert=individual.cert,
                                         times=times)
        assert before.valid and before.intact and not before.trusted and before.trust_indication == NO_CHAIN
        shutil.copy(TRUST / "root_test_gost_2022.cer", tmp_path)
        store.reload()
        after = kzgost.verify_signature(decoded, streebog.digest(content), store, signer_cert=individual.cert,
                                        times=times)
        assert after.trusted and len(after.chain) == 3


class TestVerifyEndpoint:
    async def _verify(self, world, user, content: bytes, signature: bytes):
        return await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
            "file": ("f.pdf", content, "application/pdf"),
            "signature": ("f.p7s", signature, "application/pkcs7-signature"),
        })

    async def test_individual_signature_verifies_with_iin_and_role(self, world, individual: KzKey) -> None:
        if not _valid_now(individual.cert):
            pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
        user = await world.user()
        content = os.urandom(70_000)
        response = await self._verify(world, user, content, kz_sign(content, individual))
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["intact"] and report["valid"] and report["trusted"], report
        assert report["signature_algorithm"] == "gost34.10-2015-512" and report["digest_algorithm"] == "streebog512"
        assert len(report["chain"]) == 3 and report["problems"] == []
        assert report["kz_signer"]["iin"] == "123456789011" and report["kz_signer"]["role"] == "person"
        assert report["file_sha256"] == hashlib.sha256(content).hexdigest()

    async def test_tampered_file_fails(self, world, individual: KzKey) -> None:
        user = await world.user()
        report = (await self._verify(world, user, b"changed", kz_sign(b"original", individual))).json()
        assert report["valid"] and report["intact"] is False and report["trusted"] is False
        assert "different content" in report["problems"][0]

    async def test_tampered_signature_value_fails(self, world, individual: KzKey) -> None:
        user = await world.user()
        signature = bytearray(kz_sign(b"original", individual))
        signature[-20] ^= 1  # inside the signature value, the last field of the SignerInfo
        report = (await self._verify(world, user, b"original", bytes(signature))).json()
        assert report["valid"] is False and report["trusted"] is False

    async def test_employee_without_sign_right_is_reported(self, world) -> None:
        employee = load_key("legal/valid/employee")
        if not _valid_now(employee.cert):
            pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
        user = await world.user()
        report = (await self._verify(world, user, b"order", kz_sign(b"order", employee))).json()
        assert report["intact"] and report["valid"]
        assert report["kz_signer"]["role"] == "employee" and report["kz_signer"]["sign_right"] is False
        assert any("no right to sign" in p for p in report["problems"])

    @pytest.mark.parametrize(("signature_oid", "digest_oid", "named"), [
        ("1.2.398.3.10.1.1.1.2", "1.2.398.3.10.1.3.1", "GOST 34.310-2004"),
        ("1.2.643.2.2.3", "1.2.643.2.2.9", "GOST R 34.10-2001"),
        ("1.2.3.4.5", "1.2.3.4.6", "1.2.3.4.5"),
    ])
    async def test_unsupported_algorithm_is_named(self, world, individual: KzKey, signature_oid: str,
                                                  digest_oid: str, named: str) -> None:
        user = await world.user()
        signature = kz_sign(b"x", individual, signature_oid=signature_oid, digest_oid=digest_oid)
        response = await self._verify(world, user, b"x", signature)
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
        assert named in response.json()["detail"] and response.json()["type"].endswith("/signature-algorithm")

    async def test_stored_file_signature_needs_a_registered_certificate(self, world, individual: KzKey) -> None:
        owner = await world.user()
        doc = await world.document(owner, {"a.pdf": b"stored"})
        response = await world.sign(owner, doc, "a.pdf", kz_sign(b"stored", individual))
        assert response.status_code == 422 and response.json()["type"].endswith("/signer-not-yours")

    async def test_corrupted_gost_signatures_are_never_a_server_error(self, world, individual: KzKey) -> None:
        user = await world.user()
        original = kz_sign(b"content", individual)
        rng = random.Random(12)
        for _ in range(40):
            corrupted = bytearray(original)
            for _ in range(rng.randint(1, 3)):
                corrupted[rng.randrange(len(corrupted))] = rng.randrange(256)
            response = await self._verify(world, user, b"content", bytes(corrupted))
            assert response.status_code in (200, 422), response.text

    async def test_cli_signs_with_the_nca_pkcs12(self, world, individual: KzKey, tmp_path: Path) -> None:
        """``docflow-signing sign`` with the .p12 makes a CMS that DocFlow verifies; a wrong PIN is refused."""
        content = tmp_path / "contract.pdf"
        content.write_bytes(os.urandom(4000))
        stem = FIXTURES / "individual/valid/individual_valid"
        command = [sys.executable, "-m", "docflow_signing.cli", "sign", str(content), "--key", f"{stem}.p12",
                   "--cert", f"{stem}.cert.der", "--chain", str(FIXTURES / "nca_gost2022_test.cer")]
        wrong = subprocess.run([*command, "--password", "wrong"], capture_output=True, text=True)
        assert wrong.returncode == 2 and "password" in wrong.stderr
        subprocess.run([*command, "--password", PASSWORD], check=True, capture_output=True)
        user = await world.user()
        response = await self._verify(world, user, content.read_bytes(), (tmp_path / "contract.pdf.p7s").read_bytes())
        report = response.json()
        assert report["intact"] and report["valid"] and report["signature_algorithm"] == "gost34.10-2015-512"
        assert report["trusted"] is _valid_now(individual.cert)


def bundle(key: KzKey, *, chain: bool = True) -> str:
    """The leaf-first PEM a user uploads: the certificate, then the intermediate CA."""
    return pem_of(key.cert.dump()) + (pem_of(INTERMEDIATE.dump()) if chain else "")


async def register(world, user, key: KzKey, *, prover: KzKey | None = None, chain: bool = True):
    """Upload ``key``'s certificate with a GOST proof of possession made with ``prover`` (the holder's key),
    after its earlier holder in this module (one account per certificate) deleted it."""
    await free(world, key)
    response = await world.http.post("/api/v1/certificates/challenges", headers=user.headers)
    challenge = response.json()["challenge"]
    headers = {**user.headers, "DocFlow-Key-Challenge": challenge,
               "DocFlow-Key-Proof": kzkeys.key_proof(challenge, prover or key)}
    return await world.http.post("/api/v1/certificates", json={"pem": bundle(key, chain=chain)}, headers=headers)


async def free(world, key: KzKey) -> None:
    """Delete ``key``'s certificate from whichever account of this module holds it."""
    fingerprint = hashlib.sha256(key.cert.dump()).hexdigest()
    async for held in world.db.certificates.find({"fingerprint_sha256": fingerprint, "active": True}):
        token = world.issuer.token(held["user_id"])
        deleted = await world.http.delete(f"/api/v1/certificates/{held['_id']}",
                                          headers={"Authorization": f"Bearer {token}"})
        assert deleted.status_code == 204, deleted.text


class TestRegisterGostCertificate:
    async def test_a_test_pki_certificate_binds_to_the_account_that_proves_its_key(self, world,
                                                                                    individual: KzKey) -> None:
        if not _valid_now(individual.cert):
            pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
        user = await world.user()
        response = await register(world, user, individual)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["key_algorithm"] == "GOST34.10-2015-512" and body["iin"] == "123456789011"
        assert body["trusted"] is True
        record = await world.db.certificates.find_one({"_id": body["id"]})
        assert record["iin_valid"] is False and len(record["chain"]) == 3

    async def test_the_cli_proves_with_the_nca_pkcs12(self, world, individual: KzKey) -> None:
        """``docflow-signing prove`` with the .p12 makes the DocFlow-Key-Proof header a registration accepts."""
        if not _valid_now(individual.cert):
            pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
        user = await world.user()
        await free(world, individual)
        challenge = (await world.http.post("/api/v1/certificates/challenges", headers=user.headers)).json()["challenge"]
        stem = FIXTURES / "individual/valid/individual_valid"
        proved = subprocess.run([sys.executable, "-m", "docflow_signing.cli", "prove", "--key", f"{stem}.p12",
                                 "--cert", f"{stem}.cert.der", "--password", PASSWORD, "--challenge", challenge],
                                check=True, capture_output=True, text=True)
        response = await world.http.post("/api/v1/certificates", json={"pem": bundle(individual)}, headers={
            **user.headers, "DocFlow-Key-Challenge": challenge, "DocFlow-Key-Proof": proved.stdout.strip()})
        assert response.status_code == 201, response.text

    async def test_a_proof_made_with_another_gost_key_is_refused(self, world, individual: KzKey) -> None:
        user = await world.user()
        response = await register(world, user, individual, prover=load_key("legal/valid/employee"))
        assert response.status_code == 422 and response.json()["type"].endswith("/key-proof-invalid")

    async def test_without_a_path_to_the_kz_root_it_is_refused(self, world, individual: KzKey) -> None:
        user = await world.user()
        response = await register(world, user, individual, chain=False)
        assert response.status_code == 422 and response.json()["type"].endswith("/certificate-untrusted")

    async def test_the_iin_control_digit_tells_test_iins_from_real_ones(self) -> None:
        assert kzsubject.iin_valid("900101300001") is False  # auth's own counter-example
        assert kzsubject.iin_valid("123456789011") is False  # NCA RK's test IIN
        assert kzsubject.iin_valid("900101300007")


class TestSignStoredFile:
    async def _signed(self, world, signing_events, user, doc, name: str, key: KzKey, content: bytes):
        """Sign ``name`` while playing documents: answer signing's digest request with the file's digests."""
        task = asyncio.create_task(world.sign(user, doc, name, kz_sign(content, key)))
        file_id = doc.files[name]
        try:
            await signing_events.wait_for("signature.file_digests_requested",
                                          lambda e: e.data["file_id"] == file_id, timeout=15)
        except AssertionError:
            return await task  # answered without asking: the digest was known
        stored = doc.content[name]
        await world.publish(DocumentFileDigested(
            document_id=doc.id, file_id=file_id, sha256=hashlib.sha256(stored).hexdigest(),
            streebog256=streebog.digest(stored, 256).hex(), streebog512=streebog.digest(stored, 512).hex()))
        return await task

    async def test_a_gost_signature_of_a_stored_file_is_accepted_with_iin_and_role(
            self, world, signing_events, individual: KzKey) -> None:
        if not _valid_now(individual.cert):
            pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
        user = await world.user()
        assert (await register(world, user, individual)).status_code == 201
        content = os.urandom(50_000)
        doc = await world.document(user, {"contract.pdf": content})
        response = await self._signed(world, signing_events, user, doc, "contract.pdf", individual, content)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["trusted"] is True and body["report"]["signature_algorithm"] == "gost34.10-2015-512"
        assert len(body["report"]["chain"]) == 3
        signer = body["report"]["kz_signer"]
        assert signer["iin"] == "123456789011" and signer["role"] == "person" and signer["iin_valid"] is False
        listed = (await world.http.get(f"/api/v1/documents/{doc.id}/signatures", headers=user.headers)).json()
        assert listed["items"][0]["report"]["kz_signer"]["role"] == "person"
        record = await world.db.signatures.find_one({"_id": body["id"]})
        assert record["file_streebog512"] == streebog.digest(content, 512).hex()

    async def test_a_signature_of_other_content_is_refused(self, world, signing_events, individual: KzKey) -> None:
        if not _valid_now(individual.cert):
            pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
        user = await world.user()
        assert (await register(world, user, individual)).status_code == 201
        doc = await world.document(user, {"a.pdf": b"stored bytes"})
        task = asyncio.create_task(world.sign(user, doc, "a.pdf", kz_sign(b"other bytes", individual)))
        await signing_events.wait_for("signature.file_digests_requested",
                                      lambda e: e.data["file_id"] == doc.files["a.pdf"], timeout=15)
        await world.publish(DocumentFileDigested(
            document_id=doc.id, file_id=doc.files["a.pdf"], sha256=hashlib.sha256(b"stored bytes").hexdigest(),
            streebog256=streebog.digest(b"stored bytes", 256).hex(),
            streebog512=streebog.digest(b"stored bytes", 512).hex()))
        response = await task
        assert response.status_code == 422 and response.json()["type"].endswith("/signature-mismatch")

    async def test_a_gost_34_310_2004_signature_of_a_stored_file_is_refused_naming_it(
            self, world, individual: KzKey) -> None:
        if not _valid_now(individual.cert):
            pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
        user = await world.user()
        assert (await register(world, user, individual)).status_code == 201
        doc = await world.document(user, {"a.pdf": b"archived"})
        response = await world.sign(user, doc, "a.pdf", kz_sign(b"archived", individual, signature_oid=KZ_2004,
                                                                 digest_oid=KZ_2004_HASH))
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/signature-algorithm") and "GOST 34.310-2004" in problem["detail"]

    async def test_an_employee_without_the_right_to_sign_is_reported(self, world, signing_events) -> None:
        employee = load_key("legal/valid/employee")
        if not _valid_now(employee.cert):
            pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
        user = await world.user()
        assert (await register(world, user, employee)).status_code == 201
        doc = await world.document(user, {"order.pdf": b"order"})
        response = await self._signed(world, signing_events, user, doc, "order.pdf", employee, b"order")
        assert response.status_code == 201, response.text
        signer = response.json()["report"]["kz_signer"]
        assert signer["role"] == "employee" and signer["sign_right"] is False and signer["bin"] == "123456789021"
        assert any("no right to sign" in p for p in response.json()["report"]["problems"])
        announced = await signing_events.wait_for("document.signed",
                                                  lambda e: e.data["signature_id"] == response.json()["id"])
        assert announced.data["signer_role"] == "employee" and announced.data["sign_right"] is False


def co_signed(*signatures: bytes) -> bytes:
    """One detached CMS with the signers of ``signatures`` (of the same content), as NCALayer adds co-signatures."""
    parts = [cms.ContentInfo.load(s)["content"] for s in signatures]
    certs: dict[bytes, Any] = {}
    digests: dict[str, Any] = {}
    for part in parts:
        for cert in part["certificates"]:
            certs.setdefault(cert.dump(), cert)
        for algorithm in part["digest_algorithms"]:
            digests.setdefault(algorithm["algorithm"].dotted, algorithm)
    signed = cms.SignedData({
        "version": "v1", "digest_algorithms": list(digests.values()), "encap_content_info": {"content_type": "data"},
        "certificates": list(certs.values()), "signer_infos": [i for p in parts for i in p["signer_infos"]],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


class TestCoSignatures:
    async def test_each_signer_is_verified_and_reported(self, world, individual: KzKey) -> None:
        if not _valid_now(individual.cert):
            pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
        head = load_key("legal/valid/head")
        user = await world.user()
        content = os.urandom(10_000)
        both = co_signed(kz_sign(content, individual), kz_sign(content, head))
        response = await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
            "file": ("f.pdf", content, "application/pdf"), "signature": ("f.p7s", both)})
        assert response.status_code == 200, response.text
        report = response.json()
        [other] = report["co_signers"]  # the first SignerInfo (in the SET's DER order) is the report itself
        for signer in (report, other):
            assert signer["valid"] and signer["intact"] and signer["trusted"], signer
        assert other["supported"] is True
        assert {report["kz_signer"]["role"], other["kz_signer"]["role"]} == {"person", "head"}

        changed = (await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
            "file": ("f.pdf", content + b"!", "application/pdf"), "signature": ("f.p7s", both)})).json()
        assert changed["intact"] is False and changed["co_signers"][0]["intact"] is False

    async def test_a_signer_with_an_unsupported_algorithm_is_named(self, world, individual: KzKey) -> None:
        user = await world.user()
        content = b"co-signed"
        russian = kz_sign(content, load_key("legal/valid/employee"), signature_oid="1.2.643.2.2.3",
                          digest_oid="1.2.643.2.2.9")
        response = await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
            "file": ("f.pdf", content, "application/pdf"),
            "signature": ("f.p7s", co_signed(russian, kz_sign(content, individual)))})
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["valid"] and report["kz_signer"]["role"] == "person"  # the one signer DocFlow verifies
        [other] = report["co_signers"]
        assert other["supported"] is False and other["valid"] is False
        assert "GOST R 34.10-2001" in other["problems"][0] and other["signature_algorithm"] == "1.2.643.2.2.3"
        assert other["kz_signer"]["role"] == "employee"

        alone = await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
            "file": ("f.pdf", content, "application/pdf"), "signature": ("f.p7s", russian)})
        assert alone.status_code == 422 and alone.json()["type"].endswith("/signature-algorithm")

    async def test_a_gost_34_310_2004_co_signer_is_named(self, world, individual: KzKey) -> None:
        """Archives hold Kazakh GOST 34.310-2004 signatures, which DocFlow does not verify: named, not guessed."""
        user = await world.user()
        content = b"archived order"
        archived = kz_sign(content, load_key("legal/valid/employee"), signature_oid=KZ_2004, digest_oid=KZ_2004_HASH)
        response = await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
            "file": ("f.pdf", content, "application/pdf"),
            "signature": ("f.p7s", co_signed(archived, kz_sign(content, individual)))})
        assert response.status_code == 200, response.text
        [other] = response.json()["co_signers"]
        assert other["supported"] is False and "GOST 34.310-2004" in other["problems"][0]

    async def test_the_stored_signature_is_the_callers_and_reports_the_others(
            self, world, signing_events, individual: KzKey) -> None:
        if not _valid_now(individual.cert):
            pytest.skip("the NCA RK test certificate has expired: refresh the fixtures")
        user = await world.user()
        assert (await register(world, user, individual)).status_code == 201
        content = b"order with two signatures"
        doc = await world.document(user, {"order.pdf": content})
        employee = load_key("legal/valid/employee")
        both = co_signed(kz_sign(content, employee), kz_sign(content, individual))
        task = asyncio.create_task(world.http.post(
            f"/api/v1/documents/{doc.id}/files/{doc.files['order.pdf']}/signatures",
            files={"signature": ("f.p7s", both, "application/pkcs7-signature")}, headers=user.headers))
        await signing_events.wait_for("signature.file_digests_requested",
                                      lambda e: e.data["file_id"] == doc.files["order.pdf"], timeout=15)
        await world.publish(DocumentFileDigested(
            document_id=doc.id, file_id=doc.files["order.pdf"], sha256=hashlib.sha256(content).hexdigest(),
            streebog256=streebog.digest(content, 256).hex(), streebog512=streebog.digest(content, 512).hex()))
        response = await task
        assert response.status_code == 201, response.text
        report = response.json()["report"]
        assert report["kz_signer"]["role"] == "person"  # the caller's own signer, not the first one
        [other] = report["co_signers"]
        assert other["valid"] and other["kz_signer"]["role"] == "employee"
        assert other["kz_signer"]["sign_right"] is False
        assert any("no right to sign" in p for p in other["problems"])
