"""DocFlow's error family and the one handler that renders RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://docflow.dev/problems/"


class DocFlowError(Exception):
    """Base of every error a service raises on purpose; rendered as problem+json."""

    status: int = 500
    title: str = "Internal error"
    slug: str = "internal"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        slug: str | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        if slug:
            self.slug = slug


class BadRequest(DocFlowError):
    status, title, slug = 400, "Bad request", "bad-request"


class Unauthorized(DocFlowError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", 'Bearer realm="docflow"')


class Forbidden(DocFlowError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(DocFlowError):
    status, title, slug = 404, "Not found", "not-found"


class RequestTimeout(DocFlowError):
    status, title, slug = 408, "Request timeout", "request-timeout"


class Conflict(DocFlowError):
    status, title, slug = 409, "Conflict", "conflict"


class Gone(DocFlowError):
    status, title, slug = 410, "Gone", "gone"


class PayloadTooLarge(DocFlowError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(DocFlowError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class RangeNotSatisfiable(DocFlowError):
    status, title, slug = 416, "Range not satisfiable", "range-not-satisfiable"


class Unprocessable(DocFlowError):
    status, title, slug = 422, "Unprocessable content", "validation"


class Locked(DocFlowError):
    status, title, slug = 423, "Locked", "locked"


class RetryLater(DocFlowError):
    """An error that tells the client when to try again: ``Retry-After`` in whole seconds, at least 1
    (``retry_after``, else the class's ``default_retry_after``)."""

    default_retry_after: int = 1

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        seconds = self.default_retry_after if retry_after is None else retry_after
        self.headers.setdefault("Retry-After", str(max(1, seconds)))


class TooManyRequests(RetryLater):
    status, title, slug = 429, "Too many requests", "rate-limited"
    default_retry_after = 1


class Unavailable(RetryLater):
    status, title, slug = 503, "Service unavailable", "unavailable"
    default_retry_after = 5


def field_error(field: str | Sequence[str | int], message: str, kind: str = "invalid") -> dict[str, Any]:
    """One entry of a problem's ``errors`` list."""
    pointer = field if isinstance(field, str) else ".".join(str(p) for p in field)
    return {"field": pointer, "message": message, "type": kind}


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    instance: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


def _validation_errors(exc: RequestValidationError) -> tuple[bool, list[dict[str, Any]]]:
    malformed = False
    errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            malformed = True
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        errors.append(field_error(loc or ["body"], str(err.get("msg", "invalid")), str(err.get("type", "invalid"))))
    return malformed, errors


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as problem+json; nothing a client sends becomes a 500."""

    @app.exception_handler(DocFlowError)
    async def _docflow(request: Request, exc: DocFlowError) -> JSONResponse:
        return problem_response(
            exc.status, exc.title, exc.detail, slug=exc.slug, instance=request.url.path,
            errors=exc.errors, headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        malformed, errors = _validation_errors(exc)
        if malformed:
            return problem_response(
                400, "Malformed request body", "The request body is not valid JSON.",
                slug="malformed-body", instance=request.url.path, errors=errors,
            )
        return problem_response(
            422, "Validation failed", "One or more fields are invalid.",
            slug="validation", instance=request.url.path, errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}
        title = titles.get(exc.status_code, "Request failed")
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem_response(
            exc.status_code, title, detail, slug=title.lower().replace(" ", "-"),
            instance=request.url.path, headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(ConnectionFailure)
    async def _mongo_down(request: Request, exc: ConnectionFailure) -> JSONResponse:
        logger.warning("database unavailable: %s", type(exc).__name__)
        return problem_response(
            503, "Service unavailable", "The database is unreachable; try again shortly.",
            slug="unavailable", instance=request.url.path, headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            500, "Internal error", "An unexpected error occurred.", slug="internal",
            instance=request.url.path,
        )
