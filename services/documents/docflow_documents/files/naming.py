"""File names: sanitised on the way in, RFC 6266 ``Content-Disposition`` on the way out."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote

MAX_NAME_BYTES = 255
FALLBACK_NAME = "file"
_FILENAME_STAR = re.compile(r"filename\*\s*=\s*([\w!#$&+.^`|~-]*)'[^']*'([^;\s]+)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_RESERVED = set('<>:"|?*')


def filename_from_disposition(header: str, plain: bytes | None) -> str | None:
    """The file name of a multipart part: ``filename*`` (RFC 5987) first, else ``filename``."""
    if match := _FILENAME_STAR.search(header):
        charset = match.group(1) or "utf-8"
        try:
            return unquote(match.group(2), encoding=charset, errors="strict")
        except (LookupError, UnicodeDecodeError):
            pass
    if plain is None:
        return None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        return plain.decode("latin-1")


def sanitize_filename(raw: str | None) -> str:
    """A safe display and download name: no path, no control characters, at most 255 bytes.

    Letters of every script stay (``Договор №5.pdf`` is kept as it is).
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        "_" if ch in _RESERVED else ch
        for ch in name
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
    )
    name = _SPACES.sub(" ", name).strip(" .")
    if not name:
        return FALLBACK_NAME
    return _truncate(name)


def _truncate(name: str) -> str:
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode()) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    encoded = stem.encode("utf-8")[:budget]
    return encoded.decode("utf-8", errors="ignore").rstrip(" .") + suffix


def content_disposition(name: str, *, inline: bool = False) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''percent-encoded`` (RFC 6266)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r'[^\x20-\x7e]|["\\%]', "_", ascii_name).strip() or FALLBACK_NAME
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
