"""Signatures of files: OpenSSL interoperability both ways, every rejection, who may sign, reading."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from docflow_shared.events.catalogue import DocumentShareRevoked
from docflow_signing.crypto.certificates import parse_certificate
from docflow_signing.crypto.devca import issue_user_certificate, sign_detached

KEY_TYPES = ["rsa", "ec"]


def openssl_sign(content: Path, cert: Path, key: Path, out: Path, md: str = "sha256") -> bytes:
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-md", md, "-in", str(content),
                    "-signer", str(cert), "-inkey", str(key), "-out", str(out)], check=True, capture_output=True)
    return out.read_bytes()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docflow_signing.cli", *args], check=True,
                          capture_output=True, text=True)


class TestInteroperability:
    @pytest.mark.parametrize("key_type", KEY_TYPES)
    async def test_openssl_signature_verifies_in_docflow(self, world, pki, tmp_path, key_type) -> None:
        owner = await world.user("Owner")
        issued = pki.issue("Owner", key_type=key_type)
        cert_path, key_path = issued.write(tmp_path, "owner")
        await world.upload_certificate(owner, issued)
        content = os.urandom(4096)
        doc = await world.document(owner, {"contract.pdf": content})
        (tmp_path / "contract.pdf").write_bytes(content)
        signature = openssl_sign(tmp_path / "contract.pdf", cert_path, key_path, tmp_path / "contract.p7s")
        response = await world.sign(owner, doc, "contract.pdf", signature)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["trusted"] is True and body["signer_id"] == owner.id
        assert body["report"]["intact"] and body["report"]["valid"]
        expected = {"rsa": "rsassa_pkcs1v15", "ec": "sha256_ecdsa"}[key_type]
        assert body["report"]["signature_algorithm"] == expected
        assert body["file_sha256"] == hashlib.sha256(content).hexdigest()

    @pytest.mark.parametrize("key_type", KEY_TYPES)
    async def test_key_proof_from_openssl_or_the_cli_registers_a_certificate(self, world, pki, tmp_path,
                                                                            key_type) -> None:
        """The README's `openssl cms -sign` line and `docflow-signing prove` both make a valid proof."""
        for tool in ("openssl", "cli"):
            owner, issued = await world.user(), pki.issue("Prover", key_type=key_type)
            cert_path, key_path = issued.write(tmp_path, f"prover-{tool}")
            response = await world.http.post("/api/v1/certificates/challenges", headers=owner.headers)
            challenge = response.json()["challenge"]
            if tool == "openssl":
                (tmp_path / "challenge.txt").write_text(challenge)
                der = openssl_sign(tmp_path / "challenge.txt", cert_path, key_path, tmp_path / "proof.der")
                proof = base64.b64encode(der).decode()
            else:
                proof = cli("prove", "--key", str(key_path), "--cert", str(cert_path),
                            "--challenge", challenge).stdout.strip()
            uploaded = await world.http.post("/api/v1/certificates", content=issued.cert_pem, headers={
                **owner.headers, "DocFlow-Key-Challenge": challenge, "DocFlow-Key-Proof": proof})
            assert uploaded.status_code == 201, uploaded.text

    @pytest.mark.parametrize("key_type", KEY_TYPES)
    def test_docflow_cli_signature_verifies_with_openssl(self, tmp_path, key_type) -> None:
        out = tmp_path / "devca"
        cli("dev-ca", "--out", str(out), "--key-type", key_type, "--user", "Aida Bekova",
            "--iin", "900101300123", "--email", "aida@example.kz")
        issued = parse_certificate((out / "aida-bekova.pem").read_bytes())
        assert issued.iin == "900101300123" and issued.email == "aida@example.kz"
        assert set(issued.key_usage) == {"digital_signature", "non_repudiation"}
        assert issued.key_algorithm == {"rsa": "RSA-2048", "ec": "ECDSA-P256"}[key_type]
        content = tmp_path / "act.pdf"
        content.write_bytes(os.urandom(10_000))
        cli("sign", str(content), "--key", str(out / "aida-bekova.key"), "--cert", str(out / "aida-bekova.pem"),
            "--out", str(tmp_path / "act.p7s"))
        verified = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "act.p7s"),
             "-content", str(content), "-CAfile", str(out / "ca.pem"), "-purpose", "any", "-out", os.devnull],
            capture_output=True, text=True,
        )
        assert verified.returncode == 0, verified.stderr
        assert "Verification successful" in verified.stderr
        content.write_bytes(b"changed")
        tampered = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "act.p7s"),
             "-content", str(content), "-CAfile", str(out / "ca.pem"), "-purpose", "any", "-out", os.devnull],
            capture_output=True, text=True,
        )
        assert tampered.returncode != 0

    @pytest.mark.parametrize("key_type", KEY_TYPES)
    async def test_docflow_cli_signature_is_accepted_by_the_service(self, world, pki, tmp_path, key_type) -> None:
        owner = await world.user()
        issued = pki.issue("Signer", key_type=key_type)
        cert_path, key_path = issued.write(tmp_path, "signer")
        await world.upload_certificate(owner, issued)
        content = os.urandom(2048)
        (tmp_path / "f.bin").write_bytes(content)
        doc = await world.document(owner, {"f.bin": content})
        cli("sign", str(tmp_path / "f.bin"), "--key", str(key_path), "--cert", str(cert_path),
            "--out", str(tmp_path / "f.p7s"))
        response = await world.sign(owner, doc, "f.bin", (tmp_path / "f.p7s").read_bytes())
        assert response.status_code == 201, response.text


