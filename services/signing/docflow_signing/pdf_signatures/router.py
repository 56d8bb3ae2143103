"""Route: the signatures embedded in an uploaded PDF (stateless, like ``POST /signatures/verify``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from docflow_shared.web import CurrentUser
from docflow_signing.dependencies import BlobUpload, Ctx
from docflow_signing.pdf_signatures.schemas import PdfVerifyResult

router = APIRouter()

PDF = BlobUpload(
    field="file", limit=lambda settings: settings.max_verify_file_bytes,
    read_fields=("file_base64",), documented_fields={"file_base64": "base64 of the PDF"},
    raw_types=("application/pdf", "application/octet-stream"),
    description="A PDF that carries signatures: multipart field `file`, JSON `{file_base64}`, or the raw bytes.",
)
PdfUpload = Annotated[bytes, Depends(PDF.read)]


@router.post("/verify-pdf", response_model=PdfVerifyResult, openapi_extra=PDF.openapi_extra,
             summary="Verify the signatures embedded in a PDF (nothing is stored)")
async def verify_pdf(user: CurrentUser, ctx: Ctx, data: PdfUpload) -> PdfVerifyResult:
    return await ctx.pdf_signatures.verify(data=data)
