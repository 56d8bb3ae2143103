"""Keyset pagination (``limit``, ``cursor`` → ``next_cursor``): opaque cursors and one page recipe."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo import ASCENDING, DESCENDING

from docflow_shared.errors import BadRequest

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is not valid.", slug="invalid-cursor") from exc
    if not isinstance(value, dict):
        raise BadRequest("The cursor is not valid.", slug="invalid-cursor")
    return value


D = TypeVar("D", bound=Mapping[str, Any])

_MAX_CURSOR_TEXT = 200


@dataclass(frozen=True)
class Keyset:
    """One keyset order, the only way DocFlow pages a collection.

    Items sort by ``field`` then ``_id`` (the tiebreak that makes the order total), both in
    ``direction``; a ``unique`` field, or ``_id`` itself, needs no tiebreak, so a page is one flat
    range query. The cursor carries the last item's sort values. The repository fetches
    ``limit + 1`` items after :meth:`after`'s filter; :meth:`page` keeps ``limit`` of them and
    gives a next cursor only when that extra item proves another page exists (no empty last page).
    """

    field: str = "_id"
    direction: int = DESCENDING
    unique: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.field,) if self.unique or self.field == "_id" else (self.field, "_id")

    @property
    def sort(self) -> list[tuple[str, int]]:
        return [(key, self.direction) for key in self.keys]

    def after(self, cursor: str | None) -> dict[str, Any]:
        """The filter selecting the items after ``cursor`` (empty for the first page)."""
        values = decode_cursor(cursor)
        if values is None:
            return {}
        position = [_cursor_value(values.get(key)) for key in self.keys]
        beyond = "$lt" if self.direction == DESCENDING else "$gt"
        if len(position) == 1:
            return {self.field: {beyond: position[0]}}
        value, last_id = position
        return {"$or": [{self.field: {beyond: value}}, {self.field: value, "_id": {beyond: last_id}}]}

    def page(self, fetched: Sequence[D], limit: int) -> tuple[list[D], str | None]:
        """The page out of ``limit + 1`` fetched items, and the cursor to the next one if any."""
        items = list(fetched[:limit])
        if len(fetched) <= limit or not items:
            return items, None
        return items, encode_cursor({key: items[-1][key] for key in self.keys})


# DocFlow's ids are time-ordered (docflow_shared.ids), so ordering by ``_id`` orders by creation.
NEWEST_FIRST = Keyset()
OLDEST_FIRST = Keyset(direction=ASCENDING)


def _cursor_value(value: object) -> str | int:
    """A sort value read back from a cursor: text or a whole number, as ids and keys are."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRequest("The cursor is not valid.", slug="invalid-cursor")
    if isinstance(value, str) and len(value) > _MAX_CURSOR_TEXT:
        raise BadRequest("The cursor is not valid.", slug="invalid-cursor")
    return value
