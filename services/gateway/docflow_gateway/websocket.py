"""WebSocket proxying for the paths that stream (``WS /api/v1/events``, served by notify).

The access token comes in ``Sec-WebSocket-Protocol`` (``docflow.events, bearer.<token>``) or in
the first message (``{"type": "auth", "token": ..., "last_event_id": ...}``), never in the URL,
and is checked as for HTTP (``Proxy.admit``: signature, claims, revocations, the account's rate
limit). Cookies are not read: a page on another site could open the socket with them. The
upstream gets the token in ``Authorization`` on its own hop, checks it again, and closes the
socket when the session ends; frames and the close code and reason are copied both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid

import aiohttp
from starlette.types import Receive, Scope, Send

from docflow_gateway.asgi import normal_path
from docflow_gateway.proxy import Proxy
from docflow_gateway.routing import SOCKETS
from docflow_shared.errors import DocFlowError
from docflow_shared.metrics import UPSTREAM_ROUTE

logger = logging.getLogger(__name__)

SUBPROTOCOL = "docflow.events"
BEARER = "bearer."
POLICY = 1008          # refused before the handshake: the client sees HTTP 403
UNAUTHENTICATED = 4401
UNAVAILABLE = 1013


def offered_token(scope: Scope) -> str | None:
    for protocol in scope.get("subprotocols") or ():
        if protocol.startswith(BEARER) and len(protocol) > len(BEARER):
            return str(protocol[len(BEARER):])
    return None


class SocketProxy:
    """Authenticates a WebSocket, then relays it to the upstream that owns its path."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.settings = proxy.settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        upstream = self.proxy.routes.match(path) if SOCKETS.match(path) else None
        if upstream is None or not normal_path(path, scope.get("raw_path")):
            await send({"type": "websocket.close", "code": POLICY})
            return
        scope[UPSTREAM_ROUTE] = f"upstream:{upstream.name}"
        if (await receive())["type"] != "websocket.connect":
            return
        headers = dict(scope["headers"])
        subprotocol = SUBPROTOCOL if SUBPROTOCOL in (scope.get("subprotocols") or ()) else None
        last_event_id = headers.get(b"last-event-id", b"").decode("latin-1")[:64] or None
        token = offered_token(scope)
        if token is not None:
            try:
                await self.proxy.admit(path, token)
            except DocFlowError as exc:
                logger.info("WebSocket refused: %s", exc.detail)
                await send({"type": "websocket.close", "code": POLICY})
                return
            await send({"type": "websocket.accept", "subprotocol": subprotocol})
        else:
            await send({"type": "websocket.accept", "subprotocol": subprotocol})
            first = await self._first_message(receive)
            if first is None:
                await _close(send, UNAUTHENTICATED, "send the access token first")
                return
            token, last_event_id = first[0], first[1] or last_event_id
            try:
                await self.proxy.admit(path, token)
            except DocFlowError as exc:
                await _close(send, UNAUTHENTICATED, exc.detail[:120])
                return
        await self._relay(scope, receive, send, upstream.base_url + path, token, last_event_id)

    async def _first_message(self, receive: Receive) -> tuple[str, str | None] | None:
        try:
            message = await asyncio.wait_for(receive(), self.settings.ws_auth_timeout_seconds)
            body = json.loads(message.get("text") or message.get("bytes") or b"")
        except (TimeoutError, ValueError):
            return None
        if not isinstance(body, dict) or body.get("type") != "auth" or not isinstance(body.get("token"), str):
            return None
        last = body.get("last_event_id")
        return body["token"], last[:64] if isinstance(last, str) else None

    async def _relay(self, scope: Scope, receive: Receive, send: Send, url: str, token: str,
                     last_event_id: str | None) -> None:
        session = self.proxy.session
        assert session is not None
        headers = dict(scope["headers"])
        ip = self.proxy.client_ip(scope, headers)
        out = {"Authorization": f"Bearer {token}", "X-Forwarded-For": ip, "X-Real-IP": ip,
               "X-Request-ID": headers.get(b"x-request-id", b"").decode("latin-1")[:128] or uuid.uuid4().hex}
        if last_event_id:
            out["Last-Event-ID"] = last_event_id
        url = "ws" + url.removeprefix("http")
        try:
            async with session.ws_connect(url, headers=out, heartbeat=self.settings.ws_heartbeat_seconds,
                                          timeout=aiohttp.ClientWSTimeout(ws_close=5)) as upstream:
                to_upstream = asyncio.create_task(_client_to_upstream(receive, upstream))
                try:
                    code, reason = await _upstream_to_client(upstream, send)
                finally:
                    to_upstream.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await to_upstream
                if code is not None:
                    await _close(send, code, reason)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            logger.warning("WebSocket upstream %s unreachable: %r", url, exc)
            await _close(send, UNAVAILABLE, "the events service is unavailable; reconnect shortly")


async def _client_to_upstream(receive: Receive, upstream: aiohttp.ClientWebSocketResponse) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            await upstream.close()
            return
        if message.get("text") is not None:
            await upstream.send_str(message["text"])
        elif message.get("bytes") is not None:
            await upstream.send_bytes(message["bytes"])


async def _upstream_to_client(upstream: aiohttp.ClientWebSocketResponse, send: Send) -> tuple[int | None, str]:
    """Copies frames until the upstream ends; the close code and reason to pass on (None when
    the client has gone)."""
    while True:
        message = await upstream.receive()
        try:
            if message.type == aiohttp.WSMsgType.TEXT:
                await send({"type": "websocket.send", "text": message.data})
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                await send({"type": "websocket.send", "bytes": message.data})
                continue
        except (OSError, RuntimeError):  # the client went away while we wrote
            return None, ""
        if message.type == aiohttp.WSMsgType.CLOSE:
            return int(message.data), str(message.extra or "")
        return upstream.close_code or UNAVAILABLE, "the events service closed the stream"


async def _close(send: Send, code: int, reason: str) -> None:
    with contextlib.suppress(OSError, RuntimeError):
        await send({"type": "websocket.close", "code": code, "reason": reason})
