"""What notify stores, read back through its repositories from the real database: each field has
the type its TypedDict declares (``WebhookDocument``, ``WebhookDeliveryDocument``,
``NotificationDocument``), and the API models read the documents as they come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from docflow_notify.deliveries.repository import DeliveryRepository, WebhookDeliveryDocument
from docflow_notify.deliveries.schemas import DeliveryRead
from docflow_notify.streams.repository import NotificationRepository
from docflow_notify.streams.schemas import Notification
from docflow_notify.webhooks.repository import WebhookDocument, WebhookRepository
from docflow_notify.webhooks.schemas import WebhookRead
from docflow_shared.mongo import Document, stored_datetime, utc_now


async def test_a_webhook_reads_back_as_stored_and_is_gone_once_deleted(db: AsyncDatabase[Document]) -> None:
    webhooks = WebhookRepository(db)
    await webhooks.ensure_indexes()
    created = utc_now()
    webhook: WebhookDocument = {
        "_id": "whk-store", "url": "https://example.org/hook", "event_types": ["document.created"],
        "scope": "own", "audience": "u1", "owner_id": "u1", "active": True, "description": "",
        "secret": "whsec_x", "created_at": created, "deleted_at": None,
    }
    await webhooks.insert(webhook)

    stored = await webhooks.get("whk-store")
    assert stored is not None
    assert isinstance(stored["created_at"], datetime) and stored["created_at"] == created
    assert stored["event_types"] == ["document.created"] and stored["active"] is True
    assert [w["_id"] for w in await webhooks.listening(["u1"])] == ["whk-store"]

    updated = await webhooks.update("whk-store", {"description": "renamed"})
    assert updated is not None and updated["description"] == "renamed"
    read = WebhookRead.from_doc(updated)
    assert read.created_at == created and read.updated_at is not None  # ``$set``: read with stored_datetime

    assert await webhooks.delete("whk-store")
    assert await webhooks.get("whk-store") is None
    assert await webhooks.listening(["u1"]) == []
    assert await webhooks.count_for("u1") == 0


async def test_a_delivery_reads_back_as_stored(db: AsyncDatabase[Document]) -> None:
    deliveries = DeliveryRepository(db)
    await deliveries.ensure_indexes()
    created = utc_now()
    delivery: WebhookDeliveryDocument = {
        "_id": "whd-store", "webhook_id": "whk1", "owner_id": "u1", "event_id": "e1",
        "event_type": "document.created", "body": "{}", "status": "sending", "attempts": 1,
        "next_attempt_at": created, "give_up_at": created + timedelta(hours=24), "created_at": created,
        "traceparent": None,
    }
    assert await deliveries.insert(delivery)

    stored = await deliveries.get("whd-store")
    assert stored is not None
    assert isinstance(stored["created_at"], datetime) and stored["created_at"] == created
    assert isinstance(stored["next_attempt_at"], datetime) and stored["next_attempt_at"] == created
    assert isinstance(stored["attempts"], int)
    assert DeliveryRead.from_doc(stored).created_at == created


async def test_a_notification_reads_back_as_stored(db: AsyncDatabase[Document]) -> None:
    notifications = NotificationRepository(db, keep_seconds=3600)
    await notifications.ensure_indexes()
    at = datetime.now(UTC)
    await notifications.store(event_id="e-store", event_type="document.created", at=at, user_id="u1",
                              links={"document": "/documents/d1"})

    [stored] = await notifications.recent("u1", seconds=60)
    assert isinstance(stored["at"], datetime) and abs(stored["at"] - at) < timedelta(milliseconds=1)
    assert isinstance(stored["stored_at"], datetime)
    assert stored_datetime(stored["time"]) == at
    assert stored["links"] == {"document": "/documents/d1"}
    assert Notification.from_doc(stored).time == at


async def test_times_once_stored_as_epoch_seconds_become_dates_at_start(db: AsyncDatabase[Document]) -> None:
    """Deliveries and notifications stored before notify kept BSON dates are rewritten once, so
    the send loop and replays still find them."""
    due = utc_now() - timedelta(seconds=5)
    await db["webhook_deliveries"].insert_one({
        "_id": "whd-old", "webhook_id": "whk1", "owner_id": "u1", "event_id": "e-old",
        "event_type": "document.created", "body": "{}", "status": "retrying", "attempts": 1,
        "next_attempt_at": due.timestamp(), "give_up_at": due.timestamp() + 3600, "created_at": due})
    await db["notifications"].insert_one({
        "_id": "e-old:u1", "event_id": "e-old", "type": "document.created", "at": due.timestamp(),
        "time": due.isoformat(), "user_id": "u1", "links": {}, "stored_at": due})

    deliveries = DeliveryRepository(db)
    await deliveries.ensure_indexes()
    notifications = NotificationRepository(db, keep_seconds=3600)
    await notifications.ensure_indexes()

    assert await deliveries.due_ids(limit=10) == ["whd-old"]
    claimed = await deliveries.claim("whd-old", claim_seconds=60)
    assert claimed is not None and claimed["give_up_at"] == due + timedelta(seconds=3600)
    assert [doc["event_id"] for doc in await notifications.recent("u1", seconds=60)] == ["e-old"]
