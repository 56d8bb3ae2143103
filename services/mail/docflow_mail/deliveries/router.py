"""Admin API over the delivery log: list with filters, send one again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from docflow_mail.deliveries.schemas import DeliveryRead, DeliveryStatus
from docflow_mail.deliveries.service import DeliveryService
from docflow_shared.pagination import Page
from docflow_shared.web import AdminUser

router = APIRouter()


def get_deliveries(request: Request) -> DeliveryService:
    return request.app.state.deliveries  # type: ignore[no-any-return]


Deliveries = Annotated[DeliveryService, Depends(get_deliveries)]


@router.get("", response_model=Page[DeliveryRead])
async def list_deliveries(
    admin: AdminUser,
    deliveries: Deliveries,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    recipient: Annotated[str | None, Query(max_length=320)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[DeliveryRead]:
    return await deliveries.list(status=status_, recipient=recipient, cursor=cursor, limit=limit)


@router.post("/{delivery_id}/retry", response_model=DeliveryRead, status_code=status.HTTP_202_ACCEPTED)
async def retry_delivery(admin: AdminUser, deliveries: Deliveries, delivery_id: str) -> DeliveryRead:
    return await deliveries.retry(delivery_id)
