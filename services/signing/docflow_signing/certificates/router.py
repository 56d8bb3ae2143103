"""Routes: /api/v1/certificates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status

from docflow_shared.openapi import created_links, link
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser
from docflow_signing.certificates.schemas import CertificateRead, KeyChallengeRead
from docflow_signing.dependencies import BlobUpload, Ctx, Cursor, Limit

router = APIRouter()

CERTIFICATE = BlobUpload(
    field="certificate", limit=lambda settings: settings.max_certificate_bytes,
    read_fields=("pem", "certificate", "der_base64"),
    documented_fields={"pem": "PEM text of the certificate", "der_base64": "DER bytes of the certificate in base64"},
    raw_types=("application/pkix-cert", "application/x-pem-file", "application/octet-stream"),
    description="An X.509 certificate, PEM or DER: multipart field `certificate`, JSON `{pem}` / "
    "`{der_base64}`, or the raw bytes. Whatever the form, the headers `DocFlow-Key-Challenge` (a "
    "challenge from `POST /api/v1/certificates/challenges`) and `DocFlow-Key-Proof` (a detached CMS "
    "signature of the challenge with the certificate's key, DER in base64) prove that you hold the key.",
)
CertificateUpload = Annotated[bytes, Depends(CERTIFICATE.read)]
KeyChallenge = Annotated[str | None, Header(
    alias="DocFlow-Key-Challenge", max_length=200,
    description="the challenge from POST /api/v1/certificates/challenges")]
KeyProof = Annotated[str | None, Header(
    alias="DocFlow-Key-Proof", max_length=16_000,
    description="detached CMS signature (DER, base64) of the challenge made with the certificate's key")]


@router.post("/challenges", status_code=status.HTTP_201_CREATED, response_model=KeyChallengeRead,
             summary="Get a challenge to sign with the key of a certificate you will upload")
async def create_key_challenge(user: CurrentUser, ctx: Ctx) -> KeyChallengeRead:
    return await ctx.certificates.challenge(user_id=user.user_id)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CertificateRead,
             openapi_extra=CERTIFICATE.openapi_extra, summary="Upload a signing certificate", responses=created_links(
                 GetCertificate=link("/api/v1/certificates/{certificate_id}", certificate_id="$response.body#/id")))
async def upload_certificate(user: CurrentUser, ctx: Ctx, data: CertificateUpload,
                             challenge: KeyChallenge = None, proof: KeyProof = None) -> CertificateRead:
    return await ctx.certificates.register(user_id=user.user_id, data=data, challenge=challenge,
                                           proof=proof.encode() if proof else None)


@router.get("", response_model=Page[CertificateRead], summary="List your certificates")
async def list_certificates(
    user: CurrentUser, ctx: Ctx,
    limit: Limit = 50, cursor: Cursor = None,
) -> Page[CertificateRead]:
    return await ctx.certificates.page(user_id=user.user_id, limit=limit, cursor=cursor)


@router.get("/{certificate_id}", response_model=CertificateRead, summary="One of your certificates")
async def get_certificate(certificate_id: str, user: CurrentUser, ctx: Ctx) -> CertificateRead:
    return await ctx.certificates.get(user_id=user.user_id, certificate_id=certificate_id)


@router.delete("/{certificate_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a certificate")
async def delete_certificate(certificate_id: str, user: CurrentUser, ctx: Ctx) -> Response:
    await ctx.certificates.delete(user_id=user.user_id, certificate_id=certificate_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
