"""The hash chain of a document's trail, written with the standard library only, so that an
export can be verified anywhere (``python -m docflow_audit.verify export.json``).

Each record carries ``prev_hash``, the hash of the record before it in the same document's
chain (``GENESIS`` for the first), and ``hash``: SHA-256, in hex, of the record's canonical
JSON (every field of ``HASHED_FIELDS``; keys sorted, no whitespace, UTF-8, no floats). A record
edited, removed or inserted afterwards breaks either its own hash or the next one's
``prev_hash``; a record removed at the end no longer matches the chain's head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

ALGORITHM = "sha256"
CANONICAL = "json: sorted keys, separators (',', ':'), UTF-8, strings/integers/booleans/null only"
GENESIS = "0" * 64
HASHED_FIELDS = (
    "document_id", "seq", "event_id", "event_type", "action", "occurred_at", "recorded_at",
    "actor", "on_behalf_of", "client", "details", "prev_hash",
)


def canonical_json(value: Any) -> bytes:
    """The one byte form a record is hashed in."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json({name: record.get(name) for name in HASHED_FIELDS})).hexdigest()


def chain_problems(document_id: str, records: Sequence[Mapping[str, Any]],
                   head: Mapping[str, Any] | None = None) -> list[str]:
    """Every break in a trail: empty when the chain holds from the first record to ``head``."""
    problems: list[str] = []
    previous = GENESIS
    for position, record in enumerate(records, start=1):
        seq = record.get("seq")
        where = f"record {position} (seq {seq})"
        if record.get("document_id") != document_id:
            problems.append(f"{where}: belongs to document {record.get('document_id')!r}")
        if seq != position:
            problems.append(f"{where}: expected seq {position}: a record is missing or out of place")
        if record.get("prev_hash") != previous:
            problems.append(f"{where}: prev_hash does not match the record before it")
        if record.get("hash") != record_hash(record):
            problems.append(f"{where}: hash does not match its content (edited)")
        previous = str(record.get("hash"))
    if head is not None:
        if head.get("seq") != len(records):
            problems.append(f"head: the chain has {head.get('seq')} records, the export {len(records)}")
        elif records and head.get("hash") != records[-1].get("hash"):
            problems.append("head: the last record's hash is not the chain's head")
    return problems