async def signer_with_document(world, pki, key_type: str = "ec"):
    owner = await world.user()
    issued = pki.issue("Owner", key_type=key_type)
    await world.upload_certificate(owner, issued)
    files = {"a.pdf": os.urandom(1000), "b.pdf": os.urandom(1000)}
    doc = await world.document(owner, files)
    return owner, issued, doc


class TestRejected:
    async def _rejected(self, response, slug: str) -> dict:
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["type"].endswith(slug), body
        return body

    async def test_tampered_file(self, world, pki) -> None:
        owner, issued = await world.user(), pki.issue("O")
        await world.upload_certificate(owner, issued)
        doc = await world.document(owner, {})
        original = b"the agreed text"
        await world.add_file(doc, "x.pdf", b"the altered text")
        await world.wait_for("files", {"_id": doc.files["x.pdf"]})
        body = await self._rejected(await world.sign(owner, doc, "x.pdf", sign_detached(original, issued)),
                                    "signature-mismatch")
        assert "different content" in body["detail"]

    async def test_signature_over_another_file(self, world, pki) -> None:
        owner, issued, doc = await signer_with_document(world, pki)
        over_a = sign_detached(doc.content["a.pdf"], issued)
        await self._rejected(await world.sign(owner, doc, "b.pdf", over_a), "signature-mismatch")
        assert (await world.sign(owner, doc, "a.pdf", over_a)).status_code == 201

    async def test_someone_elses_certificate(self, world, pki) -> None:
        alice, alice_cert = await world.user("Alice"), pki.issue("Alice")
        await world.upload_certificate(alice, alice_cert)
        bob, _, doc = await signer_with_document(world, pki)
        forged = sign_detached(doc.content["a.pdf"], alice_cert)
        await self._rejected(await world.sign(bob, doc, "a.pdf", forged), "signer-not-yours")

    async def test_certificate_never_uploaded(self, world, pki) -> None:
        owner, _, doc = await signer_with_document(world, pki)
        unknown = pki.issue("Unknown")
        await self._rejected(await world.sign(owner, doc, "a.pdf", sign_detached(doc.content["a.pdf"], unknown)),
                             "signer-not-yours")

    async def test_certificate_expired_before_signing(self, world, pki) -> None:
        owner = await world.user()
        short = pki.issue("Short", not_before=datetime.now(UTC) - timedelta(minutes=1),
                          not_after=datetime.now(UTC) + timedelta(seconds=3))
        await world.upload_certificate(owner, short)
        doc = await world.document(owner, {"a.pdf": b"content"})
        await asyncio.sleep(4)
        body = await self._rejected(await world.sign(owner, doc, "a.pdf", sign_detached(b"content", short)),
                                    "certificate-validity")
        assert "signing time" in body["detail"]

    async def test_expired_certificate_in_the_signature(self, world, pki) -> None:
        owner, _, doc = await signer_with_document(world, pki)
        now = datetime.now(UTC)
        old = pki.issue("Old", not_before=now - timedelta(days=9), not_after=now - timedelta(days=1))
        await self._rejected(await world.sign(owner, doc, "a.pdf", sign_detached(doc.content["a.pdf"], old)),
                             "signer-not-yours")

    async def test_certificate_without_signing_key_usage(self, world, pki) -> None:
        owner, _, doc = await signer_with_document(world, pki)
        encryption_only = pki.issue("Enc", signing_usage=False)
        upload = await world.http.post("/api/v1/certificates", content=encryption_only.cert_pem,
                                       headers=owner.headers)
        await self._rejected(upload, "certificate-key-usage")
        signature = sign_detached(doc.content["a.pdf"], encryption_only)
        await self._rejected(await world.sign(owner, doc, "a.pdf", signature), "signer-not-yours")

    async def test_garbage_bytes(self, world, pki) -> None:
        owner, _, doc = await signer_with_document(world, pki)
        for garbage in (os.urandom(300), b"\x30\x82\x05\x00" + os.urandom(100), base64.b64encode(os.urandom(90)),
                        b"-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----\n"):
            await self._rejected(await world.sign(owner, doc, "a.pdf", garbage), "signature-unreadable")

    async def test_untrusted_ca(self, world, pki) -> None:
        owner, _, doc = await signer_with_document(world, pki)
        rogue = issue_user_certificate(pki.rogue, "Mallory")
        await self._rejected(await world.http.post("/api/v1/certificates", content=rogue.cert_pem,
                                                   headers=owner.headers), "certificate-untrusted")
        await self._rejected(await world.sign(owner, doc, "a.pdf", sign_detached(doc.content["a.pdf"], rogue)),
                             "signer-not-yours")

    async def test_sha1_digest(self, world, pki, tmp_path) -> None:
        owner, issued, doc = await signer_with_document(world, pki, "rsa")
        cert_path, key_path = issued.write(tmp_path, "o")
        (tmp_path / "a.pdf").write_bytes(doc.content["a.pdf"])
        signature = openssl_sign(tmp_path / "a.pdf", cert_path, key_path, tmp_path / "a.p7s", md="sha1")
        await self._rejected(await world.sign(owner, doc, "a.pdf", signature), "signature-digest")

    async def test_nothing_stored_and_nothing_published(self, world, pki, signing_events) -> None:
        owner, _, doc = await signer_with_document(world, pki)
        await self._rejected(await world.sign(owner, doc, "a.pdf", b"junk"), "signature-unreadable")
        listed = await world.http.get(f"/api/v1/documents/{doc.id}/signatures", headers=owner.headers)
        assert listed.json()["items"] == []
        await asyncio.sleep(1)
        assert signing_events.of_type("document.signed") == []


