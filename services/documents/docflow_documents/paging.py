"""Keyset pagination, newest first, over one indexed ``sort_key`` string per item.

``sort_key`` is the creation time in microseconds (zero-padded) followed by the id, so it is
unique and orders like (created, id). A page is one flat range query (``sort_key < cursor``):
no ``$or``, which every MongoDB-compatible server plans well.
"""

from __future__ import annotations

from typing import Any

from docflow_shared.errors import BadRequest
from docflow_shared.pagination import decode_cursor, encode_cursor

SORT = [("sort_key", -1)]


def sort_key(created_us: int, item_id: str) -> str:
    return f"{created_us:017d}:{item_id}"


def after_cursor(cursor: str | None) -> dict[str, Any]:
    """The condition selecting items after ``cursor`` (empty for the first page)."""
    values = decode_cursor(cursor)
    if values is None:
        return {}
    key = values.get("k")
    if not isinstance(key, str) or len(key) > 100:
        raise BadRequest("The cursor is not valid.", slug="invalid-cursor")
    return {"sort_key": {"$lt": key}}


def next_cursor(items: list[dict[str, Any]], limit: int) -> str | None:
    """A cursor to the next page, when this one came back full."""
    if len(items) < limit or not items:
        return None
    return encode_cursor({"k": str(items[-1]["sort_key"])})
