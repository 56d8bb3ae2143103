"""`make run` (python -m docflow_dev.supervisor) killed in any way leaves nothing behind, and a
plain second start comes back; ports taken by others are named in one line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from docflow_dev.devstack import free_port
from docflow_dev.localservers import EmbeddedMongo

SERVICE_NAMES = ("gateway", "auth", "documents", "signing", "mail", "routes", "audit", "notify")
CHILDREN = 10  # embedded database, SMTP sink, eight services


@pytest.fixture
def devstack_env(platform_env: dict[str, str]) -> dict[str, str]:
    """The platform's broker and a namespace of its own; the embedded database and the SMTP sink
    are the devstack's own, every port a free one."""
    dropped = ("MONGODB_URL", "DATA_DIR", "SMTP_HOST", "SMTP_PORT", "SMTP_TLS")
    env = {k: v for k, v in platform_env.items() if k not in dropped}
    env["BROKER_NAMESPACE"] = f"{platform_env['BROKER_NAMESPACE']}dev{os.getpid()}."
    env["LOG_JSON"] = "false"
    for name in SERVICE_NAMES:
        env[f"{name.upper()}_PORT"] = str(free_port())
        env[f"{name.upper()}_METRICS_PORT"] = str(free_port())  # not the default API port + 100: that one may be taken
    env["MONGODB_PORT"] = str(free_port())
    env["SMTP_SINK_PORT"], env["SMTP_SINK_WEB_PORT"] = str(free_port()), str(free_port())
    return env


def start(env: dict[str, str], data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "docflow_dev.supervisor", "--data-dir", str(data_dir)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(env: dict[str, str], supervisor: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    url = f"http://127.0.0.1:{env['GATEWAY_PORT']}/ready"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert supervisor.poll() is None, f"devstack exited with {supervisor.returncode}:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(url, timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not ready within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children_of(pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of each process whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[1] == str(pid):
            found.add((int(entry.name), fields[19]))
    return found


def running(processes: set[tuple[int, str]]) -> set[tuple[int, str]]:
    return {(pid, started) for pid, started in processes
            if (fields := _stat(pid)) is not None and fields[19] == started and fields[0] != "Z"}


def wait_gone(processes: set[tuple[int, str]], timeout: float) -> set[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    while running(processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    return running(processes)


@pytest.fixture
def leftovers() -> Iterator[set[tuple[int, str]]]:
    """Processes a test started; whatever still runs at the end is killed."""
    tracked: set[tuple[int, str]] = set()
    yield tracked
    for pid, _ in running(tracked):
        os.kill(pid, signal.SIGKILL)


def stop(supervisor: subprocess.Popen[bytes]) -> None:
    if supervisor.poll() is None:
        supervisor.send_signal(signal.SIGINT)
        supervisor.wait(60)


def test_sigkill_of_the_supervisor_leaves_nothing_and_a_second_start_comes_back(
        devstack_env: dict[str, str], tmp_path: Path, leftovers: set[tuple[int, str]]) -> None:
    data, log = tmp_path / "data", tmp_path / "devstack.log"
    supervisor = start(devstack_env, data, log)
    try:
        wait_ready(devstack_env, supervisor, log)
        children = children_of(supervisor.pid)
        leftovers.update(children)
        assert len(children) == CHILDREN, children
        supervisor.kill()
        supervisor.wait(10)
        assert not wait_gone(children, 10), f"still running after the supervisor was killed: {running(children)}"
    finally:
        stop(supervisor)
    again = start(devstack_env, data, log)
    try:
        wait_ready(devstack_env, again, log)
        leftovers.update(children_of(again.pid))
    finally:
        stop(again)
    assert again.returncode == 0


def test_sighup_stops_everything_and_a_stale_embedded_server_is_stopped_first(
        devstack_env: dict[str, str], tmp_path: Path, leftovers: set[tuple[int, str]]) -> None:
    data, log = tmp_path / "data", tmp_path / "devstack.log"
    # an embedded server that an earlier run left on the data dir, holding it
    stale = EmbeddedMongo(data / "mongo", free_port()).start()
    assert stale.process is not None
    leftovers.add((stale.process.pid, _stat(stale.process.pid)[19]))  # type: ignore[index]
    supervisor = start(devstack_env, data, log)
    try:
        wait_ready(devstack_env, supervisor, log)
        assert stale.process.wait(5) is not None, "the stale embedded server was left running"
        children = children_of(supervisor.pid)
        leftovers.update(children)
        assert len(children) == CHILDREN, children
        supervisor.send_signal(signal.SIGHUP)
        assert supervisor.wait(30) == 0
        assert not wait_gone(children, 5), f"still running after SIGHUP: {running(children)}"
    finally:
        stop(supervisor)


def test_a_port_taken_by_another_program_is_named_in_one_line(
        devstack_env: dict[str, str], tmp_path: Path, leftovers: set[tuple[int, str]]) -> None:
    log = tmp_path / "devstack.log"
    with socket.socket() as other:
        other.bind(("127.0.0.1", int(devstack_env["DOCUMENTS_PORT"])))
        other.listen()
        supervisor = start(devstack_env, tmp_path / "data", log)
        try:
            status = supervisor.wait(60)
        finally:
            stop(supervisor)
    output = log.read_text()
    assert status != 0, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if devstack_env["DOCUMENTS_PORT"] in line]
    assert len(lines) == 1, output
    assert "DOCUMENTS_PORT" in lines[0] and "in use" in lines[0]
