"""Fixtures for the routes service on real servers: routes, signing (which makes the signatures
routes wait for) and a gateway in front of both, as processes per test module (fresh databases
and broker namespace); a test PKI generated at test time, and a `world` that publishes the
user.* / document.* events both services build their projections from."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.plugin import event_sealer
from docflow_shared.bus import EventBus
from docflow_shared.events import Event, EventPayload, Person, new_event
from docflow_shared.events.catalogue import (
    DocumentCreated,
    DocumentFileAdded,
    DocumentShared,
    UserEmailVerified,
    UserRegistered,
)
from docflow_shared.events.producers import producer_of
from docflow_shared.mongo import create_client
from docflow_signing.crypto.devca import Issued, KeyType, create_ca, issue_user_certificate, key_proof


@dataclass
class Pki:
    """A trusted test CA (its certificate in ``trust_dir``) and a rogue CA nobody trusts."""

    root: Path
    trust_dir: Path
    ca: Issued
    rogue: Issued

    def issue(self, name: str, *, key_type: KeyType = "ec", ca: Issued | None = None, **kwargs: Any) -> Issued:
        return issue_user_certificate(ca or self.ca, name, key_type=key_type, **kwargs)

    def write(self, issued: Issued, stem: str) -> tuple[Path, Path]:
        return issued.write(self.root / "users", stem)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    trust = root / "trust"
    ca = create_ca("DocFlow Test CA", key_type="ec")
    ca.write(trust, "test-ca")
    (trust / "test-ca.key").unlink()
    ca.write(root, "ca")
    return Pki(root=root, trust_dir=trust, ca=ca, rogue=create_ca("Rogue CA", key_type="rsa"))


@dataclass(frozen=True)
class RoutesEnv:
    namespace: str
    database: str
    signing_database: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def routes_env(platform_env: dict[str, str], local_issuer: LocalIssuer, pki: Pki,
               request: pytest.FixtureRequest) -> RoutesEnv:
    """Environment of this module's processes: own database prefix and broker namespace."""
    suffix = uuid.uuid4().hex[:6]
    prefix = f"{platform_env['MONGODB_DB_PREFIX']}{suffix}_"
    namespace = f"{platform_env['BROKER_NAMESPACE']}rte{suffix}."
    env = {
        **platform_env,
        "JWKS_URL": local_issuer.jwks_url,
        "MONGODB_DB_PREFIX": prefix,
        "BROKER_NAMESPACE": namespace,
        "SIGNING_TRUST_DIR": str(pki.trust_dir),
        "ROUTES_SCHEDULER_TICK_SECONDS": "0.3",
        "ROUTES_REMINDER_SECONDS": "3600",
        "LOG_JSON": "false",
        **getattr(request.module, "ROUTES_ENV", {}),
    }
    return RoutesEnv(namespace=namespace, database=f"{prefix}routes", signing_database=f"{prefix}signing", env=env)


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not become ready")


SERVICES = ("routes", "signing", "gateway")


