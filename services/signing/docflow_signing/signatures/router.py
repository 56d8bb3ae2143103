"""Routes: signatures of document files, their .p7s, and the stateless verify."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response, status
from starlette.datastructures import UploadFile

from docflow_shared.errors import BadRequest, UnsupportedMediaType
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser
from docflow_signing.container import Services
from docflow_signing.openapi import VERIFY_BODY, upload_body
from docflow_signing.signatures.schemas import SignatureRead, VerifyResult
from docflow_signing.uploads import FORM_OVERHEAD, read_part, read_upload, refuse_declared_oversize

documents_router = APIRouter()
verify_router = APIRouter()

SIGNATURE_BODY = upload_body(
    "signature",
    {"signature": "PEM or base64 of the DER signature", "signature_base64": "base64 of the DER signature"},
    ("application/pkcs7-signature", "application/octet-stream", "text/plain"),
    "A detached CMS (PKCS#7) signature of the file, DER, PEM or base64: multipart field `signature`, "
    "JSON `{signature}`, or the raw bytes.",
)


@documents_router.post("/{document_id}/files/{file_id}/signatures", status_code=status.HTTP_201_CREATED,
                       response_model=SignatureRead, openapi_extra=SIGNATURE_BODY, summary="Sign a file")
async def sign_file(document_id: str, file_id: str, request: Request, user: CurrentUser,
                    services: Services) -> SignatureRead:
    data = await read_upload(request, field="signature", limit=services.settings.max_signature_bytes,
                             json_fields=("signature", "signature_base64"))
    return await services.signatures.sign(user_id=user.user_id, document_id=document_id, file_id=file_id,
                                          data=data)


@documents_router.get("/{document_id}/signatures", response_model=Page[SignatureRead],
                      summary="Signatures of a document")
async def list_signatures(
    document_id: str, user: CurrentUser, services: Services, file_id: str | None = None,
    limit: int = Query(50, ge=1, le=200), cursor: str | None = None,
) -> Page[SignatureRead]:
    return await services.signatures.page(user_id=user.user_id, document_id=document_id, file_id=file_id,
                                          limit=limit, cursor=cursor)


@documents_router.get("/{document_id}/signatures/{signature_id}", response_model=SignatureRead,
                      summary="One signature")
async def get_signature(document_id: str, signature_id: str, user: CurrentUser,
                        services: Services) -> SignatureRead:
    return await services.signatures.get(user_id=user.user_id, document_id=document_id,
                                         signature_id=signature_id)


@documents_router.get("/{document_id}/signatures/{signature_id}/p7s", response_class=Response,
                      responses={200: {"content": {"application/pkcs7-signature": {}}}},
                      summary="Download a signature (.p7s, DER)")
async def download_signature(document_id: str, signature_id: str, user: CurrentUser,
                             services: Services) -> Response:
    found = await services.signatures.download(user_id=user.user_id, document_id=document_id,
                                               signature_id=signature_id)
    return Response(found.content, media_type="application/pkcs7-signature",
                    headers={"Content-Disposition": f'attachment; filename="{found.filename}"'})


@verify_router.post("/verify", response_model=VerifyResult, openapi_extra=VERIFY_BODY,
                    summary="Verify a signature of a file (nothing is stored)")
async def verify_signature(request: Request, user: CurrentUser, services: Services) -> VerifyResult:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
        raise UnsupportedMediaType("Send multipart/form-data with the fields file and signature.")
    settings = services.settings
    refuse_declared_oversize(request, settings.max_verify_file_bytes + settings.max_signature_bytes + FORM_OVERHEAD)
    async with request.form(max_files=2, max_fields=4) as form:
        file, signature = form.get("file"), form.get("signature")
        if not isinstance(file, UploadFile):
            raise BadRequest("The multipart body needs a file part 'file'.", slug="missing-field")
        data = await read_part(signature, settings.max_signature_bytes)
        if not data:
            raise BadRequest("The multipart body needs a part 'signature'.", slug="missing-field")
        return await services.signatures.verify(user_id=user.user_id, file=file, signature=data)
