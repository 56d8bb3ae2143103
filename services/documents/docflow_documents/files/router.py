"""/api/v1/documents/{id}/files"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from docflow_documents.dependencies import Ctx, Cursor, Limit
from docflow_documents.files.schemas import FileRead, FileUpdate, FileUploaded, ZipListingRead
from docflow_shared.errors import BadRequest
from docflow_shared.openapi import created_links, link
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser, RequestClient

router = APIRouter()

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}},
        }}},
    }
}


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for piece in request.stream():
            yield piece
    except ClientDisconnect as exc:
        raise BadRequest("The upload was interrupted.", slug="upload-interrupted") from exc


def _length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


@router.get("/{document_id}/files", response_model=Page[FileRead])
async def list_files(ctx: Ctx, user: CurrentUser, document_id: str, limit: Limit = 20,
                     cursor: Cursor = None) -> Page[FileRead]:
    return await ctx.files.list(user_id=user.user_id, document_id=document_id, cursor=cursor, limit=limit)


@router.post("/{document_id}/files", response_model=FileUploaded, status_code=status.HTTP_201_CREATED,
             openapi_extra=UPLOAD_BODY, responses=created_links(
                 GetFile=link("/api/v1/documents/{document_id}/files/{file_id}",
                              document_id="$response.body#/document_id", file_id="$response.body#/id"),
                 DownloadFile=link("/api/v1/documents/{document_id}/files/{file_id}/content",
                                   document_id="$response.body#/document_id", file_id="$response.body#/id"),
             ))
async def upload_file(ctx: Ctx, user: CurrentUser, document_id: str, request: Request) -> FileUploaded:
    return await ctx.files.upload(
        user_id=user.user_id, document_id=document_id, content_type=request.headers.get("content-type"),
        content_length=_length(request), body=_body(request),
    )


@router.get("/{document_id}/files/{file_id}", response_model=FileRead)
async def get_file(ctx: Ctx, user: CurrentUser, document_id: str, file_id: str) -> FileRead:
    return await ctx.files.get(user_id=user.user_id, document_id=document_id, file_id=file_id)


@router.patch("/{document_id}/files/{file_id}", response_model=FileRead)
async def rename_file(ctx: Ctx, user: CurrentUser, document_id: str, file_id: str, body: FileUpdate) -> FileRead:
    return await ctx.files.rename(user_id=user.user_id, document_id=document_id, file_id=file_id, data=body)


@router.delete("/{document_id}/files/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_file(ctx: Ctx, user: CurrentUser, document_id: str, file_id: str) -> Response:
    await ctx.files.delete(user_id=user.user_id, document_id=document_id, file_id=file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{document_id}/files/{file_id}/content", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}}, 206: {"description": "A byte range"}})
async def download_file(ctx: Ctx, user: CurrentUser, client: RequestClient, document_id: str, file_id: str,
                        request: Request) -> Response:
    download = await ctx.files.download(
        user_id=user.user_id, document_id=document_id, file_id=file_id,
        range_header=request.headers.get("range"), if_none_match=request.headers.get("if-none-match"),
        client=client,
    )
    return download.response()


@router.get("/{document_id}/files/{file_id}/zip", response_model=ZipListingRead)
async def list_zip_entries(ctx: Ctx, user: CurrentUser, document_id: str, file_id: str) -> ZipListingRead:
    return await ctx.files.zip_entries(user_id=user.user_id, document_id=document_id, file_id=file_id)
