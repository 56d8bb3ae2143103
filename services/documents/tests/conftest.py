"""Fixtures for the documents service's tests: the service as a real process on free ports, its
database, users made known to it through ``user.registered`` and ``user.email_verified`` events
(only a proven address receives shares), and tokens for them.

``base_url`` is where the tests send requests (the service itself, under ``/api/v1``). To run
the same tests through the gateway, set ``DOCFLOW_TESTS_VIA=gateway``: requests then go to
``gateway_url`` and tokens must come from an issuer the gateway trusts (override
``issue_token``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pymongo.asynchronous.database import AsyncDatabase

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.asserts import eventually
from docflow_dev.testing.events import EventTap
from docflow_dev.testing.issuer import LocalIssuer
from docflow_dev.testing.plugin import event_sealer, tests_via
from docflow_dev.testing.world import User
from docflow_shared.bus import EventBus
from docflow_shared.events import EventPayload, new_event
from docflow_shared.events.catalogue import UserEmailVerified, UserRegistered
from docflow_shared.mongo import Document, create_client

MAX_UPLOAD_MB = 4
ZIP_MAX_ENTRIES = 500


@pytest.fixture(scope="session")
def documents_env(platform_env: dict[str, str]) -> dict[str, str]:
    """The service under test gets a database and broker namespace of its own: the whole stack's
    documents instance, which believes only auth's broker user, never competes with it for the
    events these tests publish as the development user."""
    return {**platform_env, "BROKER_NAMESPACE": f"{platform_env['BROKER_NAMESPACE']}docs.",
            "MONGODB_DB_PREFIX": f"{platform_env['MONGODB_DB_PREFIX']}docs_"}


@pytest_asyncio.fixture(loop_scope="session")
async def events(amqp_url: str, documents_env: dict[str, str]) -> AsyncIterator[EventTap]:
    async with EventTap(amqp_url, documents_env["BROKER_NAMESPACE"], sealer=event_sealer(documents_env)) as tap:
        yield tap


def start_documents(documents_env: dict[str, str], local_issuer: LocalIssuer,
                    tmp_path_factory: pytest.TempPathFactory, **settings: str) -> Stack:
    """The documents service as a process of its own, on the tests' database and broker."""
    env = {
        **documents_env,
        "JWKS_URL": local_issuer.jwks_url,
        "DOCUMENTS_MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
        "DOCUMENTS_ZIP_MAX_ENTRIES": str(ZIP_MAX_ENTRIES),
        **settings,
    }
    logs = Path(tmp_path_factory.mktemp("documents-logs"))
    return Stack(env=env, ports={"documents": free_port()}, only=("documents",), log_dir=logs).start()