class TestAcceptedForms:
    async def test_pem_base64_and_raw_bodies(self, world, pki) -> None:
        owner, issued, doc = await signer_with_document(world, pki)
        der = sign_detached(doc.content["a.pdf"], issued)
        pem = b"-----BEGIN PKCS7-----\n" + base64.encodebytes(der) + b"-----END PKCS7-----\n"
        url = f"/api/v1/documents/{doc.id}/files/{doc.files['a.pdf']}/signatures"
        raw = await world.http.post(url, content=pem, headers={**owner.headers, "Content-Type": "text/plain"})
        assert raw.status_code == 201, raw.text
        again = sign_detached(doc.content["b.pdf"], issued)
        url_b = f"/api/v1/documents/{doc.id}/files/{doc.files['b.pdf']}/signatures"
        as_json = await world.http.post(url_b, json={"signature": base64.b64encode(again).decode()},
                                        headers=owner.headers)
        assert as_json.status_code == 201, as_json.text

    async def test_same_signature_twice_is_409(self, world, pki) -> None:
        owner, issued, doc = await signer_with_document(world, pki)
        der = sign_detached(doc.content["a.pdf"], issued)
        assert (await world.sign(owner, doc, "a.pdf", der)).status_code == 201
        assert (await world.sign(owner, doc, "a.pdf", der)).status_code == 409

    async def test_signature_without_embedded_certificate(self, world, pki, tmp_path) -> None:
        owner, issued, doc = await signer_with_document(world, pki)
        cert_path, key_path = issued.write(tmp_path, "o")
        (tmp_path / "a.pdf").write_bytes(doc.content["a.pdf"])
        subprocess.run(["openssl", "cms", "-sign", "-binary", "-nocerts", "-outform", "DER", "-md", "sha256",
                        "-in", str(tmp_path / "a.pdf"), "-signer", str(cert_path), "-inkey", str(key_path),
                        "-out", str(tmp_path / "a.p7s")], check=True, capture_output=True)
        response = await world.sign(owner, doc, "a.pdf", (tmp_path / "a.p7s").read_bytes())
        assert response.status_code == 201, response.text
        assert response.json()["trusted"] is True


