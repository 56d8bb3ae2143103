from __future__ import annotations

import uuid

import pytest_asyncio


@pytest_asyncio.fixture(loop_scope="session")
async def namespace(run_id: str) -> str:
    return f"t{run_id}.{uuid.uuid4().hex[:6]}."
