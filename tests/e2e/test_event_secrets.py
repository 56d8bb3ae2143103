"""Secrets in events: verification codes and reset tokens reach the user's e-mail, and nothing on
the way holds them readable: not auth's outbox, not the broker, not mail's DLQ, not mail's
delivery log (sent or failed)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
import pytest_asyncio

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.mail import is_to, link_token, text_part, verification_code
from docflow_dev.testing.plugin import BrokerUsers
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.broker import dead_letter_queue_name
from docflow_shared.dlq import DeadLetterQueues
from docflow_shared.mongo import Document, create_client
from docflow_shared.sealed import SecretSealer, new_key_spec, parse_keys, secret_context

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"


def new_email(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.kz"


def sealer(platform_env: dict[str, str]) -> SecretSealer:
    return SecretSealer(parse_keys(platform_env["EVENT_SECRET_KEYS"]))


async def sign_up(client: httpx.AsyncClient, email: str) -> str:
    created = await client.post(f"{API}/auth/signup", json={
        "email": email, "password": PASSWORD, "full_name": "Secret Keeper", "locale": "en"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def code_mail(smtp_sink: SmtpSink, email: str) -> Any:
    return smtp_sink.wait_for(lambda m: is_to(m, email) and "code" in str(m["Subject"]), 30)


@pytest_asyncio.fixture(loop_scope="session")
async def raw_events(amqp_url: str, platform_env: dict[str, str]) -> AsyncIterator[EventTap]:
    """Events exactly as they travel on the broker."""
    async with EventTap(amqp_url, platform_env["BROKER_NAMESPACE"]) as tap:
        yield tap


@pytest_asyncio.fixture(loop_scope="session")
async def mail_db(mongo_url: str, platform_env: dict[str, str]) -> AsyncIterator[Any]:
    client = create_client(mongo_url)
    yield client[f"{platform_env['MONGODB_DB_PREFIX']}mail"]["deliveries"]
    await client.close()


class TestOnTheBroker:
    async def test_the_verification_code_is_in_the_email_and_not_on_the_broker(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink, raw_events: EventTap
    ) -> None:
        email = new_email("sealed")
        user_id = await sign_up(client, email)
        message = code_mail(smtp_sink, email)
        code, token = verification_code(message), link_token(message, "verify")
        assert code in str(message["Subject"]) and code in text_part(message)
        event = await raw_events.wait_for("user.email_verification_requested", lambda e: e.data["user_id"] == user_id)
        raw = event.model_dump_json()
        assert code not in raw and token not in raw
        assert event.data["sealed"].startswith("v1.")

    async def test_the_reset_token_is_in_the_email_and_not_on_the_broker(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink, raw_events: EventTap
    ) -> None:
        email = new_email("reset")
        user_id = await sign_up(client, email)
        asked = await client.post(f"{API}/auth/password/forgot", json={"email": email})
        assert asked.status_code == 202, asked.text
        message = smtp_sink.wait_for(lambda m: is_to(m, email) and "password" in str(m["Subject"]).lower(), 30)
        token = link_token(message, "reset")
        event = await raw_events.wait_for("user.password_reset_requested", lambda e: e.data["user_id"] == user_id)
        assert token not in event.model_dump_json()


class TestInTheOutbox:
    @pytest.fixture(scope="class")
    def auth_without_broker(self, platform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
                            ) -> Any:
        """Auth alone with its broker unreachable: its events stay in the outbox."""
        env = {**platform_env, "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
               "MONGODB_DB_PREFIX": f"{platform_env['MONGODB_DB_PREFIX']}sealed_"}
        stack = Stack(env=env, ports={"auth": free_port()}, only=("auth",), ready=False,
                      log_dir=Path(tmp_path_factory.mktemp("sealed-logs"))).start()
        yield stack, env["MONGODB_DB_PREFIX"]
        stack.stop()

    async def test_the_outbox_holds_the_code_sealed_only(
        self, auth_without_broker: tuple[Stack, str], mongo_url: str, platform_env: dict[str, str]
    ) -> None:
        stack, prefix = auth_without_broker
        email = new_email("outbox")
        async with httpx.AsyncClient(base_url=stack.url("auth"), timeout=30) as http:
            user_id = await sign_up(http, email)
        client = create_client(mongo_url)
        try:
            user: Document | None = await client[f"{prefix}auth"]["users"].find_one({"_id": user_id})
        finally:
            await client.close()
        assert user is not None
        [event] = [e for e in user["outbox"] if e["type"] == "user.email_verification_requested"]
        assert event["data"]["code"] == "" and event["data"]["token"] == ""
        opened = sealer(platform_env).open(event["data"]["sealed"],
                                           context=secret_context(event["type"], user_id))
        assert len(opened["code"]) == 6 and opened["token"]
        raw = json.dumps(user, default=str)
        assert opened["code"] not in raw.replace(event["data"]["sealed"], "")
        assert opened["token"] not in raw


class TestInMailsRecords:
    async def test_a_failed_delivery_keeps_the_code_sealed(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink, raw_events: EventTap,
        mail_db: Any, platform_env: dict[str, str]
    ) -> None:
        email = new_email("refused")
        smtp_sink.reject_with = "550 5.1.1 no such mailbox"
        try:
            await sign_up(client, email)
            failed = await raw_events.wait_for("mail.failed", lambda e: e.data["recipient"] == email
                                           and e.data["template"] == "email_verification", timeout=30)
        finally:
            smtp_sink.reject_with = None
        record = await mail_db.find_one({"_id": failed.data["delivery_id"]})
        assert record is not None and record["status"] == "failed"
        assert "code" not in record["context"] and "link" not in record["context"]
        secrets = sealer(platform_env).open(record["sealed_context"], context=record["_id"])
        readable = json.dumps({k: v for k, v in record.items() if k != "sealed_context"}, default=str)
        assert secrets["code"] not in readable
        assert secrets["link"].split("token=")[1] not in readable

    @pytest.mark.slow
    async def test_the_dlq_holds_the_code_sealed_and_a_replay_delivers_it(
        self, stack: Stack, client: httpx.AsyncClient, smtp_sink: SmtpSink, amqp_url: str,
        platform_env: dict[str, str], service_broker_users: BrokerUsers | None
    ) -> None:
        namespace = platform_env["BROKER_NAMESPACE"]
        email = new_email("dlq")
        # mail with a key that does not open auth's seal: the event ends in mail's DLQ
        stack.restart("mail", {"EVENT_SECRET_KEYS": new_key_spec("other")})
        try:
            user_id = await sign_up(client, email)

            async def dead_lettered() -> bytes | None:
                """The raw DLQ message of this signup (read unacknowledged, left in the queue)."""
                connection = await aio_pika.connect(amqp_url, timeout=15)
                async with connection:
                    channel = await connection.channel()
                    queue = await channel.declare_queue(dead_letter_queue_name(namespace, "mail"), passive=True)
                    while (message := await queue.get(no_ack=False, fail=False, timeout=5)) is not None:
                        body = message.body + json.dumps(dict(message.headers or {}), default=str).encode()
                        if user_id.encode() in body and b"email_verification_requested" in body:
                            return body
                return None  # closing the channel puts every message back

            raw = await eventually(dead_lettered, timeout=30, interval=0.5)
        finally:
            stack.restart("mail", {"EVENT_SECRET_KEYS": platform_env["EVENT_SECRET_KEYS"]})
        mail_url = service_broker_users.urls["mail"] if service_broker_users else amqp_url
        prefix = service_broker_users.prefix if service_broker_users else ""
        async with DeadLetterQueues(mail_url, namespace, prefix) as dlqs:
            letters = await dlqs.list(["mail"])
            ids = [letter.event_id for letter in letters if letter.event_type == "user.email_verification_requested"]
            assert ids
            await dlqs.replay("mail", ids)
        code = verification_code(code_mail(smtp_sink, email))
        assert code.encode() not in raw