class TestWhoMaySign:
    async def test_owner_sign_grant_read_grant_and_stranger(self, world, pki, signing_events) -> None:
        owner, _, doc = await signer_with_document(world, pki)
        signer, reader, stranger = await world.user("Signer"), await world.user("Reader"), await world.user()
        certs = {}
        for user in (signer, reader, stranger):
            certs[user.id] = pki.issue(user.full_name)
            await world.upload_certificate(user, certs[user.id])
        await world.share(doc, signer, "sign")
        await world.share(doc, reader, "read")
        sign = lambda user: world.sign(user, doc, "a.pdf", sign_detached(doc.content["a.pdf"], certs[user.id]))  # noqa: E731
        assert (await sign(stranger)).status_code == 404
        assert (await sign(reader)).status_code == 403
        accepted = await sign(signer)
        assert accepted.status_code == 201, accepted.text
        event = await signing_events.wait_for("document.signed",
                                              lambda e: e.data["signature_id"] == accepted.json()["id"])
        assert event.data["signer"]["user_id"] == signer.id and event.data["signer"]["email"] == signer.email
        assert event.data["owner"]["user_id"] == owner.id and event.data["document_id"] == doc.id
        assert event.data["file_id"] == doc.files["a.pdf"] and event.data["title"] == doc.title
        assert event.producer == "signing"

    async def test_revoked_grant_no_longer_signs(self, world, pki) -> None:
        owner, _, doc = await signer_with_document(world, pki)
        signer = await world.user()
        cert = pki.issue("S")
        await world.upload_certificate(signer, cert)
        await world.share(doc, signer, "sign")
        await world.publish(DocumentShareRevoked(document_id=doc.id, owner_id=owner.id, recipient_id=signer.id))
        await world.wait_for("grants", {"_id": f"{doc.id}:{signer.id}", "revoked": True, "permission": None})
        response = await world.sign(signer, doc, "a.pdf", sign_detached(doc.content["a.pdf"], cert))
        assert response.status_code == 404

    async def test_unknown_document_and_file(self, world, pki) -> None:
        owner, issued, doc = await signer_with_document(world, pki)
        der = sign_detached(doc.content["a.pdf"], issued)
        for url in (f"/api/v1/documents/doc_unknown/files/{doc.files['a.pdf']}/signatures",
                    f"/api/v1/documents/{doc.id}/files/fil_unknown/signatures"):
            response = await world.http.post(url, content=der, headers=owner.headers)
            assert response.status_code == 404


class TestReading:
    async def test_list_get_and_download(self, world, pki) -> None:
        owner, issued, doc = await signer_with_document(world, pki)
        der_a = sign_detached(doc.content["a.pdf"], issued)
        first = (await world.sign(owner, doc, "a.pdf", der_a)).json()
        second = (await world.sign(owner, doc, "b.pdf", sign_detached(doc.content["b.pdf"], issued))).json()
        listed = (await world.http.get(f"/api/v1/documents/{doc.id}/signatures", headers=owner.headers)).json()
        assert [s["id"] for s in listed["items"]] == [second["id"], first["id"]]
        only_a = (await world.http.get(f"/api/v1/documents/{doc.id}/signatures",
                                       params={"file_id": doc.files["a.pdf"]}, headers=owner.headers)).json()
        assert [s["id"] for s in only_a["items"]] == [first["id"]]
        paged = (await world.http.get(f"/api/v1/documents/{doc.id}/signatures?limit=1",
                                      headers=owner.headers)).json()
        assert len(paged["items"]) == 1 and paged["next_cursor"]
        one = await world.http.get(f"/api/v1/documents/{doc.id}/signatures/{first['id']}", headers=owner.headers)
        assert one.status_code == 200 and one.json()["certificate_id"] == first["certificate_id"]
        p7s = await world.http.get(f"/api/v1/documents/{doc.id}/signatures/{first['id']}/p7s",
                                   headers=owner.headers)
        assert p7s.status_code == 200 and p7s.content == der_a
        assert p7s.headers["content-type"] == "application/pkcs7-signature"
        assert "attachment" in p7s.headers["content-disposition"]

    async def test_stranger_sees_nothing(self, world, pki) -> None:
        owner, issued, doc = await signer_with_document(world, pki)
        sig = (await world.sign(owner, doc, "a.pdf", sign_detached(doc.content["a.pdf"], issued))).json()
        stranger = await world.user()
        for url in (f"/api/v1/documents/{doc.id}/signatures", f"/api/v1/documents/{doc.id}/signatures/{sig['id']}",
                    f"/api/v1/documents/{doc.id}/signatures/{sig['id']}/p7s",
                    f"/api/v1/documents/{doc.id}/signatures/bogus/p7s"):
            assert (await world.http.get(url, headers=stranger.headers)).status_code == 404
        assert (await world.http.get(f"/api/v1/documents/{doc.id}/signatures/sig_bogus/p7s",
                                     headers=owner.headers)).status_code == 404


