"""Events from the broker are not trusted blindly: each service publishes as its own broker
user, allowed only its own routing keys, and consumers act only on an event published by the
broker user of the service its type belongs to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import aio_pika
import httpx
import pytest
from aiormq.exceptions import ChannelAccessRefused

from docflow_dev.devstack import Stack
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.mail import is_to, verification_code
from docflow_dev.testing.plugin import BrokerUsers
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.broker import exchange_name, queue_name
from docflow_shared.events import Event, new_event
from docflow_shared.events.catalogue import UserDeleted

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"


async def sign_up(client: httpx.AsyncClient, smtp_sink: SmtpSink, name: str) -> dict[str, str]:
    """A verified account through the gateway, logged in."""
    email = f"{name.lower()}.{uuid.uuid4().hex[:8]}@example.kz"
    created = await client.post(f"{API}/auth/signup", json={
        "email": email, "password": PASSWORD, "full_name": name, "locale": "en"})
    assert created.status_code == 201, created.text
    code = verification_code(smtp_sink.wait_for(lambda m: is_to(m, email) and "code" in str(m["Subject"]), 30))
    verified = await client.post(f"{API}/auth/email/verify", json={"email": email, "code": code})
    assert verified.status_code == 200, verified.text
    login = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"id": created.json()["id"], "email": email, "token": login.json()["access_token"]}


def forged_deletion(user_id: str) -> Event:
    """What an attacker on the broker sends: an envelope that claims to come from auth."""
    return new_event(UserDeleted(user_id=user_id, deleted_at=datetime.now(UTC)), producer="auth")


def message(event: Event, user_id: str | None = None) -> aio_pika.Message:
    return aio_pika.Message(body=event.model_dump_json().encode(), content_type="application/json",
                            message_id=str(event.id), type=event.type, user_id=user_id)


@pytest.fixture(scope="module")
def users(service_broker_users: BrokerUsers | None) -> BrokerUsers:
    if service_broker_users is None:
        pytest.skip("the local broker cannot create users (no rabbitmqctl rights)")
    return service_broker_users


def log_of(stack: Stack, service: str) -> str:
    assert stack.log_dir is not None
    return (stack.log_dir / f"{service}.log").read_text(errors="replace")


async def a_document(client: httpx.AsyncClient, smtp_sink: SmtpSink) -> tuple[dict[str, str], str]:
    owner = await sign_up(client, smtp_sink, "Victim")
    created = await client.post(f"{API}/documents", headers={"Authorization": f"Bearer {owner['token']}"},
                                json={"title": "Keep me", "content": "text"})
    assert created.status_code == 201, created.text
    return owner, created.json()["id"]


async def still_there(client: httpx.AsyncClient, owner: dict[str, str], document_id: str) -> None:
    got = await client.get(f"{API}/documents/{document_id}", headers={"Authorization": f"Bearer {owner['token']}"})
    assert got.status_code == 200, got.text


class TestTopicPermissions:
    async def test_a_service_user_cannot_publish_another_services_routing_key(
        self, stack: Stack, users: BrokerUsers, platform_env: dict[str, str]
    ) -> None:
        connection = await aio_pika.connect(users.urls["mail"], timeout=15)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(exchange_name(platform_env["BROKER_NAMESPACE"]))
            with pytest.raises(ChannelAccessRefused, match=r"user\.deleted"):
                await exchange.publish(message(forged_deletion("u-nobody"), users.prefix + "mail"),
                                       routing_key="user.deleted", timeout=10)

    async def test_a_service_user_publishes_its_own_routing_keys(
        self, stack: Stack, users: BrokerUsers, platform_env: dict[str, str]
    ) -> None:
        connection = await aio_pika.connect(users.urls["mail"], timeout=15)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(exchange_name(platform_env["BROKER_NAMESPACE"]))
            await exchange.publish(aio_pika.Message(b"{}", user_id=users.prefix + "mail"), routing_key="mail.sent",
                                   timeout=10)

    async def test_the_broker_refuses_a_user_id_that_is_not_the_connections(
        self, stack: Stack, users: BrokerUsers, platform_env: dict[str, str]
    ) -> None:
        connection = await aio_pika.connect(users.urls["mail"], timeout=15)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(exchange_name(platform_env["BROKER_NAMESPACE"]))
            with pytest.raises(Exception, match=r"PRECONDITION_FAILED|user_id"):
                await exchange.publish(aio_pika.Message(b"{}", user_id=users.prefix + "auth"),
                                       routing_key="mail.sent", timeout=10)


class TestForgedEvents:
    async def test_a_forged_user_deleted_from_the_development_user_is_dropped(
        self, stack: Stack, users: BrokerUsers, client: httpx.AsyncClient, smtp_sink: SmtpSink,
        amqp_url: str, platform_env: dict[str, str]
    ) -> None:
        owner, document_id = await a_document(client, smtp_sink)
        forged = forged_deletion(owner["id"])
        connection = await aio_pika.connect(amqp_url, timeout=15)  # the shared development user
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(exchange_name(platform_env["BROKER_NAMESPACE"]))
            await exchange.publish(message(forged), routing_key=forged.type, timeout=10)
        await eventually(lambda: f"dropped user.deleted {forged.id}" in log_of(stack, "documents"), timeout=20)
        # the gateway's deny-list is fed by the same events and must not lock the victim out
        await eventually(lambda: f"dropped user.deleted {forged.id}" in log_of(stack, "gateway"), timeout=20)
        await still_there(client, owner, document_id)

    async def test_another_service_writing_straight_into_a_queue_is_dropped(
        self, stack: Stack, users: BrokerUsers, client: httpx.AsyncClient, smtp_sink: SmtpSink,
        platform_env: dict[str, str]
    ) -> None:
        """The default exchange bypasses topic permissions; the consumer's check still holds."""
        owner, document_id = await a_document(client, smtp_sink)
        forged = forged_deletion(owner["id"])
        connection = await aio_pika.connect(users.urls["mail"], timeout=15)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            await channel.default_exchange.publish(
                message(forged, users.prefix + "mail"),
                routing_key=queue_name(platform_env["BROKER_NAMESPACE"], "documents"), timeout=10)
        await eventually(lambda: f"dropped user.deleted {forged.id}" in log_of(stack, "documents"), timeout=20)
        await still_there(client, owner, document_id)

    async def test_the_real_deletion_from_auth_is_acted_on(
        self, stack: Stack, users: BrokerUsers, client: httpx.AsyncClient, smtp_sink: SmtpSink
    ) -> None:
        owner, document_id = await a_document(client, smtp_sink)
        auth = {"Authorization": f"Bearer {owner['token']}"}
        deleted = await client.request("DELETE", f"{API}/users/me", headers=auth, json={"password": PASSWORD})
        assert deleted.status_code == 204, deleted.text

        async def gone() -> bool:
            return (await client.get(f"{API}/documents/{document_id}", headers=auth)).status_code != 200

        await eventually(gone, timeout=20)
