"""Reading uploaded certificates and signatures: multipart field, JSON or the raw body."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from docflow_shared.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

FORM_OVERHEAD = 64 * 1024


def media_type(request: Request) -> str:
    """The request's Content-Type without parameters, lower case ("" when there is none)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


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
    content_type = media_type(request)
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


@asynccontextmanager
async def verify_parts(request: Request, *, max_file_bytes: int,
                       max_signature_bytes: int) -> AsyncIterator[tuple[UploadFile, bytes]]:
    """The ``file`` and ``signature`` parts of a multipart form, open while the caller reads the file."""
    if media_type(request) != "multipart/form-data":
        raise UnsupportedMediaType("Send multipart/form-data with the fields file and signature.")
    refuse_declared_oversize(request, max_file_bytes + max_signature_bytes + FORM_OVERHEAD)
    async with request.form(max_files=2, max_fields=4) as form:
        file, signature = form.get("file"), form.get("signature")
        if not isinstance(file, UploadFile):
            raise BadRequest("The multipart body needs a file part 'file'.", slug="missing-field")
        data = await read_part(signature, max_signature_bytes)
        if not data:
            raise BadRequest("The multipart body needs a part 'signature'.", slug="missing-field")
        yield file, data