class TestVerify:
    async def _verify(self, world, user, content: bytes, signature: bytes):
        return await world.http.post("/api/v1/signatures/verify", headers=user.headers, files={
            "file": ("f.pdf", content, "application/pdf"),
            "signature": ("f.p7s", signature, "application/pkcs7-signature"),
        })

    @pytest.mark.parametrize("key_type", KEY_TYPES)
    async def test_report_for_an_intact_signature(self, world, pki, key_type) -> None:
        user = await world.user()
        issued = pki.issue("Verifier", key_type=key_type)
        content = os.urandom(5000)
        response = await self._verify(world, user, content, sign_detached(content, issued))
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["intact"] and report["valid"] and report["trusted"]
        assert "Verifier" in report["signer_subject"] and report["signing_time"]
        assert len(report["chain"]) == 2 and report["file_sha256"] == hashlib.sha256(content).hexdigest()

    async def test_report_for_changed_content_and_untrusted_signer(self, world, pki) -> None:
        user = await world.user()
        issued = pki.issue("V")
        changed = (await self._verify(world, user, b"other", sign_detached(b"original", issued))).json()
        assert changed["intact"] is False and changed["trusted"] is False and changed["problems"]
        rogue = issue_user_certificate(pki.rogue, "R")
        untrusted = (await self._verify(world, user, b"x", sign_detached(b"x", rogue))).json()
        assert untrusted["intact"] and untrusted["valid"] and untrusted["trusted"] is False
        assert "trusted CA" in untrusted["problems"][0]

    async def test_garbage_and_missing_parts(self, world) -> None:
        user = await world.user()
        assert (await self._verify(world, user, b"x", b"garbage")).status_code == 422
        missing = await world.http.post("/api/v1/signatures/verify", headers=user.headers,
                                        files={"file": ("f", b"x", "application/pdf")})
        assert missing.status_code == 400
        wrong_type = await world.http.post("/api/v1/signatures/verify", headers=user.headers, json={})
        assert wrong_type.status_code == 415


class TestMalformedInput:
    async def test_corrupted_signatures_are_never_a_server_error(self, world, pki) -> None:
        import random

        owner, issued, doc = await signer_with_document(world, pki, "rsa")
        good = sign_detached(doc.content["a.pdf"], issued)
        rng = random.Random(5)
        statuses = set()
        for _ in range(40):
            corrupted = bytearray(good)
            for _ in range(rng.randint(1, 4)):
                corrupted[rng.randrange(len(corrupted))] = rng.randrange(256)
            response = await world.sign(owner, doc, "a.pdf", bytes(corrupted))
            assert response.status_code in (201, 409, 422), response.text
            assert response.headers["content-type"].startswith("application/")
            statuses.add(response.status_code)
        assert 422 in statuses

    async def test_corrupted_certificates_are_never_a_server_error(self, world, pki) -> None:
        import random

        user = await world.user()
        der = pki.issue("Fuzz").cert_der
        rng = random.Random(7)
        for _ in range(40):
            corrupted = bytearray(der)
            for _ in range(rng.randint(1, 3)):
                corrupted[rng.randrange(len(corrupted))] = rng.randrange(256)
            response = await world.http.post("/api/v1/certificates", content=bytes(corrupted), headers=user.headers)
            assert response.status_code in (201, 409, 422), response.text

    async def test_oversized_uploads_are_413(self, world, pki) -> None:
        owner, _, doc = await signer_with_document(world, pki)
        big_cert = await world.http.post("/api/v1/certificates", content=b"0" * 200_000, headers=owner.headers)
        assert big_cert.status_code == 413
        big_signature = await world.sign(owner, doc, "a.pdf", b"\x30" * 1_100_000)
        assert big_signature.status_code == 413
