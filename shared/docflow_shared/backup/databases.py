"""The databases' part of a backup, in one of two formats.

* ``archive``: ``mongodump --archive --gzip`` per service database, when the MongoDB tools are
  on PATH and the server is a real MongoDB; restored with ``mongorestore``.
* ``bson``: what works everywhere, the embedded server included: per collection the raw BSON
  documents as the server returned them (the ``mongodump`` ``.bson`` layout, ``_id``s and every
  value's type kept byte for byte) and its index definitions in extended JSON.

The services' outbox relays are paused while the databases are read, so no event crosses from one
database read to the next; on a replica set the ``bson`` format also reads every database in one
snapshot (docs/architecture.md, "Backup and restore").
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient
from pymongo.client_session import ClientSession

from docflow_shared.backup.files import BackupError
from docflow_shared.mongo import utc_now
from docflow_shared.relay import PAUSE, PAUSE_ID

# producers before their consumers where the event flow allows (docs/architecture.md, "Backup and
# restore"): auth's events reach every other service, documents' reach signing, routes and mail;
# only signing's events to documents and routes' to signing and documents go against this order
SERVICE_ORDER = ("auth", "documents", "signing", "routes", "mail", "audit", "notify", "gateway")
DATABASES = "databases"
RAW = CodecOptions(document_class=RawBSONDocument)
BATCH = 500
# the embedded server names every index itself (idx_<collection>_<fields>); the target may not
SERVER_MADE_INDEX_PREFIX = "idx_"
INDEX_FIELDS_NOT_CREATED = ("v", "ns", "key", "name")
# the embedded server lists GridFS's fs.files and fs.chunks with "_" for the dot, and a read of the
# listed name never answers; DocFlow has no collection of its own by these names
LISTED_AS = {"fs_files": "fs.files", "fs_chunks": "fs.chunks"}
# how long the relays stay paused at most, should the backup die; and how long a relay pass that
# began before the pause has to finish its batch (passes take milliseconds)
PAUSE_LIMIT = timedelta(minutes=15)
PASS_SECONDS = 2.0

Client = MongoClient[dict[str, Any]]


def database_name(prefix: str, service: str) -> str:
    return f"{prefix}{service}"


def tools_available() -> bool:
    return shutil.which("mongodump") is not None and shutil.which("mongorestore") is not None


def real_mongodb(client: Client) -> bool:
    """MongoDB itself, which the MongoDB tools serve; the embedded server reports no version."""
    return bool(client.server_info().get("version"))


def dump(client: Client, url: str, prefix: str, target: Path, fmt: str) -> dict[str, dict[str, int]]:
    """Dump every service database into ``target``; documents per collection, by service."""
    folder = target / DATABASES
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, dict[str, int]] = {}
    with relays_paused(client, prefix), _snapshot(client) as session:
        for service in SERVICE_ORDER:
            name = database_name(prefix, service)
            if fmt == "archive":
                _run(["mongodump", f"--uri={url}", f"--db={name}", f"--archive={folder / service}.archive", "--gzip"])
                counts[service] = {collection: client[name][collection].estimated_document_count()
                                   for collection in client[name].list_collection_names()}
            else:
                counts[service] = _dump_bson(client, name, folder / service, session)
    return counts


@contextmanager
def relays_paused(client: Client, prefix: str) -> Iterator[None]:
    """No service publishes from its outbox while the databases are read, so no event crosses
    from one database read to the next: each is still pending in its producer's outbox."""
    until = utc_now() + PAUSE_LIMIT
    for service in SERVICE_ORDER:
        pauses = client[database_name(prefix, service)][PAUSE]
        pauses.delete_one({"_id": PAUSE_ID})
        pauses.insert_one({"_id": PAUSE_ID, "until": until})
    try:
        time.sleep(PASS_SECONDS)
        yield
    finally:
        for service in SERVICE_ORDER:
            client[database_name(prefix, service)][PAUSE].delete_one({"_id": PAUSE_ID})


@contextmanager
def _snapshot(client: Client) -> Iterator[ClientSession | None]:
    """One snapshot for every read on a replica set (a single point in time for all databases);
    None on a standalone or embedded server, which read database after database."""
    if not client.admin.command("hello").get("setName"):
        yield None
        return
    with client.start_session(snapshot=True) as session:
        yield session


def _dump_bson(client: Client, name: str, folder: Path, session: ClientSession | None) -> dict[str, int]:
    database = client.get_database(name, codec_options=RAW)
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    file_ids: dict[str, list[Any]] = {}  # GridFS entries by bucket, as dumped
    # listCollections and listIndexes take no snapshot read concern: only the reads use the session
    names = {LISTED_AS.get(listed, listed) for listed in database.list_collection_names()}
    for collection in sorted(names, key=_gridfs_entries_first):
        if collection.startswith("system.") or collection == PAUSE:
            continue
        bucket, _, kind = collection.rpartition(".")
        if kind == "chunks" and bucket in file_ids:
            filters = [{"files_id": file_id} for file_id in file_ids[bucket]]
        else:
            filters = [{}]
        with open(folder / f"{collection}.bson", "wb") as out:
            ids = _write_raw(database[collection], filters, out, session)
        if kind == "files":
            file_ids[bucket] = ids
        counts[collection] = len(ids)
        indexes = list(database[collection].list_indexes())
        (folder / f"{collection}.indexes.json").write_text(json_util.dumps(
            [dict(index.items()) for index in indexes], json_options=json_util.CANONICAL_JSON_OPTIONS))
    return counts


