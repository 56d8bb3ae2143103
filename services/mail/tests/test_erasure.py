"""A user's erasure wins over an e-mail to them that is being sent at that very moment."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.mail import StartMail, address, wait_for_mail
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.events.catalogue import UserDeleted, UserPasswordResetRequested
from docflow_shared.mongo import create_client


class TestErasureDuringASlowSend:
    async def test_the_sent_outcome_does_not_bring_the_address_back(
        self, start_mail: StartMail, own_sink: Callable[..., SmtpSink]
    ) -> None:
        sink = own_sink().start()
        sink.data_delay = 2.0
        mail = await start_mail(SMTP_PORT=str(sink.port), SMTP_TIMEOUT="10")
        email = address("erased")
        client = create_client(mail.env["MONGODB_URL"])
        deliveries = client[f"{mail.env['MONGODB_DB_PREFIX']}mail"]["deliveries"]
        try:
            async with mail.tap() as tap:
                await mail.publish(UserPasswordResetRequested(
                    user_id="u-slow", email=email, full_name="Slow Sam", locale="en", token="rst_slow",
                    expires_at=datetime.now(UTC) + timedelta(minutes=30)))
                assert await asyncio.to_thread(sink.data_started.wait, 15), "the e-mail never reached DATA"
                await mail.publish(UserDeleted(user_id="u-slow", deleted_at=datetime.now(UTC)))
                await eventually(lambda: deliveries.find_one({"recipient": "erased:u-slow"}))
                await wait_for_mail(sink, email)  # the slow server answers DATA after the erasure
                sent = await tap.wait_for("mail.sent")

            async def settled() -> dict[str, Any] | None:
                doc = await deliveries.find_one({"user_id": "u-slow"})
                return doc if doc is not None and doc["status"] == "sent" and not doc["outbox"] else None

            stored = await eventually(settled)
            assert email not in repr(stored)
            assert "Slow Sam" not in repr(stored)
            assert stored["recipient"] == "erased:u-slow"
            assert sent.data["recipient"] == "erased:u-slow"
        finally:
            await client.close()
