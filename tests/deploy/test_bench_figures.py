"""The benchmarks' figures (``bench/figures.py``): one percentile method and one comparison of
rates for every benchmark."""

from __future__ import annotations

from bench.figures import compared_rates, percentile, percentiles


def test_percentiles_are_nearest_rank_on_measured_samples() -> None:
    samples = [float(n) for n in range(100, 0, -1)]  # 1..100 ms, unsorted
    assert percentile(samples, 0.5) == 51.0 and percentile(samples, 0.95) == 95.0
    assert percentiles(samples) == {"p50_ms": 51.0, "p95_ms": 95.0, "p99_ms": 99.0, "max_ms": 100.0, "samples": 100}
    assert percentiles([7.25], digits=2) == {"p50_ms": 7.25, "p95_ms": 7.25, "p99_ms": 7.25, "max_ms": 7.25,
                                             "samples": 1}


def test_rates_are_compared_by_their_medians_with_the_rounds_kept() -> None:
    figures = compared_rates(("service", [900.0, 100.0, 800.0]), ("bare", [1000.0, 1000.0, 2000.0]))
    assert figures == {"service_per_s": 800.0, "bare_per_s": 1000.0, "ratio": 0.8,
                       "rounds": {"service": [900.0, 100.0, 800.0], "bare": [1000.0, 1000.0, 2000.0]}}
