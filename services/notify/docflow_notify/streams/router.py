"""``WS /api/v1/events`` and ``GET /api/v1/events`` (Server-Sent Events): one user's events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, WebSocket
from fastapi.responses import StreamingResponse

from docflow_notify.dependencies import Ctx
from docflow_notify.streams.socket import serve_socket
from docflow_notify.streams.sse import sse_response
from docflow_shared.web import CurrentUser

router = APIRouter()

SSE_DESCRIPTION = """Your events as Server-Sent Events, the same stream as `WS /api/v1/events`.

Each event is `id: <event id>`, `event: <type>` and `data:` a JSON envelope (`id`, `type`,
`time`, `links`; no content). A `heartbeat` event follows every quiet 15 s. Reconnect with
`Last-Event-ID` to replay what was missed in the last 10 minutes, then live events. The stream
ends when the session ends (logout, block) or the access token expires.

The WebSocket at the same path takes the access token in `Sec-WebSocket-Protocol`
(`docflow.events, bearer.<token>`) or in a first message
`{"type": "auth", "token": "...", "last_event_id": "..."}`, never in the URL."""


@router.get("", summary="Your events (Server-Sent Events)", description=SSE_DESCRIPTION,
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                             "description": "An endless stream of events"}})
async def event_stream(user: CurrentUser, ctx: Ctx,
                       last_event_id: Annotated[str | None, Header(max_length=64)] = None) -> StreamingResponse:
    stream, replay = await ctx.streams.open(user, "sse", last_event_id)
    return sse_response(ctx.streams, stream, replay)


@router.websocket("")
async def event_socket(websocket: WebSocket, ctx: Ctx) -> None:
    await serve_socket(websocket, ctx)
