"""Abandoned uploads: what a process killed mid-upload left in GridFS is removed, an upload whose
client went quiet for longer than the idle limit is dropped with 408, a finished one is kept.

A second documents process with a 2-second idle limit and a sweep every half second runs beside
the session's one, on the same database and broker namespace.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from docflow_dev.devstack import Stack
from docflow_dev.testing.issuer import LocalIssuer
from docflow_shared.mongo import Document

from .conftest import start_documents

IDLE_SECONDS = 2.0
SWEEP_SECONDS = 0.5
MIB = 1024 * 1024
BOUNDARY = "sweeper-test-boundary"

Eventually = Callable[..., Awaitable[None]]


@pytest.fixture(scope="module")
def sweeping_service(documents_env: dict[str, str], local_issuer: LocalIssuer,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_documents(documents_env, local_issuer, tmp_path_factory, DOCUMENTS_MAX_UPLOAD_MB="64",
                            DOCUMENTS_UPLOAD_IDLE_SECONDS=str(IDLE_SECONDS),
                            DOCUMENTS_UPLOAD_SWEEP_SECONDS=str(SWEEP_SECONDS))
    yield stack
    stack.stop()


async def file_body(first: int, rest: int, pause: asyncio.Event | float) -> AsyncIterator[bytes]:
    """A multipart body: ``first`` bytes, then a pause (forever on an Event that is never set, or
    some seconds), then ``rest`` bytes and the closing boundary."""
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
           "Content-Type: application/octet-stream\r\n\r\n").encode()
    block = os.urandom(MIB)
    for _ in range(first // MIB):
        yield block
    if isinstance(pause, asyncio.Event):
        await pause.wait()
    else:
        await asyncio.sleep(pause)
    for _ in range(rest // MIB):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def start_upload(http: httpx.AsyncClient, user: Any, document_id: str,
                       body: AsyncIterator[bytes]) -> asyncio.Task[httpx.Response]:
    headers = {**user.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    return asyncio.create_task(http.post(f"/documents/{document_id}/files", content=body, headers=headers))


async def stored_upload(db: AsyncDatabase[Document], wait_until: Eventually) -> str:
    """The id of the one upload being stored, once some of its chunks are in GridFS."""
    found: list[str] = []

    async def some_chunks_stored() -> bool:
        for upload in await db["uploads"].find({}).to_list():
            if await db["fs.chunks"].find_one({"files_id": upload["_id"]}, {"_id": 1}):
                found.append(str(upload["_id"]))
                return True
        return False

    await wait_until(some_chunks_stored, what="the first chunks of the upload")
    return found[0]


async def left_behind(db: AsyncDatabase[Document], file_id: str) -> dict[str, int]:
    return {
        "chunks": len(await db["fs.chunks"].find({"files_id": file_id}, {"_id": 1}).to_list()),
        "gridfs_entries": len(await db["fs.files"].find({"_id": file_id}, {"_id": 1}).to_list()),
        "upload_entries": len(await db["uploads"].find({"_id": file_id}).to_list()),
        "file_records": len(await db["files"].find({"_id": file_id}, {"_id": 1}).to_list()),
    }


NOTHING = {"chunks": 0, "gridfs_entries": 0, "upload_entries": 0, "file_records": 0}


async def test_a_process_killed_mid_upload_leaves_nothing_behind(
        sweeping_service: Stack, make_user: Any, documents_db: AsyncDatabase[Document],
        wait_until: Eventually) -> None:
    owner = await make_user()
    process = sweeping_service.processes["documents"]
    async with httpx.AsyncClient(base_url=process.url + "/api/v1", timeout=60) as http:
        created = await http.post("/documents", json={"title": "Акт"}, headers=owner.headers)
        assert created.status_code == 201, created.text
        upload = await start_upload(http, owner, created.json()["id"], file_body(6 * MIB, MIB, asyncio.Event()))
        file_id = await stored_upload(documents_db, wait_until)
        assert (await left_behind(documents_db, file_id))["chunks"] >= 4

        assert process.process is not None
        os.kill(process.process.pid, signal.SIGKILL)  # no shutdown, no clean-up of its own
        process.process.wait(10)
        upload.cancel()
        with pytest.raises((asyncio.CancelledError, httpx.HTTPError)):
            await upload
        assert (await left_behind(documents_db, file_id))["chunks"] >= 4

    process.start()
    process.wait()

    async def swept() -> bool:
        return await left_behind(documents_db, file_id) == NOTHING

    await wait_until(swept, timeout=IDLE_SECONDS + 15, what="the abandoned upload's removal")


async def test_an_upload_quiet_for_longer_than_the_idle_limit_is_dropped(
        sweeping_service: Stack, make_user: Any, documents_db: AsyncDatabase[Document],
        wait_until: Eventually, problem: Any) -> None:
    owner = await make_user()
    async with httpx.AsyncClient(base_url=sweeping_service.url("documents") + "/api/v1", timeout=60) as http:
        created = await http.post("/documents", json={"title": "Акт"}, headers=owner.headers)
        document_id = created.json()["id"]
        quiet = IDLE_SECONDS + 3 * SWEEP_SECONDS + 1
        upload = await start_upload(http, owner, document_id, file_body(5 * MIB, 4 * MIB, quiet))
        file_id = await stored_upload(documents_db, wait_until)
        response = await upload
        body = problem(response, 408)
        assert "again" in body["detail"]
        assert await left_behind(documents_db, file_id) == NOTHING
        listed = await http.get(f"/documents/{document_id}/files", headers=owner.headers)
        assert listed.json()["items"] == []


async def test_a_finished_upload_is_not_swept(sweeping_service: Stack, make_user: Any,
                                              documents_db: AsyncDatabase[Document]) -> None:
    owner = await make_user()
    data = os.urandom(5 * MIB + 17)
    async with httpx.AsyncClient(base_url=sweeping_service.url("documents") + "/api/v1", timeout=60) as http:
        created = await http.post("/documents", json={"title": "Акт"}, headers=owner.headers)
        document_id = created.json()["id"]
        uploaded = await http.post(f"/documents/{document_id}/files", headers=owner.headers,
                                   files={"file": ("kept.bin", data, "application/octet-stream")})
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["id"]
        assert (await left_behind(documents_db, file_id))["upload_entries"] == 0
        await asyncio.sleep(IDLE_SECONDS + 3 * SWEEP_SECONDS)
        downloaded = await http.get(f"/documents/{document_id}/files/{file_id}/content", headers=owner.headers)
        assert downloaded.status_code == 200
        assert downloaded.content == data
