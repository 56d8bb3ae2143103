"""Deliveries from event to SMTP reply: store once, claim, send, record, retry with backoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.errors import ConnectionFailure

from docflow_mail.deliveries.events import mail_failed, mail_sent
from docflow_mail.deliveries.repository import DeliveryRepository
from docflow_mail.deliveries.rules import MailRule, Recipient
from docflow_mail.deliveries.schemas import OPEN_STATUSES, DeliveryRead, DeliveryStatus
from docflow_mail.settings import MailSettings
from docflow_mail.smtp.client import SendFailed, SmtpPool
from docflow_mail.smtp.message import compose, envelope_address, recipient_address
from docflow_mail.templates.renderer import RenderedMessage, TemplateRenderer, pick_locale
from docflow_shared.errors import Conflict, NotFound
from docflow_shared.events import Event
from docflow_shared.events.catalogue import UserDeleted
from docflow_shared.ids import new_id
from docflow_shared.metrics import MAIL_DELIVERIES
from docflow_shared.mongo import utc_now
from docflow_shared.outbox import Whole, retry_stale
from docflow_shared.pagination import NEWEST_FIRST, Page
from docflow_shared.runtime import ServiceRuntime
from docflow_shared.sealed import SecretSealer, secret_context

MASK = "******"
DELIVERY_ID_LENGTH = 30  # as long as the ids stored before docflow_shared.ids existed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """A delivery just stored, with the message rendered for it (sent without rendering again)."""

    delivery: dict[str, Any]
    rendered: RenderedMessage


def masked(text: str, secrets: Mapping[str, str]) -> str:
    """``text`` with every secret value replaced, for what the delivery log keeps readable."""
    for value in sorted(secrets.values(), key=len, reverse=True):
        if value:
            text = text.replace(value, MASK)
    return text


# a service, not a value: compared by identity, and no repr that would print the settings
@dataclass(kw_only=True, eq=False, repr=False)
class DeliveryService:
    """Turns events into deliveries and deliveries into accepted e-mails."""

    runtime: ServiceRuntime
    settings: MailSettings
    repository: DeliveryRepository
    renderer: TemplateRenderer
    smtp: SmtpPool
    # opens the secrets auth sealed in events, and seals them again in the delivery log
    sealer: SecretSealer
    # the retry loop's wake-up, set once the loop exists
    wake_sender: Callable[[], None] = lambda: None

    # --- from events ---------------------------------------------------------------------------

    async def accept(self, event: Event, rule: MailRule[Any]) -> list[Outgoing | str]:
        """Store one delivery per recipient (once per event id); returns what is still to send:
        new deliveries (stored claimed for their first attempt, with their rendered message)
        and the ids of open ones.

        Raises pydantic.ValidationError or jinja2 errors for an event that cannot become an
        e-mail (the bus retries it, then dead-letters it with the error).
        """
        payload: Any = self._unsealed(event, event.payload(rule.model))
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
        return await self._send_claimed(self.repository.as_inserted(delivery.delivery), delivery.rendered)

    def _unsealed(self, event: Event, payload: Any) -> Any:
        """The payload with the secrets auth sealed for mail opened (SealError: dead-lettered)."""
        sealed = getattr(payload, "sealed", "")
        if not sealed:
            return payload
        opened = self.sealer.open(sealed, context=secret_context(event.type, payload.user_id))
        return payload.model_copy(update=opened)

    def _new_delivery(self, event: Event, rule: MailRule[Any], recipient: Recipient,
                      context: Mapping[str, Any]) -> Outgoing:
        locale = pick_locale(recipient.locale)
        variables = {**context, "name": recipient.name, "base_url": self.settings.public_base_url.rstrip("/")}
        rendered = self.renderer.render(rule.template, locale, variables)  # fails early for bad data
        delivery_id = new_id(length=DELIVERY_ID_LENGTH)
        secrets = {name: str(variables.pop(name)) for name in rule.secret_fields if name in variables}
        at = utc_now()
        delivery = {
            "_id": delivery_id,
            "event_id": str(event.id),
            "event_type": event.type,
            "recipient": recipient.email.strip().lower(),
            "recipient_name": recipient.name,
            "user_id": recipient.user_id,
            "template": rule.template,
            "locale": locale,
            "subject": masked(rendered.subject, secrets),
            # what the template needs to render the message again for a later attempt; its
            # secrets only sealed, so that no log of a delivery (failed ones too) shows them
            "context": variables,
            # stored claimed for the first attempt, made right away by the consumer
            "status": DeliveryStatus.SENDING.value,
            "attempts": 1,
            "last_error": None,
            "created_at": at,
            "updated_at": at,
            "next_attempt_at": at + timedelta(seconds=self.settings.claim_seconds),
            "give_up_at": at + timedelta(seconds=self.settings.max_age_seconds),
        }
        if secrets:
            delivery["sealed_context"] = self.sealer.seal(secrets, context=delivery_id)
        return Outgoing(delivery, rendered)

    def _variables(self, delivery: Mapping[str, Any]) -> dict[str, Any]:
        """The template variables of a stored delivery, its sealed secrets opened."""
        variables = dict(delivery.get("context") or {})
        if sealed := delivery.get("sealed_context"):
            variables.update(self.sealer.open(sealed, context=str(delivery["_id"])))
        return variables

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

    async def _send_claimed(self, claimed: Whole, rendered: RenderedMessage | None = None) -> DeliveryStatus:
        if rendered is None:
            try:
                rendered = self.renderer.render(claimed["template"], claimed["locale"], self._variables(claimed))
            except Exception as exc:  # a template changed or was removed since the event came
                return await self._record_failure(claimed, SendFailed(f"cannot render: {exc!r}", permanent=True))
        try:
            recipient = recipient_address(claimed["recipient"])
            message = compose(
                sender=self.settings.mail_from,
                recipient=recipient.address,
                recipient_name=claimed.get("recipient_name") or claimed["recipient"],
                rendered=rendered,
                delivery_id=claimed["_id"],
                event_id=claimed["event_id"],
            )
        except Exception as exc:  # an address or text no e-mail can carry: trying again cannot help
            return await self._record_failure(claimed, SendFailed(f"cannot compose: {exc!r}", permanent=True))
        try:
            reply = await self.smtp.send(message, sender=envelope_address(self.settings.mail_from),
                                         recipient=recipient.address, smtputf8=recipient.smtputf8)
        except SendFailed as exc:
            return await self._record_failure(claimed, exc)
        MAIL_DELIVERIES.labels("sent").inc()
        at = utc_now()
        await self._record(claimed, {"status": DeliveryStatus.SENT.value, "sent_at": at, "last_error": None,
                                     "smtp_reply": reply[:300]},
                           lambda current: [mail_sent(self.runtime, current)], unset=["context", "sealed_context"])
        return DeliveryStatus.SENT

    async def _record_failure(self, claimed: Whole, exc: SendFailed) -> DeliveryStatus:
        error = str(exc)[:1000]
        attempts = int(claimed.get("attempts", 1))
        retry_at = None if exc.permanent or attempts >= self.settings.max_attempts else self.repository.retry_at(
            claimed, base_seconds=self.settings.retry_base_seconds, max_seconds=self.settings.retry_max_seconds)
        if retry_at is None:
            if not exc.permanent:
                error = f"gave up after {attempts} attempts: {error}"
            logger.warning("delivery %s failed: %s", claimed["_id"], error)
            MAIL_DELIVERIES.labels("given_up").inc()
            await self._record(claimed, {"status": DeliveryStatus.FAILED.value, "failed_at": utc_now(),
                                         "last_error": error},
                               lambda current: [mail_failed(self.runtime, current, error)])
            return DeliveryStatus.FAILED
        MAIL_DELIVERIES.labels("failed").inc()
        logger.info("delivery %s will be retried at %s: %s", claimed["_id"], retry_at.isoformat(), error)
        await self._record(claimed, {"status": DeliveryStatus.RETRYING.value, "last_error": error,
                                     "next_attempt_at": retry_at})
        return DeliveryStatus.RETRYING

    async def _record(self, claimed: Whole, changes: dict[str, Any],
                      events: Callable[[Whole], list[Event]] = lambda _: [],
                      unset: list[str] | None = None) -> None:
        """Store the outcome; while MongoDB is down keep trying for as long as the claim lasts.

        When the delivery changed during the attempt (the user was erased), the outcome is stored
        on the changed version, events included, instead of writing the attempt's copy back."""
        deadline = asyncio.get_running_loop().time() + self.settings.claim_seconds
        delay = 0.2
        current: Whole | None = claimed
        while current is not None:
            try:
                if await self.repository.record(current, changes, events(current), unset=unset or ()):
                    return
                current = await self._same_attempt(claimed)
                if current is None or asyncio.get_running_loop().time() > deadline:
                    logger.warning("delivery %s was taken over while it was being sent", claimed["_id"])
                    return
            except ConnectionFailure:
                if asyncio.get_running_loop().time() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _same_attempt(self, claimed: Whole) -> Whole | None:
        """The delivery as stored now, if it is still in the attempt ``claimed`` began."""
        current = await self.repository.get(claimed["_id"])
        if current is None or current["status"] != DeliveryStatus.SENDING.value:
            return None
        return current if current.get("attempts") == claimed.get("attempts") else None

    # --- admin ---------------------------------------------------------------------------------

    async def list(self, *, status: DeliveryStatus | None, recipient: str | None, cursor: str | None,
                   limit: int) -> Page[DeliveryRead]:
        docs = await self.repository.page(status=status.value if status else None,
                                          recipient=recipient.strip().lower() if recipient else None,
                                          after=NEWEST_FIRST.after(cursor), limit=limit + 1)
        docs, next_cursor = NEWEST_FIRST.page(docs, limit)
        items = [DeliveryRead.from_doc(d) for d in docs]
        return Page[DeliveryRead](items=items, next_cursor=next_cursor)

    async def retry(self, delivery_id: str) -> DeliveryRead:
        """Send a delivery again now, with fresh attempts and time; a sent one is not sent twice."""
        async def attempt() -> Whole:
            current = await self.repository.get(delivery_id)
            if current is None:
                raise NotFound("No such delivery.")
            if current["status"] == DeliveryStatus.SENT.value:
                raise Conflict("This e-mail was already sent.", slug="already-sent")
            reopened = await self.repository.reopen(current, keep_seconds=self.settings.max_age_seconds)
            if reopened is None:
                raise Conflict("This e-mail is being sent right now.", slug="in-progress")
            return reopened

        updated = await retry_stale(attempt)
        self.wake_sender()
        return DeliveryRead.from_doc(self.repository.stored(updated))
