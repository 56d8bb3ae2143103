"""A mail service under test: its own process, broker namespace and database, a publisher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.mail import MailUnderTest, StartMail, mail_env
from docflow_dev.testing.smtp import SmtpSink


@pytest_asyncio.fixture(loop_scope="session")
async def start_mail(platform_env: dict[str, str], local_issuer: LocalIssuer,
                     tmp_path: Path) -> AsyncIterator[StartMail]:
    """Starts mail services with env overrides; all are stopped after the test."""
    started: list[MailUnderTest] = []

    async def start(**overrides: str) -> MailUnderTest:
        logs = tmp_path / f"mail{len(started)}"
        logs.mkdir()
        service = MailUnderTest(mail_env(platform_env, local_issuer, **overrides), logs)
        started.append(service)
        return await service.start()

    yield start
    for service in started:
        await service.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def mail(platform_env: dict[str, str], local_issuer: LocalIssuer, smtp_sink: SmtpSink,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[MailUnderTest]:
    """One mail service for a test module, sending to the session's SMTP sink."""
    service = MailUnderTest(mail_env(platform_env, local_issuer), tmp_path_factory.mktemp("mail"))
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
def own_sink() -> Iterator[Callable[..., SmtpSink]]:
    """SMTP sinks a test starts itself (on a port chosen before the server listens)."""
    sinks: list[SmtpSink] = []

    def make(port: int | None = None) -> SmtpSink:
        sink = SmtpSink(port)
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        try:
            sink.stop()
        except Exception:
            pass


