"""Delivering events to webhooks: stored once per (event, webhook), signed, posted, retried
with backoff for up to 24 h, each attempt's outcome in the delivery log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp
from opentelemetry.trace import SpanKind

from docflow_notify.deliveries.repository import DeliveryRepository, WebhookDeliveryDocument
from docflow_notify.deliveries.schemas import DeliveryRead, DeliveryStatus
from docflow_notify.settings import NotifySettings
from docflow_notify.streams.concerns import document_owner, links
from docflow_notify.streams.schemas import Notification
from docflow_notify.webhooks.guard import AddressGuard, RefusedAddress
from docflow_notify.webhooks.repository import EVERYONE, WebhookDocument, WebhookRepository
from docflow_notify.webhooks.service import WebhookService, signing_secrets
from docflow_notify.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header
from docflow_shared.errors import NotFound
from docflow_shared.events import Event
from docflow_shared.ids import new_id
from docflow_shared.metrics import WEBHOOK_DELIVERIES
from docflow_shared.mongo import utc_now
from docflow_shared.outbox import Whole, retry_stale
from docflow_shared.pagination import NEWEST_FIRST, Page
from docflow_shared.tokens import Principal
from docflow_shared.tracing import current_traceparent, span

logger = logging.getLogger(__name__)

# what is kept of a receiver's answer or error in the log
ERROR_CHARS = 300
# how long the webhooks of an audience are reused for the next events: a change or deletion
# reaches new deliveries within this time (retries read the webhook afresh)
LISTENING_SECONDS = 1.0


def _nothing() -> None:
    return None


@dataclass(kw_only=True, eq=False)
class DeliveryService:
    settings: NotifySettings
    webhooks: WebhookRepository
    repository: DeliveryRepository
    registry: WebhookService
    guard: AddressGuard
    http: aiohttp.ClientSession

    def __post_init__(self) -> None:
        self.timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout_seconds)
        self.wake_sender: Callable[[], None] = _nothing
        self._listening: dict[tuple[str, ...], tuple[float, list[WebhookDocument]]] = {}

    async def listening(self, audiences: list[str]) -> list[WebhookDocument]:
        """The active webhooks of these audiences, read at most once a ``LISTENING_SECONDS``."""
        key = tuple(audiences)
        cached = self._listening.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        found = await self.webhooks.listening(audiences)
        if len(self._listening) > 10_000:
            self._listening.clear()
        self._listening[key] = (time.monotonic() + LISTENING_SECONDS, found)
        return found

    async def accept(self, event: Event) -> list[tuple[Whole, WebhookDocument]]:
        """Store a delivery for every webhook that wants ``event`` (once, however often the event
        comes), claimed for its first attempt; the new ones, each with its webhook."""
        owner = document_owner(event.data)
        audiences = [EVERYONE, owner] if owner else [EVERYONE]
        listening = [w for w in await self.listening(audiences) if event.type in w["event_types"]]
        if not listening:
            return []
        body = Notification(id=str(event.id), type=event.type, time=event.occurred_at,
                            links=links(event.type, event.data)).to_message()
        created = utc_now()
        traceparent = current_traceparent() or event.traceparent
        stored: list[tuple[Whole, WebhookDocument]] = []
        for webhook in listening:
            # sending, attempt 1: the sender that stored it sends it; should it die, the claim
            # lapses and the send loop takes the delivery over
            doc: WebhookDeliveryDocument = {
                "_id": new_id("whd"), "webhook_id": webhook["_id"], "owner_id": webhook["owner_id"],
                "event_id": str(event.id), "event_type": event.type, "body": body,
                "status": DeliveryStatus.SENDING.value, "attempts": 1,
                "next_attempt_at": created + timedelta(seconds=self.settings.webhook_claim_seconds),
                "give_up_at": created + timedelta(seconds=self.settings.webhook_max_age_seconds), "created_at": created,
                # every attempt, retries by the send loop too, joins the trace of the request
                # that caused the event: a child of the span consuming it
                "traceparent": traceparent,
            }
            if await self.repository.insert(doc):
                stored.append((self.repository.as_inserted(doc), webhook))
        return stored

    async def attempt(self, delivery_id: str) -> None:
        """One attempt, if the delivery is due and no other sender has it."""
        claimed = await self.repository.claim(delivery_id, claim_seconds=self.settings.webhook_claim_seconds)
        if claimed is None:
            return
        webhook = await self.webhooks.get(claimed["webhook_id"])
        if webhook is None or not webhook.get("active"):
            await self._fail(claimed, None, "the webhook was deleted or deactivated", outcome="given_up")
            return
        await self.send(claimed, webhook)

    async def send(self, claimed: Whole, webhook: WebhookDocument) -> None:
        """Post a claimed delivery to its webhook and record the outcome."""
        with span("webhook deliver", kind=SpanKind.CLIENT, parent=claimed.get("traceparent"),
                  attributes={"docflow.event_type": claimed["event_type"], "docflow.delivery.id": claimed["_id"],
                              "docflow.delivery.attempt": claimed["attempts"]}):
            status, error = await self._post(webhook, claimed)
        if status is not None and 200 <= status < 300:
            WEBHOOK_DELIVERIES.labels("delivered").inc()
            await self.repository.record(claimed, {"status": DeliveryStatus.DELIVERED.value, "last_status_code": status,
                                                   "last_error": None, "delivered_at": utc_now()})
            return
        if error.startswith("refused:"):
            await self._fail(claimed, status, error, outcome="refused")
            return
        due = self.repository.retry_at(claimed, base_seconds=self.settings.webhook_retry_base_seconds,
                                       max_seconds=self.settings.webhook_retry_max_seconds)
        if due is None:
            await self._fail(claimed, status, error, outcome="given_up")
            return
        WEBHOOK_DELIVERIES.labels("failed").inc()
        await self.repository.record(claimed, {"status": DeliveryStatus.RETRYING.value, "last_status_code": status,
                                               "last_error": error, "next_attempt_at": due})

    async def _fail(self, claimed: Whole, status: int | None, error: str, *, outcome: str) -> None:
        WEBHOOK_DELIVERIES.labels(outcome).inc()
        await self.repository.record(claimed, {"status": DeliveryStatus.FAILED.value, "last_status_code": status,
                                               "last_error": error, "failed_at": utc_now()})

    async def _post(self, webhook: WebhookDocument, delivery: Whole) -> tuple[int | None, str]:
        """The receiver's status code (None when there was none) and what went wrong."""
        body = delivery["body"].encode()
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(timestamp),
                   SIGNATURE_HEADER: signature_header(signing_secrets(webhook), timestamp, body),
                   "DocFlow-Event-Type": delivery["event_type"], "DocFlow-Event-Id": delivery["event_id"],
                   "DocFlow-Delivery-Id": delivery["_id"], "User-Agent": "DocFlow-Webhooks/1"}
        try:
            self.guard.check_host(urlsplit(webhook["url"]).hostname or "")  # literal addresses skip the resolver
            async with self.http.post(webhook["url"], data=body, headers=headers, allow_redirects=False,
                                      timeout=self.timeout) as resp:
                answer = (await resp.content.read(ERROR_CHARS)).decode("utf-8", "replace")
                return resp.status, "" if resp.status < 300 else f"HTTP {resp.status}: {answer}"[:ERROR_CHARS]
        except (RefusedAddress, ValueError) as exc:  # ValueError: a URL the client cannot read
            return None, f"refused: {exc}"[:ERROR_CHARS]
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedAddress):
                return None, f"refused: {exc.os_error}"[:ERROR_CHARS]
            return None, f"connection failed: {exc}"[:ERROR_CHARS]
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]

    async def list(self, user: Principal, webhook_id: str, *, cursor: str | None, limit: int) -> Page[DeliveryRead]:
        await self.registry.visible(user, webhook_id)
        docs = await self.repository.page(webhook_id=webhook_id, after=NEWEST_FIRST.after(cursor), limit=limit + 1)
        items, next_cursor = NEWEST_FIRST.page(docs, limit)
        return Page(items=[DeliveryRead.from_doc(doc) for doc in items], next_cursor=next_cursor)

    async def redeliver(self, user: Principal, webhook_id: str, delivery_id: str) -> DeliveryRead:
        """Send a delivery again now (whatever its status), with fresh attempts and a fresh 24 h of
        retries; one a sender is attempting at this moment is shown as it is."""
        await self.registry.visible(user, webhook_id)

        async def attempt() -> Whole:
            current = await self.repository.get(delivery_id)
            if current is None or current["webhook_id"] != webhook_id:
                raise NotFound("No such delivery.")
            # being sent right now: that attempt stands, and the log shows it
            return await self.repository.reopen(current, keep_seconds=self.settings.webhook_max_age_seconds) or current

        shown = await retry_stale(attempt)
        self.wake_sender()
        return DeliveryRead.from_doc(self.repository.stored(shown))
