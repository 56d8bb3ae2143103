"""The retry schedule every delivery log keeps (``docflow_shared.dueloop.retry_delay``)."""

from __future__ import annotations

from docflow_shared.dueloop import retry_delay


def test_the_delay_doubles_from_the_base_and_stops_at_the_cap_spread_by_a_fifth() -> None:
    for attempts, expected in ((1, 10.0), (2, 20.0), (3, 40.0), (7, 600.0), (30, 600.0)):
        delays = [retry_delay(attempts, base_seconds=10, max_seconds=600) for _ in range(200)]
        assert all(0.8 * expected <= delay <= 1.2 * expected for delay in delays), (attempts, min(delays), max(delays))
        assert max(delays) - min(delays) > 0.1 * expected  # spread, not one value for everyone