@pytest.fixture(scope="module")
def routes_stack(routes_env: RoutesEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("routes-logs")
    stack = Stack(env=routes_env.env, ports={name: free_port() for name in SERVICES}, only=SERVICES,
                  log_dir=logs, metrics_ports={name: free_port() for name in SERVICES}).start()
    try:
        for name in SERVICES:
            wait_ready(stack.url(name))
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def base_url(routes_stack: Stack) -> str:
    """Where the API answers: the gateway in front of routes and signing."""
    return routes_stack.url("gateway")


@pytest_asyncio.fixture(loop_scope="session")
async def route_events(amqp_url: str, routes_env: RoutesEnv) -> AsyncIterator[EventTap]:
    """Every event on this module's exchange from the start of the test."""
    tap = EventTap(amqp_url, routes_env.namespace, sealer=event_sealer(routes_env.env))
    async with asyncio.timeout(20):  # a broker that accepts TCP but never answers must not hang the run
        await tap.__aenter__()
    try:
        yield tap
    finally:
        await tap.__aexit__(None, None, None)


@dataclass
class User:
    id: str
    email: str
    full_name: str
    token: str
    iin: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def person(self) -> Person:
        return Person(user_id=self.id, email=self.email, full_name=self.full_name, locale="en")


@dataclass
class Doc:
    id: str
    owner: User
    title: str
    files: dict[str, str] = field(default_factory=dict)
    content: dict[str, bytes] = field(default_factory=dict)


class World:
    """Publishes the events auth and documents would publish, and waits for the projection."""

    def __init__(self, bus: EventBus, issuer: LocalIssuer, mongo_url: str, env: RoutesEnv, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.bus = bus
        self.issuer = issuer
        self.mongo = create_client(mongo_url)
        self.db = self.mongo[env.database]
        self.signing_db = self.mongo[env.signing_database]

    async def publish(self, payload: EventPayload) -> Event:
        event = new_event(payload, producer=producer_of(payload.TYPE) or "test")
        await self.bus.publish(event)
        return event

    async def wait_for(self, collection: str, query: dict[str, Any], *, present: bool = True,
                       timeout: float = 30.0) -> None:
        """Wait until routes' and signing's copies of ``collection`` both match ``query``."""
        for db in (self.db, self.signing_db):
            async def matched(db: Any = db) -> bool:
                return (await db[collection].find_one(query) is not None) == present

            await eventually(matched, timeout=timeout,
                             what=f"{collection} {query} {'present' if present else 'gone'} in {db.name}")

    async def handled(self, *events: Event) -> None:
        """Wait until routes has handled each of ``events`` (its mark is written after the handler)."""
        for event in events:
            async def marked(event: Event = event) -> bool:
                return await self.db.processed_events.find_one({"_id": f"routes:{event.id}"}) is not None

            await eventually(marked, timeout=30, what=f"routes handled {event.type}")

    async def wait_for_entry(self, request_id: str, user_id: str, status: str) -> None:
        """Wait until routes has marked ``user_id``'s entry of the request with ``status``."""
        async def marked() -> bool:
            entry = await self.db.request_signers.find_one({"request_id": request_id, "user_id": user_id})
            return entry is not None and entry["status"] == status

        await eventually(marked, timeout=30, what=f"entry of {user_id} {status}")

    async def user(self, name: str = "Test User", *, iin: str | None = None, verified: bool = True,
                   email: str | None = None) -> User:
        """A user as auth announces one; ``verified`` users have also proven their address, which
        is what makes them reachable as signers."""
        user_id = f"usr_{uuid.uuid4().hex[:12]}"
        email = email or f"{user_id}@example.kz"
        await self.publish(UserRegistered(user_id=user_id, email=email, full_name=name, locale="en", iin=iin))
        await self.wait_for("users", {"_id": user_id, "full_name": name})
        if verified:
            await self.publish(UserEmailVerified(user_id=user_id, email=email))
            await self.wait_for("users", {"_id": user_id, "verified_email_key": email})
        return User(id=user_id, email=email, full_name=name, token=self.issuer.token(user_id), iin=iin)

    async def document(self, owner: User, files: dict[str, bytes], title: str = "Contract") -> Doc:
        doc = Doc(id=f"doc_{uuid.uuid4().hex[:12]}", owner=owner, title=title)
        await self.publish(DocumentCreated(document_id=doc.id, owner_id=owner.id, title=title, status="draft"))
        for name, content in files.items():
            await self.add_file(doc, name, content)
        await self.wait_for("documents", {"_id": doc.id})
        for file_id in doc.files.values():
            await self.wait_for("files", {"_id": file_id})
        return doc

    async def add_file(self, doc: Doc, name: str, content: bytes, *, sha256: str | None = None) -> str:
        file_id = f"fil_{uuid.uuid4().hex[:12]}"
        doc.files[name], doc.content[name] = file_id, content
        await self.publish(DocumentFileAdded(
            document_id=doc.id, file_id=file_id, owner_id=doc.owner.id, name=name, size=len(content),
            sha256=sha256 or hashlib.sha256(content).hexdigest(), content_type="application/pdf",
        ))
        return file_id

    async def share(self, doc: Doc, recipient: User, permission: str) -> None:
        await self.publish(DocumentShared(document_id=doc.id, title=doc.title, owner=doc.owner.person,
                                          recipient=recipient.person, permission=permission))  # type: ignore[arg-type]
        await self.wait_for("grants", {"_id": f"{doc.id}:{recipient.id}", "permission": permission})

    async def possession(self, user: User, issued: Issued) -> dict[str, str]:
        """``user``'s headers with a fresh challenge signed by ``issued``'s key (proof of possession)."""
        response = await self.http.post("/api/v1/certificates/challenges", headers=user.headers)
        assert response.status_code == 201, response.text
        challenge = response.json()["challenge"]
        return {**user.headers, "DocFlow-Key-Challenge": challenge, "DocFlow-Key-Proof": key_proof(challenge, issued)}

    async def upload_certificate(self, user: User, issued: Issued) -> dict[str, Any]:
        response = await self.http.post("/api/v1/certificates", json={"pem": issued.cert_pem.decode()},
                                        headers=await self.possession(user, issued))
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    async def sign(self, user: User, doc: Doc, name: str, signature: bytes) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/documents/{doc.id}/files/{doc.files[name]}/signatures",
            files={"signature": ("file.p7s", signature, "application/pkcs7-signature")}, headers=user.headers,
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.mongo.close()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(routes_stack: Stack, routes_env: RoutesEnv, amqp_url: str, mongo_url: str,
                local_issuer: LocalIssuer, base_url: str) -> AsyncIterator[World]:
    bus = EventBus(amqp_url=amqp_url, service="routes-tests", namespace=routes_env.namespace)
    await bus.start()
    assert await bus.wait_ready(15)
    world = World(bus, local_issuer, mongo_url, routes_env, base_url)
    try:
        yield world
    finally:
        await world.close()
        await bus.close()


@pytest.fixture
def http(world: World) -> httpx.AsyncClient:
    return world.http