@pytest.fixture(scope="session")
def documents_service(documents_env: dict[str, str], local_issuer: LocalIssuer,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_documents(documents_env, local_issuer, tmp_path_factory)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def base_url(request: pytest.FixtureRequest) -> str:
    """Where requests go: the service started here, or the whole stack's gateway."""
    if tests_via() == "gateway":
        return str(request.getfixturevalue("gateway_url")) + "/api/v1"
    service: Stack = request.getfixturevalue("documents_service")
    return service.url("documents") + "/api/v1"


@pytest.fixture(scope="session")
def max_upload_bytes() -> int:
    return MAX_UPLOAD_MB * 1024 * 1024


@pytest.fixture(scope="session")
def issue_token(local_issuer: LocalIssuer) -> Callable[..., str]:
    def issue(user_id: str, *, email_verified: bool = True) -> str:
        return local_issuer.token(user_id, email_verified=email_verified)

    return issue


@pytest_asyncio.fixture(loop_scope="session")
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def documents_db(mongo_url: str, documents_env: dict[str, str]) -> AsyncIterator[AsyncDatabase[Document]]:
    client = create_client(mongo_url)
    yield client[f"{documents_env['MONGODB_DB_PREFIX']}documents"]
    await client.close()


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def publisher(amqp_url: str, documents_env: dict[str, str]) -> AsyncIterator[EventBus]:
    bus = EventBus(amqp_url=amqp_url, service="documents-tests", namespace=documents_env["BROKER_NAMESPACE"])
    await bus.start()
    assert await bus.wait_ready(20)
    yield bus
    await bus.close()


Publish = Callable[[EventPayload], Awaitable[Any]]


@pytest.fixture
def publish(publisher: EventBus) -> Publish:
    async def send(payload: EventPayload, producer: str = "auth") -> Any:
        event = new_event(payload, producer=producer)
        await publisher.publish(event)
        return event

    return send



MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture
def make_user(publish: Publish, documents_db: AsyncDatabase[Document], issue_token: Callable[..., str],
              base_url: str) -> MakeUser:
    async def make(name: str = "Иван Петров", *, verified: bool = True, locale: str = "ru") -> User:
        user_id = uuid.uuid4().hex
        email = f"user-{user_id[:10]}@example.kz"
        await publish(UserRegistered(user_id=user_id, email=email.upper(), full_name=name, locale=locale))
        if verified:
            await publish(UserEmailVerified(user_id=user_id, email=email))

        async def known() -> bool:
            found = await documents_db.users.find_one({"_id": user_id, "full_name": name})
            return found is not None and (not verified or found.get("verified_email") == email)

        await eventually(known, what=f"projection of {email}")
        return User(user_id, email, name, issue_token(user_id, email_verified=verified))

    return make


@pytest.fixture
def problem() -> Callable[[httpx.Response, int], dict[str, Any]]:
    def check(response: httpx.Response, status: int) -> dict[str, Any]:
        assert response.status_code == status, (response.status_code, response.text[:500])
        assert response.headers["content-type"].startswith("application/problem+json"), response.headers
        body: dict[str, Any] = response.json()
        assert body["status"] == status and body["type"] and body["title"]
        return body

    return check


class DocumentsApi:
    """Small steps the tests repeat, on top of the raw HTTP client."""

    def __init__(self, http: httpx.AsyncClient, db: AsyncDatabase[Document]) -> None:
        self.http = http
        self.db = db

    async def create_document(self, user: User, **fields: Any) -> dict[str, Any]:
        body = {"title": "Договор поставки", "content": "Текст договора", **fields}
        response = await self.http.post("/documents", json=body, headers=user.headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def upload(self, user: User, document_id: str, data: bytes, name: str = "file.bin",
                     content_type: str = "application/octet-stream") -> httpx.Response:
        return await self.http.post(f"/documents/{document_id}/files", headers=user.headers,
                                    files={"file": (name, data, content_type)})

    async def uploaded(self, user: User, document_id: str, data: bytes, name: str = "file.bin") -> dict[str, Any]:
        response = await self.upload(user, document_id, data, name)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def share(self, owner: User, document_id: str, recipients: list[User], permission: str = "read",
                    message: str = "") -> httpx.Response:
        body = {"recipients": [r.email for r in recipients], "permission": permission, "message": message}
        return await self.http.post(f"/documents/{document_id}/share", json=body, headers=owner.headers)

    async def shared(self, owner: User, document_id: str, recipients: list[User], permission: str = "read",
                     message: str = "") -> dict[str, Any]:
        response = await self.share(owner, document_id, recipients, permission, message)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def gridfs_ids(self) -> set[str]:
        return {str(d["_id"]) for d in await self.db["fs.files"].find({}, {"_id": 1}).to_list()}

    async def chunks_of(self, file_id: str) -> list[dict[str, Any]]:
        return await self.db["fs.chunks"].find({"files_id": file_id}).sort("n", 1).to_list()


@pytest_asyncio.fixture(loop_scope="session")
async def api(http: httpx.AsyncClient, documents_db: AsyncDatabase[Document]) -> DocumentsApi:
    return DocumentsApi(http, documents_db)


@pytest.fixture
def wait_until() -> Callable[..., Awaitable[None]]:
    return eventually
