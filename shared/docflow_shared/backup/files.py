"""The data dir's part of a backup: the signing trust store as it is, key material sealed.

Key material (JWT signing keys, the local file master keys, the event-secret key, the broker
users' passwords) leaves the data dir only when asked for, and then as one tar sealed with
AES-256-GCM under a key that scrypt derives from a passphrase: a backup copied to a shared
disk does not carry the keys that open the files it holds.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

# what `make run` generates under the data dir (docs/architecture.md, "Backup and restore")
KEY_PATHS = ("auth-keys", "documents/master-keys.json", "event-secrets.key", "broker-users.json")
PLAIN_PATHS = ("signing/trust",)  # trusted CA certificates: public, restored as they are
SEALED_KEYS = "keys.tar.sealed"
PLAIN_FILES = "files"
MAGIC = b"docflow-keys-v1\n"
SALT_SIZE, NONCE_SIZE = 16, 12
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class BackupError(Exception):
    """Why a backup or a restore cannot go on, said in one line."""


def present(data_dir: Path, paths: tuple[str, ...]) -> list[str]:
    """Those of ``paths`` that exist under ``data_dir``."""
    return [path for path in paths if (data_dir / path).exists()]


def copy_plain(data_dir: Path, target: Path) -> list[str]:
    """Copy the public files of the data dir into the backup; the relative paths copied."""
    copied = present(data_dir, PLAIN_PATHS)
    for path in copied:
        _copy(data_dir / path, target / PLAIN_FILES / path)
    return copied


def restore_plain(backup: Path, data_dir: Path) -> None:
    source = backup / PLAIN_FILES
    for path in PLAIN_PATHS:
        if (source / path).exists():
            _copy(source / path, data_dir / path)


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


def seal_keys(data_dir: Path, target: Path, passphrase: str) -> list[str]:
    """Write the data dir's key material into the backup, sealed; the relative paths sealed."""
    if not passphrase:
        raise BackupError("--include-keys needs a passphrase (BACKUP_PASSPHRASE, or typed when asked)")
    paths = present(data_dir, KEY_PATHS)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in paths:
            tar.add(data_dir / path, arcname=path)
    salt, nonce = os.urandom(SALT_SIZE), os.urandom(NONCE_SIZE)
    sealed = AESGCM(_derive(passphrase, salt)).encrypt(nonce, buffer.getvalue(), MAGIC)
    _write_private(target / SEALED_KEYS, MAGIC + salt + nonce + sealed)
    return paths


def unseal_keys(backup: Path, passphrase: str) -> bytes:
    """The backup's key archive, opened: before a restore changes anything, so that a wrong
    passphrase leaves the installation as it was."""
    blob = (backup / SEALED_KEYS).read_bytes()
    if not blob.startswith(MAGIC):
        raise BackupError(f"{SEALED_KEYS} is not a DocFlow key archive")
    body = blob[len(MAGIC):]
    salt, nonce, sealed = body[:SALT_SIZE], body[SALT_SIZE:SALT_SIZE + NONCE_SIZE], body[SALT_SIZE + NONCE_SIZE:]
    try:
        return AESGCM(_derive(passphrase, salt)).decrypt(nonce, sealed, MAGIC)
    except InvalidTag:
        raise BackupError("the passphrase does not open the backup's keys") from None


def restore_keys(archive: bytes, data_dir: Path) -> list[str]:
    """Put the opened key archive under ``data_dir``; the relative paths restored."""
    restored = []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r") as tar:
        for member in _members(tar):
            tar.extract(member, data_dir, filter="data")
            restored.append(member.name)
    for path in present(data_dir, KEY_PATHS):
        _make_private(data_dir / path)
    return restored


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """Only members under the key paths: a tampered archive cannot write elsewhere."""
    for member in tar.getmembers():
        if any(member.name == path or member.name.startswith(path + "/") for path in KEY_PATHS):
            yield member


def _derive(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode())


def _write_private(path: Path, content: bytes) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(content)


def _make_private(path: Path) -> None:
    """Key files are readable by their owner only, as the services create them."""
    paths = [path, *path.rglob("*")] if path.is_dir() else [path]
    for item in paths:
        item.chmod(0o700 if item.is_dir() else 0o600)
