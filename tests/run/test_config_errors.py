"""A bad configuration value stops a service with one line per bad variable and exit status 2,
not with pydantic's traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from docflow_dev.devstack import SERVICES, free_port

FACTORIES = {spec.name: spec.module for spec in SERVICES}


def start_with(module: str, tmp_path: object, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "MAIL_", "MONGODB_"))}
    return subprocess.run(
        [sys.executable, "-m", "uvicorn", "--factory", module, "--host", "127.0.0.1", "--port", str(free_port())],
        env={**base, "DATA_DIR": str(tmp_path), **env}, capture_output=True, text=True, timeout=60, check=False,
    )


def test_smtp_tls_false_names_the_allowed_values(tmp_path: object) -> None:
    result = start_with(FACTORIES["mail"], tmp_path, SMTP_TLS="false")
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert "SMTP_TLS" in lines[0] and "'false'" in lines[0]
    assert all(word in lines[0] for word in ("none", "starttls", "tls"))


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_every_service_reports_each_bad_variable_on_one_line(service: str, tmp_path: object) -> None:
    result = start_with(FACTORIES[service], tmp_path, MONGODB_TIMEOUT_MS="soon", OUTBOX_POLL_SECONDS="often")
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 2, result.stderr
    assert any("MONGODB_TIMEOUT_MS" in line and "'soon'" in line and "integer" in line for line in lines)
    assert any("OUTBOX_POLL_SECONDS" in line and "'often'" in line and "number" in line for line in lines)
