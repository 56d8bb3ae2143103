"""Secrets that travel in events, sealed for the mail service (docs/architecture.md, "Secrets in
events").

Verification codes and reset tokens must reach the e-mail, yet nothing on the way (the outbox,
the broker, a DLQ, mail's delivery log) may hold them readable. Auth seals them with AES-256-GCM
under a key it shares with mail; the sealed form names its key so keys can be rotated:

    v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>

The associated data binds a sealed value to what it was sealed for (event type and user), so it
cannot be moved into another event.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
NONCE_BYTES = 12
DEV_KEY_FILE = "event-secrets.key"


def secret_context(event_type: str, user_id: str) -> str:
    """What a sealed value in an event is bound to: the event type and the user it is for."""
    return f"{event_type}\x1f{user_id}"


class SealError(ValueError):
    """A sealed value cannot be opened: unknown key, wrong context, or tampered with."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_keys(configured: str) -> dict[str, bytes]:
    """``kid:base64,kid2:base64`` (standard or URL-safe base64 of 32 bytes each)."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in configured.split(","))):
        kid, sep, encoded = item.partition(":")
        if not sep or not kid or "." in kid:
            raise ValueError("EVENT_SECRET_KEYS takes 'kid:base64key' items separated by commas")
        try:
            key = _b64decode(encoded.replace("+", "-").replace("/", "_").rstrip("="))
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"EVENT_SECRET_KEYS: key {kid!r} is not base64") from exc
        if len(key) != 32:
            raise ValueError(f"EVENT_SECRET_KEYS: key {kid!r} must be 32 bytes")
        keys[kid] = key
    return keys


def new_key_spec(kid: str = "k1") -> str:
    """A fresh ``kid:base64`` key for EVENT_SECRET_KEYS."""
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


def development_key_spec(data_dir: Path) -> str:
    """The key of a development set-up without EVENT_SECRET_KEYS: one file in the data dir that
    every local service shares, created by whichever starts first."""
    path = data_dir / DEV_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        temp = data_dir / f".{DEV_KEY_FILE}.{os.getpid()}"
        with os.fdopen(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(new_key_spec("dev"))
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)  # atomic: the first writer wins, the others read its key
        temp.unlink()
    return path.read_text().strip()


class SecretSealer:
    """Seals and opens small JSON objects of secrets; the newest key seals, every key opens."""

    def __init__(self, keys: Mapping[str, bytes], current: str = "") -> None:
        if not keys:
            raise ValueError("no key to seal event secrets with (EVENT_SECRET_KEYS)")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.current = current or next(iter(keys))
        if self.current not in self._keys:
            raise ValueError(f"EVENT_SECRET_KEY_ID {self.current!r} is not among EVENT_SECRET_KEYS")

    @classmethod
    def configured(cls, keys: str, key_id: str = "", *, data_dir: Path | None = None) -> SecretSealer:
        """From the settings; without keys, the development key file in ``data_dir``."""
        if not keys and data_dir is not None:
            keys = development_key_spec(data_dir)
        return cls(parse_keys(keys), key_id)

    def seal(self, values: Mapping[str, str], *, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(dict(values), separators=(",", ":")).encode()
        sealed = self._keys[self.current].encrypt(nonce, plaintext, context.encode())
        encoded = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{self.current}.{encoded}"

    def open(self, sealed: str, *, context: str) -> dict[str, str]:
        version, _, rest = sealed.partition(".")
        kid, _, encoded = rest.partition(".")
        if version != VERSION or not encoded:
            raise SealError("not a sealed value")
        aead = self._keys.get(kid)
        if aead is None:
            raise SealError(f"sealed with an unknown key {kid!r}")
        try:
            raw = _b64decode(encoded)
            values = json.loads(aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()))
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SealError("the sealed value does not open with its key and context") from exc
        if not isinstance(values, dict):
            raise SealError("the sealed value is not an object")
        return {str(k): str(v) for k, v in values.items()}
