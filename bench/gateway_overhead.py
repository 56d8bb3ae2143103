"""GET /api/v1/users/me through the gateway against directly to auth, same concurrency, same run.

Targets (issue 2): gateway p50 <= 1.5x direct, throughput >= 0.6x direct.
Run: python -m bench.gateway_overhead [--connections 32] [--seconds 10]
"""

from __future__ import annotations

import uuid

import httpx

from bench.stack import bench_stack, options, save, wrk


def login(base_url: str) -> str:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.kz"
    password = "correct horse battery staple"
    with httpx.Client(base_url=base_url, timeout=30) as http:
        http.post("/api/v1/auth/signup", json={"email": email, "password": password,
                                               "full_name": "Bench User"}).raise_for_status()
        response = http.post("/api/v1/auth/login", json={"email": email, "password": password})
        response.raise_for_status()
        token: str = response.json()["access_token"]
        http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).raise_for_status()
        return token


def main() -> None:
    args = options(connections=32, seconds=10, rounds=2)
    with bench_stack(("auth", "gateway")) as stack:
        token = login(stack.url("gateway"))
        headers = {"Authorization": f"Bearer {token}"}
        targets = {"direct": stack.url("auth"), "gateway": stack.url("gateway")}
        for url in targets.values():  # warm up connections, caches and the JIT-less paths alike
            wrk(f"{url}/api/v1/users/me", headers=headers, connections=args.connections, seconds=2)
        runs: dict[str, list[dict[str, float]]] = {"direct": [], "gateway": []}
        for _ in range(args.rounds):
            for name, url in targets.items():
                runs[name].append(wrk(f"{url}/api/v1/users/me", headers=headers,
                                      connections=args.connections, seconds=args.seconds))
    best = {name: max(results, key=lambda r: r["requests_per_s"]) for name, results in runs.items()}
    direct, gateway = best["direct"], best["gateway"]
    figures = {
        "benchmark": "GET /api/v1/users/me, gateway vs direct to auth",
        "tool": f"wrk, 1 thread, {args.connections} connections, {args.seconds}s x {args.rounds} rounds (best)",
        "direct": direct,
        "gateway": gateway,
        "throughput_ratio": round(gateway["requests_per_s"] / direct["requests_per_s"], 3),
        "p50_ratio": round(gateway["p50_ms"] / direct["p50_ms"], 3),
        "p99_ratio": round(gateway["p99_ms"] / direct["p99_ms"], 3),
        "targets": {"throughput_ratio": ">= 0.6", "p50_ratio": "<= 1.5"},
        "all_runs": runs,
    }
    figures["met"] = figures["throughput_ratio"] >= 0.6 and figures["p50_ratio"] <= 1.5
    save("gateway_overhead", figures)


if __name__ == "__main__":
    main()
