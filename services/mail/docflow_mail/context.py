"""Everything the mail service wires together in its lifespan, in one place."""

from __future__ import annotations

from docflow_mail.deliveries.repository import COLLECTION, DeliveryRepository
from docflow_mail.deliveries.service import DeliveryService
from docflow_mail.settings import MailSettings
from docflow_mail.smtp.client import SmtpPool
from docflow_mail.templates.renderer import TemplateRenderer
from docflow_shared.dueloop import DueLoop
from docflow_shared.outbox import Outbox
from docflow_shared.runtime import ContextBase, ServiceRuntime
from docflow_shared.sealed import SecretSealer

OUTBOX_COLLECTIONS = (COLLECTION,)


def build_smtp_pool(settings: MailSettings) -> SmtpPool:
    return SmtpPool(
        host=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_user,
        password=settings.smtp_password, tls=settings.smtp_tls, timeout=settings.smtp_timeout,
        validate_certs=settings.smtp_validate_certs, size=settings.smtp_pool_size,
    )


class MailContext(ContextBase[MailSettings]):
    """The delivery log, the SMTP pool and the services over them, built once per process."""

    def __init__(self, runtime: ServiceRuntime, settings: MailSettings) -> None:
        super().__init__(runtime, settings)
        # mail.sent / mail.failed go out on the relay's next poll (OUTBOX_POLL_SECONDS), in batches,
        # instead of waking the relay for every e-mail: nothing waits for them in real time
        self.repository = DeliveryRepository(runtime.db, Outbox())
        self.renderer = TemplateRenderer(extra_dir=settings.templates_dir)
        self.smtp = build_smtp_pool(settings)
        self.sealer = SecretSealer.configured(settings.event_secret_keys, settings.event_secret_key_id,
                                              data_dir=settings.data_dir)
        self.deliveries = DeliveryService(runtime=runtime, settings=settings, repository=self.repository,
                                          renderer=self.renderer, smtp=self.smtp, sealer=self.sealer)
        # the retry loop: sends deliveries that are due (new, retrying, or claimed by a sender that died)
        self.retry_loop = DueLoop(due=lambda limit: self.repository.due_ids(limit=limit),
                                  attempt=self.deliveries.attempt, name="mail-retry-loop", what="delivery",
                                  poll_seconds=settings.retry_poll_seconds, concurrency=settings.smtp_pool_size * 2)
        self.deliveries.wake_sender = self.retry_loop.wake

    async def create_indexes(self) -> None:
        await self.repository.ensure_indexes()
