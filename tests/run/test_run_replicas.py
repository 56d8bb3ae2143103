"""`make run REPLICAS=documents=2` (python -m docflow_dev.supervisor --replicas documents=2): the
second replica runs on its own ports, the gateway lists both, and stopping stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from docflow_dev.devstack import free_port, port_free

SERVICE_NAMES = ("gateway", "auth", "documents", "signing", "mail", "audit")


def _base_port_with_room() -> int:
    """A free port p whose replica and metrics ports (p + 100, p + 1000, p + 1100) are free too."""
    while True:
        port = free_port()
        if port + 1100 < 65536 and all(port_free(p) for p in (port + 100, port + 1000, port + 1100)):
            return port


def test_a_second_replica_runs_on_its_own_ports_behind_the_gateway(
        platform_env: dict[str, str], tmp_path: Path) -> None:
    dropped = ("MONGODB_URL", "DATA_DIR", "SMTP_HOST", "SMTP_PORT", "SMTP_TLS")
    env = {k: v for k, v in platform_env.items() if k not in dropped}
    env["BROKER_NAMESPACE"] = f"{platform_env['BROKER_NAMESPACE']}rep{os.getpid()}."
    env["BROKER_USER_PREFIX"] = ""
    for name in SERVICE_NAMES:
        env[f"{name.upper()}_PORT"] = str(_base_port_with_room() if name == "documents" else free_port())
        env[f"{name.upper()}_METRICS_PORT"] = str(free_port())
    del env["DOCUMENTS_METRICS_PORT"]  # the first replica's: its port + 100
    env["MONGODB_PORT"] = str(free_port())
    env["SMTP_SINK_PORT"], env["SMTP_SINK_WEB_PORT"] = str(free_port()), str(free_port())
    documents = int(env["DOCUMENTS_PORT"])
    log = tmp_path / "run.log"
    with open(log, "ab") as out:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "docflow_dev.supervisor", "--data-dir", str(tmp_path / "data"),
             "--replicas", "documents=2"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 150
        # up once every replica is (the gateway is ready as soon as one replica of each is)
        while "DocFlow is up" not in log.read_text():
            assert supervisor.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        assert "documents-2" in log.read_text()
        assert httpx.get(f"http://127.0.0.1:{env['GATEWAY_PORT']}/ready", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{documents + 1000}/ready", timeout=5).status_code == 200
        for metrics in (documents + 100, documents + 1100):
            assert "docflow_" in httpx.get(f"http://127.0.0.1:{metrics}/metrics", timeout=5).text
    finally:
        supervisor.send_signal(signal.SIGINT)
        supervisor.wait(60)
    assert supervisor.returncode == 0
    assert port_free(documents + 1000) and port_free(documents)
