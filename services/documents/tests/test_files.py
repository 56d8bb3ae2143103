"""Files: encrypted streamed upload, exact download, ranges, duplicates, limits, names, ZIP listing."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import zipfile
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from docflow_dev.testing.events import EventTap
from docflow_shared import streebog
from docflow_shared.events import Person
from docflow_shared.events.catalogue import (
    DocumentSigned,
    SignatureFileDigestsRequested,
    SignatureRequestCancelled,
    SignatureRequested,
)

PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


def zip_bytes(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def lying_zip(*, entries: int, claimed: int, damaged_after: int | None = None) -> bytes:
    """A stored archive of ``entries`` files whose end record claims ``claimed`` of them; the
    directory header after ``damaged_after`` entries is overwritten, so parsing it all fails."""
    data = bytearray(zip_bytes({f"f{i}.txt": b"x" for i in range(entries)}, zipfile.ZIP_STORED))
    eocd = data.rfind(b"PK\x05\x06")
    data[eocd + 8:eocd + 12] = claimed.to_bytes(2, "little") * 2
    if damaged_after is not None:
        cd_start = int.from_bytes(data[eocd + 16:eocd + 20], "little")
        at = cd_start
        for _ in range(damaged_after):
            at += 46 + sum(int.from_bytes(data[at + k:at + k + 2], "little") for k in (28, 30, 32))
        data[at:at + 4] = b"JUNK"
    return bytes(data)


class TestUploadAndDownload:
    async def test_round_trip_is_exact_and_encrypted_at_rest(self, api: Any, make_user: Any,
                                                             events: EventTap) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        marker = b"CONFIDENTIAL-DOCFLOW-PLAINTEXT-MARKER-"
        data = (marker * 60_000)[: 2 * 1024 * 1024 + 12_345]  # three sealed chunks, the last one short
        file = await api.uploaded(owner, doc["id"], data, name="report.txt")
        assert file["size"] == len(data) and file["sha256"] == hashlib.sha256(data).hexdigest()
        assert file["content_type"].startswith("text/plain") and file["duplicates"] == []

        chunks = await api.chunks_of(file["id"])
        assert [c["n"] for c in chunks] == [0, 1, 2]
        stored = b"".join(bytes(c["data"]) for c in chunks)
        assert marker not in stored and marker[:16] not in stored
        assert len(stored) == len(data) + 3 * 16  # one GCM tag per chunk
        record = await api.db.files.find_one({"_id": file["id"]})
        assert record["encryption"]["algorithm"].startswith("AES-256-GCM")
        assert "data_key" not in record["encryption"] and record["encryption"]["wrapped_key"]

        url = f"/documents/{doc['id']}/files/{file['id']}/content"
        response = await api.http.get(url, headers=owner.headers)
        assert response.status_code == 200
        assert hashlib.sha256(response.content).hexdigest() == file["sha256"]
        assert response.headers["content-length"] == str(len(data))
        assert response.headers["etag"] == f'"{file["sha256"]}"'
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["content-disposition"].startswith("attachment;")
        event = await events.wait_for("document.file_added", lambda e: e.data["file_id"] == file["id"])
        assert event.data["sha256"] == file["sha256"] and event.data["size"] == len(data)
        assert event.data["name"] == "report.txt" and event.data["content_type"] == file["content_type"]

        cached = await api.http.get(url, headers={**owner.headers, "If-None-Match": response.headers["etag"]})
        assert cached.status_code == 304

    async def test_ranges(self, api: Any, make_user: Any, problem: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        data = os.urandom(1024 * 1024 * 2 + 100)
        file = await api.uploaded(owner, doc["id"], data)
        url = f"/documents/{doc['id']}/files/{file['id']}/content"
        size = len(data)
        cases = {
            "bytes=0-99": (0, 99),
            "bytes=1048570-1048600": (1048570, 1048600),  # across a chunk boundary
            f"bytes={size - 10}-": (size - 10, size - 1),
            "bytes=-25": (size - 25, size - 1),
            f"bytes=5-{size + 1000}": (5, size - 1),
        }
        for header, (start, end) in cases.items():
            response = await api.http.get(url, headers={**owner.headers, "Range": header})
            assert response.status_code == 206, header
            assert response.content == data[start:end + 1], header
            assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"
            assert response.headers["content-length"] == str(end - start + 1)
        body = problem(await api.http.get(url, headers={**owner.headers, "Range": f"bytes={size}-"}), 416)
        assert body["status"] == 416
        whole = await api.http.get(url, headers={**owner.headers, "Range": "bytes=0-1,5-6"})
        assert whole.status_code == 200 and whole.content == data

    async def test_type_is_detected_from_the_bytes(self, api: Any, make_user: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        pdf = await api.uploaded(owner, doc["id"], PDF_HEAD + os.urandom(2000), name="scan.txt")
        assert pdf["content_type"] == "application/pdf"
        binary = await api.uploaded(owner, doc["id"], b"\x00\x01\x02" + os.urandom(500), name="x.pdf")
        assert binary["content_type"] == "application/octet-stream"
        text = await api.uploaded(owner, doc["id"], "Привет, мир".encode(), name="hello.exe")
        assert text["content_type"] == "text/plain; charset=utf-8"


class TestDuplicates:
    async def test_same_bytes_are_reported_across_documents(self, api: Any, make_user: Any) -> None:
        owner, other = await make_user(), await make_user()
        first_doc, second_doc = await api.create_document(owner), await api.create_document(owner)
        data = os.urandom(50_000)
        first = await api.uploaded(owner, first_doc["id"], data, name="a.bin")
        second = await api.uploaded(owner, second_doc["id"], data, name="b.bin")
        assert [d["id"] for d in second["duplicates"]] == [first["id"]]
        assert second["duplicates"][0]["document_id"] == first_doc["id"]
        third = await api.uploaded(owner, first_doc["id"], data, name="c.bin")
        assert {d["id"] for d in third["duplicates"]} == {first["id"], second["id"]}
        foreign_doc = await api.create_document(other)
        foreign = await api.uploaded(other, foreign_doc["id"], data)
        assert foreign["duplicates"] == []
        unique = await api.uploaded(owner, first_doc["id"], os.urandom(100))
        assert unique["duplicates"] == []


class TestNames:
    async def test_names_are_sanitised(self, api: Any, make_user: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        cases = {
            "../../etc/passwd": "passwd",
            "C:\\Users\\me\\Договор №5.pdf": "Договор №5.pdf",
            "bad\x00\x07name\u202e.txt": "badname.txt",
            "   ..   ": "file",
            "a" * 400 + ".pdf": "a" * 251 + ".pdf",
            "Ш" * 300: "Ш" * 127,
            'quo"te<>|.txt': "quo_te___.txt",
        }
        for raw, expected in cases.items():
            body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                    + raw.replace('"', "\\\"").encode() + b"\"\r\n\r\ndata\r\n--b--\r\n")
            response = await api.http.post(f"/documents/{doc['id']}/files", content=body, headers={
                **owner.headers, "Content-Type": "multipart/form-data; boundary=b"})
            assert response.status_code == 201, (raw, response.text)
            assert response.json()["name"] == expected, raw

    async def test_unicode_name_in_content_disposition(self, api: Any, make_user: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        file = await api.uploaded(owner, doc["id"], b"hello", name="Отчёт 2026.txt")
        response = await api.http.get(f"/documents/{doc['id']}/files/{file['id']}/content", headers=owner.headers)
        disposition = response.headers["content-disposition"]
        assert "filename*=UTF-8''" in disposition
        assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == "Отчёт 2026.txt"
        disposition.encode("latin-1")  # the header itself stays ASCII

    async def test_rename(self, api: Any, make_user: Any, problem: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        file = await api.uploaded(owner, doc["id"], b"hello")
        url = f"/documents/{doc['id']}/files/{file['id']}"
        response = await api.http.patch(url, json={"name": "../Новое имя.txt"}, headers=owner.headers)
        assert response.status_code == 200 and response.json()["name"] == "Новое имя.txt"
        assert (await api.http.get(url, headers=owner.headers)).json()["name"] == "Новое имя.txt"
        problem(await api.http.patch(url, json={"name": ""}, headers=owner.headers), 422)


class TestBadUploads:
    async def test_empty_file(self, api: Any, make_user: Any, problem: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        before = await api.gridfs_ids()
        problem(await api.upload(owner, doc["id"], b""), 422)
        assert await api.gridfs_ids() == before
        assert await api.db.files.find_one({"document_id": doc["id"]}) is None

    async def test_over_the_limit_stores_nothing(self, api: Any, make_user: Any, problem: Any,
                                                 max_upload_bytes: int) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        before = await api.gridfs_ids()
        data = os.urandom(max_upload_bytes + 1)
        problem(await api.upload(owner, doc["id"], data), 413)

        async def chunked() -> Any:  # no Content-Length: the limit is enforced while streaming
            boundary = "docflowtestboundary"
            yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
                   "Content-Type: application/octet-stream\r\n\r\n").encode()
            for start in range(0, len(data), 256 * 1024):
                yield data[start:start + 256 * 1024]
            yield f"\r\n--{boundary}--\r\n".encode()

        response = await api.http.post(
            f"/documents/{doc['id']}/files", content=chunked(),
            headers={**owner.headers, "Content-Type": "multipart/form-data; boundary=docflowtestboundary"},
        )
        problem(response, 413)
        assert await api.gridfs_ids() == before
        assert await api.db.files.find_one({"document_id": doc["id"]}) is None
        exact = await api.upload(owner, doc["id"], data[:max_upload_bytes])
        assert exact.status_code == 201, exact.text

    async def test_declared_length_over_the_limit_is_refused_up_front(self, api: Any, make_user: Any, problem: Any,
                                                                      max_upload_bytes: int) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        before = await api.gridfs_ids()
        body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n"
        body += bytes(max_upload_bytes + 1024 * 1024) + b"\r\n--b--\r\n"
        response = await api.http.post(f"/documents/{doc['id']}/files", content=body, headers={
            **owner.headers, "Content-Type": "multipart/form-data; boundary=b"})
        problem(response, 413)
        assert await api.gridfs_ids() == before

    async def test_wrong_multipart(self, api: Any, make_user: Any, problem: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        url = f"/documents/{doc['id']}/files"
        before = await api.gridfs_ids()
        problem(await api.http.post(url, content=b"raw", headers={**owner.headers,
                                                                  "Content-Type": "application/octet-stream"}), 415)
        problem(await api.http.post(url, content=b"raw", headers=owner.headers), 415)
        problem(await api.http.post(url, content=b"raw", headers={**owner.headers,
                                                                  "Content-Type": "multipart/form-data"}), 400)
        truncated = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\nhalf a file"
        problem(await api.http.post(url, content=truncated, headers={
            **owner.headers, "Content-Type": "multipart/form-data; boundary=b"}), 400)
        problem(await api.http.post(url, content=b"garbage without boundary", headers={
            **owner.headers, "Content-Type": "multipart/form-data; boundary=b"}), 400)
        problem(await api.http.post(url, files={"other": ("x.txt", b"data")}, headers=owner.headers), 422)
        problem(await api.http.post(url, data={"file": "not a file"}, files={"x": ("y", b"z")},
                                    headers=owner.headers), 422)
        assert await api.gridfs_ids() == before
        assert await api.db.files.find_one({"document_id": doc["id"]}) is None


class TestDelete:
    async def test_delete_hides_publishes_and_purges_content(self, api: Any, make_user: Any, events: EventTap,
                                                             wait_until: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        file = await api.uploaded(owner, doc["id"], os.urandom(3000))
        url = f"/documents/{doc['id']}/files/{file['id']}"
        assert (await api.http.delete(url, headers=owner.headers)).status_code == 204
        assert (await api.http.get(url, headers=owner.headers)).status_code == 404
        assert (await api.http.get(url + "/content", headers=owner.headers)).status_code == 404
        listed = await api.http.get(f"/documents/{doc['id']}/files", headers=owner.headers)
        assert listed.json()["items"] == []
        await events.wait_for("document.file_removed", lambda e: e.data["file_id"] == file["id"])

        async def purged() -> bool:
            record = await api.db.files.find_one({"_id": file["id"]})
            return record is None and file["id"] not in await api.gridfs_ids()

        await wait_until(purged, what="purge of the file and its content")
        assert await api.chunks_of(file["id"]) == []


class TestZip:
    async def test_entries_are_listed(self, api: Any, make_user: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        entries = {"readme.txt": b"hello" * 100, "папка/данные.csv": os.urandom(3000), "empty/": b""}
        file = await api.uploaded(owner, doc["id"], zip_bytes(entries), name="bundle.zip")
        assert file["content_type"] == "application/zip"
        response = await api.http.get(f"/documents/{doc['id']}/files/{file['id']}/zip", headers=owner.headers)
        assert response.status_code == 200, response.text
        listed = {e["name"]: e for e in response.json()["entries"]}
        assert set(listed) == set(entries)
        assert listed["readme.txt"]["size"] == 500 and listed["readme.txt"]["compressed_size"] < 500
        assert listed["папка/данные.csv"]["crc"] == f"{zipfile.crc32(entries['папка/данные.csv']):08x}"
        assert listed["empty/"]["is_dir"] is True

    async def test_bombs_and_non_zips_are_refused(self, api: Any, make_user: Any, problem: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        bomb = zip_bytes({"zeros.bin": bytes(64 * 1024 * 1024)})
        assert len(bomb) < 200_000
        file = await api.uploaded(owner, doc["id"], bomb, name="bomb.zip")
        body = problem(await api.http.get(f"/documents/{doc['id']}/files/{file['id']}/zip",
                                          headers=owner.headers), 422)
        assert "ratio" in body["detail"]
        many = zip_bytes({f"f{i}.txt": b"x" for i in range(600)}, zipfile.ZIP_STORED)
        file = await api.uploaded(owner, doc["id"], many, name="many.zip")
        body = problem(await api.http.get(f"/documents/{doc['id']}/files/{file['id']}/zip",
                                          headers=owner.headers), 422)
        assert "entries" in body["detail"]
        text = await api.uploaded(owner, doc["id"], b"just text, PK\x05\x06 inside", name="fake.zip")
        problem(await api.http.get(f"/documents/{doc['id']}/files/{text['id']}/zip", headers=owner.headers), 422)
        cut = await api.uploaded(owner, doc["id"], zip_bytes({"a.txt": b"abc" * 1000})[:-10], name="cut.zip")
        problem(await api.http.get(f"/documents/{doc['id']}/files/{cut['id']}/zip", headers=owner.headers), 422)

    async def test_directory_larger_than_its_claimed_count_is_refused_before_parsing(
            self, api: Any, make_user: Any, problem: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        file = await api.uploaded(owner, doc["id"], lying_zip(entries=600, claimed=1, damaged_after=501),
                                  name="lying.zip")
        body = problem(await api.http.get(f"/documents/{doc['id']}/files/{file['id']}/zip",
                                          headers=owner.headers), 422)
        # counted from the directory's own headers, before zipfile parses (and trips over) the rest
        assert body["type"].endswith("/zip-too-many-entries"), body


async def test_list_files_paginates(api: Any, make_user: Any) -> None:
    owner = await make_user()
    doc = await api.create_document(owner)
    ids = [(await api.uploaded(owner, doc["id"], os.urandom(10)))["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.http.get(f"/documents/{doc['id']}/files", params=params, headers=owner.headers)).json()
        seen += [f["id"] for f in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == list(reversed(ids))
    assert isinstance(httpx.Response, type)


async def wait_stored(db: Any, collection: str, query: dict[str, Any], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await db[collection].find_one(query) is not None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{collection} {query} never appeared")


class TestSignedFiles:
    async def test_a_signed_file_cannot_be_renamed_or_deleted(self, api: Any, make_user: Any, publish: Any,
                                                              documents_db: Any, problem: Any) -> None:
        owner = await make_user()
        doc = await api.create_document(owner)
        file = await api.uploaded(owner, doc["id"], b"%PDF-1.7 signed bytes", name="contract.pdf")
        other = await api.uploaded(owner, doc["id"], b"unsigned", name="notes.txt")
        person = Person(user_id=owner.id, email=owner.email, full_name=owner.full_name, locale="en")
        await publish(DocumentSigned(document_id=doc["id"], file_id=file["id"], signature_id="sig_signed1",
                                     title=doc["title"], signer=person, owner=person,
                                     signed_at=datetime.now(UTC)), producer="signing")
        await wait_stored(documents_db, "signatures", {"_id": "sig_signed1"})
        url = f"/documents/{doc['id']}/files/{file['id']}"
        body = problem(await api.http.patch(url, json={"name": "other.pdf"}, headers=owner.headers), 409)
        assert body["type"].endswith("/file-signed")
        problem(await api.http.delete(url, headers=owner.headers), 409)
        assert (await api.http.get(f"{url}/content", headers=owner.headers)).content == b"%PDF-1.7 signed bytes"
        # a file without a signature is still the owner's to change
        assert (await api.http.delete(f"/documents/{doc['id']}/files/{other['id']}",
                                      headers=owner.headers)).status_code == 204

    async def test_no_files_are_added_while_a_request_is_open(self, api: Any, make_user: Any, publish: Any,
                                                              documents_db: Any, problem: Any) -> None:
        owner, signer = await make_user(), await make_user()
        doc = await api.create_document(owner)
        await api.uploaded(owner, doc["id"], b"first", name="a.txt")
        owner_p = Person(user_id=owner.id, email=owner.email, full_name=owner.full_name, locale="en")
        signer_p = Person(user_id=signer.id, email=signer.email, full_name=signer.full_name, locale="en")
        await publish(SignatureRequested(request_id="srq_open1", document_id=doc["id"], title=doc["title"],
                                         owner=owner_p, signer=signer_p), producer="routes")
        await wait_stored(documents_db, "signature_requests", {"_id": "srq_open1"})
        body = problem(await api.upload(owner, doc["id"], b"added later", "b.txt"), 409)
        assert body["type"].endswith("/request-open")
        await publish(SignatureRequestCancelled(request_id="srq_open1", document_id=doc["id"], owner_id=owner.id,
                                                signer_ids=[signer.id]), producer="routes")
        await wait_stored(documents_db, "signature_requests", {"_id": "srq_open1", "closed": True})
        assert (await api.upload(owner, doc["id"], b"added later", "b.txt")).status_code == 201


@pytest.mark.skipif(not streebog.available(), reason="the GOST provider (libengine-gost-openssl) is not installed")
class TestStreebogDigests:
    async def test_signings_request_is_answered_with_the_digests_once_computed(
            self, api: Any, make_user: Any, publish: Any, events: EventTap) -> None:
        owner = await make_user()
        doc = await api.create_document(owner, title="GOST")
        data = os.urandom(3 * 1024 * 1024 + 123)  # several sealed chunks, the last one short
        file = await api.uploaded(owner, doc["id"], data, name="contract.pdf")
        assert file["streebog512"] is None  # not computed while the upload streams
        await publish(SignatureFileDigestsRequested(document_id=doc["id"], file_id=file["id"]), producer="signing")
        event = await events.wait_for("document.file_digested", lambda e: e.data["file_id"] == file["id"],
                                      timeout=30)
        assert event.data["streebog512"] == streebog.digest(data, 512).hex()
        assert event.data["streebog256"] == streebog.digest(data, 256).hex()
        assert event.data["sha256"] == hashlib.sha256(data).hexdigest()
        shown = (await api.http.get(f"/documents/{doc['id']}/files/{file['id']}", headers=owner.headers)).json()
        assert shown["streebog512"] == event.data["streebog512"]

        # asked again: the stored digests are sent again, from the record
        await api.db.files.update_one({"_id": file["id"]}, {"$set": {"streebog256": "00"}})
        await publish(SignatureFileDigestsRequested(document_id=doc["id"], file_id=file["id"]), producer="signing")
        again = await events.wait_for("document.file_digested",
                                      lambda e: e.data["file_id"] == file["id"] and e.id != event.id, timeout=30)
        assert again.data["streebog256"] == "00"
