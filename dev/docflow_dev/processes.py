"""The processes behind ``make run`` and the test stacks: ports, readiness, stopping, and children
that die with their parent (docs/architecture.md, "make run"). ``devstack`` builds on these."""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1


class StartupError(Exception):
    """Why ``make run`` cannot start, said in one line."""


def dies_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child receive ``sig`` when this process dies, however it dies.

    Linux only (elsewhere None). The kernel ties the child to the *thread* that forked it, so this
    is only offered on the main thread, which lives as long as the process.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before the fork: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), sig)

    return preexec


def stop_with_parent(sig: signal.Signals) -> None:
    """This process receives ``sig`` when the one that started it (make, a shell) dies. Linux only."""
    if sys.platform.startswith("linux") and os.getppid() != 1:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on ``host:port`` now."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def require_port(port: int, what: str, variable: str) -> None:
    if not port_free(port):
        raise StartupError(f"port {port} ({what}) is already in use by another program; "
                           f"stop it, or set {variable} to a free port")


# every port free_port has handed out in this process
_handed_out: set[int] = set()


def free_port() -> int:
    """A port free now that this process has not handed out before. The kernel may give a
    port it gave a moment ago once its socket is closed, so two services, or a service and
    the SMTP sink, chosen one after the other could otherwise be told the same port."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(host: str, port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {host}:{port} opened")
        time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open within {timeout:.0f}s")


def wait_ready(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``GET url`` answers 200: a service's ``/ready`` says so once its database answers
    and its queues are declared, bound and consumed, so that an event published from then on
    reaches it. An open port alone does not: the broker connects in the background."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = f"{exc.code} {exc.read()[:200]!r}"
        except (OSError, http.client.HTTPException) as exc:  # not (yet) this service's HTTP
            last = repr(exc)
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready within {timeout:.0f}s ({last})")



def terminate(*processes: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """TERM every process at once, then wait for each; KILL what is still running after ``timeout``."""
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def stop_pid(pid: int, timeout: float) -> None:
    """TERM a process that is not our child, and KILL it if it is still there after ``timeout``."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while _alive(pid) and time.monotonic() < deadline + 5:
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
