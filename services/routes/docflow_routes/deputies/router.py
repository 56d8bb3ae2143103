"""Routes: the caller's standing deputy."""

from __future__ import annotations

from fastapi import APIRouter, status

from docflow_routes.dependencies import Ctx
from docflow_routes.deputies.schemas import DeputyPut, DeputyRead
from docflow_shared.web import CurrentUser

router = APIRouter()


@router.put("/me/deputy", response_model=DeputyRead, summary="Set your standing deputy for a period")
async def put_deputy(body: DeputyPut, user: CurrentUser, ctx: Ctx) -> DeputyRead:
    return await ctx.deputies.put(user_id=user.user_id, body=body)


@router.get("/me/deputy", response_model=DeputyRead, summary="Your standing deputy")
async def get_deputy(user: CurrentUser, ctx: Ctx) -> DeputyRead:
    return await ctx.deputies.get(user_id=user.user_id)


@router.delete("/me/deputy", status_code=status.HTTP_204_NO_CONTENT, summary="End your standing deputy")
async def delete_deputy(user: CurrentUser, ctx: Ctx) -> None:
    await ctx.deputies.clear(user_id=user.user_id)
