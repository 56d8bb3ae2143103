"""The servers DocFlow needs, run locally when the machine has no other: the embedded MongoDB-wire
server (nx-27017) on a data dir, and the local ``rabbitmq-server`` when it is installed and
not answering.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from docflow_dev.devstack import dies_with_parent, free_port, port_open, stop_pid, terminate, wait_port


def local_bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


class EmbeddedMongo:
    """The nx-27017 MongoDB-wire server on a data dir, for machines without MongoDB."""

    def __init__(self, data_dir: Path, port: int | None = None, log_path: Path | None = None,
                 *, tied: bool = False) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.log_path = log_path or data_dir / "mongo.log"
        self.tied = tied
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "nx-27017.pid"

    def stop_stale(self, timeout: float = 15) -> int | None:
        """Stop an embedded server that an earlier run left on this data dir (it holds the data
        dir, and often the port); returns its pid. A pid file of a process that is gone, or that
        is no embedded server on this data dir, is removed."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            self.pid_file.unlink(missing_ok=True)
            return None
        ours = any(part.endswith(b"nx-27017") for part in cmdline) and os.fsencode(self.data_dir) in cmdline
        if not ours:
            self.pid_file.unlink(missing_ok=True)
            return None
        print(f"stopping the embedded MongoDB-wire server left running by an earlier run (pid {pid}) ...",
              flush=True)
        stop_pid(pid, timeout)
        self.pid_file.unlink(missing_ok=True)
        return pid

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> EmbeddedMongo:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.stop_stale()
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen(
            [local_bin("nx-27017"), "--data-dir", str(self.data_dir), "--host", "127.0.0.1", "-p", str(self.port),
             "--pid-file", str(self.pid_file)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=dies_with_parent() if self.tied else None,
        )
        wait_port("127.0.0.1", self.port, 30, self.process)
        return self

    def stop(self) -> None:
        terminate(self.process)

    def running_port(self) -> int | None:
        """The port of the embedded server already running on this data dir (``make run``'s)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = [part.decode() for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
        except (OSError, ValueError):
            return None
        if not any(part.endswith("nx-27017") for part in cmdline) or str(self.data_dir) not in cmdline:
            return None
        return int(cmdline[cmdline.index("-p") + 1]) if "-p" in cmdline else None


@contextlib.contextmanager
def embedded_mongo_url(data_dir: Path) -> Iterator[str]:
    """The URL of the embedded server on ``data_dir``: the one running there already, or one
    started for as long as the block lasts (``make backup`` and ``make restore``)."""
    mongo = EmbeddedMongo(data_dir / "mongo", free_port(), log_path=data_dir / "mongo.log")
    port = mongo.running_port()
    if port is not None:
        yield f"mongodb://127.0.0.1:{port}/"
        return
    mongo.start()
    try:
        yield mongo.url
    finally:
        mongo.stop()


def rabbitmq_answering(amqp_url: str) -> bool:
    parsed = urlparse(amqp_url)
    return port_open(parsed.hostname or "127.0.0.1", parsed.port or 5672, timeout=1.0)


def ensure_rabbitmq(amqp_url: str, timeout: float = 90) -> None:
    """Start the local rabbitmq-server when it is installed and not answering."""
    if rabbitmq_answering(amqp_url):
        return
    host = urlparse(amqp_url).hostname or "127.0.0.1"
    server = shutil.which("rabbitmq-server")
    if host not in ("127.0.0.1", "localhost", "::1") or server is None:
        raise SystemExit(
            f"RabbitMQ is not answering at {amqp_url}. Set AMQP_URL to a running broker, or install "
            "one locally (Debian/Ubuntu: apt-get install rabbitmq-server) and run make run again."
        )
    print("starting the local rabbitmq-server ...", flush=True)
    subprocess.run([server, "-detached"], check=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rabbitmq_answering(amqp_url):
            time.sleep(1.0)
            return
        time.sleep(0.5)
    raise SystemExit(f"rabbitmq-server was started but {amqp_url} did not answer within {timeout:.0f}s")


