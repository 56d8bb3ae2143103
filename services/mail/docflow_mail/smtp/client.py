"""A small pool of long-lived SMTP connections with reconnect, and SMTP error classification."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass, field
from typing import Literal

import aiosmtplib

logger = logging.getLogger(__name__)

TlsMode = Literal["none", "starttls", "tls"]


class SendFailed(Exception):
    """The message was not accepted; ``permanent`` says whether trying again can help."""

    def __init__(self, message: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


def classify(exc: BaseException) -> SendFailed:
    """5xx about the message (recipient, sender, data) is permanent; 4xx and I/O trouble are not;
    an address or extension the server cannot take (SMTPUTF8 not offered) is permanent too."""
    if isinstance(exc, aiosmtplib.SMTPNotSupported | ValueError):
        return SendFailed(f"cannot be sent to this server: {exc}", permanent=True)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [int(e.code) for e in exc.recipients]
        text = "; ".join(f"{e.code} {e.message}" for e in exc.recipients)
        return SendFailed(f"recipient refused: {text}", permanent=bool(codes) and min(codes) >= 500,
                          code=min(codes) if codes else None)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendFailed(f"SMTP authentication failed: {exc.code} {exc.message}", permanent=False,
                          code=int(exc.code))
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPSenderRefused
                  | aiosmtplib.SMTPDataError):
        code = int(exc.code)
        return SendFailed(f"{code} {exc.message}", permanent=code >= 500, code=code)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        code = int(exc.code)
        return SendFailed(f"{code} {exc.message}", permanent=False, code=code)
    return SendFailed(f"{type(exc).__name__}: {exc}", permanent=False)


@dataclass(kw_only=True, eq=False)
class SmtpPool:
    """Up to ``size`` connections, kept open between messages and reopened when they drop."""

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    tls: TlsMode = "none"
    timeout: float = 10.0
    validate_certs: bool = True
    size: int = 4

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.size)
        self._idle: list[aiosmtplib.SMTP] = []
        self._closed = False

    def _client(self) -> aiosmtplib.SMTP:
        context = None
        if self.tls != "none" and not self.validate_certs:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username or None,
            password=self.password or None,
            timeout=self.timeout,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
            validate_certs=self.validate_certs,
            tls_context=context,
        )

    async def send(self, message: bytes, *, sender: str, recipient: str, smtputf8: bool = False) -> str:
        """Send one message; returns the server's reply or raises SendFailed. ``smtputf8``: the
        recipient needs the server's SMTPUTF8 (a server without it fails the message for good)."""
        options = ["SMTPUTF8"] if smtputf8 else []
        async with self._slots:
            client = self._idle.pop() if self._idle else self._client()
            reused = client.is_connected
            try:
                reply = await self._send_on(client, message, sender, recipient, options)
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as exc:
                await self._discard(client)
                if not reused:
                    raise classify(exc) from exc
                # the server closed an idle connection: one fresh attempt
                logger.info("SMTP connection was closed by the server (%r); reconnecting", exc)
                client = self._client()
                try:
                    reply = await self._send_on(client, message, sender, recipient, options)
                except Exception as retry_exc:
                    await self._discard(client)
                    raise classify(retry_exc) from retry_exc
            except Exception as exc:
                await self._discard(client)
                raise classify(exc) from exc
            if self._closed:
                await self._discard(client)
            else:
                self._idle.append(client)
            return reply

    async def _send_on(self, client: aiosmtplib.SMTP, message: bytes, sender: str, recipient: str,
                       options: list[str]) -> str:
        if not client.is_connected:
            await client.connect()
        _errors, reply = await client.sendmail(sender, [recipient], message, mail_options=options)
        return reply

    async def _discard(self, client: aiosmtplib.SMTP) -> None:
        with contextlib.suppress(Exception):
            client.close()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for client in idle:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.quit(), 2)
            await self._discard(client)
