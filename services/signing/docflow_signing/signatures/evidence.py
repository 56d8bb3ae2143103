"""Revocation evidence kept with stored signatures (the only code touching ``revocation_crls``).

A signature record holds its OCSP response itself; a CRL, which many signatures share and which
can be large, is stored once here under its SHA-256 and named by the record (``crl_sha256``), so
that the status can be checked again later without the network (docs/architecture.md, "Revocation").
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import Document

CRLS = "revocation_crls"
MAX_STORED_CRL = 15 * 1024 * 1024
"""Larger CRLs do not fit a MongoDB document; the record then keeps the CRL's number and digest only."""


class CrlArchive:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[CRLS]

    async def create_indexes(self) -> None:
        """Keyed by ``_id`` (the CRL's SHA-256) only."""

    async def keep(self, sha256: str, der: bytes, *, url: str | None, number: int | None,
                   this_update: datetime | None) -> bool:
        """Store a CRL once; False when it is too large to keep."""
        if len(der) > MAX_STORED_CRL:
            return False
        await self.collection.update_one(
            {"_id": sha256},
            {"$setOnInsert": {"der": der, "url": url, "crl_number": number, "this_update": this_update}},
            upsert=True,
        )
        return True

    async def get(self, sha256: str) -> bytes | None:
        found = await self.collection.find_one({"_id": sha256})
        return None if found is None else bytes(found["der"])
