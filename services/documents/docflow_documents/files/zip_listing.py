"""Lists a ZIP archive from its central directory, reading only the archive's tail.

The central directory (and the end records after it) are fetched through a range reader and
given to ``zipfile`` behind a sparse file object, so nothing is extracted and only the tail of
the archive is decrypted. Archives that look like bombs are refused before any entry is opened.
"""

from __future__ import annotations

import asyncio
import io
import struct
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from docflow_shared.errors import Unprocessable

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

EOCD_SIGNATURE = b"PK\x05\x06"
EOCD_SIZE = 22
ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
ZIP64_LOCATOR_SIZE = 20
ZIP64_EOCD_SIZE = 56
MAX_COMMENT = 0xFFFF
CD_SIGNATURE = b"PK\x01\x02"
CD_HEADER_SIZE = 46
RATIO_FLOOR = 1024 * 1024  # archives unpacking to less than this are never called bombs

RangeReader = Callable[[int, int], Awaitable[bytes]]


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int
    max_ratio: float
    max_total_bytes: int
    max_directory_bytes: int


@dataclass(frozen=True)
class ZipEntry:
    name: str
    size: int
    compressed_size: int
    crc: str
    is_dir: bool
    compression: str


@dataclass(frozen=True)
class ZipListing:
    entries: list[ZipEntry]
    total_size: int
    total_compressed_size: int


class _TailFile(io.RawIOBase):
    """A read-only file of ``size`` bytes of which only the tail from ``base`` is known."""

    def __init__(self, size: int, base: int, tail: bytes) -> None:
        self._size, self._base, self._tail, self._pos = size, base, tail, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        origin = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, origin + offset)
        return self._pos

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), max(0, self._size - self._pos))
        if want <= 0:
            return 0
        if self._pos < self._base:
            raise OSError("read outside the archive's central directory")
        start = self._pos - self._base
        data = self._tail[start:start + want]
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)


def _not_zip() -> Unprocessable:
    return Unprocessable("The file is not a ZIP archive.", slug="not-a-zip")


async def list_zip(read: RangeReader, size: int, limits: ZipLimits) -> ZipListing:
    """Entries of the archive of ``size`` bytes read through ``read(start, end_inclusive)``."""
    if size < EOCD_SIZE:
        raise _not_zip()
    probe_start = max(0, size - (EOCD_SIZE + MAX_COMMENT))
    probe = await read(probe_start, size - 1)
    at = probe.rfind(EOCD_SIGNATURE)
    if at < 0 or len(probe) - at < EOCD_SIZE:
        raise _not_zip()
    (_, _, _, _, entries, cd_size, _, _) = struct.unpack("<4s4H2LH", probe[at:at + EOCD_SIZE])
    eocd_offset = probe_start + at
    cd_end = eocd_offset
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:
        entries, cd_size = await _zip64_counts(read, eocd_offset)
        cd_end = eocd_offset - ZIP64_LOCATOR_SIZE - ZIP64_EOCD_SIZE
    if entries > limits.max_entries:
        raise Unprocessable(
            f"The archive has {entries} entries; at most {limits.max_entries} are listed.", slug="zip-too-many-entries"
        )
    if cd_size > limits.max_directory_bytes:
        raise Unprocessable("The archive's central directory is too large.", slug="zip-too-many-entries")
    base = max(0, min(probe_start, eocd_offset - cd_size - ZIP64_EOCD_SIZE - ZIP64_LOCATOR_SIZE))
    tail = probe if base == probe_start else await read(base, size - 1)
    # The claimed count is the archive's word only: walk the directory's own headers, stopping
    # after one more than the cap, before zipfile parses (and allocates for) every entry.
    if _count_headers(tail, cd_end - cd_size - base, cd_size, limits.max_entries + 1) > limits.max_entries:
        raise Unprocessable(
            f"The archive has more than {limits.max_entries} entries; at most {limits.max_entries} are listed.",
            slug="zip-too-many-entries",
        )
    infos = await asyncio.to_thread(_read_directory, size, base, tail)
    if len(infos) > limits.max_entries:
        raise Unprocessable("The archive has too many entries.", slug="zip-too-many-entries")
    listing = ZipListing(
        entries=[
            ZipEntry(name=i.filename, size=i.file_size, compressed_size=i.compress_size,
                     crc=f"{i.CRC:08x}", is_dir=i.is_dir(), compression=_compression(i.compress_type))
            for i in infos
        ],
        total_size=sum(i.file_size for i in infos),
        total_compressed_size=sum(i.compress_size for i in infos),
    )
    _check_bomb(listing, limits)
    return listing


async def _zip64_counts(read: RangeReader, eocd_offset: int) -> tuple[int, int]:
    locator_at = eocd_offset - ZIP64_LOCATOR_SIZE
    if locator_at < 0:
        raise _not_zip()
    locator = await read(locator_at, eocd_offset - 1)
    if locator[:4] != ZIP64_LOCATOR_SIGNATURE:
        raise _not_zip()
    _, _, record_at, _ = struct.unpack("<4sLQL", locator)
    record = await read(record_at, record_at + ZIP64_EOCD_SIZE - 1)
    if len(record) < ZIP64_EOCD_SIZE or record[:4] != b"PK\x06\x06":
        raise _not_zip()
    fields = struct.unpack("<4sQ2H2L4Q", record)
    return int(fields[7]), int(fields[8])


def _count_headers(tail: bytes, start: int, length: int, stop_at: int) -> int:
    """Central-directory headers in ``tail[start:start + length]``, counting at most ``stop_at``.

    Stops at the first bytes that are not a header (zipfile then reports the damage).
    """
    if start < 0:
        return 0
    end, at, count = min(len(tail), start + length), start, 0
    while count < stop_at and at + CD_HEADER_SIZE <= end and tail[at:at + 4] == CD_SIGNATURE:
        name_len, extra_len, comment_len = struct.unpack_from("<3H", tail, at + 28)
        at += CD_HEADER_SIZE + name_len + extra_len + comment_len
        count += 1
    return count


def _read_directory(size: int, base: int, tail: bytes) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(io.BufferedReader(_TailFile(size, base, tail))) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, struct.error, UnicodeDecodeError, NotImplementedError) as exc:
        raise _not_zip() from exc


def _check_bomb(listing: ZipListing, limits: ZipLimits) -> None:
    if listing.total_size > limits.max_total_bytes:
        raise Unprocessable(
            f"The archive unpacks to {listing.total_size} bytes, more than {limits.max_total_bytes}.",
            slug="zip-bomb",
        )
    compressed = max(1, listing.total_compressed_size)
    if listing.total_size > RATIO_FLOOR and listing.total_size / compressed > limits.max_ratio:
        raise Unprocessable(
            f"The archive's compression ratio {listing.total_size / compressed:.0f}:1 exceeds "
            f"{limits.max_ratio:.0f}:1.",
            slug="zip-bomb",
        )


def _compression(kind: int) -> str:
    return {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate",
            zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}.get(kind, f"method-{kind}")
