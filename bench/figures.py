"""The figures every benchmark reports, computed one way.

Percentiles are nearest-rank on the sorted samples (the sample at ``round(q · (n - 1))``): a value
that was measured, the same for every benchmark. A comparison of two rates takes the median of
each side's rounds, so one slow round on a shared machine does not decide it."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def percentiles(samples_ms: Sequence[float], *, digits: int = 1) -> dict[str, float]:
    """p50, p95, p99 and the largest of latencies in milliseconds, and how many there were."""
    return {**{f"p{q}_ms": round(percentile(samples_ms, q / 100), digits) for q in (50, 95, 99)},
            "max_ms": round(max(samples_ms), digits), "samples": len(samples_ms)}


def compared_rates(subject: tuple[str, Sequence[float]], baseline: tuple[str, Sequence[float]]) -> dict[str, Any]:
    """Per-round rates of a subject and of its baseline measured in the same run: the median of
    each (``<name>_per_s``), the subject's over the baseline's (``ratio``) and the rounds."""
    (subject_name, subject_rounds), (baseline_name, baseline_rounds) = subject, baseline
    subject_rate, baseline_rate = statistics.median(subject_rounds), statistics.median(baseline_rounds)
    return {f"{subject_name}_per_s": round(subject_rate, 1), f"{baseline_name}_per_s": round(baseline_rate, 1),
            "ratio": round(subject_rate / baseline_rate, 3),
            "rounds": {subject_name: [round(x, 1) for x in subject_rounds],
                       baseline_name: [round(x, 1) for x in baseline_rounds]}}
