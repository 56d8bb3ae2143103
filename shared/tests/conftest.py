from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest_asyncio
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from docflow_shared.mongo import Document, create_client


@pytest_asyncio.fixture(loop_scope="session")
async def db(mongo_url: str, run_id: str) -> AsyncIterator[AsyncDatabase[Document]]:
    """A fresh database per test, dropped afterwards."""
    client: AsyncMongoClient[Document] = create_client(mongo_url)
    database = client[f"t{run_id}_shared_{uuid.uuid4().hex[:6]}"]
    yield database
    await client.drop_database(database.name)
    await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def namespace(run_id: str) -> str:
    return f"t{run_id}.{uuid.uuid4().hex[:6]}."
