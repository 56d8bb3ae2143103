"""The error family as a client sees it: problem+json and the headers each error promises."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from docflow_shared.errors import DocFlowError, TooManyRequests, Unavailable, install_error_handlers


async def _raising(error: DocFlowError) -> httpx.Response:
    """What a client gets from an app whose one route raises ``error``."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/")
    async def fail() -> None:
        raise error

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://docflow") as client:
        return await client.get("/")


class TestRetryAfter:
    async def test_each_error_that_asks_for_a_retry_says_when_by_default(self) -> None:
        assert (await _raising(TooManyRequests())).headers["Retry-After"] == "1"
        response = await _raising(Unavailable())
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.json()["type"].endswith("/unavailable")

    async def test_a_given_wait_is_sent_in_whole_seconds_never_below_one(self) -> None:
        assert (await _raising(TooManyRequests(retry_after=30))).headers["Retry-After"] == "30"
        assert (await _raising(Unavailable(retry_after=3600))).headers["Retry-After"] == "3600"
        assert (await _raising(Unavailable(retry_after=0))).headers["Retry-After"] == "1"

    async def test_a_header_given_explicitly_wins(self) -> None:
        error = Unavailable(retry_after=9, headers={"Retry-After": "60"})
        assert (await _raising(error)).headers["Retry-After"] == "60"
