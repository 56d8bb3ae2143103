"""Signed PDFs (PAdES): ``POST /signatures/verify-pdf`` lists each embedded signature like a CMS one, with
what it covers and the incremental updates made after it.

The PDFs are signed here by pyHanko with certificates of the test CA (RSA and ECDSA) and a TSA of the
same CA; the Kazakh GOST one has its signature field and byte ranges from pyHanko and its CMS from
``kzkeys`` (pyHanko cannot sign with GOST keys), with NCA RK's test key. The signing process checks
revocation: every test-CA signer names a CRL that the URL map points at a local file, on which one
signer is revoked; NCA RK's CRL address points at the fixture CRL.
"""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509

from docflow_dev.testing import pdfs as devpdf
from docflow_dev.testing.pkiservers import issue_with_revocation, make_crl
from docflow_signing.crypto import kzkeys, streebog
from docflow_signing.crypto.devca import Issued, issue_tsa_certificate

CRL_PREFIX = "http://crl.pades.test/"
KZ = Path(__file__).parent / "fixtures" / "kz-gost"
KZ_CRL_PREFIX = "http://test.pki.gov.kz/crl/"
PDF = "application/pdf"


@dataclass(frozen=True)
class Signers:
    rsa: Issued
    ec: Issued
    revoked: Issued
    tsa: Issued
    revoked_at: datetime
    crl_dir: Path


@pytest.fixture(scope="module")
def signers(pki, tmp_path_factory: pytest.TempPathFactory) -> Signers:
    crl_url = f"{CRL_PREFIX}ca.crl"
    crl_dir = tmp_path_factory.mktemp("pades-crl")
    made = Signers(
        rsa=issue_with_revocation(pki.ca, "Aida Bekova", crl_url=crl_url, key_type="rsa"),
        ec=issue_with_revocation(pki.ca, "Daniyar Sadykov", crl_url=crl_url, key_type="ec"),
        revoked=issue_with_revocation(pki.ca, "Revoked Signer", crl_url=crl_url, key_type="ec"),
        tsa=issue_tsa_certificate(pki.ca),
        revoked_at=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1), crl_dir=crl_dir,
    )
    (crl_dir / "ca.crl").write_bytes(make_crl(pki.ca, [(made.revoked.cert.serial_number, made.revoked_at)]))
    return made


@pytest.fixture(scope="module")
def signing_env(signing_env, pki, signers: Signers, tmp_path_factory: pytest.TempPathFactory):
    """Trusted: the test CA and NCA RK's test root; revocation checking on, the CRL addresses mapped onto files."""
    trust = tmp_path_factory.mktemp("pades-trust")
    (trust / "test-ca.pem").write_bytes(pki.ca.cert_pem)
    shutil.copy(KZ / "trust" / "root_test_gost_2022.cer", trust)
    url_map = {CRL_PREFIX: f"{signers.crl_dir}/", KZ_CRL_PREFIX: f"{KZ}/"}
    signing_env.env.update({"SIGNING_TRUST_DIR": str(trust), "SIGNING_REVOCATION_CHECK": "true",
                            "SIGNING_REVOCATION_UNKNOWN": "accept", "SIGNING_REVOCATION_URL_MAP": json.dumps(url_map)})
    return signing_env


async def verify_pdf(world, pdf: bytes) -> dict[str, Any]:
    user = await world.user()
    response = await world.http.post("/api/v1/signatures/verify-pdf", headers=user.headers,
                                     files={"file": ("contract.pdf", pdf, PDF)})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


