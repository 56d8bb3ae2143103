"""Certificates: upload (PEM, DER, multipart), checks with reasons, list, get, soft delete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from docflow_signing.crypto.devca import issue_user_certificate


class TestUpload:
    async def test_pem_as_json_is_parsed(self, world, pki) -> None:
        alice = await world.user("Alice", iin="900101300123")
        issued = pki.issue("Alice", key_type="rsa", iin="900101300123", email="alice@example.kz")
        response = await world.http.post("/api/v1/certificates", json={"pem": issued.cert_pem.decode()},
                                         headers=alice.headers)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["id"].startswith("crt_")
        assert body["key_algorithm"] == "RSA-2048"
        assert body["iin"] == "900101300123"
        assert body["email"] == "alice@example.kz"
        assert set(body["key_usage"]) >= {"digital_signature", "non_repudiation"}
        assert body["trusted"] is True and body["trust_problem"] is None
        assert body["chain"][0].startswith("Common Name: DocFlow Test CA")
        assert body["serial_number"] == format(issued.cert.serial_number, "x")
        assert body["subject_common_name"] == "Alice"

    async def test_der_as_raw_body(self, world, pki) -> None:
        user = await world.user()
        issued = pki.issue("Raw", key_type="ec")
        response = await world.http.post("/api/v1/certificates", content=issued.cert_der,
                                         headers={**user.headers, "Content-Type": "application/pkix-cert"})
        assert response.status_code == 201, response.text
        assert response.json()["key_algorithm"] == "ECDSA-P256"

    async def test_multipart_upload(self, world, pki) -> None:
        user = await world.user()
        issued = pki.issue("Multi")
        response = await world.http.post("/api/v1/certificates", headers=user.headers,
                                         files={"certificate": ("me.pem", issued.cert_pem, "application/x-pem-file")})
        assert response.status_code == 201, response.text

    async def test_duplicate_is_409_and_allowed_again_after_delete(self, world, pki) -> None:
        user = await world.user()
        issued = pki.issue("Dup")
        first = await world.upload_certificate(user, issued)
        again = await world.http.post("/api/v1/certificates", json={"pem": issued.cert_pem.decode()},
                                      headers=user.headers)
        assert again.status_code == 409
        assert again.headers["content-type"].startswith("application/problem+json")
        deleted = await world.http.delete(f"/api/v1/certificates/{first['id']}", headers=user.headers)
        assert deleted.status_code == 204
        assert (await world.http.get(f"/api/v1/certificates/{first['id']}", headers=user.headers)).status_code == 404
        reuploaded = await world.http.post("/api/v1/certificates", json={"pem": issued.cert_pem.decode()},
                                           headers=user.headers)
        assert reuploaded.status_code == 201

    async def test_same_certificate_for_two_users_is_not_a_duplicate(self, world, pki) -> None:
        issued = pki.issue("Shared")
        await world.upload_certificate(await world.user(), issued)
        await world.upload_certificate(await world.user(), issued)


class TestRejections:
    async def _rejected(self, world, user, data: bytes, slug: str) -> dict:
        response = await world.http.post("/api/v1/certificates", content=data, headers=user.headers)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["type"].endswith(slug), body
        return body

    async def test_without_signing_key_usage(self, world, pki) -> None:
        user = await world.user()
        await self._rejected(world, user, pki.issue("Enc", signing_usage=False).cert_pem, "certificate-key-usage")

    async def test_expired(self, world, pki) -> None:
        user = await world.user()
        now = datetime.now(UTC)
        old = pki.issue("Old", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))
        body = await self._rejected(world, user, old.cert_pem, "certificate-validity")
        assert "expired" in body["detail"]

    async def test_not_yet_valid(self, world, pki) -> None:
        user = await world.user()
        now = datetime.now(UTC)
        future = pki.issue("Future", not_before=now + timedelta(days=1), not_after=now + timedelta(days=30))
        body = await self._rejected(world, user, future.cert_pem, "certificate-validity")
        assert "not valid before" in body["detail"]

    async def test_untrusted_ca(self, world, pki) -> None:
        user = await world.user()
        rogue = issue_user_certificate(pki.rogue, "Mallory")
        body = await self._rejected(world, user, rogue.cert_pem, "certificate-untrusted")
        assert "trusted CA" in body["detail"]

    async def test_iin_of_another_person(self, world, pki) -> None:
        user = await world.user(iin="880202400456")
        await self._rejected(world, user, pki.issue("Other", iin="900101300123").cert_pem, "certificate-iin")

    async def test_garbage(self, world) -> None:
        user = await world.user()
        await self._rejected(world, user, b"not a certificate at all", "certificate-unreadable")
        await self._rejected(world, user, b"\x30\x82\x01\x00garbage", "certificate-unreadable")

    async def test_empty_body_and_bad_json(self, world) -> None:
        user = await world.user()
        empty = await world.http.post("/api/v1/certificates", content=b"", headers=user.headers)
        assert empty.status_code == 400
        bad = await world.http.post("/api/v1/certificates", content=b"{", headers={
            **user.headers, "Content-Type": "application/json"})
        assert bad.status_code == 400

    async def test_unauthenticated(self, world, pki) -> None:
        response = await world.http.post("/api/v1/certificates", content=pki.issue("X").cert_pem)
        assert response.status_code == 401

    async def test_nothing_stored_on_rejection(self, world, pki) -> None:
        user = await world.user()
        await self._rejected(world, user, pki.issue("Enc", signing_usage=False).cert_pem, "certificate-key-usage")
        listed = await world.http.get("/api/v1/certificates", headers=user.headers)
        assert listed.json()["items"] == []


class TestReading:
    async def test_list_is_paginated_newest_first_and_private(self, world, pki) -> None:
        user, other = await world.user(), await world.user()
        ids = [(await world.upload_certificate(user, pki.issue(f"C{i}")))["id"] for i in range(3)]
        await world.upload_certificate(other, pki.issue("Theirs"))
        first = (await world.http.get("/api/v1/certificates?limit=2", headers=user.headers)).json()
        assert [c["id"] for c in first["items"]] == ids[::-1][:2]
        second = (await world.http.get(f"/api/v1/certificates?limit=2&cursor={first['next_cursor']}",
                                       headers=user.headers)).json()
        assert [c["id"] for c in second["items"]] == [ids[0]] and second["next_cursor"] is None

    async def test_someone_elses_certificate_is_404(self, world, pki) -> None:
        owner, other = await world.user(), await world.user()
        cert = await world.upload_certificate(owner, pki.issue("Mine"))
        assert (await world.http.get(f"/api/v1/certificates/{cert['id']}", headers=other.headers)).status_code == 404
        assert (await world.http.delete(f"/api/v1/certificates/{cert['id']}",
                                        headers=other.headers)).status_code == 404
        got = await world.http.get(f"/api/v1/certificates/{cert['id']}", headers=owner.headers)
        assert got.status_code == 200 and got.json()["pem"].startswith("-----BEGIN CERTIFICATE-----")

    async def test_malformed_ids_are_404(self, world) -> None:
        user = await world.user()
        for bad in ("nope", "crt_zz", "crt_" + "0" * 24 + "x"):
            assert (await world.http.get(f"/api/v1/certificates/{bad}", headers=user.headers)).status_code == 404

    async def test_iin_is_checked_against_the_latest_profile(self, world, pki) -> None:
        from docflow_shared.events.catalogue import UserUpdated

        user = await world.user()
        await world.publish(UserUpdated(user_id=user.id, email=user.email, full_name=user.full_name,
                                        iin="770707300789"))
        await world.wait_for("users", {"_id": user.id, "iin": "770707300789"})
        mismatch = await world.http.post("/api/v1/certificates", content=pki.issue("U", iin="900101300123").cert_pem,
                                         headers=user.headers)
        assert mismatch.status_code == 422
        await world.upload_certificate(user, pki.issue("U", iin="770707300789"))
        await asyncio.sleep(0)
