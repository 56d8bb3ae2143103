"""Russian GOST R 34.10-2012 (256 and 512) with OpenSSL's GOST engine, both ways.

OpenSSL (``-engine gost``, Debian's libengine-gost-openssl) makes a CA, signing certificates and CMS
signatures that DocFlow verifies; ``docflow-signing sign`` signs with the engine's keys and
``openssl cms -verify -engine gost`` accepts the result. The material is made at test time.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem, x509

from docflow_dev.testing.asserts import eventually
from docflow_shared.events.catalogue import DocumentFileDigested
from docflow_signing.crypto import kzkeys, streebog

TRUST = Path(tempfile.mkdtemp(prefix="docflow-ru-gost-trust-"))
SIGNING_ENV = {"SIGNING_TRUST_DIR": str(TRUST), "SIGNING_DIGEST_WAIT_SECONDS": "2"}


def _engine_works() -> bool:
    if shutil.which("openssl") is None or not streebog.available():
        return False
    probe = subprocess.run(["openssl", "genpkey", "-engine", "gost", "-algorithm", "gost2012_256",
                            "-pkeyopt", "paramset:A"], capture_output=True)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _engine_works(),
                                reason="OpenSSL's GOST engine (libengine-gost-openssl) is not installed")


def openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True)


@dataclass(frozen=True)
class Signer:
    key: Path
    cert: Path
    bits: int


@dataclass(frozen=True)
class RuPki:
    folder: Path
    ca: Path
    signers: dict[int, Signer]


@pytest.fixture(scope="module")
def ru_pki(tmp_path_factory: pytest.TempPathFactory) -> RuPki:
    """A GOST 2012-512 CA (paramSetA) in the trust directory, and a 256- and a 512-bit signing certificate."""
    folder = tmp_path_factory.mktemp("ru-gost")
    openssl("genpkey", "-engine", "gost", "-algorithm", "gost2012_512", "-pkeyopt", "paramset:A",
            "-out", "ca.key", cwd=folder)
    openssl("req", "-engine", "gost", "-new", "-x509", "-key", "ca.key", "-subj", "/CN=Test GOST CA/C=RU",
            "-days", "30", "-md_gost12_512", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.pem", cwd=folder)
    (folder / "leaf.ext").write_text("keyUsage=critical,digitalSignature,nonRepudiation\n")
    signers = {}
    for bits, algorithm, paramset in ((256, "gost2012_256", "B"), (512, "gost2012_512", "A")):
        openssl("genpkey", "-engine", "gost", "-algorithm", algorithm, "-pkeyopt", f"paramset:{paramset}",
                "-out", f"u{bits}.key", cwd=folder)
        openssl("req", "-engine", "gost", "-new", "-key", f"u{bits}.key", "-subj", f"/CN=Signer {bits}/C=RU",
                "-out", f"u{bits}.csr", cwd=folder)
        openssl("x509", "-engine", "gost", "-req", "-in", f"u{bits}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-set_serial", str(1000 + bits), "-days", "30", "-extfile", "leaf.ext", "-out", f"u{bits}.pem",
                cwd=folder)
        signers[bits] = Signer(folder / f"u{bits}.key", folder / f"u{bits}.pem", bits)
    shutil.copy(folder / "ca.pem", TRUST / "ru-gost-ca.pem")
    return RuPki(folder, folder / "ca.pem", signers)


def openssl_sign(pki: RuPki, signer: Signer, content: bytes) -> bytes:
    data = pki.folder / f"content-{signer.bits}.bin"
    data.write_bytes(content)
    out = pki.folder / f"openssl-{signer.bits}.p7s"
    openssl("cms", "-sign", "-engine", "gost", "-binary", "-outform", "DER", "-md", f"md_gost12_{signer.bits}",
            "-in", data, "-signer", signer.cert, "-inkey", signer.key, "-certfile", pki.ca, "-out", out,
            cwd=pki.folder)
    return out.read_bytes()


async def verify(world: Any, user: Any, content: bytes, signature: bytes) -> dict[str, Any]:
    response = await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
        "file": ("f.pdf", content, "application/pdf"), "signature": ("f.p7s", signature)})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


class TestOpenSslSignatures:
    @pytest.mark.parametrize("bits", [256, 512])
    async def test_an_openssl_signature_passes_docflow(self, world, ru_pki: RuPki, bits: int) -> None:
        user = await world.user()
        content = os.urandom(30_000)
        signature = openssl_sign(ru_pki, ru_pki.signers[bits], content)

        async def trusted() -> dict[str, Any]:
            report = await verify(world, user, content, signature)
            assert report["trusted"], report  # the trust directory is re-read within seconds
            return report

        report = await eventually(trusted, timeout=30)
        assert report["signature_algorithm"] == f"gostr34.10-2012-{bits}"
        assert report["digest_algorithm"] == f"streebog{bits}"
        assert len(report["chain"]) == 2 and report["kz_signer"] is None
        changed = await verify(world, user, content + b"x", signature)
        assert changed["intact"] is False and changed["trusted"] is False


class TestDocFlowSignatures:
    @pytest.mark.parametrize("bits", [256, 512])
    async def test_the_cli_signs_and_openssl_accepts(self, world, ru_pki: RuPki, bits: int) -> None:
        signer = ru_pki.signers[bits]
        content = ru_pki.folder / f"contract-{bits}.pdf"
        content.write_bytes(os.urandom(20_000))
        subprocess.run([sys.executable, "-m", "docflow_signing.cli", "sign", str(content), "--key", str(signer.key),
                        "--cert", str(signer.cert), "--chain", str(ru_pki.ca)], check=True, capture_output=True)
        signature = Path(f"{content}.p7s")
        checked = subprocess.run(["openssl", "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER",
                                  "-in", str(signature), "-content", str(content), "-CAfile", str(ru_pki.ca),
                                  "-purpose", "any", "-out", os.devnull], capture_output=True, text=True)
        assert checked.returncode == 0 and "Verification successful" in checked.stderr, checked.stderr
        tampered = ru_pki.folder / f"tampered-{bits}.pdf"
        tampered.write_bytes(content.read_bytes() + b"!")
        refused = subprocess.run(["openssl", "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER",
                                  "-in", str(signature), "-content", str(tampered), "-CAfile", str(ru_pki.ca),
                                  "-purpose", "any", "-out", os.devnull], capture_output=True, text=True)
        assert refused.returncode != 0

        user = await world.user()

        async def trusted() -> dict[str, Any]:
            report = await verify(world, user, content.read_bytes(), signature.read_bytes())
            assert report["trusted"], report
            return report

        report = await eventually(trusted, timeout=30)
        assert report["signature_algorithm"] == f"gostr34.10-2012-{bits}"

    async def test_a_key_that_is_not_the_certificates_is_refused(self, ru_pki: RuPki) -> None:
        content = ru_pki.folder / "mismatch.pdf"
        content.write_bytes(b"x")
        wrong = subprocess.run([sys.executable, "-m", "docflow_signing.cli", "sign", str(content),
                                "--key", str(ru_pki.signers[512].key), "--cert", str(ru_pki.signers[256].cert)],
                               capture_output=True, text=True)
        assert wrong.returncode == 2 and "not the certificate's key" in wrong.stderr


class TestRegistration:
    async def test_a_russian_certificate_registers_with_a_gost_proof(self, world, ru_pki: RuPki) -> None:
        signer = ru_pki.signers[256]
        cert = x509.Certificate.load(pem.unarmor(signer.cert.read_bytes())[2])
        key = kzkeys.read_gost_key(signer.key.read_bytes(), cert)
        user = await world.user()

        async def registered() -> dict[str, Any]:
            challenge = (await world.http.post("/api/v1/certificates/challenges",
                                               headers=user.headers)).json()["challenge"]
            proof = base64.b64encode(kzkeys.sign_detached_gost(challenge.encode(), key)).decode()
            response = await world.http.post("/api/v1/certificates", content=signer.cert.read_bytes(), headers={
                **user.headers, "DocFlow-Key-Challenge": challenge, "DocFlow-Key-Proof": proof})
            assert response.status_code == 201, response.text  # once the trust directory is re-read
            body: dict[str, Any] = response.json()
            return body

        body = await eventually(registered, timeout=30)
        assert body["key_algorithm"] == "GOSTR34.10-2012-256" and body["trusted"] is True

        other = ru_pki.signers[512]  # its certificate, with a proof made by the 256-bit key
        challenge = (await world.http.post("/api/v1/certificates/challenges", headers=user.headers)).json()["challenge"]
        proof = base64.b64encode(kzkeys.sign_detached_gost(challenge.encode(), key)).decode()
        refused = await world.http.post("/api/v1/certificates", content=other.cert.read_bytes(), headers={
            **user.headers, "DocFlow-Key-Challenge": challenge, "DocFlow-Key-Proof": proof})
        assert refused.status_code == 422 and refused.json()["type"].endswith("/key-proof-invalid")


class TestStoredFile:
    async def test_the_first_signature_waits_for_the_digest_then_is_stored(self, world, signing_events,
                                                                          ru_pki: RuPki) -> None:
        """No answer from documents within SIGNING_DIGEST_WAIT_SECONDS: 503 with Retry-After; once the
        digests arrive by event, the same signature is stored."""
        signer = ru_pki.signers[512]
        cert = x509.Certificate.load(pem.unarmor(signer.cert.read_bytes())[2])
        key = kzkeys.read_gost_key(signer.key.read_bytes(), cert)
        user = await world.user()

        async def registered() -> bool:
            challenge = (await world.http.post("/api/v1/certificates/challenges",
                                               headers=user.headers)).json()["challenge"]
            proof = base64.b64encode(kzkeys.sign_detached_gost(challenge.encode(), key)).decode()
            response = await world.http.post("/api/v1/certificates", content=signer.cert.read_bytes(), headers={
                **user.headers, "DocFlow-Key-Challenge": challenge, "DocFlow-Key-Proof": proof})
            assert response.status_code == 201, response.text
            return True

        await eventually(registered, timeout=30)
        content = os.urandom(5000)
        doc = await world.document(user, {"c.pdf": content})
        signature = kzkeys.sign_detached_gost(content, key)
        pending = await world.sign(user, doc, "c.pdf", signature)
        assert pending.status_code == 503 and pending.json()["type"].endswith("/file-digest-pending")
        assert pending.headers["retry-after"] and "libengine-gost-openssl" in pending.json()["detail"]
        file_id = doc.files["c.pdf"]
        await signing_events.wait_for("signature.file_digests_requested", lambda e: e.data["file_id"] == file_id)
        await world.publish(DocumentFileDigested(
            document_id=doc.id, file_id=file_id, sha256=hashlib.sha256(content).hexdigest(),
            streebog256=streebog.digest(content, 256).hex(), streebog512=streebog.digest(content, 512).hex()))

        async def stored() -> dict[str, Any]:
            response = await world.sign(user, doc, "c.pdf", signature)
            assert response.status_code == 201, response.text
            body: dict[str, Any] = response.json()
            return body

        body = await eventually(stored, timeout=30)
        assert body["trusted"] and body["report"]["signature_algorithm"] == "gostr34.10-2012-512"
