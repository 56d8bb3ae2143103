"""A user's events, live through the gateway: WebSocket and SSE, replay after a reconnect, and
the socket closing when the session ends."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import httpx
import pytest
import pytest_asyncio

from docflow_dev.devstack import ServiceProcess, Stack, free_port
from docflow_dev.testing.asserts import eventually

API = "/api/v1"
SUBPROTOCOL = "docflow.events"

pytestmark = pytest.mark.asyncio(loop_scope="session")

SignUp = Callable[..., Awaitable[dict[str, str]]]


@pytest_asyncio.fixture(loop_scope="session")
async def sockets() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


def socket_url(stack: Stack) -> str:
    return "ws" + stack.url("gateway").removeprefix("http") + f"{API}/events"


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def next_event(ws: aiohttp.ClientWebSocketResponse, timeout: float = 30) -> dict[str, Any]:
    """The next message that is not a heartbeat."""
    while True:
        message = await ws.receive(timeout=timeout)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        body: dict[str, Any] = json.loads(message.data)
        if body["type"] != "heartbeat":
            return body


async def share(client: httpx.AsyncClient, owner: dict[str, str], recipient_email: str) -> str:
    created = await client.post(f"{API}/documents", json={"title": f"Contract {uuid.uuid4().hex[:6]}"},
                                headers=owner)
    assert created.status_code == 201, created.text
    document_id: str = created.json()["id"]
    shared = await client.post(f"{API}/documents/{document_id}/share", json={"recipients": [recipient_email]},
                               headers=owner)
    assert shared.status_code == 201, shared.text
    return document_id


async def email_of(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    me = await client.get(f"{API}/users/me", headers=headers)
    assert me.status_code == 200, me.text
    return str(me.json()["email"])


async def wait_until_listening(client: httpx.AsyncClient, sockets: aiohttp.ClientSession, stack: Stack,
                               owner: dict[str, str], recipient: dict[str, str]) -> str:
    """Open a socket and share until an event arrives: the replica's fan-out queue is bound only
    once notify has connected to the broker. Returns the last event id seen."""
    email = await email_of(client, recipient)
    async with sockets.ws_connect(socket_url(stack), protocols=(SUBPROTOCOL, f"bearer.{token_of(recipient)}")) as ws:
        async def arrived() -> str | None:
            await share(client, owner, email)
            try:
                return str((await next_event(ws, timeout=2))["id"])
            except TimeoutError:
                return None

        return str(await eventually(arrived, timeout=60, what="notify is listening"))


class TestLiveEvents:
    async def test_the_recipient_of_a_share_hears_of_it_within_a_second(
            self, client: httpx.AsyncClient, sockets: aiohttp.ClientSession, stack: Stack,
            verified_headers: SignUp) -> None:
        owner, recipient = await verified_headers(), await verified_headers()
        await wait_until_listening(client, sockets, stack, owner, recipient)
        email = await email_of(client, recipient)
        async with sockets.ws_connect(socket_url(stack),
                                      protocols=(SUBPROTOCOL, f"bearer.{token_of(recipient)}")) as ws:
            assert ws.protocol == SUBPROTOCOL
            document_id = await share(client, owner, email)
            shared_at = time.monotonic()
            event = await next_event(ws)
            latency = time.monotonic() - shared_at
        assert event["type"] == "document.shared"
        assert event["links"]["document"] == f"{API}/documents/{document_id}"
        assert set(event) == {"id", "type", "time", "links"}  # no content
        assert latency < 1.0, latency

    async def test_a_token_in_the_first_message_works_and_a_bad_one_is_closed(
            self, client: httpx.AsyncClient, sockets: aiohttp.ClientSession, stack: Stack,
            verified_headers: SignUp) -> None:
        owner, recipient = await verified_headers(), await verified_headers()
        await wait_until_listening(client, sockets, stack, owner, recipient)
        async with sockets.ws_connect(socket_url(stack)) as ws:
            await ws.send_json({"type": "auth", "token": token_of(recipient)})
            document_id = await share(client, owner, await email_of(client, recipient))
            event = await next_event(ws)
            assert event["links"]["document"] == f"{API}/documents/{document_id}"
        async with sockets.ws_connect(socket_url(stack)) as ws:
            await ws.send_json({"type": "auth", "token": "not-a-token"})
            message = await ws.receive(timeout=30)
            assert message.type == aiohttp.WSMsgType.CLOSE
            assert message.data == 4401

    async def test_a_socket_without_a_token_in_the_protocol_header_is_refused(
            self, sockets: aiohttp.ClientSession, stack: Stack) -> None:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with sockets.ws_connect(socket_url(stack), protocols=(SUBPROTOCOL, "bearer.forged")):
                pass
        assert refused.value.status == 403


class TestReplay:
    async def test_reconnecting_with_the_last_id_gets_the_missed_events(
            self, client: httpx.AsyncClient, sockets: aiohttp.ClientSession, stack: Stack,
            verified_headers: SignUp) -> None:
        owner, recipient = await verified_headers(), await verified_headers()
        last_seen = await wait_until_listening(client, sockets, stack, owner, recipient)
        email = await email_of(client, recipient)
        missed = [f"{API}/documents/{await share(client, owner, email)}" for _ in range(2)]

        async def reconnect() -> bool:
            # the missed events are stored by the fan-out consumer, maybe after this attempt
            async with sockets.ws_connect(socket_url(stack), headers={"Last-Event-ID": last_seen},
                                          protocols=(SUBPROTOCOL, f"bearer.{token_of(recipient)}")) as ws:
                try:
                    replayed = [(await next_event(ws, timeout=3))["links"]["document"] for _ in missed]
                except TimeoutError:
                    return False
                assert replayed == missed
                live = await share(client, owner, email)  # then live events
                assert (await next_event(ws))["links"]["document"] == f"{API}/documents/{live}"
                return True

        await eventually(reconnect, timeout=30, what="missed events replayed, then live ones")


class TestSessionEnd:
    async def test_logout_closes_the_socket_within_seconds(
            self, client: httpx.AsyncClient, sockets: aiohttp.ClientSession, stack: Stack,
            verified_headers: SignUp) -> None:
        owner, recipient = await verified_headers(), await verified_headers()
        await wait_until_listening(client, sockets, stack, owner, recipient)
        async with sockets.ws_connect(socket_url(stack),
                                      protocols=(SUBPROTOCOL, f"bearer.{token_of(recipient)}")) as ws:
            logout = await client.post(f"{API}/auth/logout", headers=recipient)
            assert logout.status_code == 204, logout.text
            while True:
                message = await ws.receive(timeout=15)
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
            assert message.type == aiohttp.WSMsgType.CLOSE, message
            assert message.data == 4001
            assert "session" in message.extra


class TestServerSentEvents:
    async def test_the_same_stream_as_server_sent_events(
            self, client: httpx.AsyncClient, sockets: aiohttp.ClientSession, stack: Stack,
            verified_headers: SignUp) -> None:
        owner, recipient = await verified_headers(), await verified_headers()
        await wait_until_listening(client, sockets, stack, owner, recipient)
        async with client.stream("GET", f"{API}/events", headers=recipient) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            document_id = await share(client, owner, await email_of(client, recipient))
            record: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line.startswith(("id:", "event:", "data:")):
                    key, _, value = line.partition(":")
                    record[key] = value.strip()
                elif not line and record.get("event") == "document.shared":
                    break
                elif not line:
                    record = {}
        assert json.loads(record["data"])["links"]["document"] == f"{API}/documents/{document_id}"
        assert json.loads(record["data"])["id"] == record["id"]

    async def test_logout_ends_the_event_stream_with_a_reason(
            self, client: httpx.AsyncClient, sockets: aiohttp.ClientSession, stack: Stack,
            verified_headers: SignUp) -> None:
        owner, recipient = await verified_headers(), await verified_headers()
        await wait_until_listening(client, sockets, stack, owner, recipient)
        async with client.stream("GET", f"{API}/events", headers=recipient) as response:
            assert response.status_code == 200
            logout = await client.post(f"{API}/auth/logout", headers=recipient)
            assert logout.status_code == 204, logout.text
            lines = [line async for line in response.aiter_lines()]  # ends when notify closes it
        assert "event: close" in lines
        assert any(line.startswith("data: 4001") for line in lines), lines


@pytest.fixture(scope="module")
def second_notify(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """Another replica of notify on the same database and broker, reached directly."""
    first = stack.processes["notify"]
    replica = ServiceProcess(first.spec, free_port(), {**first.env, "NOTIFY_METRICS_PORT": "0"},
                             tmp_path_factory.mktemp("notify2") / "notify.log")
    replica.start()
    replica.wait()
    yield replica
    replica.stop()


class TestReplicas:
    async def test_sockets_on_either_replica_get_the_event_and_either_replays_it(
            self, client: httpx.AsyncClient, sockets: aiohttp.ClientSession, stack: Stack,
            second_notify: ServiceProcess, verified_headers: SignUp) -> None:
        owner, recipient = await verified_headers(), await verified_headers()
        last_seen = await wait_until_listening(client, sockets, stack, owner, recipient)
        email = await email_of(client, recipient)
        protocols = (SUBPROTOCOL, f"bearer.{token_of(recipient)}")
        urls = ["ws" + url.removeprefix("http") + f"{API}/events" for url in (stack.url("notify"), second_notify.url)]

        async def both_hear() -> bool:
            async with sockets.ws_connect(urls[0], protocols=protocols) as one, \
                    sockets.ws_connect(urls[1], protocols=protocols) as two:
                document_id = await share(client, owner, email)
                try:
                    heard = [await next_event(ws, timeout=5) for ws in (one, two)]
                except TimeoutError:  # the new replica's fan-out queue is bound once it has connected
                    return False
            return [e["links"]["document"] for e in heard] == [f"{API}/documents/{document_id}"] * 2

        await eventually(both_hear, timeout=60, what="both replicas deliver the event")
        # what the first replica's clients saw, a client of the second replays from the shared store
        async with sockets.ws_connect(urls[1], protocols=protocols, headers={"Last-Event-ID": last_seen}) as ws:
            replayed = await next_event(ws)
        assert replayed["type"] == "document.shared" and replayed["id"] != last_seen
