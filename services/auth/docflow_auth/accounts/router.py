"""Signup, availability and e-mail verification routes (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from docflow_auth.accounts import service
from docflow_auth.accounts.schemas import (
    AvailabilityRead,
    EmailCodeVerify,
    SignupCreate,
    SignupRead,
    VerificationRead,
    VerificationResend,
)
from docflow_auth.dependencies import Ctx, client_ip
from docflow_auth.security.identifiers import Email, Iin, Phone

router = APIRouter(tags=["accounts"])


@router.post("/signup", status_code=status.HTTP_201_CREATED,
             summary="Create an account; answers its profile and an access and a refresh token")
async def signup(data: SignupCreate, request: Request, ctx: Ctx) -> SignupRead:
    return await service.signup(ctx, data, user_agent=request.headers.get("user-agent"), ip=client_ip(request))


@router.get("/availability", summary="Whether an e-mail, phone or IIN is still free")
async def availability(
    ctx: Ctx,
    email: Annotated[Email | None, Query()] = None,
    phone: Annotated[Phone | None, Query()] = None,
    iin: Annotated[Iin | None, Query()] = None,
) -> AvailabilityRead:
    return await service.availability(ctx, email=email, phone=phone, iin=iin)


@router.post("/email/verify", summary="Confirm the e-mail address with the 6-digit code")
async def verify_code(data: EmailCodeVerify, ctx: Ctx) -> VerificationRead:
    return await service.verify_code(ctx, data)


@router.get("/email/verify", summary="Confirm the e-mail address with the link token")
async def verify_token(ctx: Ctx, token: Annotated[str, Query(min_length=16, max_length=200)]) -> VerificationRead:
    return await service.verify_token(ctx, token)


@router.post("/email/resend", status_code=status.HTTP_202_ACCEPTED,
             summary="Send a new verification code (always 202)")
async def resend(data: VerificationResend, ctx: Ctx) -> dict[str, str]:
    await service.resend(ctx, data.email)
    return {"status": "accepted"}
