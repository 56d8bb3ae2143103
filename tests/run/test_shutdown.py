"""Every service stops within its graceful timeout (5 s) after SIGTERM, even when its database
went away first."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from docflow_dev.devstack import SERVICES, ServiceProcess, free_port
from docflow_dev.localservers import EmbeddedMongo
from docflow_dev.processes import wait_ready

SPECS = {spec.name: spec for spec in SERVICES if spec.installed()}


@pytest.mark.parametrize("service", sorted(set(SPECS) - {"gateway"}))
def test_sigterm_with_the_database_gone_exits_within_the_graceful_timeout(
        service: str, platform_env: dict[str, str], tmp_path: Path) -> None:
    mongo = EmbeddedMongo(tmp_path / "mongo").start()
    env = {**platform_env, "MONGODB_URL": mongo.url, "DATA_DIR": str(tmp_path / "data"),
           "JWKS_URL": f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"}
    proc = ServiceProcess(SPECS[service], free_port(), env, tmp_path / f"{service}.log")
    proc.start()
    assert proc.process is not None
    try:
        proc.wait()
        wait_ready(f"{proc.url}/ready", 30)
        mongo.stop()
        time.sleep(1.5)  # let the service notice: relays, schedulers and consumers hit the dead database
        started = time.monotonic()
        proc.process.send_signal(signal.SIGTERM)
        try:
            proc.process.wait(6.5)
        except Exception:
            pytest.fail(f"{service} still running {time.monotonic() - started:.1f}s after SIGTERM; log:\n"
                        + (tmp_path / f"{service}.log").read_text()[-3000:])
        assert time.monotonic() - started < 6.5
    finally:
        if proc.process.poll() is None:
            proc.process.kill()
            proc.process.wait(5)
        mongo.stop()
