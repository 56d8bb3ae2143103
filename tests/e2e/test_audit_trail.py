"""The audit trail through the gateway: reads, downloads, shares, comments and signatures become
records of the document's hash chain; its owner and participants read it, anyone else gets 404;
an export verifies offline, and a record edited or removed in the database makes it fail."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from docflow_dev.testing.asserts import assert_problem, eventually
from docflow_signing.crypto.devca import Issued, create_ca, issue_user_certificate, sign_detached

API = "/api/v1"
SignUp = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture(scope="module")
def ca(platform_env: dict[str, str]) -> Issued:
    """A CA the stack's signing service trusts (its default trust directory)."""
    authority = create_ca("Audit Test CA")
    trust = Path(platform_env["DATA_DIR"]) / "signing" / "trust"
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "audit-ca.pem").write_bytes(authority.cert_pem)
    return authority


async def person(client: httpx.AsyncClient, verified_headers: SignUp, name: str) -> dict[str, Any]:
    headers = await verified_headers(full_name=name)
    me = await client.get(f"{API}/users/me", headers=headers)
    assert me.status_code == 200, me.text
    return {"id": me.json()["id"], "email": me.json()["email"], "headers": headers}


async def document_with_file(client: httpx.AsyncClient, owner: dict[str, Any], content: bytes) -> tuple[str, str]:
    created = await client.post(f"{API}/documents", json={"title": "Supply contract"}, headers=owner["headers"])
    assert created.status_code == 201, created.text
    doc_id = created.json()["id"]
    upload = await client.post(f"{API}/documents/{doc_id}/files", headers=owner["headers"],
                               files={"file": ("contract.pdf", content, "application/pdf")})
    assert upload.status_code == 201, upload.text
    return doc_id, upload.json()["id"]


async def trail(client: httpx.AsyncClient, who: dict[str, Any], doc_id: str) -> list[dict[str, Any]]:
    """Every record, page after page."""
    records: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = await client.get(f"{API}/documents/{doc_id}/audit", headers=who["headers"], params=params)
        assert page.status_code == 200, page.text
        records += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return records


async def actions_reach(client: httpx.AsyncClient, who: dict[str, Any], doc_id: str,
                        wanted: set[str]) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]]:
        records = await trail(client, who, doc_id)
        assert wanted <= {r["action"] for r in records}, [r["action"] for r in records]
        return records

    return await eventually(check, timeout=30, what=f"trail with {sorted(wanted)}")  # type: ignore[no-any-return]


async def export_to(client: httpx.AsyncClient, who: dict[str, Any], doc_id: str, path: Path) -> dict[str, Any]:
    exported = await client.get(f"{API}/documents/{doc_id}/audit/export", headers=who["headers"])
    assert exported.status_code == 200, exported.text
    path.write_text(exported.text)
    return exported.json()  # type: ignore[no-any-return]


