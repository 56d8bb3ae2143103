"""The ZIP listing bounds its own work: a directory is counted before zipfile parses it."""

from __future__ import annotations

import struct

import pytest

from docflow_documents.files import zip_listing
from docflow_documents.files.zip_listing import ZipLimits, list_zip
from docflow_shared.errors import Unprocessable


def huge_directory(entries: int, claimed: int) -> bytes:
    """An archive whose directory holds ``entries`` minimal headers and claims ``claimed``."""
    header = b"PK\x01\x02" + bytes(24) + struct.pack("<3H", 1, 0, 0) + bytes(12) + b"a"
    directory = header * entries
    eocd = b"PK\x05\x06" + struct.pack("<4H2LH", 0, 0, claimed, claimed, len(directory), 0, 0)
    return directory + eocd


async def test_a_large_directory_claiming_one_entry_never_reaches_zipfile(monkeypatch: pytest.MonkeyPatch) -> None:
    archive = huge_directory(200_000, claimed=1)

    def must_not_parse(*_: object) -> list[object]:
        raise AssertionError("zipfile was handed a directory over the entry cap")

    monkeypatch.setattr(zip_listing, "_read_directory", must_not_parse)

    async def read(start: int, end: int) -> bytes:
        return archive[start:end + 1]

    limits = ZipLimits(max_entries=10_000, max_ratio=100, max_total_bytes=1 << 30, max_directory_bytes=64 << 20)
    with pytest.raises(Unprocessable) as refused:
        await list_zip(read, len(archive), limits)
    assert refused.value.slug == "zip-too-many-entries"
