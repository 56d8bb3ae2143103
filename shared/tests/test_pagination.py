"""Keyset pages on the real server: every item once, in order, and no empty last page."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.errors import BadRequest
from docflow_shared.mongo import Document
from docflow_shared.pagination import Keyset, encode_cursor


async def walk(db: AsyncDatabase[Document], order: Keyset, limit: int) -> list[list[Any]]:
    """Every page of the ``items`` collection, as lists of ids, the way a service reads them."""
    pages: list[list[Any]] = []
    cursor: str | None = None
    while True:
        fetched = await db["items"].find(order.after(cursor)).sort(order.sort).limit(limit + 1).to_list()
        items, cursor = order.page(fetched, limit)
        pages.append([item["_id"] for item in items])
        if cursor is None:
            return pages


async def test_a_full_last_page_is_the_last_one(db: AsyncDatabase[Document]) -> None:
    """Six items in pages of three: two pages, not a third empty one."""
    await db["items"].insert_many([{"_id": f"i{n}"} for n in range(6)])
    assert await walk(db, Keyset(), 3) == [["i5", "i4", "i3"], ["i2", "i1", "i0"]]


async def test_ties_on_the_sort_field_are_broken_by_id(db: AsyncDatabase[Document]) -> None:
    await db["items"].insert_many([{"_id": f"i{n}", "rank": n // 3} for n in range(7)])
    pages = await walk(db, Keyset("rank", ASCENDING), 2)
    assert [i for page in pages for i in page] == [f"i{n}" for n in range(7)]
    assert [len(page) for page in pages] == [2, 2, 2, 1]


async def test_a_unique_field_pages_without_a_tiebreak(db: AsyncDatabase[Document]) -> None:
    await db["items"].insert_many([{"_id": f"v{n}", "number": n} for n in range(1, 5)])
    order = Keyset("number", DESCENDING, unique=True)
    assert order.after(encode_cursor({"number": 3})) == {"number": {"$lt": 3}}
    assert await walk(db, order, 2) == [["v4", "v3"], ["v2", "v1"]]


@pytest.mark.parametrize("values", [{"_id": True}, {"_id": ["a"]}, {}, {"_id": "x" * 500}])
async def test_a_forged_cursor_is_a_bad_request(values: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        Keyset().after(encode_cursor(values))
