"""/api/v1/documents/{id}/share and /api/v1/inbox"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from docflow_documents.dependencies import Ctx, Cursor, Limit
from docflow_documents.sharing.schemas import InboxItemRead, ShareCreate, ShareResult
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser, RequestClient

router = APIRouter()
inbox_router = APIRouter()


@router.post("/{document_id}/share", response_model=ShareResult, status_code=status.HTTP_201_CREATED)
async def share_document(ctx: Ctx, user: CurrentUser, client: RequestClient, document_id: str,
                         body: ShareCreate) -> ShareResult:
    return await ctx.sharing.share(user_id=user.user_id, document_id=document_id, data=body, client=client)


@router.delete("/{document_id}/share/{recipient_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_share(ctx: Ctx, user: CurrentUser, client: RequestClient, document_id: str,
                       recipient_id: str) -> Response:
    await ctx.sharing.revoke(user_id=user.user_id, document_id=document_id, recipient_id=recipient_id,
                             client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@inbox_router.get("", response_model=Page[InboxItemRead])
async def list_inbox(ctx: Ctx, user: CurrentUser, archived: bool | None = None, limit: Limit = 20,
                     cursor: Cursor = None) -> Page[InboxItemRead]:
    return await ctx.sharing.list_inbox(user_id=user.user_id, archived=archived, cursor=cursor, limit=limit)


@inbox_router.post("/{item_id}/archive", response_model=InboxItemRead)
async def archive_item(ctx: Ctx, user: CurrentUser, item_id: str) -> InboxItemRead:
    return await ctx.sharing.set_archived(user_id=user.user_id, item_id=item_id, archived=True)


@inbox_router.post("/{item_id}/unarchive", response_model=InboxItemRead)
async def unarchive_item(ctx: Ctx, user: CurrentUser, item_id: str) -> InboxItemRead:
    return await ctx.sharing.set_archived(user_id=user.user_id, item_id=item_id, archived=False)
