"""`make bench` brings in what the benchmarks need on a fresh machine, as `make run` does for
Python packages: wrk from the distribution's packages when it is missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_tools_installs_wrk_when_it_is_missing(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    for tool in ("apt-get", "sudo"):
        stub = tmp_path / tool
        # sudo runs what follows; apt-get notes how it was called
        body = 'exec "$@"' if tool == "sudo" else f'echo "apt-get $*" >> {calls}'
        stub.write_text(f"#!/bin/sh\n{body}\n")
        stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    result = subprocess.run(["make", "-s", "bench-tools", "WRK=wrk-absent-for-this-test"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = calls.read_text().splitlines()
    assert lines[0].startswith("apt-get update")
    assert lines[-1].split()[-1] == "wrk" and "install" in lines[-1]


def test_bench_tools_does_nothing_when_wrk_is_there(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    stub = tmp_path / "apt-get"
    stub.write_text(f'#!/bin/sh\necho "apt-get $*" >> {calls}\n')
    stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    result = subprocess.run(["make", "-s", "bench-tools", "WRK=sh"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not calls.exists()
