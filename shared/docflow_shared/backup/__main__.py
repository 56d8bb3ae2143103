"""``python -m docflow_shared.backup create|restore``: ``make backup`` and ``make restore DIR=...``.

The database is ``MONGODB_URL``; without it, the embedded server of the data dir: the one
``make run`` keeps running there, or one started for the length of the command (this needs
the dev package, ``docflow_dev``, which production images do not install).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from docflow_shared.backup import databases, files
from docflow_shared.backup.files import BackupError
from docflow_shared.settings import DataDirSettings, env_alias, load_settings

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class BackupSettings(DataDirSettings):
    """Where the installation lives; the broker and the services' own values are not needed."""

    service_name: ClassVar[str] = "backup"
    mongodb_url: str = Field("", validation_alias=env_alias("MONGODB_URL"))
    passphrase: str = Field("", validation_alias=env_alias("BACKUP_PASSPHRASE"))
    documents_master_keys: str = Field("", validation_alias=env_alias("DOCUMENTS_MASTER_KEYS"))

    def production_problems(self) -> list[str]:
        return []


@contextlib.contextmanager
def database(settings: BackupSettings) -> Iterator[str]:
    """The installation's MongoDB URL, with its embedded server running for as long as needed."""
    if settings.mongodb_url:
        yield settings.mongodb_url
        return
    try:
        # the embedded server belongs to local installations (make run), not to production images
        from docflow_dev.localservers import embedded_mongo_url
    except ImportError:
        raise BackupError("MONGODB_URL is not set and this installation has no embedded server "
                          "(the dev package); set MONGODB_URL") from None
    with embedded_mongo_url(settings.data_dir.resolve()) as url:
        yield url


def connect(url: str) -> databases.Client:
    return MongoClient(url, tz_aware=True, uuidRepresentation="standard", serverSelectionTimeoutMS=5000)


def passphrase(settings: BackupSettings) -> str:
    if settings.passphrase or not sys.stdin.isatty():
        return settings.passphrase
    return getpass.getpass("passphrase for the backup's keys: ")


def create(settings: BackupSettings, parent: Path, *, include_keys: bool, fmt: str) -> Path:
    """Write a new backup under ``parent``; complete once renamed from its ``.partial`` name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    final, partial = parent / f"docflow-{stamp}", parent / f".docflow-{stamp}.partial"
    partial.mkdir(parents=True)
    try:
        write(settings, partial, include_keys=include_keys, fmt=fmt)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(final)
    return final


def write(settings: BackupSettings, partial: Path, *, include_keys: bool, fmt: str) -> None:
    data_dir = settings.data_dir
    sealed = files.seal_keys(data_dir, partial, passphrase(settings)) if include_keys else []
    with database(settings) as url, connect(url) as client:
        if fmt == "auto":
            fmt = "archive" if databases.tools_available() and databases.real_mongodb(client) else "bson"
        prefix = settings.mongodb_db_prefix
        counts = databases.dump(client, url, prefix, partial, fmt)
        key_ids = databases.master_key_ids(client, prefix)
    manifest = {
        "format_version": FORMAT_VERSION, "created_at": datetime.now(UTC).isoformat(), "format": fmt,
        "database_prefix": settings.mongodb_db_prefix, "documents": counts, "master_key_ids": key_ids,
        "files": files.copy_plain(data_dir, partial), "sealed_keys": sealed,
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2))


def newest(path: Path) -> Path:
    """``path`` itself when it is a backup, else the newest complete backup in it."""
    if (path / MANIFEST).exists():
        return path
    found = sorted(p for p in path.glob("docflow-*") if (p / MANIFEST).exists())
    if not found:
        raise BackupError(f"no backup in {path}")
    return found[-1]


def restore(settings: BackupSettings, path: Path, *, force: bool) -> list[str]:
    """Restore the backup at ``path``; returns the master key ids its files need and that the
    installation does not have."""
    source = newest(path)
    manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{source} has format version {manifest.get('format_version')}, not {FORMAT_VERSION}")
    data_dir = settings.data_dir
    if manifest["sealed_keys"] and not force and (clash := files.present(data_dir, files.KEY_PATHS)):
        raise BackupError(f"{data_dir} already holds keys ({', '.join(clash)}); restore into an empty "
                          "installation, or pass --force to replace them")
    keys = files.unseal_keys(source, passphrase(settings)) if manifest["sealed_keys"] else None
    with database(settings) as url, connect(url) as client:
        prefix = settings.mongodb_db_prefix
        if (count := databases.documents_count(client, prefix)) and not force:
            raise BackupError(f"the installation is not empty ({count} documents in its databases); restore "
                              "into an empty one, or pass --force to replace its data")
        databases.drop(client, prefix)
        databases.restore(client, url, manifest["database_prefix"], prefix, source, manifest["format"])
    files.restore_plain(source, data_dir)
    if keys is not None:
        files.restore_keys(keys, data_dir)
    return sorted(set(manifest["master_key_ids"]) - available_key_ids(settings))


def available_key_ids(settings: BackupSettings) -> set[str]:
    """The ids of the master keys the documents service will have (its variable, else the local key file)."""
    raw = settings.documents_master_keys.strip()
    local = settings.data_dir / "documents" / "master-keys.json"
    if not raw and local.exists():
        raw = local.read_text()
    if raw.startswith("{"):
        return set(json.loads(raw))
    return {item.split(":", 1)[0].strip() for item in raw.split(",") if item.strip()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docflow_shared.backup", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create", help="back up the installation into a new directory")
    made.add_argument("--dir", type=Path, default=Path("backups"), help="where backups go (default backups)")
    made.add_argument("--include-keys", action="store_true",
                      help="also the data dir's key material, sealed with BACKUP_PASSPHRASE (or typed)")
    made.add_argument("--format", choices=("auto", "bson", "archive"), default="auto",
                      help="archive: mongodump archives; bson: portable BSON (auto: archive when possible)")
    back = commands.add_parser("restore", help="restore a backup into an empty installation")
    back.add_argument("path", type=Path, help="a backup, or a directory of backups (the newest is taken)")
    back.add_argument("--force", action="store_true", help="replace the installation's data and keys")
    args = parser.parse_args(argv)
    settings = load_settings(BackupSettings)
    try:
        if args.command == "create":
            print(create(settings, args.dir, include_keys=args.include_keys, fmt=args.format))
            return 0
        missing = restore(settings, args.path, force=args.force)
    except (BackupError, PyMongoError, OSError) as exc:
        print(f"docflow backup: {exc}", file=sys.stderr)
        return 1
    print(f"restored {newest(args.path)}")
    if missing:
        print(f"warning: the stored files need master keys {', '.join(missing)}, which are not configured "
              "(DOCUMENTS_MASTER_KEYS); they cannot be downloaded until they are", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
