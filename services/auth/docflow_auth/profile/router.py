"""GET|PATCH|DELETE /users/me, POST /users/me/email, GET /users/lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from docflow_auth.accounts.schemas import UserRead
from docflow_auth.dependencies import Ctx
from docflow_auth.profile import service
from docflow_auth.profile.schemas import AccountDelete, EmailChange, UserLookupRead, UserUpdate
from docflow_auth.security.identifiers import Email
from docflow_shared.web import CurrentUser

router = APIRouter(tags=["profile"])


@router.get("/me", summary="The caller's profile")
async def read_me(principal: CurrentUser, ctx: Ctx) -> UserRead:
    return await service.me(ctx, principal)


@router.patch("/me", summary="Change name, phone, IIN or locale")
async def update_me(data: UserUpdate, principal: CurrentUser, ctx: Ctx) -> UserRead:
    return await service.update_me(ctx, principal, data)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, summary="Delete the account (needs the password)")
async def delete_me(data: AccountDelete, principal: CurrentUser, ctx: Ctx) -> None:
    await service.delete_me(ctx, principal, data)


@router.post("/me/email", summary="Ask to change the e-mail address (needs the password; takes effect once verified)")
async def change_email(data: EmailChange, principal: CurrentUser, ctx: Ctx) -> UserRead:
    return await service.change_email(ctx, principal, data)


@router.get("/lookup", summary="Find a user by e-mail (minimal profile)")
async def lookup(email: Annotated[Email, Query()], principal: CurrentUser, ctx: Ctx) -> UserLookupRead:
    return await service.lookup(ctx, principal, email)