class TestSignedPdf:
    async def test_one_signature_with_a_timestamp_is_reported_like_a_cms_signature(self, world, signers) -> None:
        timestamp_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)  # certificates: 5 min
        pdf = await devpdf.sign_pdf(devpdf.plain_pdf(), signers.rsa, tsa=signers.tsa, timestamp_at=timestamp_at)
        body = await verify_pdf(world, pdf)
        assert body["signed"] is True and body["revisions"] == 2
        [signature] = body["signatures"]
        assert signature["kind"] == "signature" and signature["field_name"] == "Signature1"
        assert signature["intact"] and signature["valid"] and signature["trusted"], json.dumps(signature, indent=1)
        assert "Aida Bekova" in signature["signer_subject"]
        assert signature["signer_serial_number"] == format(signers.rsa.cert.serial_number, "x")
        assert signature["covers_whole_document"] is True and signature["coverage"] == "ENTIRE_FILE"
        assert signature["updated_after_signing"] is False and signature["modification_level"] == "NONE"
        assert signature["time_basis"] == "timestamp"
        assert datetime.fromisoformat(signature["timestamp_time"]) == timestamp_at
        assert signature["signing_time"] == signature["timestamp_time"]
        assert signature["revocation"]["status"] == "good" and signature["revocation"]["source"] == "crl"
        assert signature["chain"] and signature["problems"] == []

    async def test_two_signatures_each_cover_their_revision(self, world, signers) -> None:
        first = await devpdf.sign_pdf(devpdf.plain_pdf(), signers.rsa)
        both = await devpdf.sign_pdf(first, signers.ec, field_name="Signature2")
        body = await verify_pdf(world, both)
        assert body["revisions"] == 3
        earlier, later = body["signatures"]
        assert "Aida Bekova" in earlier["signer_subject"] and "Daniyar Sadykov" in later["signer_subject"]
        assert all(s["trusted"] for s in (earlier, later)), body
        assert earlier["covers_whole_document"] is False and earlier["later_revisions"] == 1
        assert earlier["updated_after_signing"] is True and earlier["modification_level"] == "FORM_FILLING"
        assert earlier["problems"] == [], "a later signature is not a problem of the earlier one"
        assert later["covers_whole_document"] is True and later["later_revisions"] == 0
        assert later["signature_algorithm"].endswith("ecdsa") and earlier["time_basis"] == "received"

    async def test_content_added_after_signing_is_flagged(self, world, signers) -> None:
        signed = await devpdf.sign_pdf(devpdf.plain_pdf(), signers.ec)
        body = await verify_pdf(world, devpdf.add_page_after_signing(signed))
        [signature] = body["signatures"]
        assert signature["intact"] and signature["valid"], "the signed revision itself is untouched"
        assert signature["covers_whole_document"] is False and signature["coverage"] == "ENTIRE_REVISION"
        assert signature["updated_after_signing"] is True and signature["later_revisions"] == 1
        assert signature["modification_level"] == "OTHER"
        assert any("changed after this signature" in p for p in signature["problems"]), signature

    async def test_a_document_timestamp_is_listed_and_is_no_problem_of_the_signature(self, world, signers) -> None:
        signed = await devpdf.sign_pdf(devpdf.plain_pdf(), signers.ec)
        stamped_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        body = await verify_pdf(world, await devpdf.timestamp_pdf(signed, signers.tsa, at=stamped_at))
        signature, timestamp = body["signatures"]
        assert signature["trusted"] and signature["updated_after_signing"] is True, signature
        assert signature["modification_level"] == "LTA_UPDATES" and signature["problems"] == []
        assert timestamp["kind"] == "document_timestamp" and timestamp["trusted"] is True, timestamp
        assert datetime.fromisoformat(timestamp["timestamp_time"]) == stamped_at
        assert "DocFlow Development TSA" in timestamp["tsa"] and timestamp["covers_whole_document"]

    async def test_a_byte_changed_in_the_signed_range_is_invalid(self, world, signers) -> None:
        signed = await devpdf.sign_pdf(devpdf.plain_pdf(), signers.ec)
        body = await verify_pdf(world, devpdf.tamper(signed))
        [signature] = body["signatures"]
        assert signature["intact"] is False and signature["trusted"] is False
        assert "The signature was made over different content." in signature["problems"]

    async def test_a_signer_of_an_untrusted_ca_is_not_trusted(self, world, pki) -> None:
        stranger = pki.issue("Stranger", ca=pki.rogue)
        body = await verify_pdf(world, await devpdf.sign_pdf(devpdf.plain_pdf(), stranger))
        [signature] = body["signatures"]
        assert signature["intact"] and signature["valid"] and signature["trusted"] is False
        assert signature["chain"] == [] and signature["problems"], signature

    async def test_a_revoked_signer_is_reported_revoked_with_its_time(self, world, signers) -> None:
        body = await verify_pdf(world, await devpdf.sign_pdf(devpdf.plain_pdf(), signers.revoked))
        [signature] = body["signatures"]
        assert signature["intact"] and signature["valid"] and signature["trusted"] is False
        assert signature["revocation"]["status"] == "revoked"
        assert datetime.fromisoformat(signature["revocation"]["revoked_at"]) == signers.revoked_at
        assert any("revoked" in p for p in signature["problems"]), signature

    async def test_the_raw_body_and_json_base64_are_read_too(self, world, signers) -> None:
        pdf = await devpdf.sign_pdf(devpdf.plain_pdf(), signers.ec)
        user = await world.user()
        raw = await world.http.post("/api/v1/signatures/verify-pdf", headers={**user.headers, "Content-Type": PDF},
                                    content=pdf)
        as_json = await world.http.post("/api/v1/signatures/verify-pdf", headers=user.headers,
                                        json={"file_base64": base64.b64encode(pdf).decode()})
        for response in (raw, as_json):
            assert response.status_code == 200, response.text
            assert response.json()["signatures"][0]["trusted"] is True


    async def test_a_pdf_larger_than_the_json_body_cap_is_read(self, world, signers) -> None:
        large = devpdf.plain_pdf(b"A" * (3 * 1024 * 1024))  # over the 1 MB default cap of other bodies
        body = await verify_pdf(world, await devpdf.sign_pdf(large, signers.ec))
        assert body["signatures"][0]["trusted"] is True and body["signatures"][0]["covers_whole_document"]


    @pytest.mark.skipif(not streebog.available(),
                        reason="OpenSSL's GOST provider (libengine-gost-openssl) is not installed")
    async def test_a_kazakh_gost_signature_is_verified_with_its_signer(self, world) -> None:
        cert = asn1_x509.Certificate.load((KZ / "individual" / "valid" / "individual_valid.cert.der").read_bytes())
        key = kzkeys.read_pkcs12((KZ / "individual" / "valid" / "individual_valid.p12").read_bytes(), "Qwerty12", cert)
        intermediate = asn1_x509.Certificate.load((KZ / "nca_gost2022_test.cer").read_bytes())
        signed = await devpdf.sign_pdf_with(devpdf.plain_pdf(), cert,
                                            lambda ranges: kzkeys.sign_detached(ranges, key, chain=[intermediate]))
        [signature] = (await verify_pdf(world, signed))["signatures"]
        assert signature["intact"] and signature["valid"] and signature["trusted"], signature
        assert signature["signature_algorithm"] == "gost34.10-2015-512" and signature["covers_whole_document"]
        assert signature["kz_signer"]["iin"] == "123456789011" and signature["kz_signer"]["role"] == "person"
        assert signature["revocation"]["status"] == "good" and signature["revocation"]["crl_number"] == 166
        [tampered] = (await verify_pdf(world, devpdf.tamper(signed)))["signatures"]
        assert tampered["intact"] is False and tampered["trusted"] is False

    @pytest.mark.skipif(not streebog.available(),
                        reason="OpenSSL's GOST provider (libengine-gost-openssl) is not installed")
    async def test_an_algorithm_docflow_does_not_verify_is_named_and_the_others_still_verified(
            self, world, signers) -> None:
        cert = asn1_x509.Certificate.load((KZ / "individual" / "valid" / "individual_valid.cert.der").read_bytes())
        key = kzkeys.read_pkcs12((KZ / "individual" / "valid" / "individual_valid.p12").read_bytes(), "Qwerty12", cert)
        kz_2004 = await devpdf.sign_pdf_with(devpdf.plain_pdf(), cert, lambda ranges: kzkeys.sign_detached(
            ranges, key, signature_oid="1.2.398.3.10.1.1.1.2"))
        both = await devpdf.sign_pdf(kz_2004, signers.ec, field_name="Signature2")
        unsupported, verified = (await verify_pdf(world, both))["signatures"]
        assert unsupported["supported"] is False and unsupported["trusted"] is False
        assert any("Kazakh GOST 34.310-2004" in p for p in unsupported["problems"]), unsupported
        assert "ТЕСТОВ" in unsupported["signer_subject"]
        assert verified["supported"] is True and verified["trusted"] is True, verified


