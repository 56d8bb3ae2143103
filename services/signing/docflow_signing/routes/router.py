"""Routes: what someone outside DocFlow does in signing through the session routes opened for
them (``DocFlow-External-Session``): register their certificate, sign the request's files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, status

from docflow_shared.web import RequestClient
from docflow_signing.certificates.router import CERTIFICATE, CertificateUpload, KeyChallenge, KeyProof
from docflow_signing.certificates.schemas import CertificateRead, KeyChallengeRead
from docflow_signing.dependencies import Ctx
from docflow_signing.routes.service import Outsider
from docflow_signing.signatures.router import SIGNATURE, SignatureUpload
from docflow_signing.signatures.schemas import SignatureRead

router = APIRouter()


async def outsider(ctx: Ctx, session_token: Annotated[str | None, Header(
        alias="DocFlow-External-Session", description="the session token routes gave for the link")] = None,
                   ) -> Outsider:
    return await ctx.routes.outsider(session_token)


Session = Annotated[Outsider, Depends(outsider)]


@router.post("/certificates/challenges", status_code=status.HTTP_201_CREATED, response_model=KeyChallengeRead,
             summary="A challenge to sign with the key of the certificate you will register")
async def create_key_challenge(session: Session, ctx: Ctx) -> KeyChallengeRead:
    return await ctx.certificates.challenge(user_id=session.signer_id)


@router.post("/certificates", status_code=status.HTTP_201_CREATED, response_model=CertificateRead,
             openapi_extra=CERTIFICATE.openapi_extra, summary="Register your certificate, proving you hold its key")
async def register_certificate(session: Session, ctx: Ctx, data: CertificateUpload, challenge: KeyChallenge = None,
                               proof: KeyProof = None) -> CertificateRead:
    return await ctx.certificates.register(user_id=session.signer_id, data=data, challenge=challenge,
                                           proof=proof.encode() if proof else None)


@router.post("/files/{file_id}/signatures", status_code=status.HTTP_201_CREATED, response_model=SignatureRead,
             openapi_extra=SIGNATURE.openapi_extra,
             summary="Upload your detached CMS signature of a file of the request")
async def sign_file(file_id: str, session: Session, ctx: Ctx, data: SignatureUpload,
                    client: RequestClient) -> SignatureRead:
    return await ctx.signatures.sign(user_id=session.signer_id, document_id=session.document_id, file_id=file_id,
                                     data=data, client=client)
