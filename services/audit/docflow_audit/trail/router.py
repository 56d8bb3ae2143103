"""/api/v1/documents/{id}/audit"""

from __future__ import annotations

from fastapi import APIRouter

from docflow_audit.dependencies import Ctx, Cursor, Limit
from docflow_audit.trail.schemas import AuditExport, AuditRecordRead
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser

router = APIRouter()


@router.get("/{document_id}/audit", response_model=Page[AuditRecordRead])
async def list_records(ctx: Ctx, user: CurrentUser, document_id: str, limit: Limit = 50,
                       cursor: Cursor = None) -> Page[AuditRecordRead]:
    return await ctx.trail.page(user_id=user.user_id, document_id=document_id, cursor=cursor, limit=limit)


@router.get("/{document_id}/audit/export", response_model=AuditExport)
async def export_trail(ctx: Ctx, user: CurrentUser, document_id: str) -> AuditExport:
    return await ctx.trail.export(user_id=user.user_id, document_id=document_id)
