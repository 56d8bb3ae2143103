"""/api/v1/documents/{id}/comments"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from docflow_documents.comments.schemas import CommentCreate, CommentRead, CommentUpdate
from docflow_documents.dependencies import Ctx, Cursor, Limit
from docflow_shared.openapi import created_links, link
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser, RequestClient

router = APIRouter()


@router.get("/{document_id}/comments", response_model=Page[CommentRead])
async def list_comments(ctx: Ctx, user: CurrentUser, document_id: str, limit: Limit = 20,
                        cursor: Cursor = None) -> Page[CommentRead]:
    return await ctx.comments.list(user_id=user.user_id, document_id=document_id, cursor=cursor, limit=limit)


@router.post("/{document_id}/comments", response_model=CommentRead, status_code=status.HTTP_201_CREATED,
             responses=created_links(EditComment=link(
                 "/api/v1/documents/{document_id}/comments/{comment_id}", "patch",
                 document_id="$request.path.document_id", comment_id="$response.body#/id")))
async def add_comment(ctx: Ctx, user: CurrentUser, client: RequestClient, document_id: str,
                      body: CommentCreate) -> CommentRead:
    return await ctx.comments.add(user_id=user.user_id, document_id=document_id, data=body, client=client)


@router.patch("/{document_id}/comments/{comment_id}", response_model=CommentRead)
async def edit_comment(ctx: Ctx, user: CurrentUser, document_id: str, comment_id: str,
                       body: CommentUpdate) -> CommentRead:
    return await ctx.comments.edit(user_id=user.user_id, document_id=document_id, comment_id=comment_id, data=body)


@router.delete("/{document_id}/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_comment(ctx: Ctx, user: CurrentUser, document_id: str, comment_id: str) -> Response:
    await ctx.comments.delete(user_id=user.user_id, document_id=document_id, comment_id=comment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
