"""Reading uploaded certificates and signatures: multipart field, JSON or the raw body."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from docflow_shared.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

CHUNK = 64 * 1024


FORM_OVERHEAD = 64 * 1024


def refuse_declared_oversize(request: Request, limit: int) -> None:
    """413 before reading when the declared Content-Length is over ``limit``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The upload is larger than {limit} bytes.")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading them all."""
    refuse_declared_oversize(request, limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge(f"The upload is larger than {limit} bytes.")
    return bytes(body)


async def read_part(value: UploadFile | str | None, limit: int) -> bytes | None:
    """Bytes of one multipart field (file or text), at most ``limit``."""
    if value is None:
        return None
    if isinstance(value, str):
        data = value.encode()
    else:
        data = await value.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The upload is larger than {limit} bytes.")
    return data


def _json_value(raw: bytes, fields: tuple[str, ...]) -> bytes:
    try:
        body: Any = json.loads(raw)
    except ValueError as exc:
        raise BadRequest("The request body is not valid JSON.", slug="malformed-body") from exc
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.", slug="malformed-body")
    for name in fields:
        value = body.get(name)
        if isinstance(value, str) and value.strip():
            if name.endswith("_base64"):
                try:
                    return base64.b64decode("".join(value.split()), validate=True)
                except (binascii.Error, ValueError) as exc:
                    raise BadRequest(f"Field {name} is not base64.", slug="malformed-body") from exc
            return value.encode()
    raise BadRequest(f"The JSON body needs one of: {', '.join(fields)}.", slug="malformed-body")


async def read_upload(request: Request, *, field: str, limit: int, json_fields: tuple[str, ...]) -> bytes:
    """One uploaded blob: multipart ``field``, a JSON object with one of ``json_fields``, or raw."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        refuse_declared_oversize(request, limit + FORM_OVERHEAD)
        async with request.form(max_files=4, max_fields=8) as form:
            data = await read_part(form.get(field), limit)
        if data is None:
            raise BadRequest(f"The multipart body has no field '{field}'.", slug="missing-field")
        return data
    if content_type == "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("Send multipart/form-data, JSON or the raw bytes.")
    raw = await read_body(request, limit)
    if not raw.strip():
        raise BadRequest("The request body is empty.", slug="empty-body")
    if content_type == "application/json":
        return _json_value(raw, json_fields)
    return raw
