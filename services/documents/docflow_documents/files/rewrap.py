"""Key rotation, step two: re-wrap every file's data key with the current master key.

    DOCUMENTS_MASTER_KEYS="k2:<new>,k1:<old>" DOCUMENTS_MASTER_KEY_ID=k2 python -m docflow_documents.files.rewrap

Only the small wrapped data keys change; file content is not re-encrypted. Once no file names
the old key id, the old master key can be removed from DOCUMENTS_MASTER_KEYS.
"""

from __future__ import annotations

import asyncio
import sys

from docflow_documents.files.crypto import KeyRing
from docflow_documents.settings import DocumentsSettings
from docflow_shared.mongo import create_client
from docflow_shared.outbox import Outbox, StaleDocument, read_each


async def rewrap(settings: DocumentsSettings) -> tuple[int, int]:
    """(re-wrapped, already current) counts."""
    keyring = KeyRing.from_settings(settings.master_keys, settings.master_key_id, settings.data_dir)
    client = create_client(settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms)
    files = client[settings.database_name]["files"]
    outbox = Outbox()
    changed = current = 0
    try:
        # whole records: the update replaces the stored record with the changed copy
        async for doc in read_each(files, {}):
            encryption = doc.get("encryption") or {}
            if encryption.get("key_id") == keyring.current:
                current += 1
                continue
            data_key = keyring.unwrap(str(encryption["key_id"]), str(encryption["wrapped_key"]))
            key_id, wrapped = keyring.wrap(data_key)
            try:
                await outbox.update(files, doc, {"encryption": {**encryption, "key_id": key_id,
                                                                "wrapped_key": wrapped}})
                changed += 1
            except StaleDocument:
                print(f"file {doc['_id']} changed meanwhile; run again", file=sys.stderr)
    finally:
        await client.close()
    return changed, current


def main() -> int:
    changed, current = asyncio.run(rewrap(DocumentsSettings()))
    print(f"re-wrapped {changed} data keys; {current} were already under the current master key")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
