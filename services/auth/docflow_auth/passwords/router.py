"""POST /auth/password/forgot, /auth/password/reset, /users/me/password."""

from __future__ import annotations

from fastapi import APIRouter, status

from docflow_auth.dependencies import Ctx
from docflow_auth.passwords import service
from docflow_auth.passwords.schemas import PasswordChange, PasswordForgot, PasswordReset
from docflow_shared.web import CurrentUser

router = APIRouter(tags=["passwords"])
me_router = APIRouter(tags=["passwords"])


@router.post("/password/forgot", status_code=status.HTTP_202_ACCEPTED,
             summary="E-mail a reset link if the account exists (always 202)")
async def forgot(data: PasswordForgot, ctx: Ctx) -> dict[str, str]:
    await service.forgot(ctx, data.email)
    return {"status": "accepted"}


@router.post("/password/reset", status_code=status.HTTP_204_NO_CONTENT,
             summary="Set a new password with the e-mailed token; ends every session")
async def reset(data: PasswordReset, ctx: Ctx) -> None:
    await service.reset(ctx, data)


@me_router.post("/password", status_code=status.HTTP_204_NO_CONTENT,
                summary="Change the password; ends the other sessions")
async def change(data: PasswordChange, principal: CurrentUser, ctx: Ctx) -> None:
    await service.change(ctx, principal, data)
