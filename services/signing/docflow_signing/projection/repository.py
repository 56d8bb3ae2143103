"""The signing service's projection (``docflow_shared.projection``), with what only signing keeps:
the users' IINs and the Streebog digests of files."""

from __future__ import annotations

from pymongo import ASCENDING

from docflow_shared.projection.repository import ProjectionRepository as SharedProjectionRepository


class ProjectionRepository(SharedProjectionRepository):
    """The only code touching signing's projection collections."""

    async def create_indexes(self) -> None:
        await super().create_indexes()
        await self.users.create_index([("iin", ASCENDING)])

    async def iin_held_elsewhere(self, iin: str, user_id: str) -> bool:
        """Whether another live account has this IIN."""
        other = await self.users.find_one({"iin": iin, "_id": {"$ne": user_id}, "deleted": {"$ne": True}})
        return other is not None

    async def set_file_digests(self, *, file_id: str, document_id: str, sha256: str, streebog256: str,
                               streebog512: str) -> None:
        """The Streebog digests documents computed, kept on the file they were computed for."""
        await self.files.update_one(
            {"_id": file_id, "document_id": document_id, "sha256": sha256.lower(), "removed": {"$ne": True}},
            {"$set": {"streebog256": streebog256.lower(), "streebog512": streebog512.lower()}},
        )
