"""/api/v1/documents/{id}/versions"""

from __future__ import annotations

from fastapi import APIRouter

from docflow_documents.dependencies import Ctx, Cursor, Limit
from docflow_documents.versions.schemas import VersionRead
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser

router = APIRouter()


@router.get("/{document_id}/versions", response_model=Page[VersionRead])
async def list_versions(ctx: Ctx, user: CurrentUser, document_id: str, limit: Limit = 20,
                        cursor: Cursor = None) -> Page[VersionRead]:
    return await ctx.versions.list(user_id=user.user_id, document_id=document_id, cursor=cursor, limit=limit)


@router.get("/{document_id}/versions/{number}", response_model=VersionRead)
async def get_version(ctx: Ctx, user: CurrentUser, document_id: str, number: str) -> VersionRead:
    return await ctx.versions.get(user_id=user.user_id, document_id=document_id, number=number)
