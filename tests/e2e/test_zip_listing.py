"""An attacker's ZIP through the gateway: a central directory far larger than the entry count the
archive claims is refused from its own headers, before it is parsed in full."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx

API = "/api/v1"
MAX_ENTRIES = 10_000  # DOCUMENTS_ZIP_MAX_ENTRIES by default


def lying_zip(entries: int, damaged_after: int) -> bytes:
    """Stored files whose end record claims one entry; the header after ``damaged_after`` entries
    is overwritten, so only an archive parsed in full trips over it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for index in range(entries):
            archive.writestr(f"{index}", b"")
    data = bytearray(buffer.getvalue())
    eocd = data.rfind(b"PK\x05\x06")
    data[eocd + 8:eocd + 12] = (1).to_bytes(2, "little") * 2
    at = int.from_bytes(data[eocd + 16:eocd + 20], "little")
    for _ in range(damaged_after):
        at += 46 + sum(int.from_bytes(data[at + k:at + k + 2], "little") for k in (28, 30, 32))
    data[at:at + 4] = b"JUNK"
    return bytes(data)



async def test_directory_over_the_cap_claiming_one_entry_is_refused(client: httpx.AsyncClient,
                                                                     verified_headers: Any) -> None:
    headers = await verified_headers("Zip Sender", "en")
    doc_id = (await client.post(f"{API}/documents", json={"title": "Archive"}, headers=headers)).json()["id"]
    archive = lying_zip(MAX_ENTRIES + 50, damaged_after=MAX_ENTRIES + 1)
    uploaded = await client.post(f"{API}/documents/{doc_id}/files", headers=headers,
                                 files={"file": ("bundle.zip", archive, "application/zip")})
    assert uploaded.status_code == 201, uploaded.text
    listed = await client.get(f"{API}/documents/{doc_id}/files/{uploaded.json()['id']}/zip", headers=headers)
    assert listed.status_code == 422, listed.text
    assert listed.headers["content-type"].startswith("application/problem+json")
    assert listed.json()["type"].endswith("/zip-too-many-entries"), listed.json()
