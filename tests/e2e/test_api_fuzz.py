"""The published API description, fuzzed through the gateway as a signed-in, verified user.

Every operation in the merged OpenAPI document gets its examples and then schema-driven requests;
then a stateful run follows the document's links (create a document, read it back, upload a file
to it, ...). No answer may be a 5xx, and every documented answer, errors included, must match its
schema. The seed is fixed, so a failure is reproducible with the same command.
"""

from __future__ import annotations

import asyncio
import uuid
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from docflow_dev.devstack import Stack
from docflow_dev.testing.mail import is_to, verification_code
from docflow_dev.testing.smtp import SmtpSink

API = "/api/v1"
PASSWORD = "Sturdy-Kettle-47"
SEED = 20261203
EXAMPLES_PER_OPERATION = 12
CHECKS = [not_a_server_error, response_schema_conformance]


def has_code(message: EmailMessage) -> bool:
    try:
        verification_code(message)
    except AssertionError:
        return False
    return True


@pytest.fixture(scope="session")
def fuzz_token(stack: Stack, smtp_sink: SmtpSink) -> str:
    """A verified account owning one document, like a real user a few minutes in."""
    email = f"fuzz.{uuid.uuid4().hex[:8]}@example.kz"
    with httpx.Client(base_url=stack.url("gateway"), timeout=30) as client:
        created = client.post(f"{API}/auth/signup", json={
            "email": email, "password": PASSWORD, "full_name": "Fuzz User", "locale": "en"})
        assert created.status_code == 201, created.text
        code = verification_code(smtp_sink.wait_for(lambda m: is_to(m, email) and has_code(m), 30))
        assert client.post(f"{API}/auth/email/verify", json={"email": email, "code": code}).status_code == 200
        login = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        token: str = login.json()["access_token"]
        document = client.post(f"{API}/documents", headers={"Authorization": f"Bearer {token}"},
                               json={"title": "Fuzzed", "content": "text"})
        assert document.status_code == 201, document.text
    return token


def api_schema(stack: Stack) -> Any:
    """The gateway's document, without what would end the fuzzing account halfway through."""
    schema = schemathesis.openapi.from_url(f"{stack.url('gateway')}/openapi.json")
    return (schema.exclude(method="DELETE", path=f"{API}/users/me")
                  .exclude(method="POST", path=f"{API}/auth/logout")
                  # an endless Server-Sent Events stream: no answer ever ends
                  .exclude(method="GET", path=f"{API}/events"))


def fuzz_operation(operation: Any, token: str) -> list[str]:
    """One operation's examples and generated requests; every failure, as a readable line."""
    failures: list[str] = []

    @seed(SEED)
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: schemathesis.Case) -> None:
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, timeout=30, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as exc:  # collect them all, not just the first
            failures.append(f"{operation.label}: {' | '.join(str(exc).splitlines()[:6])}")

    run()
    return failures


async def test_no_operation_answers_5xx_or_off_its_schema(stack: Stack, fuzz_token: str) -> None:
    operations = [result.ok() for result in api_schema(stack).get_all_operations()]
    assert len(operations) >= 60, [op.label for op in operations]
    failures: list[str] = []
    for operation in operations:
        failures += await asyncio.to_thread(fuzz_operation, operation, fuzz_token)
    assert not failures, "\n".join(failures)


def resolve(spec: dict[str, Any], operation_ref: str) -> tuple[str, str]:
    """The path and method an ``operationRef`` of this document points at."""
    assert operation_ref.startswith("#/paths/"), operation_ref
    pointer, method = operation_ref.removeprefix("#/paths/").rsplit("/", 1)
    path = pointer.replace("~1", "/").replace("~0", "~")
    assert method in spec["paths"].get(path, {}), operation_ref
    return path, method


def test_every_link_leads_to_an_operation_with_those_parameters(stack: Stack) -> None:
    spec = httpx.get(f"{stack.url('gateway')}/openapi.json").json()
    links = [(path, name, link) for path, item in spec["paths"].items() for op in item.values()
             for response in op.get("responses", {}).values()
             for name, link in response.get("links", {}).items()]
    assert len(links) >= 12
    for source, name, link in links:
        path, method = resolve(spec, link["operationRef"])
        declared = {p["name"] for p in spec["paths"][path][method].get("parameters", []) if p["in"] == "path"}
        assert set(link["parameters"]) == declared, (source, name)


