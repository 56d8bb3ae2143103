"""What the suites of signing and routes share: both keep a projection of users and documents
from ``user.*`` and ``document.*`` events, so their tests publish those events as auth and
documents would (``World``) and wait for the projection, against services started per test module
with their own database prefix and broker namespace (``module_env``, ``running``), and a test
PKI generated at test time (``make_pki``)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
import pytest

from docflow_dev.devstack import Stack, free_port
from docflow_dev.processes import wait_ready
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.issuer import LocalIssuer
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
from docflow_shared.sealed import SecretSealer
from docflow_signing.crypto.devca import Issued, KeyType, create_ca, issue_user_certificate, key_proof

W = TypeVar("W", bound="World")


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
        written: tuple[Path, Path] = issued.write(self.root / "users", stem)
        return written


def make_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    trust = root / "trust"
    ca = create_ca("DocFlow Test CA", key_type="ec")
    ca.write(trust, "test-ca")
    (trust / "test-ca.key").unlink()
    ca.write(root, "ca")
    return Pki(root=root, trust_dir=trust, ca=ca, rogue=create_ca("Rogue CA", key_type="rsa"))


@dataclass(frozen=True)
class ModuleEnv:
    """The environment of one test module's processes: their database prefix and broker namespace."""

    namespace: str
    prefix: str
    env: dict[str, str]

    def database(self, service: str) -> str:
        return f"{self.prefix}{service}"


def module_env(platform_env: dict[str, str], local_issuer: LocalIssuer, pki: Pki, request: pytest.FixtureRequest,
               *, service: str, tag: str) -> ModuleEnv:
    """``service``'s environment for this test module: a fresh database prefix and broker namespace
    (``tag`` marks it), a fast scheduler, and the module's ``<SERVICE>_ENV`` on top."""
    own = service.upper()
    suffix = uuid.uuid4().hex[:6]
    prefix = f"{platform_env['MONGODB_DB_PREFIX']}{suffix}_"
    namespace = f"{platform_env['BROKER_NAMESPACE']}{tag}{suffix}."
    env = {
        **platform_env,
        "JWKS_URL": local_issuer.jwks_url,
        "MONGODB_DB_PREFIX": prefix,
        "BROKER_NAMESPACE": namespace,
        "SIGNING_TRUST_DIR": str(pki.trust_dir),
        f"{own}_SCHEDULER_TICK_SECONDS": "0.3",
        f"{own}_REMINDER_SECONDS": "3600",
        "LOG_JSON": "false",
        **getattr(request.module, f"{own}_ENV", {}),
    }
    return ModuleEnv(namespace=namespace, prefix=prefix, env=env)


@contextmanager
def running(env: ModuleEnv, services: Sequence[str], log_dir: Path) -> Iterator[Stack]:
    """``services`` started with ``env``, each ready, stopped on the way out."""
    stack = Stack(env=env.env, ports={name: free_port() for name in services}, only=tuple(services),
                  log_dir=log_dir, metrics_ports={name: free_port() for name in services}).start()
    try:
        for name in services:
            wait_ready(f"{stack.url(name)}/ready", 30)
        yield stack
    finally:
        stack.stop()


@asynccontextmanager
async def tapped(amqp_url: str, env: ModuleEnv, sealer: SecretSealer | None = None) -> AsyncIterator[EventTap]:
    """Every event on this module's exchange from now on."""
    tap = EventTap(amqp_url, env.namespace, sealer=sealer)
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
    """Publishes the events auth and documents would publish, and waits for the projection of
    ``service`` (kept in ``databases``, the service's own first: ``db``)."""

    def __init__(self, bus: EventBus, issuer: LocalIssuer, mongo_url: str, base_url: str, *, service: str,
                 databases: Sequence[str]) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.bus = bus
        self.issuer = issuer
        self.service = service
        self.mongo = create_client(mongo_url)
        self.dbs = [self.mongo[name] for name in databases]
        self.db = self.dbs[0]

    async def publish(self, payload: EventPayload) -> Event:
        event = new_event(payload, producer=producer_of(payload.TYPE) or "test")
        await self.bus.publish(event)
        return event

    async def wait_for(self, collection: str, query: dict[str, Any], *, present: bool = True,
                       timeout: float = 30.0) -> None:
        """Wait until every projection's ``collection`` matches ``query`` (or, not ``present``, does not)."""
        for db in self.dbs:
            async def matched(db: Any = db) -> bool:
                return (await db[collection].find_one(query) is not None) == present

            await eventually(matched, timeout=timeout,
                             what=f"{collection} {query} {'present' if present else 'gone'} in {db.name}")

    async def handled(self, *events: Event) -> None:
        """Wait until the service has handled each of ``events``: its mark in processed_events is
        written only after the handler returned, whatever order the consumer ran them in."""
        for event in events:
            async def marked(event: Event = event) -> bool:
                return await self.db.processed_events.find_one({"_id": f"{self.service}:{event.id}"}) is not None

            await eventually(marked, timeout=30, what=f"{self.service} handled {event.type}")

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

    async def share(self, doc: Doc, recipient: User, permission: Literal["read", "comment", "sign"]) -> None:
        await self.publish(DocumentShared(document_id=doc.id, title=doc.title, owner=doc.owner.person,
                                          recipient=recipient.person, permission=permission))
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
        body: dict[str, Any] = response.json()
        return body

    async def sign(self, user: User, doc: Doc, name: str, signature: bytes) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/documents/{doc.id}/files/{doc.files[name]}/signatures",
            files={"signature": ("file.p7s", signature, "application/pkcs7-signature")}, headers=user.headers,
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.mongo.close()


@asynccontextmanager
async def opened(amqp_url: str, env: ModuleEnv, service: str, make: Callable[[EventBus], W]) -> AsyncIterator[W]:
    """The world ``make`` builds over a bus publishing as ``<service>-tests`` on this module's
    namespace; closed on the way out."""
    bus = EventBus(amqp_url=amqp_url, service=f"{service}-tests", namespace=env.namespace)
    await bus.start()
    assert await bus.wait_ready(15)
    world = make(bus)
    try:
        yield world
    finally:
        await world.close()
        await bus.close()