class TestNotSigned:
    async def test_an_unsigned_pdf_has_no_signatures(self, world) -> None:
        body = await verify_pdf(world, devpdf.plain_pdf())
        assert body == {**body, "signed": False, "signatures": [], "revisions": 1}

    @pytest.mark.parametrize("content", [b"%PDF-1.7\nnot really a PDF\n%%EOF\n", b"hello", b"\x00" * 64],
                             ids=["broken-pdf", "text", "zeros"])
    async def test_a_malformed_pdf_is_a_problem(self, world, content: bytes) -> None:
        user = await world.user()
        response = await world.http.post("/api/v1/signatures/verify-pdf", headers=user.headers,
                                          files={"file": ("x.pdf", content, PDF)})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("pdf-unreadable")

    async def test_a_signed_pdf_cut_short_is_a_problem(self, world, signers) -> None:
        signed = await devpdf.sign_pdf(devpdf.plain_pdf(), signers.ec)
        user = await world.user()
        response = await world.http.post("/api/v1/signatures/verify-pdf", headers=user.headers,
                                          files={"file": ("x.pdf", signed[: len(signed) // 2], PDF)})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")

    @pytest.mark.parametrize("cms", [b"\x30\x03\x02\x01\x00", b"\x30\x80garbage"], ids=["not-cms", "broken-der"])
    async def test_a_signature_field_holding_no_cms_is_a_problem(self, world, signers, cms: bytes) -> None:
        cert = asn1_x509.Certificate.load(signers.ec.cert_der)
        broken = await devpdf.sign_pdf_with(devpdf.plain_pdf(), cert, lambda ranges: cms)
        user = await world.user()
        response = await world.http.post("/api/v1/signatures/verify-pdf", headers=user.headers,
                                          files={"file": ("x.pdf", broken, PDF)})
        assert response.status_code == 422, response.text
        assert response.json()["type"].endswith("pdf-unreadable")

    async def test_no_file_part_is_a_problem(self, world) -> None:
        user = await world.user()
        response = await world.http.post("/api/v1/signatures/verify-pdf", headers=user.headers,
                                          files={"other": ("x.pdf", b"%PDF", PDF)})
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")

    async def test_a_token_is_required(self, world) -> None:
        response = await world.http.post("/api/v1/signatures/verify-pdf", files={"file": ("x.pdf", b"%PDF", PDF)})
        assert response.status_code == 401, response.text
