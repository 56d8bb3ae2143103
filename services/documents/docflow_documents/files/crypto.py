"""Encryption at rest: AES-256-GCM in numbered chunks, a data key per file wrapped by a master key.

Each plaintext chunk (``CHUNK_SIZE`` bytes, the last one shorter) is sealed on its own with
nonce = the file's random 8-byte prefix + the 4-byte chunk counter, and the file id, the chunk
index and a "final" flag as associated data: a chunk cannot be moved, swapped between files,
or the file cut short without the tag failing. The data key is wrapped with AES key wrap
(RFC 3394) by the current master key; the key id is stored beside it so rotated keys still
unwrap old files.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

logger = logging.getLogger(__name__)

ALGORITHM = "AES-256-GCM-CHUNKED-v1"
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16
SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
KEY_SIZE = 32
NONCE_PREFIX_SIZE = 8


class KeyRingError(Exception):
    """The master keys are missing, malformed, or do not open a stored data key."""


class IntegrityError(Exception):
    """A stored chunk failed authentication: tampered, reordered or truncated data."""


def parse_master_keys(raw: str) -> dict[str, bytes]:
    """``kid:base64,kid:base64`` or a JSON object ``{"kid": "base64"}`` → keys by id."""
    raw = raw.strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        pairs = list(json.loads(raw).items())
    else:
        pairs = [tuple(item.split(":", 1)) for item in raw.split(",") if item.strip()]
    keys: dict[str, bytes] = {}
    for pair in pairs:
        if len(pair) != 2:
            raise KeyRingError("DOCUMENTS_MASTER_KEYS entries look like kid:base64key")
        kid, encoded = str(pair[0]).strip(), str(pair[1]).strip()
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        if len(key) != KEY_SIZE:
            raise KeyRingError(f"master key {kid!r} must be {KEY_SIZE} bytes, got {len(key)}")
        keys[kid] = key
    return keys


class KeyRing:
    """Master keys by id; the current one wraps new data keys, every one unwraps."""

    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if not keys:
            raise KeyRingError("no master key configured")
        if current not in keys:
            raise KeyRingError(f"current master key id {current!r} is not among the keys")
        self._keys = dict(keys)
        self.current = current

    @classmethod
    def from_settings(cls, raw: str, current: str, data_dir: Path | None) -> KeyRing:
        keys = parse_master_keys(raw)
        if keys:
            return cls(keys, current or next(reversed(keys)))
        if data_dir is None:
            raise KeyRingError("set DOCUMENTS_MASTER_KEYS (and DOCUMENTS_MASTER_KEY_ID)")
        return cls.local_development(Path(data_dir) / "documents" / "master-keys.json")

    @classmethod
    def local_development(cls, path: Path) -> KeyRing:
        """A key kept in the local data dir, for ``make run`` and tests only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            kid = "local-" + secrets.token_hex(4)
            body = json.dumps({kid: base64.b64encode(os.urandom(KEY_SIZE)).decode()})
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(body)
        logger.warning("DOCUMENTS_MASTER_KEYS is not set; using the local development key in %s", path)
        keys = parse_master_keys(path.read_text())
        return cls(keys, next(reversed(keys)))

    def wrap(self, data_key: bytes) -> tuple[str, str]:
        wrapped = aes_key_wrap(self._keys[self.current], data_key)
        return self.current, base64.b64encode(wrapped).decode()

    def unwrap(self, key_id: str, wrapped: str) -> bytes:
        key = self._keys.get(key_id)
        if key is None:
            raise KeyRingError(f"master key {key_id!r} is not configured")
        try:
            return aes_key_unwrap(key, base64.b64decode(wrapped))
        except InvalidUnwrap as exc:
            raise KeyRingError(f"master key {key_id!r} does not unwrap this data key") from exc


@dataclass(frozen=True)
class FileKey:
    """What a file record keeps to decrypt its content."""

    key_id: str
    wrapped_key: str
    nonce_prefix: str

    def to_document(self) -> dict[str, object]:
        return {"algorithm": ALGORITHM, "chunk_size": CHUNK_SIZE, "key_id": self.key_id,
                "wrapped_key": self.wrapped_key, "nonce_prefix": self.nonce_prefix}

    @classmethod
    def from_document(cls, doc: dict[str, object]) -> FileKey:
        return cls(str(doc["key_id"]), str(doc["wrapped_key"]), str(doc["nonce_prefix"]))


class ChunkCipher:
    """Seals and opens the numbered chunks of one file."""

    def __init__(self, file_id: str, data_key: bytes, nonce_prefix: bytes) -> None:
        self._aead = AESGCM(data_key)
        self._file_id = file_id.encode()
        self._prefix = nonce_prefix

    @classmethod
    def new(cls, file_id: str, keyring: KeyRing) -> tuple[ChunkCipher, FileKey]:
        data_key = AESGCM.generate_key(bit_length=256)
        prefix = os.urandom(NONCE_PREFIX_SIZE)
        key_id, wrapped = keyring.wrap(data_key)
        return cls(file_id, data_key, prefix), FileKey(key_id, wrapped, base64.b64encode(prefix).decode())

    @classmethod
    def open(cls, file_id: str, key: FileKey, keyring: KeyRing) -> ChunkCipher:
        return cls(file_id, keyring.unwrap(key.key_id, key.wrapped_key), base64.b64decode(key.nonce_prefix))

    def _nonce(self, index: int) -> bytes:
        return self._prefix + index.to_bytes(4, "big")

    def _aad(self, index: int, final: bool) -> bytes:
        return b"docflow-file|" + self._file_id + b"|" + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")

    def seal(self, index: int, plaintext: bytes, *, final: bool) -> bytes:
        return self._aead.encrypt(self._nonce(index), plaintext, self._aad(index, final))

    def open_chunk(self, index: int, sealed: bytes, *, final: bool) -> bytes:
        try:
            return self._aead.decrypt(self._nonce(index), sealed, self._aad(index, final))
        except InvalidTag as exc:
            raise IntegrityError(f"chunk {index} failed authentication") from exc


def chunk_count(size: int) -> int:
    return max(1, -(-size // CHUNK_SIZE))
