"""A signing service whose OpenSSL has no GOST provider answers GOST signatures with a problem naming the package."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from asn1crypto import cms, core, x509

from docflow_signing.crypto import gostoids

FIXTURES = Path(__file__).parent / "fixtures" / "kz-gost"
# OpenSSL looks for providers in OPENSSL_MODULES: pointed at nothing, gostprov cannot load.
SIGNING_ENV = {"SIGNING_TRUST_DIR": str(FIXTURES / "trust"), "OPENSSL_MODULES": os.devnull,
               "OPENSSL_CONF": os.devnull}


def gost_cms() -> bytes:
    """A detached CMS that names Kazakh GOST 2015 and Streebog-512 (its value is never reached)."""
    cert = x509.Certificate.load((FIXTURES / "individual/valid/individual_valid.cert.der").read_bytes())
    tbs = cert["tbs_certificate"]
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": tbs["issuer"], "serial_number": tbs["serial_number"]})}),
        "digest_algorithm": {"algorithm": gostoids.STREEBOG_512},
        "signature_algorithm": {"algorithm": gostoids.SIGNATURE_2015_512, "parameters": core.Null()},
        "signature": bytes(128),
    })
    signed = cms.SignedData({
        "version": "v1", "digest_algorithms": [{"algorithm": gostoids.STREEBOG_512}],
        "encap_content_info": {"content_type": "data"}, "certificates": [cert], "signer_infos": [signer],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


async def test_gost_signature_without_the_provider_is_503_naming_the_package(world) -> None:
    user = await world.user()
    response = await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
        "file": ("f.pdf", b"content", "application/pdf"),
        "signature": ("f.p7s", gost_cms(), "application/pkcs7-signature"),
    })
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/gost-unavailable") and "libengine-gost-openssl" in body["detail"]


async def test_registering_a_gost_certificate_without_the_provider_is_503_naming_the_package(world) -> None:
    user = await world.user()
    der = (FIXTURES / "individual/valid/individual_valid.cert.der").read_bytes()
    challenge = (await world.http.post("/api/v1/certificates/challenges", headers=user.headers)).json()["challenge"]
    proof = base64.b64encode(gost_cms()).decode()
    response = await world.http.post("/api/v1/certificates", content=der, headers={
        **user.headers, "DocFlow-Key-Challenge": challenge, "DocFlow-Key-Proof": proof})
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["type"].endswith("/gost-unavailable") and "libengine-gost-openssl" in body["detail"]
