"""Routes: /api/v1/certificates."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response, status

from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser
from docflow_signing.certificates.schemas import CertificateRead
from docflow_signing.container import Services
from docflow_signing.openapi import upload_body
from docflow_signing.uploads import read_upload

router = APIRouter()

CERTIFICATE_BODY = upload_body(
    "certificate",
    {"pem": "PEM text of the certificate", "der_base64": "DER bytes of the certificate in base64"},
    ("application/pkix-cert", "application/x-pem-file", "application/octet-stream"),
    "An X.509 certificate, PEM or DER: multipart field `certificate`, JSON `{pem}` / "
    "`{der_base64}`, or the raw bytes.",
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CertificateRead,
             openapi_extra=CERTIFICATE_BODY, summary="Upload a signing certificate")
async def upload_certificate(request: Request, user: CurrentUser, services: Services) -> CertificateRead:
    data = await read_upload(request, field="certificate", limit=services.settings.max_certificate_bytes,
                             json_fields=("pem", "certificate", "der_base64"))
    return await services.certificates.register(user_id=user.user_id, data=data)


@router.get("", response_model=Page[CertificateRead], summary="List your certificates")
async def list_certificates(
    user: CurrentUser, services: Services,
    limit: int = Query(50, ge=1, le=200), cursor: str | None = None,
) -> Page[CertificateRead]:
    return await services.certificates.page(user_id=user.user_id, limit=limit, cursor=cursor)


@router.get("/{certificate_id}", response_model=CertificateRead, summary="One of your certificates")
async def get_certificate(certificate_id: str, user: CurrentUser, services: Services) -> CertificateRead:
    return await services.certificates.get(user_id=user.user_id, certificate_id=certificate_id)


@router.delete("/{certificate_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a certificate")
async def delete_certificate(certificate_id: str, user: CurrentUser, services: Services) -> Response:
    await services.certificates.delete(user_id=user.user_id, certificate_id=certificate_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
