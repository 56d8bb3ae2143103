"""The shared test assertions: ``eventually`` waits, retries failed assertions, and gives up."""

from __future__ import annotations

import httpx
import pytest

from docflow_dev.testing.asserts import assert_problem, eventually, problem_is


async def test_eventually_returns_the_first_truthy_result() -> None:
    calls = iter([None, 0, "ready"])
    assert await eventually(lambda: next(calls), interval=0) == "ready"


async def test_eventually_retries_a_failed_assertion_and_raises_the_last_one() -> None:
    attempts = []

    async def check() -> bool:
        attempts.append(1)
        assert len(attempts) > 100, "never"
        return True

    with pytest.raises(AssertionError, match="never"):
        await eventually(check, timeout=0.05, interval=0.01)
    assert len(attempts) > 1


async def test_eventually_names_what_it_waited_for() -> None:
    with pytest.raises(AssertionError, match="the mail"):
        await eventually(lambda: False, timeout=0.01, interval=0.005, what="the mail")


def test_problem_assertions_read_the_problem_type() -> None:
    body = {"type": "https://docflow.kz/problems/not-found", "title": "Not found", "status": 404}
    response = httpx.Response(404, json=body, headers={"content-type": "application/problem+json"})
    assert assert_problem(response, 404, "not-found") == body
    assert problem_is(response, "conflict", "not-found") and not problem_is(response, "conflict")
