"""Backup and restore of the databases and the data dir, on the run's MongoDB (the embedded
server unless MONGODB_URL is set); the whole installation is tested in tests/e2e."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import gridfs
import pytest
from pymongo import MongoClient

from docflow_shared.backup.__main__ import MANIFEST, BackupSettings, create, restore
from docflow_shared.backup.databases import SERVICE_ORDER, documents_count, real_mongodb, relays_paused, tools_available
from docflow_shared.backup.files import SEALED_KEYS, BackupError
from docflow_shared.relay import PAUSE, PAUSE_ID

Client = MongoClient[dict[str, object]]
MASTER_KEYS = {"k-new": "bmV3LWtleS1ieXRlcy1uZXctbmV3LWtleS1ieXRlcy0="}


@pytest.fixture
def client(mongo_url: str) -> Iterator[Client]:
    with MongoClient(mongo_url, tz_aware=True, uuidRepresentation="standard") as mongo:
        yield mongo


def settings(mongo_url: str, prefix: str, data_dir: Path, passphrase: str = "") -> BackupSettings:
    return BackupSettings(mongodb_url=mongo_url, mongodb_db_prefix=prefix, data_dir=data_dir,
                          backup_passphrase=passphrase)


def prefix(run_id: str) -> str:
    return f"t{run_id}_bk{uuid.uuid4().hex[:6]}_"


def fill(client: Client, source: str) -> dict[str, object]:
    """A user, two file records under two master keys, and a GridFS file of three chunks."""
    user = {"_id": str(uuid.uuid4()), "email": "olga@example.kz", "created_at": datetime(2026, 1, 2, tzinfo=UTC),
            "verified": True, "outbox": [{"id": "e1", "type": "user.registered"}], "outbox_pending": True}
    client[f"{source}auth"]["users"].insert_one(user)
    client[f"{source}auth"]["users"].create_index("email", unique=True, name="email_unique")
    files = client[f"{source}documents"]["files"]
    files.insert_many([{"_id": "f1", "encryption": {"key_id": "k-old"}},
                       {"_id": "f2", "encryption": {"key_id": "k-new"}}])
    content = os.urandom(600_000)
    file_id = gridfs.GridFSBucket(client[f"{source}documents"]).upload_from_stream("contract.pdf", content)
    return {"user": user, "file_id": file_id, "content": content}


def test_a_restore_brings_back_documents_indexes_and_gridfs_files_into_an_empty_installation_only(
        client: Client, mongo_url: str, run_id: str, tmp_path: Path) -> None:
    source, target = prefix(run_id), prefix(run_id)
    filled = fill(client, source)
    backup = create(settings(mongo_url, source, tmp_path / "a"), tmp_path / "backups", include_keys=False, fmt="bson")
    manifest = json.loads((backup / MANIFEST).read_text())
    assert manifest["documents"]["documents"] == {"files": 2, "fs.files": 1, "fs.chunks": 3}

    restore(settings(mongo_url, target, tmp_path / "b"), tmp_path / "backups", force=False)
    assert client[f"{target}auth"]["users"].find_one({"_id": filled["user"]["_id"]}) == filled["user"]  # type: ignore[index]
    assert any(index["key"] == {"email": 1} and index.get("unique")
               for index in client[f"{target}auth"]["users"].list_indexes())
    for collection in ("fs.files", "files"):
        assert list(client[f"{target}documents"][collection].find()) == list(
            client[f"{source}documents"][collection].find())
    bucket = gridfs.GridFSBucket(client[f"{target}documents"])
    assert bucket.open_download_stream(filled["file_id"]).read() == filled["content"]

    with pytest.raises(BackupError, match="not empty"):
        restore(settings(mongo_url, target, tmp_path / "b"), backup, force=False)
    restore(settings(mongo_url, target, tmp_path / "b"), backup, force=True)
    assert len(list(client[f"{target}documents"]["files"].find())) == 2


def test_keys_stay_out_unless_asked_for_and_then_open_with_the_passphrase_only(
        client: Client, mongo_url: str, run_id: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "auth-keys").mkdir(parents=True)
    (data / "auth-keys" / "k1.pem").write_text("-----BEGIN PRIVATE KEY-----secret-auth-key")
    (data / "documents").mkdir()
    (data / "documents" / "master-keys.json").write_text(json.dumps(MASTER_KEYS))
    (data / "signing" / "trust").mkdir(parents=True)
    (data / "signing" / "trust" / "ca.pem").write_text("public CA")
    source = prefix(run_id)
    fill(client, source)

    plain = create(settings(mongo_url, source, data), tmp_path / "plain", include_keys=False, fmt="bson")
    sealed = create(settings(mongo_url, source, data, "pass phrase"), tmp_path / "sealed",
                    include_keys=True, fmt="bson")
    for backup in (plain, sealed):
        stored = b"".join(path.read_bytes() for path in backup.rglob("*") if path.is_file())
        assert b"secret-auth-key" not in stored and MASTER_KEYS["k-new"].encode() not in stored
    assert not (plain / SEALED_KEYS).exists()

    target, target_prefix = tmp_path / "restored", prefix(run_id)
    with pytest.raises(BackupError, match="passphrase"):
        restore(settings(mongo_url, target_prefix, target, "wrong"), sealed, force=False)
    assert not (target / "auth-keys").exists() and documents_count(client, target_prefix) == 0  # untouched
    missing = restore(settings(mongo_url, target_prefix, target, "pass phrase"), sealed, force=False)
    assert (target / "auth-keys" / "k1.pem").read_text() == "-----BEGIN PRIVATE KEY-----secret-auth-key"
    assert (target / "auth-keys" / "k1.pem").stat().st_mode & 0o777 == 0o600
    assert (target / "signing" / "trust" / "ca.pem").read_text() == "public CA"
    assert missing == ["k-old"]  # named by the manifest, absent from the restored master keys
    with pytest.raises(BackupError, match="already holds keys"):
        restore(settings(mongo_url, prefix(run_id), target, "pass phrase"), sealed, force=False)
    restore(settings(mongo_url, target_prefix, target, "pass phrase"), sealed, force=True)
    assert (target / "auth-keys" / "k1.pem").exists() and documents_count(client, target_prefix) > 0


def test_on_mongodb_with_its_tools_the_backup_is_mongodump_archives_that_mongorestore_brings_back(
        client: Client, mongo_url: str, run_id: str, tmp_path: Path) -> None:
    if not tools_available() or not real_mongodb(client):
        pytest.skip("needs mongodump and mongorestore on PATH and a real MongoDB (MONGODB_URL)")
    source, target = prefix(run_id), prefix(run_id)
    filled = fill(client, source)
    backup = create(settings(mongo_url, source, tmp_path / "a"), tmp_path / "backups", include_keys=False, fmt="auto")
    assert json.loads((backup / MANIFEST).read_text())["format"] == "archive"
    assert (backup / "databases" / "documents.archive").exists()
    restore(settings(mongo_url, target, tmp_path / "b"), backup, force=False)
    assert client[f"{target}auth"]["users"].find_one({"_id": filled["user"]["_id"]}) == filled["user"]  # type: ignore[index]
    bucket = gridfs.GridFSBucket(client[f"{target}documents"])
    assert bucket.open_download_stream(filled["file_id"]).read() == filled["content"]


def test_the_relays_are_paused_while_the_databases_are_read_and_the_pause_is_not_backed_up(
        client: Client, mongo_url: str, run_id: str, tmp_path: Path) -> None:
    source = prefix(run_id)
    fill(client, source)
    with relays_paused(client, source):
        for service in SERVICE_ORDER:
            pause = client[f"{source}{service}"][PAUSE].find_one({"_id": PAUSE_ID})
            assert pause is not None and pause["until"] > datetime.now(UTC)
    assert all(client[f"{source}{service}"][PAUSE].find_one() is None for service in SERVICE_ORDER)

    backup = create(settings(mongo_url, source, tmp_path / "a"), tmp_path / "backups", include_keys=False, fmt="bson")
    assert not list(backup.rglob(f"{PAUSE}.*"))
    assert all(client[f"{source}{service}"][PAUSE].find_one() is None for service in SERVICE_ORDER)
