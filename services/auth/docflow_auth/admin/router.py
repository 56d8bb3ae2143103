"""GET /admin/users, GET|PATCH /admin/users/{id}, POST /admin/users/{id}/unlock (role admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from docflow_auth.admin import service
from docflow_auth.admin.schemas import AdminUserRead, AdminUserUpdate
from docflow_auth.dependencies import Ctx, Cursor, Limit
from docflow_shared.pagination import Page
from docflow_shared.web import AdminUser

router = APIRouter(tags=["admin"])


@router.get("/users", summary="Accounts, searched by e-mail or name prefix")
async def list_users(
    admin: AdminUser, ctx: Ctx,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AdminUserRead]:
    return await service.list_users(ctx, q=q, limit=limit, cursor=cursor)


@router.get("/users/{user_id}", summary="One account")
async def get_user(user_id: str, admin: AdminUser, ctx: Ctx) -> AdminUserRead:
    return await service.get_user(ctx, user_id)


@router.patch("/users/{user_id}", summary="Change role or block / unblock (blocking ends every session)")
async def update_user(user_id: str, data: AdminUserUpdate, admin: AdminUser, ctx: Ctx) -> AdminUserRead:
    return await service.update_user(ctx, admin, user_id, data)


@router.post("/users/{user_id}/unlock", summary="Lift a login lockout")
async def unlock(user_id: str, admin: AdminUser, ctx: Ctx) -> AdminUserRead:
    return await service.unlock(ctx, user_id)
