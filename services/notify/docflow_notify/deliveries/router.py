"""``/api/v1/webhooks/{id}/deliveries``: a webhook's delivery log, and sending one again."""

from __future__ import annotations

from fastapi import APIRouter, status

from docflow_notify.deliveries.schemas import DeliveryRead
from docflow_notify.dependencies import Ctx, Cursor, Limit
from docflow_shared.pagination import Page
from docflow_shared.web import CurrentUser

router = APIRouter()


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryRead], summary="The delivery log")
async def list_deliveries(webhook_id: str, user: CurrentUser, ctx: Ctx, cursor: Cursor = None,
                          limit: Limit = 50) -> Page[DeliveryRead]:
    return await ctx.deliveries.list(user, webhook_id, cursor=cursor, limit=limit)


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", response_model=DeliveryRead,
             status_code=status.HTTP_202_ACCEPTED, summary="Send a delivery again now")
async def redeliver(webhook_id: str, delivery_id: str, user: CurrentUser, ctx: Ctx) -> DeliveryRead:
    return await ctx.deliveries.redeliver(user, webhook_id, delivery_id)