async def test_a_client_follows_the_links_of_a_created_document(
    client: httpx.AsyncClient, stack: Stack, fuzz_token: str
) -> None:
    spec = (await client.get("/openapi.json")).json()
    auth = {"Authorization": f"Bearer {fuzz_token}"}
    created = await client.post(f"{API}/documents", headers=auth, json={"title": "Linked", "content": "text"})
    assert created.status_code == 201, created.text
    links = spec["paths"][f"{API}/documents"]["post"]["responses"]["201"]["links"]
    assert {"GetDocument", "UploadFile", "ShareDocument", "ListFiles"} <= set(links)
    for name, link in links.items():
        path, method = resolve(spec, link["operationRef"])
        if method != "get":
            continue
        values = {param: created.json()[expression.removeprefix("$response.body#/")]
                  for param, expression in link["parameters"].items()}
        followed = await client.get(path.format(**values), headers=auth)
        assert followed.status_code == 200, (name, followed.text)


def body_schema(spec: dict[str, Any], path: str, method: str, media: str = "application/json") -> dict[str, Any]:
    schema: dict[str, Any] = spec["paths"][path][method]["requestBody"]["content"][media]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def query_schema(spec: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    parameter = next(p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name)
    schema: dict[str, Any] = parameter["schema"]
    return next((s for s in schema.get("anyOf", []) if s.get("type") == "string"), schema)


def test_the_schema_states_what_validation_enforces(stack: Stack) -> None:
    spec = httpx.get(f"{stack.url('gateway')}/openapi.json").json()
    emails = [
        body_schema(spec, f"{API}/auth/signup", "post")["properties"]["email"],
        body_schema(spec, f"{API}/auth/login", "post")["properties"]["email"],
        body_schema(spec, f"{API}/contacts", "post")["properties"]["email"],
        body_schema(spec, f"{API}/documents/{{document_id}}/share", "post")["properties"]["recipients"]["items"],
        body_schema(spec, f"{API}/documents/{{document_id}}/signature-requests",
                    "post")["properties"]["signers"]["items"],
        query_schema(spec, f"{API}/users/lookup", "email"),
        query_schema(spec, f"{API}/auth/availability", "email"),
    ]
    assert all(schema.get("format") == "email" for schema in emails), emails
    assert query_schema(spec, f"{API}/auth/availability", "iin")["pattern"] == "^[0-9]{12}$"
    assert body_schema(spec, f"{API}/auth/signup", "post")["properties"]["password"]["minLength"] == 10
    zip_parameters = spec["paths"][f"{API}/documents/{{document_id}}/files/{{file_id}}/zip"]["get"]["parameters"]
    assert {p["name"]: p["schema"].get("pattern") for p in zip_parameters} == {
        "document_id": "^[0-9a-f]{32}$", "file_id": "^[0-9a-f]{32}$"}
    for path, media in [(f"{API}/certificates", "multipart/form-data"),
                        (f"{API}/documents/{{document_id}}/files/{{file_id}}/signatures", "multipart/form-data"),
                        (f"{API}/signatures/verify", "multipart/form-data")]:
        parts = body_schema(spec, path, "post", media)["properties"]
        assert any(part.get("format") == "binary" for part in parts.values()), path
    # Registering a certificate proves possession of its key: the challenge and both headers are described.
    assert "post" in spec["paths"][f"{API}/certificates/challenges"]
    upload_headers = {p["name"] for p in spec["paths"][f"{API}/certificates"]["post"]["parameters"]
                      if p["in"] == "header"}
    assert upload_headers == {"DocFlow-Key-Challenge", "DocFlow-Key-Proof"}
    # Every refusal is documented as the problem details it is, never as FastAPI's default shape.
    operations = [op for item in spec["paths"].values() for op in item.values()]
    assert all(op["responses"]["4XX"]["content"]["application/problem+json"] for op in operations)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
