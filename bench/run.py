"""Runs every DocFlow benchmark in turn (or the ones named) and gathers their JSON figures.

python -m bench.run                      # all, ~20 minutes on a 2-core machine
python -m bench.run gateway_overhead     # one
Each benchmark reports ratios against a baseline measured in the same run; its figures are in
bench/results/<name>.json, and bench/results/summary.json holds them all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.stack import RESULTS

BENCHMARKS = (
    "auth_tokens", "gateway_overhead", "event_bus", "mail_latency", "signup_mail_latency", "mail_throughput",
    "documents_transfer", "gateway_transfer", "documents_listing", "signing_verify", "audit_trail", "signing_gost",
    "notify_streams", "notify_webhooks", "route_completion_latency", "evidence_pdf", "replicas",
)


def main(argv: list[str]) -> int:
    chosen = [name for name in argv if not name.startswith("-")] or list(BENCHMARKS)
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    summary: dict[str, object] = {}
    failed = []
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False)
        took = round(time.monotonic() - started, 1)
        path = RESULTS / f"{name}.json"
        if result.returncode != 0 or not path.exists():
            failed.append(name)
            summary[name] = {"error": f"exit code {result.returncode}", "seconds": took}
            continue
        summary[name] = {**json.loads(path.read_text()), "seconds": took}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(f"\nfigures: {RESULTS / 'summary.json'}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
