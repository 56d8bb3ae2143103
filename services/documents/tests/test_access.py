"""Another user's resources are not found, on every path; malformed ids are not found either."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from jose import jwt

from docflow_dev.testing.issuer import LocalIssuer

MALFORMED = ["not-an-id", "-1", "A" * 32, "0" * 31 + "g", "x" * 2000, "%2e%2e", "null"]


async def victim_world(api: Any, make_user: Any) -> dict[str, Any]:
    owner, recipient = await make_user("Victim"), await make_user("Recipient")
    doc = await api.create_document(owner, title="Тайный договор", content="secret")
    await api.http.patch(f"/documents/{doc['id']}", json={"content": "secret v2"}, headers=owner.headers)
    file = await api.uploaded(owner, doc["id"], b"PK-not-really" * 10, name="secret.txt")
    comment = (await api.http.post(f"/documents/{doc['id']}/comments", json={"body": "private note"},
                                   headers=owner.headers)).json()
    await api.shared(owner, doc["id"], [recipient], "comment")
    item = (await api.http.get("/inbox", headers=recipient.headers)).json()["items"][0]
    contact = (await api.http.post("/contacts", json={"email": recipient.email}, headers=owner.headers)).json()
    return {"owner": owner, "recipient": recipient, "doc": doc, "file": file, "comment": comment,
            "item": item, "contact": contact}


def every_path(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    d, f, c = w["doc"]["id"], w["file"]["id"], w["comment"]["id"]
    base = f"/documents/{d}"
    return [
        ("GET", base, {}),
        ("PATCH", base, {"json": {"title": "stolen"}}),
        ("DELETE", base, {}),
        ("GET", f"{base}/versions", {}),
        ("GET", f"{base}/versions/1", {}),
        ("GET", f"{base}/files", {}),
        ("POST", f"{base}/files", {"files": {"file": ("x.txt", b"intruder")}}),
        ("GET", f"{base}/files/{f}", {}),
        ("PATCH", f"{base}/files/{f}", {"json": {"name": "stolen.txt"}}),
        ("DELETE", f"{base}/files/{f}", {}),
        ("GET", f"{base}/files/{f}/content", {}),
        ("GET", f"{base}/files/{f}/zip", {}),
        ("POST", f"{base}/share", {"json": {"recipients": [w["recipient"].email]}}),
        ("DELETE", f"{base}/share/{w['recipient'].id}", {}),
        ("GET", f"{base}/comments", {}),
        ("POST", f"{base}/comments", {"json": {"body": "intruder"}}),
        ("PATCH", f"{base}/comments/{c}", {"json": {"body": "stolen"}}),
        ("DELETE", f"{base}/comments/{c}", {}),
        ("POST", f"/inbox/{w['item']['id']}/archive", {}),
        ("POST", f"/inbox/{w['item']['id']}/unarchive", {}),
        ("DELETE", f"/contacts/{w['contact']['id']}", {}),
    ]


class TestIdorMatrix:
    async def test_a_stranger_gets_404_on_every_path(self, api: Any, make_user: Any, problem: Any) -> None:
        w = await victim_world(api, make_user)
        stranger = await make_user("Stranger")
        paths = every_path(w)
        assert len(paths) == 21
        for method, path, kwargs in paths:
            response = await api.http.request(method, path, headers=stranger.headers, **kwargs)
            assert response.status_code == 404, (method, path, response.status_code, response.text[:200])
            problem(response, 404)
        # nothing changed
        owner = w["owner"]
        doc = (await api.http.get(f"/documents/{w['doc']['id']}", headers=owner.headers)).json()
        assert doc["title"] == "Тайный договор" and doc["version"] == 2
        file = (await api.http.get(f"/documents/{w['doc']['id']}/files/{w['file']['id']}", headers=owner.headers))
        assert file.status_code == 200 and file.json()["name"] == "secret.txt"
        files = (await api.http.get(f"/documents/{w['doc']['id']}/files", headers=owner.headers)).json()["items"]
        assert len(files) == 1
        comments = (await api.http.get(f"/documents/{w['doc']['id']}/comments", headers=owner.headers)).json()
        assert [c["body"] for c in comments["items"]] == ["private note"]
        item = (await api.http.get("/inbox", headers=w["recipient"].headers)).json()["items"]
        assert item[0]["archived"] is False
        assert len((await api.http.get("/contacts", headers=owner.headers)).json()["items"]) == 1
        assert await api.db.shares.find_one({"document_id": w["doc"]["id"], "recipient_id": stranger.id}) is None

    async def test_own_document_with_someone_elses_child_ids(self, api: Any, make_user: Any) -> None:
        w = await victim_world(api, make_user)
        stranger = await make_user("Stranger")
        mine = await api.create_document(stranger)
        base = f"/documents/{mine['id']}"
        for method, path, kwargs in [
            ("GET", f"{base}/files/{w['file']['id']}", {}),
            ("GET", f"{base}/files/{w['file']['id']}/content", {}),
            ("GET", f"{base}/files/{w['file']['id']}/zip", {}),
            ("PATCH", f"{base}/files/{w['file']['id']}", {"json": {"name": "x"}}),
            ("DELETE", f"{base}/files/{w['file']['id']}", {}),
            ("PATCH", f"{base}/comments/{w['comment']['id']}", {"json": {"body": "x"}}),
            ("DELETE", f"{base}/comments/{w['comment']['id']}", {}),
            ("DELETE", f"{base}/share/{w['recipient'].id}", {}),
        ]:
            response = await api.http.request(method, path, headers=stranger.headers, **kwargs)
            assert response.status_code == 404, (method, path, response.text[:200])

    async def test_unknown_and_malformed_ids(self, api: Any, make_user: Any, problem: Any) -> None:
        w = await victim_world(api, make_user)
        owner = w["owner"]
        unknown = uuid.uuid4().hex
        for bad in [unknown, *MALFORMED]:
            d = w["doc"]["id"]
            for method, path, kwargs in [
                ("GET", f"/documents/{bad}", {}),
                ("PATCH", f"/documents/{bad}", {"json": {"title": "x"}}),
                ("DELETE", f"/documents/{bad}", {}),
                ("GET", f"/documents/{bad}/versions", {}),
                ("GET", f"/documents/{d}/versions/{bad}", {}),
                ("GET", f"/documents/{bad}/files", {}),
                ("POST", f"/documents/{bad}/files", {"files": {"file": ("x.txt", b"x")}}),
                ("GET", f"/documents/{d}/files/{bad}", {}),
                ("GET", f"/documents/{d}/files/{bad}/content", {}),
                ("GET", f"/documents/{d}/files/{bad}/zip", {}),
                ("PATCH", f"/documents/{d}/files/{bad}", {"json": {"name": "x"}}),
                ("DELETE", f"/documents/{d}/files/{bad}", {}),
                ("DELETE", f"/documents/{d}/share/{bad}", {}),
                ("PATCH", f"/documents/{d}/comments/{bad}", {"json": {"body": "x"}}),
                ("DELETE", f"/documents/{d}/comments/{bad}", {}),
                ("POST", f"/inbox/{bad}/archive", {}),
                ("POST", f"/inbox/{bad}/unarchive", {}),
                ("DELETE", f"/contacts/{bad}", {}),
            ]:
                response = await api.http.request(method, path, headers=owner.headers, **kwargs)
                problem(response, 404)


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
async def test_bad_tokens_are_401(api: Any, problem: Any, token: str) -> None:
    problem(await api.http.get("/documents", headers={"Authorization": f"Bearer {token}"}), 401)
    problem(await api.http.get("/inbox", headers={"Authorization": f"Bearer {token}"}), 401)


async def test_a_correctly_signed_token_without_aud_is_401(api: Any, problem: Any, local_issuer: LocalIssuer) -> None:
    claims = jwt.get_unverified_claims(local_issuer.token("u-no-aud"))
    del claims["aud"]
    token = jwt.encode(claims, local_issuer.private_pem, algorithm="ES256", headers={"kid": local_issuer.kid})
    problem(await api.http.get("/documents", headers={"Authorization": f"Bearer {token}"}), 401)
