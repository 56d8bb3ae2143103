"""A client that streams part of a chunked body and waits for the server's answer.

The body is left unfinished (no last chunk): a server that answers has judged it without
waiting for its end, which is what a bounded body needs. httpx cannot show this, as it
finishes the body before reading the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import httpx


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


async def unfinished_chunked_post(url: str, path: str, headers: dict[str, str], *, size: int,
                                  first: bytes = b"", piece: bytes = b"x" * 16384,
                                  timeout: float = 20, then: int = 0) -> RawAnswer:
    """POST ``first`` then ``piece`` repeated to exactly ``size`` bytes, chunked and never finished; the answer.

    ``then`` more bytes go out before the answer is read, as a client still sending when the
    server answers: those are unread at the server when it has answered."""
    target = httpx.URL(url)
    reader, writer = await asyncio.open_connection(target.host, target.port)
    head = [f"POST {path} HTTP/1.1", f"Host: {target.host}", "Transfer-Encoding: chunked", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    try:
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        sent, data, separator = 0, first or piece, b""
        while sent < size:
            # each chunk's closing CRLF goes out with the next one: nothing follows the last byte sent
            writer.write(separator + f"{len(data):x}\r\n".encode() + data)
            await writer.drain()
            sent, separator = sent + len(data), b"\r\n"
            # the last chunk ends exactly at ``size``: a server that stops there has read all that was sent
            data = piece[: max(1, size - sent)]
        with contextlib.suppress(ConnectionError, OSError):
            for _ in range(0, then, len(piece)):
                writer.write(b"\r\n" + f"{len(piece):x}\r\n".encode() + piece)
                await asyncio.wait_for(writer.drain(), timeout)
        block = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        lines = block.decode("latin-1").strip().split("\r\n")
        answer_headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        body = await asyncio.wait_for(reader.readexactly(int(answer_headers.get("content-length", "0"))), timeout)
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()
    return RawAnswer(int(lines[0].split()[1]), answer_headers, body)
