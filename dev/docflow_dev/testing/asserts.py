"""Assertions every service's tests share: waiting for asynchronous work, and problem answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx


async def eventually(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1,
                     what: str = "condition") -> Any:
    """Call ``check()`` (plain or async) until it returns something truthy, and return that.

    Consumers, relays and the mail worker act asynchronously, so a test waits for the outcome
    rather than sleeping. A check may also assert: a failed assertion counts as "not yet", and
    the last one is raised when ``timeout`` passes first.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(interval)


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    """The RFC 9457 body of ``response``, after checking it is a problem with ``status`` (and
    the type ending in ``slug``, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["type"], body
    if slug is not None:
        assert body["type"].endswith("/" + slug), body
    return body


def problem_is(response: httpx.Response, *slugs: str) -> bool:
    """Whether ``response`` is an error whose problem type ends in one of ``slugs``."""
    return response.status_code >= 400 and str(response.json().get("type", "")).endswith(
        tuple(f"/{s}" for s in slugs))
