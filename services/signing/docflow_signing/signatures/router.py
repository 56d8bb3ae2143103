"""Routes: signatures of document files, their .p7s, and the stateless verify."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from docflow_shared.openapi import created_links, link
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser, RequestClient
from docflow_signing.dependencies import BlobUpload, Ctx, Cursor, Limit
from docflow_signing.openapi import VERIFY_BODY
from docflow_signing.signatures.schemas import SignatureRead, VerifyResult

documents_router = APIRouter()
verify_router = APIRouter()

SIGNATURE = BlobUpload(
    field="signature", limit=lambda settings: settings.max_signature_bytes,
    read_fields=("signature", "signature_base64"),
    documented_fields={"signature": "PEM or base64 of the DER signature",
                       "signature_base64": "base64 of the DER signature"},
    raw_types=("application/pkcs7-signature", "application/octet-stream", "text/plain"),
    description="A detached CMS (PKCS#7) signature of the file, DER, PEM or base64: multipart field "
    "`signature`, JSON `{signature}`, or the raw bytes.",
)
SignatureUpload = Annotated[bytes, Depends(SIGNATURE.read)]


@documents_router.post("/{document_id}/files/{file_id}/signatures", status_code=status.HTTP_201_CREATED,
                       response_model=SignatureRead, openapi_extra=SIGNATURE.openapi_extra, summary="Sign a file",
                       responses=created_links(GetSignature=link(
                           "/api/v1/documents/{document_id}/signatures/{signature_id}",
                           document_id="$response.body#/document_id", signature_id="$response.body#/id")))
async def sign_file(document_id: str, file_id: str, user: CurrentUser, ctx: Ctx,
                    data: SignatureUpload, client: RequestClient) -> SignatureRead:
    return await ctx.signatures.sign(user_id=user.user_id, document_id=document_id, file_id=file_id,
                                     data=data, client=client)


@documents_router.get("/{document_id}/signatures", response_model=Page[SignatureRead],
                      summary="Signatures of a document")
async def list_signatures(
    document_id: str, user: CurrentUser, ctx: Ctx, file_id: str | None = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Page[SignatureRead]:
    return await ctx.signatures.page(user_id=user.user_id, document_id=document_id, file_id=file_id,
                                     limit=limit, cursor=cursor)


@documents_router.get("/{document_id}/signatures/{signature_id}", response_model=SignatureRead,
                      summary="One signature")
async def get_signature(document_id: str, signature_id: str, user: CurrentUser,
                        ctx: Ctx) -> SignatureRead:
    return await ctx.signatures.get(user_id=user.user_id, document_id=document_id,
                                    signature_id=signature_id)


@documents_router.get("/{document_id}/signatures/{signature_id}/p7s", response_class=Response,
                      responses={200: {"content": {"application/pkcs7-signature": {}}}},
                      summary="Download a signature (.p7s, DER)")
async def download_signature(document_id: str, signature_id: str, user: CurrentUser,
                             ctx: Ctx) -> Response:
    found = await ctx.signatures.download(user_id=user.user_id, document_id=document_id,
                                          signature_id=signature_id)
    return Response(found.content, media_type="application/pkcs7-signature",
                    headers={"Content-Disposition": f'attachment; filename="{found.filename}"'})


@verify_router.post("/verify", response_model=VerifyResult, openapi_extra=VERIFY_BODY,
                    summary="Verify a signature of a file (nothing is stored)")
async def verify_signature(request: Request, user: CurrentUser, ctx: Ctx) -> VerifyResult:
    return await ctx.signatures.verify_form(user_id=user.user_id, request=request)
