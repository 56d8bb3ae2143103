"""A real SMTP server (aiosmtpd) inside the test process that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from docflow_dev.devstack import free_port


class _Recorder:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if self.sink.reject_with is not None:
            return self.sink.reject_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.sink.data_started.set()
        await asyncio.sleep(self.sink.data_delay)
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = BytesParser(EmailMessage, policy=email.policy.default).parsebytes(raw)
        with self.sink.lock:
            self.sink.messages.append(message)
            self.sink.envelope_recipients.append(list(envelope.rcpt_tos))
            self.sink.arrivals.append(time.monotonic())
        return "250 Message accepted"


class SmtpSink:
    """Collects messages; ``reject_with`` makes it answer RCPT with an error (e.g. 550);
    ``smtputf8`` whether it offers SMTPUTF8 (internationalised addresses); ``data_delay`` holds
    the answer to DATA that long (a slow server), ``data_started`` is set once a DATA arrives."""

    def __init__(self, port: int | None = None, *, smtputf8: bool = True) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.envelope_recipients: list[list[str]] = []  # RCPT TO of each message, in the same order
        self.arrivals: list[float] = []  # time.monotonic() of each message, in the same order
        self.lock = threading.Lock()
        self.reject_with: str | None = None
        self.data_delay = 0.0
        self.data_started = threading.Event()
        self.controller = Controller(_Recorder(self), hostname="127.0.0.1", port=self.port,
                                     enable_SMTPUTF8=smtputf8)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def received_for(self, address: str) -> bool:
        """Whether a message went to ``address`` in the SMTP envelope (exactly as given)."""
        with self.lock:
            return any(address in recipients for recipients in self.envelope_recipients)

    def wait_for(self, predicate: Callable[[EmailMessage], bool], timeout: float = 15.0) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for message in self.messages:
                    if predicate(message):
                        return message
            time.sleep(0.05)
        raise AssertionError("no matching e-mail arrived in time")


def text_part(message: EmailMessage) -> str:
    return _content(message.get_body(preferencelist=("plain",)))


def html_part(message: EmailMessage) -> str:
    return _content(message.get_body(preferencelist=("html",)))


def _content(part: MIMEPart | None) -> str:
    """A text part's content (``get_content`` decodes it to ``str``), or "" when there is none."""
    if part is None:
        return ""
    content: str = part.get_content()
    return content


