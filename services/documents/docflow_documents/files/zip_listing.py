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

from docflow_shared.errors import Unprocessable

EOCD_SIGNATURE = b"PK\x05\x06"
EOCD_SIZE = 22
ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
ZIP64_LOCATOR_SIZE = 20
ZIP64_EOCD_SIZE = 56
MAX_COMMENT = 0xFFFF
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

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), max(0, self._size - self._pos))
        if want <= 0:
            return 0
        if self._pos < self._base:
            raise OSError("read outside the archive's central directory")
        start = self._pos - self._base
        data = self._tail[start:start + want]
        buffer[: len(data)] = data
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
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:
        entries, cd_size = await _zip64_counts(read, eocd_offset)
    if entries > limits.max_entries:
        raise Unprocessable(
            f"The archive has {entries} entries; at most {limits.max_entries} are listed.", slug="zip-too-many-entries"
        )
    if cd_size > limits.max_directory_bytes:
        raise Unprocessable("The archive's central directory is too large.", slug="zip-too-many-entries")
    base = max(0, min(probe_start, eocd_offset - cd_size - ZIP64_EOCD_SIZE - ZIP64_LOCATOR_SIZE))
    tail = probe if base == probe_start else await read(base, size - 1)
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