def _gridfs_entries_first(collection: str) -> tuple[str, int]:
    """A bucket's ``.files`` entries are read before its ``.chunks``, and the chunks read are those
    of the entries read: the blob store writes the chunks before the entry, so every entry in the
    backup has its chunks, and chunks of an upload cut short stay out."""
    bucket, _, kind = collection.rpartition(".")
    return (bucket, 0) if kind == "files" else (collection, 1)


def _write_raw(collection: Any, filters: list[dict[str, Any]], out: BinaryIO,
               session: ClientSession | None) -> list[Any]:
    """Write the documents matching each filter as the server sent them; their ``_id``s.
    Chunks are read file by file: the embedded server finds GridFS chunks only by ``files_id``."""
    written: list[Any] = []
    for query in filters:
        for batch in collection.find_raw_batches(query, session=session):
            raw = cast(bytes, batch)  # a raw batch is the documents' BSON, back to back
            out.write(raw)
            written.extend(document["_id"] for document in bson.decode_iter(raw, RAW))
    return written


def restore(client: Client, url: str, source_prefix: str, prefix: str, source: Path, fmt: str) -> None:
    """Restore every service database from ``source`` under the target's ``prefix``."""
    folder = source / DATABASES
    for service in SERVICE_ORDER:
        name, origin = database_name(prefix, service), database_name(source_prefix, service)
        if fmt == "archive":
            archive = folder / f"{service}.archive"
            if archive.exists():
                _run(["mongorestore", f"--uri={url}", f"--archive={archive}", "--gzip",
                      f"--nsFrom={origin}.*", f"--nsTo={name}.*"])
        elif (folder / service).is_dir():
            _restore_bson(client, name, folder / service)


def _restore_bson(client: Client, name: str, folder: Path) -> None:
    database = client.get_database(name, codec_options=RAW)
    # entries before chunks: the embedded server makes up an entry for chunks without one
    for dump_file in sorted(folder.glob("*.bson"), key=lambda path: _gridfs_entries_first(path.stem)):
        collection = database[dump_file.stem]
        _create_indexes(collection, folder / f"{dump_file.stem}.indexes.json")
        batch: list[RawBSONDocument] = []
        with open(dump_file, "rb") as data:
            for document in bson.decode_file_iter(data, RAW):
                batch.append(document)
                if len(batch) == BATCH:
                    collection.insert_many(batch, ordered=True)
                    batch = []
        if batch:
            collection.insert_many(batch, ordered=True)


def _create_indexes(collection: Any, definitions: Path) -> None:
    """The dumped indexes, before the documents: a unique index is in force while they go in."""
    for index in json_util.loads(definitions.read_text()) if definitions.exists() else []:
        if index.get("name") == "_id_":
            continue
        options = {k: v for k, v in index.items() if k not in INDEX_FIELDS_NOT_CREATED}
        if not str(index.get("name", "")).startswith(SERVER_MADE_INDEX_PREFIX):
            options["name"] = index["name"]
        collection.create_index(list(index["key"].items()), **options)


def documents_count(client: Client, prefix: str) -> int:
    """Documents in the installation's service databases (0: an empty installation)."""
    total = 0
    for service in SERVICE_ORDER:
        database = client[database_name(prefix, service)]
        for listed in database.list_collection_names():
            collection = LISTED_AS.get(listed, listed)
            if not collection.startswith("system.") and collection != PAUSE:
                total += database[collection].estimated_document_count()
    return total


def drop(client: Client, prefix: str) -> None:
    for service in SERVICE_ORDER:
        client.drop_database(database_name(prefix, service))


def master_key_ids(client: Client, prefix: str) -> list[str]:
    """The ids of the master keys that wrap the stored files' data keys (the documents service's
    ``encryption.key_id``, docs/architecture.md "Backup and restore")."""
    files = client[database_name(prefix, "documents")]["files"]
    ids = {str(doc["encryption"]["key_id"]) for doc in files.find({}, {"encryption": 1})
           if isinstance(doc.get("encryption"), dict) and "key_id" in doc["encryption"]}
    return sorted(ids)


def _run(command: list[str]) -> None:
    """Run a MongoDB tool; its own last words when it fails."""
    try:
        subprocess.run(command, check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{command[0]} failed: {exc.stderr.decode(errors='replace').strip()[-500:]}") from None