def verify(path: Path) -> subprocess.CompletedProcess[str]:
    """The documented offline check, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "docflow_audit.verify", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)


def audit_records(platform_env: dict[str, str]) -> Any:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform_env["MONGODB_URL"])
    return client, client[f"{platform_env['MONGODB_DB_PREFIX']}audit"]["records"]


async def test_actions_on_a_document_make_its_trail(client, verified_headers, register_certificate, ca,
                                                    tmp_path) -> None:
    owner = await person(client, verified_headers, "Owner")
    reader = await person(client, verified_headers, "Reader")
    stranger = await person(client, verified_headers, "Stranger")
    content = os.urandom(3_000)
    doc_id, file_id = await document_with_file(client, owner, content)

    request_id = f"audit-{uuid.uuid4().hex}"
    seen = await client.get(f"{API}/documents/{doc_id}", headers={
        **owner["headers"], "User-Agent": "audit-e2e/1.0", "X-Request-ID": request_id})
    assert seen.status_code == 200, seen.text
    fetched = await client.get(f"{API}/documents/{doc_id}/files/{file_id}/content", headers=owner["headers"])
    assert fetched.status_code == 200 and fetched.content == content
    shared = await client.post(f"{API}/documents/{doc_id}/share",
                               headers={**owner["headers"], "User-Agent": "sharer/2"},
                               json={"recipients": [reader["email"]], "permission": "comment"})
    assert shared.status_code == 201, shared.text
    commented = await client.post(f"{API}/documents/{doc_id}/comments", headers=reader["headers"],
                                  json={"body": "Clause 4 needs a date."})
    assert commented.status_code == 201, commented.text

    cert = issue_user_certificate(ca, "Owner")
    registered = await eventually(lambda: _registered(client, register_certificate, owner, cert), timeout=30,
                                  what="certificate registered")
    assert registered.status_code == 201, registered.text

    async def signed() -> httpx.Response:
        response = await client.post(
            f"{API}/documents/{doc_id}/files/{file_id}/signatures", headers=owner["headers"],
            files={"signature": ("contract.p7s", sign_detached(content, cert), "application/pkcs7-signature")})
        assert response.status_code == 201, response.text  # 404 until signing has seen the file
        return response

    await eventually(signed, timeout=30, what="signature accepted")

    records = await actions_reach(client, owner, doc_id, {
        "created", "file_added", "viewed", "downloaded", "shared", "commented", "signed"})
    by_action = {r["action"]: r for r in records}
    view = next(r for r in records if r["action"] == "viewed" and r["client"]["request_id"] == request_id)
    assert view["actor"]["user_id"] == owner["id"]
    assert view["client"]["user_agent"] == "audit-e2e/1.0"
    assert view["client"]["ip"] == "127.0.0.1"
    assert by_action["downloaded"]["details"]["file_id"] == file_id
    assert by_action["downloaded"]["actor"]["user_id"] == owner["id"]
    assert by_action["shared"]["details"]["recipient"]["user_id"] == reader["id"]
    assert by_action["shared"]["client"]["user_agent"] == "sharer/2"
    assert by_action["shared"]["client"]["ip"] == "127.0.0.1"
    assert by_action["commented"]["actor"]["user_id"] == reader["id"]
    assert by_action["signed"]["actor"]["user_id"] == owner["id"]
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert all(r["prev_hash"] == p["hash"] for p, r in itertools.pairwise(records))

    # a participant reads it too; anyone else finds no such document, trail or export
    assert await trail(client, reader, doc_id)
    assert_problem(await client.get(f"{API}/documents/{doc_id}/audit", headers=stranger["headers"]), 404)
    assert_problem(await client.get(f"{API}/documents/{doc_id}/audit/export", headers=stranger["headers"]), 404)
    assert_problem(await client.get(f"{API}/documents/{uuid.uuid4().hex}/audit", headers=owner["headers"]), 404)

    # the reader's share revoked: the trail records it, and the reader no longer reads it
    revoked = await client.delete(f"{API}/documents/{doc_id}/share/{reader['id']}", headers=owner["headers"])
    assert revoked.status_code == 204, revoked.text
    await actions_reach(client, owner, doc_id, {"unshared"})

    async def refused() -> bool:
        response = await client.get(f"{API}/documents/{doc_id}/audit", headers=reader["headers"])
        assert response.status_code == 404, response.text
        return True

    await eventually(refused, timeout=30, what="reader refused after the revoke")

    exported = await export_to(client, owner, doc_id, tmp_path / "trail.json")
    assert exported["head"]["seq"] == len(exported["records"]) >= len(records)
    result = verify(tmp_path / "trail.json")
    assert result.returncode == 0, result.stderr


async def _registered(client: httpx.AsyncClient, register: Any, owner: dict[str, Any], cert: Issued) -> httpx.Response:
    response = await register(client, owner["headers"], cert)
    assert response.status_code != 422 or "untrusted" not in response.text, response.text  # trust store re-read
    return response  # type: ignore[no-any-return]


class TestTampering:
    async def viewed_trail(self, client: httpx.AsyncClient, verified_headers: SignUp,
                           views: int) -> tuple[dict[str, Any], str]:
        owner = await person(client, verified_headers, "Owner")
        doc_id, _file_id = await document_with_file(client, owner, os.urandom(500))
        for _ in range(views):
            assert (await client.get(f"{API}/documents/{doc_id}", headers=owner["headers"])).status_code == 200

        async def complete() -> bool:
            assert sum(r["action"] == "viewed" for r in await trail(client, owner, doc_id)) == views
            return True

        await eventually(complete, timeout=30, what=f"{views} views recorded")
        return owner, doc_id

    async def test_an_edited_record_breaks_the_export(self, client, verified_headers, platform_env,
                                                      tmp_path) -> None:
        owner, doc_id = await self.viewed_trail(client, verified_headers, 3)
        untouched = tmp_path / "untouched.json"
        await export_to(client, owner, doc_id, untouched)
        assert verify(untouched).returncode == 0

        mongo, records = audit_records(platform_env)
        try:
            edited = await records.update_one({"document_id": doc_id, "seq": 3},
                                              {"$set": {"client.ip": "203.0.113.9"}})
            assert edited.modified_count == 1
        finally:
            await mongo.close()
        tampered = tmp_path / "tampered.json"
        await export_to(client, owner, doc_id, tampered)
        result = verify(tampered)
        assert result.returncode == 1, result.stdout
        assert "seq 3" in result.stderr and "edited" in result.stderr
        assert verify(untouched).returncode == 0  # what was exported before still holds

    @pytest.mark.parametrize("removed", ["middle", "last"])
    async def test_a_removed_record_breaks_the_export(self, client, verified_headers, platform_env, tmp_path,
                                                      removed: str) -> None:
        owner, doc_id = await self.viewed_trail(client, verified_headers, 3)
        before = await export_to(client, owner, doc_id, tmp_path / "before.json")
        seq = 3 if removed == "middle" else len(before["records"])
        mongo, records = audit_records(platform_env)
        try:
            assert (await records.delete_one({"document_id": doc_id, "seq": seq})).deleted_count == 1
        finally:
            await mongo.close()
        tampered = tmp_path / "tampered.json"
        await export_to(client, owner, doc_id, tampered)
        result = verify(tampered)
        assert result.returncode == 1, result.stdout
        assert verify(tmp_path / "before.json").returncode == 0

    async def test_a_file_that_is_not_an_export_is_status_2(self, tmp_path) -> None:
        path = tmp_path / "other.json"
        path.write_text(json.dumps({"hello": "world"}))
        assert verify(path).returncode == 2


class TestThroughTheGateway:
    async def test_the_gateway_knows_audit_in_ready_and_the_merged_openapi(self, client) -> None:
        ready = await client.get("/ready")
        assert ready.json()["checks"].get("audit") == "up", ready.text
        spec = (await client.get("/openapi.json")).json()
        assert {f"{API}/documents/{{document_id}}/audit", f"{API}/documents/{{document_id}}/audit/export"} \
            <= set(spec["paths"]), sorted(spec["paths"])
