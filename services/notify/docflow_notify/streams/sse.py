"""The Server-Sent Events side of a stream: the same envelopes as the WebSocket, as
``id``/``event``/``data`` records."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse

from docflow_notify.streams.hub import Stream
from docflow_notify.streams.schemas import Notification
from docflow_notify.streams.service import StreamService


def sse_response(streams: StreamService, stream: Stream, replay: list[Notification]) -> StreamingResponse:
    async def body() -> AsyncIterator[str]:
        try:
            yield ": connected\n\n"
            async for item in streams.follow(stream, replay):
                if isinstance(item, Notification):
                    yield f"id: {item.id}\nevent: {item.type}\ndata: {item.to_message()}\n\n"
                else:
                    yield f"event: heartbeat\ndata: {item.model_dump_json()}\n\n"
            if stream.closing is not None:
                yield f"event: close\ndata: {stream.closing.code} {stream.closing.reason}\n\n"
        finally:
            streams.close(stream)

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
