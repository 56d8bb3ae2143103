"""Deliveries from event to SMTP reply: store once, claim, send, record, retry with backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.errors import ConnectionFailure

from docflow_mail.deliveries.events import mail_failed, mail_sent
from docflow_mail.deliveries.repository import DeliveryRepository, epoch, new_delivery_id, now
from docflow_mail.deliveries.rules import MailRule, Recipient
from docflow_mail.deliveries.schemas import OPEN_STATUSES, DeliveryRead, DeliveryStatus
from docflow_mail.settings import MailSettings
from docflow_mail.smtp.client import SendFailed, SmtpPool
from docflow_mail.smtp.message import compose, envelope_address
from docflow_mail.templates.renderer import RenderedMessage, TemplateRenderer, pick_locale
from docflow_shared.errors import Conflict, NotFound
from docflow_shared.events import Event
from docflow_shared.events.catalogue import UserDeleted
from docflow_shared.outbox import StaleDocument, outbox_fields
from docflow_shared.pagination import Page, decode_cursor, encode_cursor
from docflow_shared.runtime import ServiceRuntime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """A delivery just stored, with the message rendered for it (sent without rendering again)."""

    delivery: dict[str, Any]
    rendered: RenderedMessage


class DeliveryService:
    """Turns events into deliveries and deliveries into accepted e-mails."""

    def __init__(self, *, runtime: ServiceRuntime, settings: MailSettings, repository: DeliveryRepository,
                 renderer: TemplateRenderer, smtp: SmtpPool) -> None:
        self.runtime = runtime
        self.settings = settings
        self.repository = repository
        self.renderer = renderer
        self.smtp = smtp
        self.wake_sender: Callable[[], None] = lambda: None

    # --- from events ---------------------------------------------------------------------------

    async def accept(self, event: Event, rule: MailRule[Any]) -> list[Outgoing | str]:
        """Store one delivery per recipient (once per event id); returns what is still to send:
        new deliveries (stored claimed for their first attempt, with their rendered message)
        and the ids of open ones.

        Raises pydantic.ValidationError or jinja2 errors for an event that cannot become an
        e-mail (the bus retries it, then dead-letters it with the error).
        """
        payload: Any = event.payload(rule.model)
        context = rule.context(payload, self.settings)
        to_send: list[Outgoing | str] = []
        for recipient in rule.recipients(payload):
            outgoing = self._new_delivery(event, rule, recipient, context)
            if await self.repository.insert(outgoing.delivery):
                to_send.append(outgoing)
                continue
            existing = await self.repository.find_for(str(event.id), outgoing.delivery["recipient"])
            if existing is not None and existing["status"] in OPEN_STATUSES:
                to_send.append(str(existing["_id"]))
        return to_send

    async def send(self, delivery: Outgoing | str) -> DeliveryStatus | None:
        """Send what ``accept`` returned: a claimed new delivery, or an open one if due and free."""
        if isinstance(delivery, str):
            return await self.attempt(delivery)
        return await self._send_claimed({**delivery.delivery, **outbox_fields()}, delivery.rendered)

    def _new_delivery(self, event: Event, rule: MailRule[Any], recipient: Recipient,
                      context: Mapping[str, Any]) -> Outgoing:
        locale = pick_locale(recipient.locale)
        variables = {**context, "name": recipient.name, "base_url": self.settings.public_base_url.rstrip("/")}
        rendered = self.renderer.render(rule.template, locale, variables)  # fails early for bad data
        at = now()
        delivery = {
            "_id": new_delivery_id(),
            "event_id": str(event.id),
            "event_type": event.type,
            "recipient": recipient.email.strip().lower(),
            "recipient_name": recipient.name,
            "user_id": recipient.user_id,
            "template": rule.template,
            "locale": locale,
            "subject": rendered.subject,
            # what the template needs to render the message again for a later attempt
            "context": variables,
            # stored claimed for the first attempt, made right away by the consumer
            "status": DeliveryStatus.SENDING.value,
            "attempts": 1,
            "last_error": None,
            "created_at": at,
            "updated_at": at,
            "next_attempt_at": epoch() + self.settings.claim_seconds,
            "give_up_at": epoch() + self.settings.max_age_seconds,
        }
        return Outgoing(delivery, rendered)

    async def erase_user(self, event: Event) -> None:
        """user.deleted: the log keeps that e-mails went out, not to whom."""
        await self.repository.erase_user(event.payload(UserDeleted).user_id)

    # --- sending ------------------------------------------------------------------------------

    async def attempt(self, delivery_id: str) -> DeliveryStatus | None:
        """One sending attempt if the delivery is due and free; returns its new status."""
        claimed = await self.repository.claim(delivery_id, claim_seconds=self.settings.claim_seconds)
        if claimed is None:
            return None
        return await self._send_claimed(claimed)

    async def _send_claimed(self, claimed: dict[str, Any], rendered: RenderedMessage | None = None) -> DeliveryStatus:
        if rendered is None:
            try:
                rendered = self.renderer.render(claimed["template"], claimed["locale"], claimed.get("context") or {})
            except Exception as exc:  # a template changed or was removed since the event came
                return await self._record_failure(claimed, SendFailed(f"cannot render: {exc!r}", permanent=True))
        message = compose(
            sender=self.settings.mail_from,
            recipient=claimed["recipient"],
            recipient_name=claimed.get("recipient_name") or claimed["recipient"],
            rendered=rendered,
            delivery_id=claimed["_id"],
            event_id=claimed["event_id"],
        )
        try:
            reply = await self.smtp.send(message, sender=envelope_address(self.settings.mail_from),
                                         recipient=claimed["recipient"])
        except SendFailed as exc:
            return await self._record_failure(claimed, exc)
        at = now()
        await self._record(claimed, {"status": DeliveryStatus.SENT.value, "sent_at": at, "last_error": None,
                                     "smtp_reply": reply[:300]},
                           [mail_sent(self.runtime, claimed)], unset=["context"])
        return DeliveryStatus.SENT

    async def _record_failure(self, claimed: dict[str, Any], exc: SendFailed) -> DeliveryStatus:
        at = now()
        error = str(exc)[:1000]
        attempts = int(claimed.get("attempts", 1))
        out_of_time = epoch() >= float(claimed.get("give_up_at") or 0)
        if exc.permanent or attempts >= self.settings.max_attempts or out_of_time:
            if not exc.permanent:
                error = f"gave up after {attempts} attempts: {error}"
            logger.warning("delivery %s failed: %s", claimed["_id"], error)
            await self._record(claimed, {"status": DeliveryStatus.FAILED.value, "failed_at": at,
                                         "last_error": error},
                               [mail_failed(self.runtime, claimed, error)])
            return DeliveryStatus.FAILED
        delay = self.backoff(attempts)
        logger.info("delivery %s will be retried in %.1fs: %s", claimed["_id"], delay, error)
        await self._record(claimed, {"status": DeliveryStatus.RETRYING.value, "last_error": error,
                                     "next_attempt_at": epoch() + delay}, [])
        return DeliveryStatus.RETRYING

    def backoff(self, attempts: int) -> float:
        base = self.settings.retry_base_seconds * (2 ** max(attempts - 1, 0))
        return float(min(base, self.settings.retry_max_seconds) * random.uniform(0.8, 1.2))

    async def _record(self, claimed: dict[str, Any], changes: dict[str, Any], events: list[Event],
                      unset: list[str] | None = None) -> None:
        """Store the outcome; while MongoDB is down keep trying for as long as the claim lasts."""
        deadline = asyncio.get_running_loop().time() + self.settings.claim_seconds
        delay = 0.2
        while True:
            try:
                if not await self.repository.record(claimed, changes, events, unset=unset or ()):
                    logger.warning("delivery %s changed while it was being sent", claimed["_id"])
                return
            except ConnectionFailure:
                if asyncio.get_running_loop().time() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    # --- admin ---------------------------------------------------------------------------------

    async def list(self, *, status: DeliveryStatus | None, recipient: str | None, cursor: str | None,
                   limit: int) -> Page[DeliveryRead]:
        position = decode_cursor(cursor)
        after = str(position["id"]) if position and "id" in position else None
        docs = await self.repository.page(status=status.value if status else None,
                                          recipient=recipient.strip().lower() if recipient else None,
                                          after=after, limit=limit + 1)
        items = [DeliveryRead.from_document(d) for d in docs[:limit]]
        next_cursor = encode_cursor({"id": items[-1].id}) if len(docs) > limit and items else None
        return Page[DeliveryRead](items=items, next_cursor=next_cursor)

    async def retry(self, delivery_id: str) -> DeliveryRead:
        """Send a delivery again now, with fresh attempts and time; a sent one is not sent twice."""
        current = await self.repository.get(delivery_id)
        if current is None:
            raise NotFound("No such delivery.")
        if current["status"] == DeliveryStatus.SENT.value:
            raise Conflict("This e-mail was already sent.", slug="already-sent")
        if current["status"] == DeliveryStatus.SENDING.value and float(current["next_attempt_at"]) > epoch():
            raise Conflict("This e-mail is being sent right now.", slug="in-progress")
        try:
            updated = await self.repository.update(current, {
                "status": DeliveryStatus.PENDING.value, "attempts": 0, "next_attempt_at": epoch(),
                "give_up_at": epoch() + self.settings.max_age_seconds,
            })
        except StaleDocument as exc:
            raise Conflict("The delivery changed meanwhile; try again.") from exc
        self.wake_sender()
        return DeliveryRead.from_document(updated)
