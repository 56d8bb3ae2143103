"""The retry schedule every delivery log keeps (``docflow_shared.dueloop.retry_delay`` and
``DeliveryLog.retry_at``)."""

from __future__ import annotations

from datetime import timedelta

from docflow_shared.dueloop import DeliveryLog, retry_delay
from docflow_shared.mongo import utc_now


def test_the_delay_doubles_from_the_base_and_stops_at_the_cap_spread_by_a_fifth() -> None:
    for attempts, expected in ((1, 10.0), (2, 20.0), (3, 40.0), (7, 600.0), (30, 600.0)):
        delays = [retry_delay(attempts, base_seconds=10, max_seconds=600) for _ in range(200)]
        assert all(0.8 * expected <= delay <= 1.2 * expected for delay in delays), (attempts, min(delays), max(delays))
        assert max(delays) - min(delays) > 0.1 * expected  # spread, not one value for everyone


def test_a_failed_entry_is_retried_only_while_the_next_attempt_comes_before_its_give_up_time() -> None:
    soon = {"attempts": 2, "give_up_at": utc_now() + timedelta(hours=1)}
    at = DeliveryLog.retry_at(soon, base_seconds=10, max_seconds=600)
    assert at is not None and timedelta(seconds=15) <= at - utc_now() <= timedelta(seconds=25)
    late = {"attempts": 2, "give_up_at": utc_now() + timedelta(seconds=5)}  # the retry would be after it
    assert DeliveryLog.retry_at(late, base_seconds=10, max_seconds=600) is None
    assert DeliveryLog.retry_at({"attempts": 1}, base_seconds=10, max_seconds=600) is None  # no time left
