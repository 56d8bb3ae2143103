"""Certificates: upload (PEM, DER, multipart), checks with reasons, list, get, soft delete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from docflow_signing.crypto.devca import issue_user_certificate, key_proof


class TestUpload:
    async def test_pem_as_json_is_parsed(self, world, pki) -> None:
        alice = await world.user("Alice", iin="900101300123")
        issued = pki.issue("Alice", key_type="rsa", iin="900101300123", email="alice@example.kz")
        response = await world.http.post("/api/v1/certificates", json={"pem": issued.cert_pem.decode()},
                                         headers=await world.possession(alice, issued))
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
        response = await world.http.post("/api/v1/certificates", content=issued.cert_der, headers={
            **await world.possession(user, issued), "Content-Type": "application/pkix-cert"})
        assert response.status_code == 201, response.text
        assert response.json()["key_algorithm"] == "ECDSA-P256"

    async def test_multipart_upload(self, world, pki) -> None:
        user = await world.user()
        issued = pki.issue("Multi")
        response = await world.http.post("/api/v1/certificates", headers=await world.possession(user, issued),
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
                                           headers=await world.possession(user, issued))
        assert reuploaded.status_code == 201

    async def test_a_certificate_is_active_on_one_account_only(self, world, pki) -> None:
        issued = pki.issue("Shared")
        first, second = await world.user(), await world.user()
        registered = await world.upload_certificate(first, issued)
        taken = await world.http.post("/api/v1/certificates", json={"pem": issued.cert_pem.decode()},
                                      headers=await world.possession(second, issued))
        assert taken.status_code == 409 and taken.json()["type"].endswith("certificate-taken"), taken.text
        await world.http.delete(f"/api/v1/certificates/{registered['id']}", headers=first.headers)
        await world.upload_certificate(second, issued)  # released by its holder, it may move


class TestPossession:
    async def _refused(self, world, user, issued, headers: dict, slug: str) -> None:
        response = await world.http.post("/api/v1/certificates", json={"pem": issued.cert_pem.decode()},
                                         headers={**user.headers, **headers})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith(slug), response.text

    async def _challenge(self, world, user) -> str:
        response = await world.http.post("/api/v1/certificates/challenges", headers=user.headers)
        assert response.status_code == 201, response.text
        return response.json()["challenge"]  # type: ignore[no-any-return]

    async def test_challenge_is_random_and_expires_soon(self, world) -> None:
        user = await world.user()
        first = await world.http.post("/api/v1/certificates/challenges", headers=user.headers)
        second = await world.http.post("/api/v1/certificates/challenges", headers=user.headers)
        assert first.json()["challenge"] != second.json()["challenge"]
        expires = datetime.fromisoformat(first.json()["expires_at"])
        assert timedelta(minutes=3) < expires - datetime.now(UTC) <= timedelta(minutes=5)
        assert (await world.http.post("/api/v1/certificates/challenges")).status_code == 401

    async def test_missing_proof(self, world, pki) -> None:
        user, issued = await world.user(), pki.issue("P")
        await self._refused(world, user, issued, {}, "key-proof-missing")
        await self._refused(world, user, issued, {"DocFlow-Key-Challenge": await self._challenge(world, user)},
                            "key-proof-missing")

    async def test_proof_with_another_key(self, world, pki) -> None:
        user, issued, other = await world.user(), pki.issue("P"), pki.issue("Q", key_type="rsa")
        challenge = await self._challenge(world, user)
        await self._refused(world, user, issued, {"DocFlow-Key-Challenge": challenge,
                                                  "DocFlow-Key-Proof": key_proof(challenge, other)},
                            "key-proof-invalid")

    async def test_proof_of_another_text(self, world, pki) -> None:
        user, issued = await world.user(), pki.issue("P")
        challenge = await self._challenge(world, user)
        await self._refused(world, user, issued, {"DocFlow-Key-Challenge": challenge,
                                                  "DocFlow-Key-Proof": key_proof(challenge + "x", issued)},
                            "key-proof-invalid")
        challenge = await self._challenge(world, user)
        await self._refused(world, user, issued, {"DocFlow-Key-Challenge": challenge,
                                                  "DocFlow-Key-Proof": "bm90IGEgQ01T"}, "key-proof-invalid")

    async def test_replayed_expired_foreign_or_made_up_challenge(self, world, pki) -> None:
        user, other, issued = await world.user(), await world.user(), pki.issue("P", key_type="rsa")
        headers = await world.possession(user, issued)
        first = await world.http.post("/api/v1/certificates", json={"pem": issued.cert_pem.decode()}, headers=headers)
        assert first.status_code == 201
        await world.http.delete(f"/api/v1/certificates/{first.json()['id']}", headers=user.headers)
        replay = {k: v for k, v in headers.items() if k.startswith("DocFlow")}
        await self._refused(world, user, issued, replay, "key-challenge-invalid")
        theirs = await world.possession(other, issued)
        await self._refused(world, user, issued, {k: v for k, v in theirs.items() if k.startswith("DocFlow")},
                            "key-challenge-invalid")
        challenge = await self._challenge(world, user)
        await world.db["key_challenges"].update_many({"user_id": user.id},
                                                      {"$set": {"expires_at": datetime.now(UTC)}})
        await self._refused(world, user, issued, {"DocFlow-Key-Challenge": challenge,
                                                  "DocFlow-Key-Proof": key_proof(challenge, issued)},
                            "key-challenge-invalid")
        made_up = "docflow-key-challenge." + "A" * 43
        await self._refused(world, user, issued, {"DocFlow-Key-Challenge": made_up,
                                                  "DocFlow-Key-Proof": key_proof(made_up, issued)},
                            "key-challenge-invalid")


class TestRejections:
    async def _rejected(self, world, user, data: bytes, slug: str, issued=None) -> dict:
        headers = await world.possession(user, issued) if issued else user.headers
        response = await world.http.post("/api/v1/certificates", content=data, headers=headers)
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
        other = pki.issue("Other", iin="900101300999")
        await self._rejected(world, user, other.cert_pem, "certificate-iin", other)

    async def test_iin_of_another_account(self, world, pki) -> None:
        await world.user("Owner", iin="910101300111")
        user = await world.user(iin="920202400222")
        theirs = pki.issue("Owner", iin="910101300111")
        await self._rejected(world, user, theirs.cert_pem, "certificate-iin-foreign", theirs)

    async def test_iin_certificate_on_an_account_without_iin(self, world, pki) -> None:
        user = await world.user()
        mine = pki.issue("No IIN yet", iin="930303300338")  # a real IIN: its control digit matches
        body = await self._rejected(world, user, mine.cert_pem, "certificate-iin-missing", mine)
        assert "profile" in body["detail"]

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
        wrong = pki.issue("U", iin="900101300770")  # a real IIN: its control digit matches
        mismatch = await world.http.post("/api/v1/certificates", content=wrong.cert_pem,
                                         headers=await world.possession(user, wrong))
        assert mismatch.status_code == 422
        await world.upload_certificate(user, pki.issue("U", iin="770707300789"))
        await asyncio.sleep(0)
