"""Routes: a file of the document, for someone outside DocFlow with a session from routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse

from docflow_documents.dependencies import Ctx
from docflow_shared.web import RequestClient

router = APIRouter()
SessionToken = Annotated[str | None, Header(alias="DocFlow-External-Session",
                                            description="the session token routes gave for the link")]


@router.get("/session/files/{file_id}/content", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}}, 206: {"description": "A byte range"}},
            summary="Download a file of the document the session opens")
async def download_file(ctx: Ctx, file_id: str, request: Request, client: RequestClient,
                        session_token: SessionToken = None) -> Response:
    download = await ctx.outsiders.download(
        session_token=session_token, file_id=file_id, range_header=request.headers.get("range"),
        if_none_match=request.headers.get("if-none-match"), client=client)
    return download.response()
