"""Reading an ASGI request: its body as it streams, whether its path is plain, its cookies. Shared
by the HTTP proxy and the WebSocket bridge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import CookieError, SimpleCookie

from starlette.types import Receive


class RequestBody:
    """The request body as it streams to an upstream; ``ended`` once its last part was read (or the
    client left), so that an answer given before that knows there is more to read."""

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.ended = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self.ended:
            message = await self.receive()
            self.ended = message["type"] == "http.disconnect" or not message.get("more_body", False)
            body = message.get("body", b"") if message["type"] == "http.request" else b""
            if body:
                yield body


def normal_path(path: str, raw_path: bytes | None) -> bool:
    """No ``.``/``..`` segment (plain or percent-encoded) and no encoded slash or backslash."""
    if any(segment in (".", "..") for segment in path.split("/")):
        return False
    raw = (raw_path or b"").lower()
    return b"%2f" not in raw and b"%5c" not in raw and "\\" not in path


def cookies_of(headers: dict[bytes, bytes]) -> dict[str, str]:
    raw = headers.get(b"cookie")
    if not raw:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except CookieError:
        return {}
    return {key: morsel.value for key, morsel in jar.items()}
