"""The WebSocket side of a stream: the token (``Sec-WebSocket-Protocol`` or the first message,
never the URL), then replay and live events until one side ends it.

Close codes: 4401 no valid token, 4001 the session ended (logout, block: log in again), 4002
the access token expired (reconnect with a fresh one), 4008 the client fell too far behind,
1013 missed events cannot be read right now, 1012 the replica is stopping."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.websockets import WebSocketState

from docflow_notify.context import NotifyContext
from docflow_notify.streams.hub import Closing, Stream
from docflow_notify.streams.schemas import StreamAuth
from docflow_shared.errors import DocFlowError, Unavailable
from docflow_shared.tokens import Principal, bearer_token

SUBPROTOCOL = "docflow.events"
BEARER = "bearer."
UNAUTHENTICATED = 4401
UNAVAILABLE = 1013
CLIENT_LEFT = Closing(1000, "client left")


def offered_token(websocket: WebSocket) -> str | None:
    """The token from ``Authorization`` (the gateway's hop) or a ``bearer.<token>`` subprotocol."""
    token: str | None = bearer_token(websocket.headers.get("authorization"))
    if token:
        return token
    for protocol in websocket.scope.get("subprotocols") or ():
        if protocol.startswith(BEARER) and len(protocol) > len(BEARER):
            return str(protocol[len(BEARER):])
    return None


async def _first_message(websocket: WebSocket, timeout: float) -> StreamAuth | None:
    try:
        return StreamAuth.model_validate_json(await asyncio.wait_for(websocket.receive_text(), timeout))
    except (TimeoutError, ValidationError, WebSocketDisconnect, KeyError, RuntimeError):
        return None


async def _authenticate(websocket: WebSocket, ctx: NotifyContext) -> tuple[Principal, str | None] | None:
    """Accepts the socket and returns who is there and the id to resume after; None once closed."""
    offered = websocket.scope.get("subprotocols") or ()
    subprotocol = SUBPROTOCOL if SUBPROTOCOL in offered else None
    last_event_id = websocket.headers.get("last-event-id")
    token = offered_token(websocket)
    await websocket.accept(subprotocol)
    if token is None:
        auth = await _first_message(websocket, ctx.settings.auth_timeout_seconds)
        if auth is None:
            await websocket.close(UNAUTHENTICATED, "send the access token first")
            return None
        token, last_event_id = auth.token, auth.last_event_id or last_event_id
    try:
        principal = await ctx.runtime.verifier.verify(token)
    except Unavailable:
        await websocket.close(UNAVAILABLE, "token keys unavailable; try again shortly")
        return None
    except DocFlowError as exc:
        await websocket.close(UNAUTHENTICATED, exc.detail[:120])
        return None
    return principal, (last_event_id or None)


async def _read_until_gone(websocket: WebSocket, stream: Stream) -> None:
    """Messages from the client mean nothing after the first; a disconnect ends the stream."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    stream.close(CLIENT_LEFT)


async def serve_socket(websocket: WebSocket, ctx: NotifyContext) -> None:
    authenticated = await _authenticate(websocket, ctx)
    if authenticated is None:
        return
    principal, last_event_id = authenticated
    try:
        stream, replay = await ctx.streams.open(principal, "websocket", last_event_id)
    except Unavailable:
        await websocket.close(UNAVAILABLE, "missed events cannot be read right now")
        return
    reader = asyncio.create_task(_read_until_gone(websocket, stream))
    try:
        async for item in ctx.streams.follow(stream, replay):
            await websocket.send_text(item.model_dump_json())
        closing = stream.closing
        if closing is not None and closing is not CLIENT_LEFT and \
                websocket.application_state == WebSocketState.CONNECTED:
            await websocket.close(closing.code, closing.reason)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        reader.cancel()
        ctx.streams.close(stream)
