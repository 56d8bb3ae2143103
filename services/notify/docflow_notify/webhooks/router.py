"""``/api/v1/webhooks``: register endpoints and rotate their secrets."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from docflow_notify.dependencies import Ctx, Cursor, Limit
from docflow_notify.webhooks.schemas import WebhookCreate, WebhookRead, WebhookSecret, WebhookUpdate
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser

router = APIRouter()


@router.post("", response_model=WebhookSecret, status_code=status.HTTP_201_CREATED,
             summary="Register an endpoint (its secret is shown this once)")
async def create_webhook(data: WebhookCreate, user: CurrentUser, ctx: Ctx) -> WebhookSecret:
    return await ctx.webhooks.create(user, data)


@router.get("", response_model=Page[WebhookRead])
async def list_webhooks(user: CurrentUser, ctx: Ctx, cursor: Cursor = None, limit: Limit = 50) -> Page[WebhookRead]:
    return await ctx.webhooks.list(user, cursor=cursor, limit=limit)


@router.get("/{webhook_id}", response_model=WebhookRead)
async def get_webhook(webhook_id: str, user: CurrentUser, ctx: Ctx) -> WebhookRead:
    return await ctx.webhooks.get(user, webhook_id)


@router.patch("/{webhook_id}", response_model=WebhookRead)
async def update_webhook(webhook_id: str, data: WebhookUpdate, user: CurrentUser, ctx: Ctx) -> WebhookRead:
    return await ctx.webhooks.update(user, webhook_id, data)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhook_id: str, user: CurrentUser, ctx: Ctx) -> Response:
    await ctx.webhooks.delete(user, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/secret", response_model=WebhookSecret,
             summary="Rotate the secret (the previous one signs too during the overlap)")
async def rotate_secret(webhook_id: str, user: CurrentUser, ctx: Ctx) -> WebhookSecret:
    return await ctx.webhooks.rotate_secret(user, webhook_id)
