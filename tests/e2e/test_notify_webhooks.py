"""Webhooks through the gateway: a receiver on this machine checks each delivery's HMAC; a
failing receiver is retried, the log shows it, and a redelivery by hand arrives; addresses on
the metadata, private and loopback ranges are refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from docflow_dev.devstack import free_port
from docflow_dev.testing.asserts import assert_problem, eventually

API = "/api/v1"
MAX_AGE = 300

pytestmark = pytest.mark.asyncio(loop_scope="session")

SignUp = Callable[..., Awaitable[dict[str, str]]]


def verify(secret: str, headers: Any, body: bytes) -> bool:
    """What a receiver does (README, "Verifying a delivery")."""
    timestamp = headers.get("DocFlow-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_AGE:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    offered = [part.strip().removeprefix("v1=") for part in headers.get("DocFlow-Signature", "").split(",")]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


@dataclass
class Receiver:
    """An endpoint on 127.0.0.1 that records what it gets and answers ``status``."""

    port: int
    status: int = 200
    secret: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append({"headers": dict(request.headers), "body": json.loads(body), "raw": body,
                              "verified": verify(self.secret, request.headers, body), "answered": self.status})
        return web.Response(status=self.status)


@pytest_asyncio.fixture(loop_scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver(free_port())
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", found.port).start()
    yield found
    await runner.cleanup()


async def register(client: httpx.AsyncClient, headers: dict[str, str], url: str,
                   types: tuple[str, ...] = ("document.shared",)) -> httpx.Response:
    return await client.post(f"{API}/webhooks", json={"url": url, "event_types": list(types)}, headers=headers)


async def share_new_document(client: httpx.AsyncClient, owner: dict[str, str], recipient: dict[str, str]) -> str:
    email = (await client.get(f"{API}/users/me", headers=recipient)).json()["email"]
    created = await client.post(f"{API}/documents", json={"title": f"Deed {uuid.uuid4().hex[:6]}"}, headers=owner)
    assert created.status_code == 201, created.text
    shared = await client.post(f"{API}/documents/{created.json()['id']}/share", json={"recipients": [email]},
                               headers=owner)
    assert shared.status_code == 201, shared.text
    return str(created.json()["id"])


class TestSignedDeliveries:
    async def test_a_receiver_on_this_machine_verifies_the_hmac(
            self, client: httpx.AsyncClient, receiver: Receiver, verified_headers: SignUp) -> None:
        owner, recipient = await verified_headers(), await verified_headers()
        created = await register(client, owner, receiver.url)
        assert created.status_code == 201, created.text
        receiver.secret = created.json()["secret"]
        document_id = await share_new_document(client, owner, recipient)

        def arrived() -> dict[str, Any] | None:
            return next((r for r in receiver.received
                         if r["body"]["links"].get("document") == f"{API}/documents/{document_id}"), None)

        delivery = await eventually(arrived, timeout=30, what="the delivery")
        assert delivery["verified"], delivery
        assert delivery["body"]["type"] == "document.shared"
        assert set(delivery["body"]) == {"id", "type", "time", "links"}
        assert not verify("whsec_another", delivery["headers"], delivery["raw"])

    async def test_after_a_rotation_both_secrets_sign_during_the_overlap(
            self, client: httpx.AsyncClient, receiver: Receiver, verified_headers: SignUp) -> None:
        owner, recipient = await verified_headers(), await verified_headers()
        created = await register(client, owner, receiver.url)
        old = created.json()["secret"]
        rotated = await client.post(f"{API}/webhooks/{created.json()['id']}/secret", headers=owner)
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new != old and rotated.json()["previous_secret_expires_at"]
        document_id = await share_new_document(client, owner, recipient)
        delivery = await eventually(lambda: next(
            (r for r in receiver.received if r["body"]["links"].get("document") == f"{API}/documents/{document_id}"),
            None), timeout=30, what="the delivery")
        assert len(delivery["headers"]["DocFlow-Signature"].split(",")) == 2
        # a receiver still holding the old secret and one holding the new both accept it
        assert [verify(secret, delivery["headers"], delivery["raw"]) for secret in (old, new)] == [True, True]


class TestRetries:
    async def test_a_failing_receiver_is_retried_logged_and_redelivered_by_hand(
            self, client: httpx.AsyncClient, receiver: Receiver, verified_headers: SignUp) -> None:
        owner, recipient = await verified_headers(), await verified_headers()
        created = await register(client, owner, receiver.url)
        webhook_id = created.json()["id"]
        receiver.secret = created.json()["secret"]
        receiver.status = 500
        await share_new_document(client, owner, recipient)

        async def failed_twice() -> dict[str, Any] | None:
            log = await client.get(f"{API}/webhooks/{webhook_id}/deliveries", headers=owner)
            assert log.status_code == 200, log.text
            items = log.json()["items"]
            return items[0] if items and items[0]["attempts"] >= 2 and items[0]["status"] == "retrying" else None

        delivery = await eventually(failed_twice, timeout=30, what="two failed attempts in the log")
        assert delivery["last_status_code"] == 500
        assert delivery["last_error"].startswith("HTTP 500")
        receiver.status = 200
        redelivered = await client.post(f"{API}/webhooks/{webhook_id}/deliveries/{delivery['id']}/redeliver",
                                        headers=owner)
        assert redelivered.status_code == 202, redelivered.text

        async def delivered() -> bool:
            log = (await client.get(f"{API}/webhooks/{webhook_id}/deliveries", headers=owner)).json()["items"]
            return log[0]["status"] == "delivered"

        await eventually(delivered, timeout=30, what="the delivery delivered")
        ok = [r for r in receiver.received if r["headers"].get("DocFlow-Delivery-Id") == delivery["id"]
              and r["answered"] == 200]
        assert ok and all(r["verified"] for r in ok)
        # a delivered delivery is no longer retried: a second copy comes only from a redelivery
        before = len(ok)
        again = await client.post(f"{API}/webhooks/{webhook_id}/deliveries/{delivery['id']}/redeliver",
                                  headers=owner)
        assert again.status_code == 202, again.text
        await eventually(lambda: len([r for r in receiver.received
                                      if r["headers"].get("DocFlow-Delivery-Id") == delivery["id"]
                                      and r["answered"] == 200]) > before, timeout=30, what="the redelivery")


class TestAddressGuard:
    @pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/hook",
                                     "http://[::1]:8080/hook", "http://192.168.0.10/hook"])
    async def test_metadata_private_and_unallowed_loopback_addresses_are_refused(
            self, client: httpx.AsyncClient, verified_headers: SignUp, url: str) -> None:
        owner = await verified_headers()
        refused = await register(client, owner, url)
        assert_problem(refused, 422, "webhook-address-refused")

    async def test_only_an_admin_registers_for_every_document(
            self, client: httpx.AsyncClient, receiver: Receiver, verified_headers: SignUp) -> None:
        owner = await verified_headers()
        refused = await client.post(f"{API}/webhooks", headers=owner, json={
            "url": receiver.url, "event_types": ["document.shared"], "scope": "all"})
        assert_problem(refused, 403)

    async def test_another_users_webhook_is_not_found(
            self, client: httpx.AsyncClient, receiver: Receiver, verified_headers: SignUp) -> None:
        owner, other = await verified_headers(), await verified_headers()
        webhook_id = (await register(client, owner, receiver.url)).json()["id"]
        assert_problem(await client.get(f"{API}/webhooks/{webhook_id}", headers=other), 404)
        assert_problem(await client.get(f"{API}/webhooks/{webhook_id}/deliveries", headers=other), 404)

    async def test_unknown_event_types_are_refused(
            self, client: httpx.AsyncClient, receiver: Receiver, verified_headers: SignUp) -> None:
        owner = await verified_headers()
        assert_problem(await register(client, owner, receiver.url, ("user.registered",)), 422)
