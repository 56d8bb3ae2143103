"""/api/v1/documents"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from docflow_documents.dependencies import Ctx, Cursor, Limit
from docflow_documents.documents.schemas import (
    DocumentCreate,
    DocumentRead,
    DocumentScope,
    DocumentStatus,
    DocumentUpdate,
)
from docflow_shared.openapi import created_links, link
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser, RequestClient, VerifiedUser

router = APIRouter()


@router.get("", response_model=Page[DocumentRead])
async def list_documents(
    ctx: Ctx, user: CurrentUser, limit: Limit = 20, cursor: Cursor = None,
    scope: DocumentScope = DocumentScope.owned, status: DocumentStatus | None = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the title or content")] = None,
) -> Page[DocumentRead]:
    return await ctx.documents.list(user_id=user.user_id, scope=scope, status=status, tag=tag, query=q,
                                    cursor=cursor, limit=limit)


@router.post("", response_model=DocumentRead, status_code=status.HTTP_201_CREATED, responses=created_links(
    GetDocument=link("/api/v1/documents/{document_id}", document_id="$response.body#/id"),
    UpdateDocument=link("/api/v1/documents/{document_id}", "patch", document_id="$response.body#/id"),
    ListFiles=link("/api/v1/documents/{document_id}/files", document_id="$response.body#/id"),
    UploadFile=link("/api/v1/documents/{document_id}/files", "post", document_id="$response.body#/id"),
    ShareDocument=link("/api/v1/documents/{document_id}/share", "post", document_id="$response.body#/id"),
    AddComment=link("/api/v1/documents/{document_id}/comments", "post", document_id="$response.body#/id"),
    ListVersions=link("/api/v1/documents/{document_id}/versions", document_id="$response.body#/id"),
))
async def create_document(ctx: Ctx, user: VerifiedUser, body: DocumentCreate) -> DocumentRead:
    return await ctx.documents.create(owner_id=user.user_id, data=body)


@router.get("/{document_id}", response_model=DocumentRead)
async def get_document(ctx: Ctx, user: CurrentUser, client: RequestClient, document_id: str) -> DocumentRead:
    return await ctx.documents.get(user_id=user.user_id, document_id=document_id, client=client)


@router.patch("/{document_id}", response_model=DocumentRead)
async def update_document(ctx: Ctx, user: CurrentUser, document_id: str, body: DocumentUpdate) -> DocumentRead:
    return await ctx.documents.update(user_id=user.user_id, document_id=document_id, data=body)


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(ctx: Ctx, user: CurrentUser, document_id: str) -> Response:
    await ctx.documents.delete(user_id=user.user_id, document_id=document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
