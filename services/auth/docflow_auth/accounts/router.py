"""Signup, availability and e-mail verification routes (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from docflow_auth.accounts import service
from docflow_auth.accounts.schemas import (
    AvailabilityRead,
    EmailCodeVerify,
    SignupCreate,
    UserRead,
    VerificationRead,
    VerificationResend,
)
from docflow_auth.context import Auth
from docflow_auth.security.identifiers import Email, Iin, Phone

router = APIRouter(tags=["accounts"])


@router.post("/signup", status_code=status.HTTP_201_CREATED, summary="Create an account")
async def signup(data: SignupCreate, auth: Auth) -> UserRead:
    return await service.signup(auth, data)


@router.get("/availability", summary="Whether an e-mail, phone or IIN is still free")
async def availability(
    auth: Auth,
    email: Annotated[Email | None, Query()] = None,
    phone: Annotated[Phone | None, Query()] = None,
    iin: Annotated[Iin | None, Query()] = None,
) -> AvailabilityRead:
    return await service.availability(auth, email=email, phone=phone, iin=iin)


@router.post("/email/verify", summary="Confirm the e-mail address with the 6-digit code")
async def verify_code(data: EmailCodeVerify, auth: Auth) -> VerificationRead:
    return await service.verify_code(auth, data)


@router.get("/email/verify", summary="Confirm the e-mail address with the link token")
async def verify_token(auth: Auth, token: Annotated[str, Query(min_length=16, max_length=200)]) -> VerificationRead:
    return await service.verify_token(auth, token)


@router.post("/email/resend", status_code=status.HTTP_202_ACCEPTED,
             summary="Send a new verification code (always 202)")
async def resend(data: VerificationResend, auth: Auth) -> dict[str, str]:
    await service.resend(auth, data.email)
    return {"status": "accepted"}
