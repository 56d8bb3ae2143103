"""Listing latency with 10,000 documents owned by one user: the first page, a deep page (keyset
cursor ~9,000 documents in), a tag filter and a text search.

Run: python -m bench.documents_listing [--documents 10000] [--requests 100]
     python -m bench.documents_listing --base-url http://127.0.0.1:8000 --token ...
(with --base-url the documents are created through the API unless MONGODB_URL and
MONGODB_DB_PREFIX point at the service's database).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.documents_common import Target, documents_target
from bench.figures import percentiles
from bench.stack import save
from docflow_documents.documents.service import search_text, tags_text
from docflow_documents.ids import ID_LENGTH, LISTING_ORDER, sort_key
from docflow_shared.ids import new_id
from docflow_shared.mongo import NOT_DELETED, create_client
from docflow_shared.pagination import encode_cursor


def document(owner_id: str, i: int, at: datetime) -> dict[str, Any]:
    title, content = f"Счёт №{i}", f"Оплата по договору {i} за услуги"
    tags = ["invoice", f"batch{i % 10}"]
    created_at, created_us = at.isoformat(), int(at.timestamp() * 1_000_000)
    document_id = new_id(length=ID_LENGTH)
    return {
        "_id": document_id, "owner_id": owner_id, "sort_key": sort_key(created_us, document_id),
        "title": title, "description": "", "content": content,
        "status": "draft", "tags": tags, "tags_text": tags_text(tags), "search_text": search_text(title, "", content),
        "version": 1, "created_at": created_at, "created_us": created_us, "updated_at": created_at,
        "deleted_at": None, "outbox": [], "outbox_pending": False, "outbox_rev": 0,
    }


async def fill(target: Target, http: httpx.AsyncClient, owner_id: str, count: int) -> list[dict[str, Any]]:
    start = datetime.now(UTC) - timedelta(days=1)
    docs = [document(owner_id, i, start + timedelta(milliseconds=i)) for i in range(count)]
    if target.mongo_url:
        client = create_client(target.mongo_url, timeout_ms=10_000)
        collection = client[f"{target.db_prefix}documents"]["documents"]
        for first in range(0, count, 500):
            await collection.insert_many(docs[first:first + 500])
        await client.close()
    else:
        for doc in docs:
            body = {"title": doc["title"], "content": doc["content"], "tags": doc["tags"]}
            response = await http.post("/api/v1/documents", json=body, headers=target.headers)
            response.raise_for_status()
    return docs


async def latency(http: httpx.AsyncClient, target: Target, params: dict[str, Any], n: int,
                  expect: int) -> dict[str, float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = await http.get("/api/v1/documents", params=params, headers=target.headers)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        if len(response.json()["items"]) != expect:
            raise RuntimeError(f"{params}: {len(response.json()['items'])} items, expected {expect}")
    return percentiles(times, digits=2)


async def database_baseline(target: Target, owner_id: str, n: int) -> dict[str, float] | None:
    """The same first-page query sent straight to the database from this process."""
    if not target.mongo_url:
        return None
    client = create_client(target.mongo_url, timeout_ms=10_000)
    collection = client[f"{target.db_prefix}documents"]["documents"]
    times = []
    try:
        for _ in range(n):
            started = time.perf_counter()
            await collection.find({**NOT_DELETED, "owner_id": owner_id},
                                  {"outbox": 0, "search_text": 0}).sort(LISTING_ORDER.sort).limit(20).to_list()
            times.append((time.perf_counter() - started) * 1000)
    finally:
        await client.close()
    return percentiles(times, digits=2)


async def measure(target: Target, count: int, n: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=target.base_url, timeout=60) as http:
        probe = await http.post("/api/v1/documents", json={"title": "probe"}, headers=target.headers)
        probe.raise_for_status()
        owner_id = probe.json()["owner_id"]
        await http.delete(f"/api/v1/documents/{probe.json()['id']}", headers=target.headers)
        started = time.perf_counter()
        docs = await fill(target, http, owner_id, count)
        fill_s = time.perf_counter() - started
        if target.mongo_url:
            newest_first = sorted(docs, key=lambda d: str(d["sort_key"]), reverse=True)
            deep_cursor = encode_cursor({"sort_key": newest_first[int(count * 0.9) - 1]["sort_key"]})
        else:  # walk to the deep page through the API
            deep_cursor, params = None, {"limit": 100}
            for _ in range(int(count * 0.9) // 100):
                page = (await http.get("/api/v1/documents", params=params, headers=target.headers)).json()
                deep_cursor = page["next_cursor"]
                params = {"limit": 100, "cursor": deep_cursor}
        await latency(http, target, {"limit": 20}, 5, 20)  # warm-up
        return {
            "documents": count, "filled_via": "database" if target.mongo_url else "API", "fill_s": round(fill_s, 1),
            "first_page": await latency(http, target, {"limit": 20}, n, 20),
            "database_only_first_page": await database_baseline(target, owner_id, n),
            "deep_page": {**await latency(http, target, {"limit": 20, "cursor": deep_cursor}, n, 20),
                          "position": int(count * 0.9)},
            "tag_filter": await latency(http, target, {"limit": 20, "tag": "batch7"}, n, 20),
            "text_search": await latency(http, target, {"limit": 20, "q": "договору 9999 "}, max(10, n // 5), 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--base-url")
    parser.add_argument("--token")
    parser.add_argument("--name", default="documents_listing")
    args = parser.parse_args()
    with documents_target(args.base_url, args.token, None) as target:
        measured = asyncio.run(measure(target, args.documents, args.requests))
    figures = {
        "benchmark": f"GET /api/v1/documents with {args.documents} documents of one user, limit 20",
        "target": args.base_url or "documents service started by the benchmark (embedded MongoDB-wire server)",
        **measured,
    }
    save(args.name, figures)


if __name__ == "__main__":
    main()
