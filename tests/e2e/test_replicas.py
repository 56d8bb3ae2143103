"""Two replicas of every service on one MongoDB and one broker, a mixed load through the gateway,
and one replica of each service killed with SIGKILL while it runs (docs/architecture.md,
"Replicas"). Afterwards: every event was published once, every share gave exactly one inbox item
and one e-mail, every signup exactly one code e-mail, and every request that failed got 503 with
Retry-After within the client's bounded timeout."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from docflow_dev.devstack import GATEWAY, Stack, free_port
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.mail import is_to, text_part, verification_code
from docflow_dev.testing.smtp import SmtpSink
from docflow_shared.events import Event
from docflow_shared.relay import LEASE_SECONDS

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"
CLIENT_TIMEOUT = 20.0  # a request that takes longer is a hang, and fails the test
WAIT = 90.0  # a killed relay's claims are taken over after their 30 s lease


@pytest.fixture(scope="module")
def scale_env(platform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:6]
    return {
        **platform_env,
        "MONGODB_DB_PREFIX": f"{platform_env['MONGODB_DB_PREFIX']}sc{suffix}_",
        "BROKER_NAMESPACE": f"{platform_env['BROKER_NAMESPACE']}sc{suffix}.",
        "DATA_DIR": str(tmp_path_factory.mktemp("scale-data")),
    }


@pytest.fixture(scope="module")
def scaled(scale_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    probe = Stack(env=scale_env)
    names = [spec.name for spec in probe.specs()]
    ports = {name: free_port() for name in names}
    running = Stack(env=scale_env, ports=ports, metrics_ports={name: free_port() for name in names},
                    log_dir=Path(tmp_path_factory.mktemp("scale-logs")),
                    replicas={name: 2 for name in names if name != GATEWAY}, start_timeout=120).start()
    yield running
    running.stop()


class TimedTap(EventTap):
    """Every event on the exchange, each with the time it arrived."""

    def __init__(self, amqp_url: str, namespace: str) -> None:
        super().__init__(amqp_url, namespace)
        self.arrived: dict[str, list[float]] = {}

    async def _on_message(self, message: Any) -> None:
        await super()._on_message(message)
        self.arrived.setdefault(str(self.events[-1].id), []).append(time.monotonic())


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def tap(amqp_url: str, scale_env: dict[str, str]) -> AsyncIterator[TimedTap]:
    async with TimedTap(amqp_url, scale_env["BROKER_NAMESPACE"]) as events:
        yield events


def published_twice_by_live_relays(event: Event, arrivals: list[float], killed_at: dict[str, float]) -> bool:
    """A second copy of an event is allowed in one case only: the replica whose relay published
    it was killed before clearing it, and another relay published it again once the killed
    one's claim ended (LEASE_SECONDS later). Two live relays publishing one entry would send the
    copies together, not a lease apart."""
    kill = killed_at.get(event.producer)
    if len(arrivals) != 2 or kill is None:
        return True
    first, second = arrivals
    return not (first <= kill + 1 and second >= kill + LEASE_SECONDS - 5)


@dataclass
class Load:
    """Requests through the gateway, and what became of each: a 503 is retried (by a client
    that waits a little) only where repeating the request cannot double its effect."""

    client: httpx.AsyncClient
    answered: int = 0
    unavailable: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, Retry-After
    broken: list[str] = field(default_factory=list)  # any other 5xx, or no answer in time

    async def call(self, method: str, path: str, *, replay: bool, **kwargs: Any) -> httpx.Response | None:
        for _attempt in range(20):
            try:
                response = await self.client.request(method, path, **kwargs)
            except httpx.TimeoutException:
                self.broken.append(f"{method} {path}: no answer within {CLIENT_TIMEOUT}s")
                return None
            if response.status_code in (502, 503, 504):
                self.unavailable.append((method, path, response.headers.get("retry-after")))
                if response.status_code != 503:
                    self.broken.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
                if not replay:
                    return response
                await asyncio.sleep(0.5)  # the client's back-off, shorter than Retry-After to stay brief
                continue
            if response.status_code >= 500:
                self.broken.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
            self.answered += 1
            return response
        return None


@dataclass
class User:
    email: str
    headers: dict[str, str]


def _code_mails(sink: SmtpSink, email: str) -> list[Any]:
    """The e-mails confirming ``email`` (subject with "code"; others may hold 6 digits in a link)."""
    found = []
    for message in sink.to(email):
        if "code" not in str(message["Subject"]).lower():
            continue
        try:
            verification_code(message)
        except AssertionError:
            continue
        found.append(message)
    return found


async def sign_up(load: Load, sink: SmtpSink, signups: dict[str, bool], name: str) -> User | None:
    """Sign up, read the code from the e-mail, confirm, log in; None when a step that must not be
    repeated got 503 (the test then only checks that nothing about that user was doubled)."""
    email = f"scale.{name}.{uuid.uuid4().hex[:8]}@example.kz"
    created = await load.call("POST", f"{API}/auth/signup", replay=False, json={
        "email": email, "password": PASSWORD, "full_name": f"Scale {name}", "locale": "en"})
    signups[email] = created is not None and created.status_code == 201
    if not signups[email]:
        return None
    [message] = await eventually(lambda: _code_mails(sink, email), timeout=WAIT, what=f"code e-mail to {email}")
    verified = await load.call("POST", f"{API}/auth/email/verify", replay=False,
                               json={"email": email, "code": verification_code(message)})
    if verified is None or verified.status_code != 200:
        assert verified is not None and verified.status_code == 503, verified.text if verified else None
        return None
    login = await load.call("POST", f"{API}/auth/login", replay=True, json={"email": email, "password": PASSWORD})
    assert login is not None and login.status_code == 200, login.text if login else None
    return User(email, {"Authorization": f"Bearer {login.json()['access_token']}"})


async def share_one(load: Load, owner: User, recipient: User, shares: list[tuple[str, str, User, bool]]) -> None:
    """Create a document, upload a file, share it; records (document id, title, recipient, whether
    the share was answered 2xx)."""
    title = f"Scale contract {uuid.uuid4().hex[:10]}"
    created = await load.call("POST", f"{API}/documents", replay=False, headers=owner.headers, json={"title": title})
    if created is None or created.status_code != 201:
        assert created is not None and created.status_code == 503
        return
    doc_id = created.json()["id"]
    upload = await load.call("POST", f"{API}/documents/{doc_id}/files", replay=False, headers=owner.headers,
                             files={"file": ("contract.pdf", b"%PDF-1.4 scale " + title.encode(), "application/pdf")})
    assert upload is not None and upload.status_code in (201, 503), upload.text if upload else None
    shared = await load.call("POST", f"{API}/documents/{doc_id}/share", replay=False, headers=owner.headers,
                             json={"recipients": [recipient.email], "permission": "comment"})
    assert shared is not None and shared.status_code in (200, 201, 503), shared.text if shared else None
    shares.append((doc_id, title, recipient, shared.status_code in (200, 201)))


@pytest.mark.slow
async def test_killing_one_replica_of_each_service_under_load_loses_and_doubles_nothing(
    scaled: Stack, tap: TimedTap, smtp_sink: SmtpSink
) -> None:
    services = [name for name in scaled.replicas]
    assert len(services) >= 5 and all(f"{name}-2" in scaled.processes for name in services)
    signups: dict[str, bool] = {}
    killed_at: dict[str, float] = {}
    shares: list[tuple[str, str, User, bool]] = []
    timeout = httpx.Timeout(CLIENT_TIMEOUT)
    async with httpx.AsyncClient(base_url=scaled.url(GATEWAY), timeout=timeout) as client:
        load = Load(client)
        first = [u for u in await asyncio.gather(*(sign_up(load, smtp_sink, signups, f"a{n}") for n in range(4)))
                 if u is not None]
        assert len(first) == 4, "nothing was killed yet: every signup must succeed"
        before_kill = load.answered

        async def killer() -> None:
            await eventually(lambda: load.answered >= before_kill + 6, timeout=WAIT, what="load under way")
            for name in services:
                process = scaled.processes[f"{name}-2"].process
                assert process is not None
                process.send_signal(signal.SIGKILL)
                killed_at[name] = time.monotonic()
                await asyncio.sleep(0.3)

        async def sharing() -> None:
            # rounds go on through the kills and two rounds past them, on the survivors
            after = 0
            for _round in range(8):
                after += len(killed_at) == len(services)
                if after > 2:
                    return
                await asyncio.gather(*(share_one(load, owner, first[(n + 1) % len(first)], shares)
                                       for n, owner in enumerate(first)))

        later = await asyncio.gather(killer(), sharing(),
                                     *(sign_up(load, smtp_sink, signups, f"b{n}") for n in range(4)))
        newcomers = [u for u in later[2:] if isinstance(u, User)]

        for name in services:
            killed = scaled.processes[f"{name}-2"].process
            survivor = scaled.processes[name].process
            assert killed is not None and killed.wait(10) == -signal.SIGKILL
            assert survivor is not None and survivor.poll() is None, f"{name}'s other replica died too"

        # after the kills, the survivors serve everything: a share with its e-mail and inbox item
        if newcomers:
            await share_one(load, first[0], newcomers[0], shares)

        print(f"answered {load.answered}, 503 {len(load.unavailable)}, shares {len(shares)}, "
              f"signups {sum(signups.values())}/{len(signups)}")
        # every request answered, or refused with 503 and Retry-After; none hung
        assert load.broken == [], load.broken
        assert all(retry_after for _m, _p, retry_after in load.unavailable), load.unavailable

        # each signup answered 201 gets exactly one code e-mail; none answered otherwise gets two
        for email, created in signups.items():
            if created:
                await eventually(lambda email=email: _code_mails(smtp_sink, email), timeout=WAIT)
            assert len(_code_mails(smtp_sink, email)) <= 1, f"code e-mail to {email} doubled"

        # each share answered 2xx gives exactly one inbox item and one e-mail; a share refused with
        # 503 (it may have been stored before the replica died) at most one of each
        assert sum(ok for *_rest, ok in shares) >= 10
        for doc_id, title, recipient, ok in shares:
            def mails(title: str = title, recipient: User = recipient) -> list[Any]:
                return [m for m in smtp_sink.to(recipient.email) if is_to(m, recipient.email) and title in text_part(m)]

            async def inbox(doc_id: str = doc_id, recipient: User = recipient) -> list[Any]:
                listed = await load.call("GET", f"{API}/inbox", replay=True, headers=recipient.headers,
                                         params={"limit": 100})
                assert listed is not None and listed.status_code == 200
                return [item for item in listed.json()["items"] if item["document_id"] == doc_id]

            if ok:
                await eventually(mails, timeout=WAIT, what=f"share e-mail for {title}")
                await eventually(inbox, timeout=WAIT, what=f"inbox item for {title}")
            assert len(mails()) <= 1 and len(await inbox()) <= 1, f"{title} delivered twice"
            if ok:
                assert len(mails()) == 1 and len(await inbox()) == 1

    # the relays of two replicas never published one outbox entry twice (a killed relay's
    # uncleared entries are published again after its lease, and consumers dropped the copy)
    assert tap.events, "the tap saw no event"
    by_id = {str(event.id): event for event in tap.events}
    copies = Counter(str(event.id) for event in tap.events)
    doubled = [f"{by_id[event_id].type} {event_id} x{count}" for event_id, count in copies.items()
               if count > 1 and published_twice_by_live_relays(by_id[event_id], tap.arrived[event_id], killed_at)]
    assert doubled == [], f"published more than once: {doubled}"
