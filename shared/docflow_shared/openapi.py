"""What a service's OpenAPI document says beyond its routes: how errors look and what ids look like.

FastAPI describes every validation failure as ``application/json`` ``HTTPValidationError``, but
DocFlow answers every error as RFC 9457 ``application/problem+json`` (docs/architecture.md,
"Errors"). A service's ids are opaque strings with one shape each; a malformed id is answered
as not found rather than as a validation error, so the shape is stated in the schema without
FastAPI enforcing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

from docflow_shared.errors import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message", "type"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}
PROBLEM_RESPONSE: dict[str, Any] = {
    "description": "The request was refused (problem details).",
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
# The shape of the user ids auth issues (``u`` + creation milliseconds + random, in hex), which
# other services see as ``sub`` in tokens and as recipients in paths.
USER_ID_PATTERN = r"^u[0-9a-f]{24}$"
_FASTAPI_VALIDATION = "#/components/schemas/HTTPValidationError"
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def link(path: str, method: str = "get", **parameters: str) -> dict[str, Any]:
    """An OpenAPI link from a response to the operation at ``path``: clients and stateful
    fuzzers follow it, for example from a created document to reading it back."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}", "parameters": parameters}


def created_links(**links: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route answering 201 whose body leads to the given operations."""
    return {201: {"links": links}}


def refine_openapi(app: FastAPI, *, id_patterns: Mapping[str, str] | None = None) -> None:
    """Make ``app.openapi()`` describe errors as problem+json and state the shape of path ids."""
    patterns = dict(id_patterns or {})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = FastAPI.openapi(app)
            describe_problems(spec)
            _state_id_shapes(spec, patterns)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in spec.get("paths", {}).values()
            for method, op in item.items() if method in _METHODS]


def describe_problems(spec: dict[str, Any]) -> None:
    """Every operation may be refused with problem details, and says so."""
    for operation in _operations(spec):
        responses = operation.setdefault("responses", {})
        validation = responses.get("422", {}).get("content", {}).get("application/json", {})
        if validation.get("schema", {}).get("$ref") == _FASTAPI_VALIDATION:
            del responses["422"]
        for code, response in responses.items():
            if code.startswith("4") and "content" not in response:
                response["content"] = PROBLEM_RESPONSE["content"]
        responses.setdefault("4XX", PROBLEM_RESPONSE)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA


def _state_id_shapes(spec: dict[str, Any], patterns: Mapping[str, str]) -> None:
    for operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            pattern = patterns.get(parameter.get("name", ""))
            if parameter.get("in") == "path" and pattern and parameter.get("schema", {}).get("type") == "string":
                parameter["schema"]["pattern"] = pattern
