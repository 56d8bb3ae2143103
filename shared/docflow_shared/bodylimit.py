"""Bounded request bodies: 413 problem+json past a route's cap, answered so that the client reads it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docflow_shared.errors import PROBLEM_BASE, PayloadTooLarge

__all__ = ["BodyCap", "BodyLimitMiddleware", "answer_before_body_end", "expects_continue"]

BodyCap = tuple[str, str, int]
"""(method, path regex, largest body in bytes) for a route that takes more than the default."""


class BodyLimitMiddleware:
    """Bounds every request body, chunked ones too: 413 problem+json past the route's cap.

    A declared Content-Length over the cap is refused before anything is read; otherwise the
    bytes are counted as they are received, and the first byte past the cap stops the reading
    (the app's receive raises) and the answer becomes 413, whatever the app tried to send.
    """

    def __init__(self, app: ASGIApp, *, default: int, caps: Sequence[BodyCap] = ()) -> None:
        self.app = app
        self.default = default
        self.caps = [(method.upper(), re.compile(pattern), limit) for method, pattern, limit in caps]

    def cap(self, method: str, path: str) -> int:
        for cap_method, pattern, limit in self.caps:
            if cap_method == method and pattern.search(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.cap(scope["method"], scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _send_too_large(send, receive, limit, scope["path"], linger=not expects_continue(scope))
                return
        received = 0
        over = False
        started = False
        # the body was read to its end (or the client left, or there is none); an answer given
        # before that reads on before it ends, so that the client gets it (finish_before_body_end)
        ended = not has_body(scope) or expects_continue(scope)

        async def counted_receive() -> Message:
            nonlocal received, over, ended
            if over:
                raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
            message = await receive()
            ended = message["type"] != "http.request" or not message.get("more_body", False)
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:
                if not started:
                    started = True
                    await _send_too_large(send, receive, limit, scope["path"], linger=not ended)
                return
            if message["type"] == "http.response.start":
                started = True
            if message["type"] == "http.response.body" and not message.get("more_body", False) and not ended:
                await finish_before_body_end(send, receive, message, linger=True)
                return
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not over:
                raise
            if not started:
                started = True
                await _send_too_large(send, receive, limit, scope["path"], linger=not ended)
        else:
            if over and not started:
                await _send_too_large(send, receive, limit, scope["path"], linger=not ended)


# How long, and how many bytes, an early answer keeps reading what is left of the request body.
LINGER_SECONDS = 1.0
LINGER_BYTES = 16 * 1024 * 1024


async def answer_before_body_end(send: Send, receive: Receive, status: int, headers: list[tuple[bytes, bytes]],
                                 body: bytes, *, linger: bool) -> None:
    """Send a whole answer while the request body may still be arriving, then (``linger``) read on.

    A server that answers and closes while the client's bytes are still unread makes the kernel
    reset the connection, and a reset drops what the client had not yet read: the answer itself.
    So the answer goes out complete, what is left of the body is read and dropped for a bounded
    time and size (as nginx's lingering close does), and only then is the response ended.
    ``linger`` is false when the body has been read to its end, or when the client waits for
    ``100 Continue`` (reading on would invite the body).
    """
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await finish_before_body_end(send, receive, {"type": "http.response.body", "body": body}, linger=linger)


async def finish_before_body_end(send: Send, receive: Receive, last: Message, *, linger: bool) -> None:
    """Send the last part of an answer; with ``linger``, all of it first, then read on (above)."""
    if not linger:
        await send(last)
        return
    await send({**last, "more_body": True})

    async def read_on() -> None:
        dropped = 0
        while dropped <= LINGER_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                return
            dropped += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(read_on(), LINGER_SECONDS)
    await send({"type": "http.response.body", "body": b""})


def has_body(scope: Scope) -> bool:
    return any((name == b"content-length" and value.strip() not in (b"", b"0")) or name == b"transfer-encoding"
               for name, value in scope["headers"])


def expects_continue(scope: Scope) -> bool:
    return any(name == b"expect" and value.lower() == b"100-continue" for name, value in scope["headers"])


async def _send_too_large(send: Send, receive: Receive, limit: int, path: str, *, linger: bool) -> None:
    body = json.dumps({"type": PROBLEM_BASE + PayloadTooLarge.slug, "title": PayloadTooLarge.title,
                       "status": 413, "detail": f"The request body is larger than {limit} bytes.",
                       "instance": path}).encode()
    await answer_before_body_end(send, receive, 413, [
        (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())], body,
        linger=linger)
