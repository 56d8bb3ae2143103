"""Master-key rotation as docs/architecture.md describes it: restart with the new key current
(the old one still known), run ``rewrap``, and every file keeps its record and its bytes."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from docflow_dev.devstack import Stack
from docflow_dev.testing.issuer import LocalIssuer
from docflow_shared.mongo import create_client

from .conftest import start_documents


def master_key(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


K1, K2 = master_key("k1"), master_key("k2")


@pytest.fixture
def rotating(documents_env: dict[str, str], local_issuer: LocalIssuer,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A documents service of its own (database and namespace), started with only ``k1``."""
    own = uuid.uuid4().hex[:6]
    env = {**documents_env, "MONGODB_DB_PREFIX": f"{documents_env['MONGODB_DB_PREFIX']}rot{own}_",
           "BROKER_NAMESPACE": f"{documents_env['BROKER_NAMESPACE']}rot{own}."}
    stack = start_documents(env, local_issuer, tmp_path_factory,
                            DOCUMENTS_MASTER_KEYS=K1, DOCUMENTS_MASTER_KEY_ID="k1")
    yield stack
    stack.stop()


def run_rewrap(stack: Stack) -> str:
    env = {**os.environ, **stack.processes["documents"].env}
    done = subprocess.run([sys.executable, "-m", "docflow_documents.files.rewrap"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def key_ids(stack: Stack) -> set[str]:
    env = stack.processes["documents"].env
    client = create_client(env["MONGODB_URL"])
    try:
        files = client[f"{env['MONGODB_DB_PREFIX']}documents"]["files"]
        return {str(d["encryption"]["key_id"]) async for d in files.find({}, {"encryption": 1})}
    finally:
        await client.close()


class TestKeyRotation:
    async def test_rewrap_keeps_every_file_listed_and_byte_exact(self, rotating: Stack,
                                                                 local_issuer: LocalIssuer) -> None:
        owner = {"Authorization": f"Bearer {local_issuer.token(uuid.uuid4().hex)}"}
        data = os.urandom(300_000)
        base = rotating.url("documents") + "/api/v1"
        async with httpx.AsyncClient(base_url=base, timeout=60, headers=owner) as http:
            created = await http.post("/documents", json={"title": "Ротация", "content": "ключи"})
            assert created.status_code == 201, created.text
            files_url = f"/documents/{created.json()['id']}/files"
            uploaded = await http.post(files_url, files={"file": ("contract.pdf", data, "application/pdf")})
            assert uploaded.status_code == 201, uploaded.text
            file = uploaded.json()
            assert await key_ids(rotating) == {"k1"}

            rotating.restart("documents", {"DOCUMENTS_MASTER_KEYS": f"{K2},{K1}",
                                           "DOCUMENTS_MASTER_KEY_ID": "k2"})
            assert "re-wrapped 1 data keys" in run_rewrap(rotating)
            assert await key_ids(rotating) == {"k2"}

            # the old key can now go, as the rotation promises
            rotating.restart("documents", {"DOCUMENTS_MASTER_KEYS": K2})
            listed = await http.get(files_url)
            assert listed.status_code == 200, listed.text
            [item] = listed.json()["items"]
            assert (item["id"], item["name"], item["size"]) == (file["id"], "contract.pdf", len(data))
            content = await http.get(f"{files_url}/{file['id']}/content")
            assert content.status_code == 200, content.text[:300]
            assert content.content == data
            assert "re-wrapped 0 data keys" in run_rewrap(rotating)
