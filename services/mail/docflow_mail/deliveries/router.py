"""Admin API over the delivery log: list with filters, send one again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from docflow_mail.deliveries.schemas import DeliveryRead, DeliveryStatus
from docflow_mail.dependencies import Ctx, Cursor, Limit
from docflow_shared.pagination import Page
from docflow_shared.web import AdminUser

router = APIRouter()


@router.get("", response_model=Page[DeliveryRead])
async def list_deliveries(
    admin: AdminUser,
    ctx: Ctx,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    recipient: Annotated[str | None, Query(max_length=320)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[DeliveryRead]:
    return await ctx.deliveries.list(status=status_, recipient=recipient, cursor=cursor, limit=limit)


@router.post("/{delivery_id}/retry", response_model=DeliveryRead, status_code=status.HTTP_202_ACCEPTED)
async def retry_delivery(admin: AdminUser, ctx: Ctx, delivery_id: str) -> DeliveryRead:
    return await ctx.deliveries.retry(delivery_id)
