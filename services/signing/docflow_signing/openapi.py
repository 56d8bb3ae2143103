"""OpenAPI descriptions of the upload bodies read by ``uploads`` (not declared as parameters)."""

from __future__ import annotations

from typing import Any

_BINARY = {"schema": {"type": "string", "format": "binary"}}


def upload_body(field: str, json_fields: dict[str, str], raw_types: tuple[str, ...],
                description: str) -> dict[str, Any]:
    """``openapi_extra`` for an endpoint taking a blob as multipart, JSON or raw bytes."""
    content: dict[str, Any] = {
        "multipart/form-data": {
            "schema": {"type": "object", "required": [field],
                       "properties": {field: {"type": "string", "format": "binary"}}},
        },
        "application/json": {
            "schema": {"type": "object",
                       "properties": {name: {"type": "string", "description": text}
                                      for name, text in json_fields.items()}},
        },
    }
    for media_type in raw_types:
        content[media_type] = _BINARY
    return {"requestBody": {"required": True, "description": description, "content": content}}


VERIFY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object", "required": ["file", "signature"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "the signed file"},
                        "signature": {"type": "string", "format": "binary",
                                      "description": "detached CMS signature (DER, PEM or base64)"},
                    },
                },
            },
        },
    },
}
