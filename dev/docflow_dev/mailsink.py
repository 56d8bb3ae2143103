"""A local SMTP sink for ``make run``: keeps every message as an .eml file and shows them.

    python -m docflow_dev.mailsink --port 1025 --web-port 8025 --dir .data/mail

Open http://127.0.0.1:8025/ to read what DocFlow sent; the files are in ``--dir``.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import itertools
import re
import signal
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

SAFE_NAME = re.compile(r"^[\w.-]+\.eml$")


class MailDir:
    """Messages stored one per file, newest last by name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def save(self, raw: bytes) -> Path:
        with self._lock:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
            path = self.root / f"{stamp}-{next(self._counter):05d}.eml"
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(raw)
            temporary.replace(path)
        return path

    def names(self) -> list[str]:
        return sorted((p.name for p in self.root.glob("*.eml")), reverse=True)

    def read(self, name: str) -> EmailMessage | None:
        path = self.root / name
        if not SAFE_NAME.match(name) or not path.is_file():
            return None
        return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


class _Keeper:
    def __init__(self, maildir: MailDir) -> None:
        self.maildir = maildir

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        path = self.maildir.save(data)
        print(f"mail to {', '.join(envelope.rcpt_tos)} kept in {path}", flush=True)
        return "250 Message accepted"


def _part(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    return str(part.get_content()) if part is not None else ""


def _index(maildir: MailDir) -> str:
    rows = []
    for name in maildir.names()[:500]:
        message = maildir.read(name)
        if message is None:
            continue
        rows.append(
            f"<tr><td>{html.escape(str(message['Date'] or ''))}</td><td>{html.escape(str(message['To'] or ''))}</td>"
            f"<td><a href='/message/{name}'>{html.escape(str(message['Subject'] or '(no subject)'))}</a></td>"
            f"<td><a href='/raw/{name}'>.eml</a></td></tr>"
        )
    body = "".join(rows) or "<tr><td colspan=4>No messages yet.</td></tr>"
    return (f"<h1>DocFlow mail sink</h1><p>Files: {html.escape(str(maildir.root))}</p>"
            f"<table border=1 cellpadding=4><tr><th>Date</th><th>To</th><th>Subject</th><th></th></tr>{body}</table>")


def _message_page(name: str, message: EmailMessage) -> str:
    headers = "".join(f"<b>{h}:</b> {html.escape(str(message[h] or ''))}<br>"
                      for h in ("Date", "From", "To", "Subject"))
    rich = html.escape(_part(message, "html"), quote=True)
    return (f"<p><a href='/'>&larr; all messages</a> · <a href='/raw/{name}'>.eml</a></p>{headers}"
            f"<h3>HTML</h3><iframe sandbox srcdoc=\"{rich}\" style='width:100%;height:480px'></iframe>"
            f"<h3>Text</h3><pre>{html.escape(_part(message, 'plain'))}</pre>")


def web_handler(maildir: MailDir) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/":
                self._send(200, "text/html; charset=utf-8", _page(_index(maildir)))
                return
            kind, _, name = path.strip("/").partition("/")
            message = maildir.read(name) if kind in ("message", "raw") else None
            if message is None:
                self._send(404, "text/plain; charset=utf-8", b"not found")
            elif kind == "raw":
                self._send(200, "message/rfc822", (maildir.root / name).read_bytes())
            else:
                self._send(200, "text/html; charset=utf-8", _page(_message_page(name, message)))

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    return Handler


def _page(content: str) -> bytes:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>DocFlow mail</title></head>"
            f"<body style='font-family:sans-serif'>{content}</body></html>").encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Keep e-mails DocFlow sends, and show them.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025, help="SMTP port (default 1025)")
    parser.add_argument("--web-port", type=int, default=8025, help="web page port (default 8025)")
    parser.add_argument("--dir", default=".data/mail", help="where .eml files go (default .data/mail)")
    args = parser.parse_args(argv)
    maildir = MailDir(Path(args.dir).resolve())
    controller = Controller(_Keeper(maildir), hostname=args.host, port=args.port)
    controller.start()
    web = ThreadingHTTPServer((args.host, args.web_port), web_handler(maildir))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=web.shutdown).start())
    print(f"SMTP sink on {args.host}:{args.port}; messages at http://{args.host}:{args.web_port}/ "
          f"and in {maildir.root}", flush=True)
    try:
        web.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        web.server_close()
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
