"""SMTP over STARTTLS with authentication, and over implicit TLS (SMTP_TLS, SMTP_USER/PASSWORD)."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from docflow_dev.devstack import free_port
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.mail import StartMail, address
from docflow_shared.events.catalogue import UserRegistered


def server_context(folder: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


class SecureSink:
    """Keeps recipients together with whether the session was encrypted and who logged in."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            encrypted = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
            login = session.auth_data.login if session.authenticated and session.auth_data else None
            self.received.append({"to": envelope.rcpt_tos, "tls": encrypted, "login": login})
        return "250 OK"


def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"mailer" and data.password == b"s3cret-pass"
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


@pytest.fixture
def starttls_sink(tmp_path: Path) -> Iterator[SecureSink]:
    sink = SecureSink()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, tls_context=server_context(tmp_path),
                            require_starttls=True, auth_required=True, authenticator=authenticate)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def implicit_tls_sink(tmp_path: Path) -> Iterator[SecureSink]:
    sink = SecureSink()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, ssl_context=server_context(tmp_path))
    controller.start()
    yield sink
    controller.stop()


def welcome(email: str) -> UserRegistered:
    return UserRegistered(user_id="u", email=email, full_name="Ann", locale="en")


class TestTls:
    async def test_starttls_with_login(self, start_mail: StartMail, starttls_sink: SecureSink) -> None:
        mail = await start_mail(SMTP_PORT=str(starttls_sink.port), SMTP_TLS="starttls", SMTP_VALIDATE_CERTS="false",
                                SMTP_USER="mailer", SMTP_PASSWORD="s3cret-pass")
        email = address("starttls")
        await mail.publish(welcome(email))
        await eventually(lambda: starttls_sink.received)
        assert starttls_sink.received == [{"to": [email], "tls": True, "login": b"mailer"}]

    async def test_implicit_tls(self, start_mail: StartMail, implicit_tls_sink: SecureSink) -> None:
        mail = await start_mail(SMTP_PORT=str(implicit_tls_sink.port), SMTP_TLS="tls", SMTP_VALIDATE_CERTS="false")
        email = address("tls")
        await mail.publish(welcome(email))
        await eventually(lambda: implicit_tls_sink.received)
        assert implicit_tls_sink.received == [{"to": [email], "tls": True, "login": None}]
