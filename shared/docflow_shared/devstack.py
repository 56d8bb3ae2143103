"""Runs DocFlow as local processes: ``make run`` and the end-to-end test fixtures use this.

MongoDB comes from ``MONGODB_URL`` or an embedded MongoDB-wire server (nx-27017) on a local
data dir; RabbitMQ from ``AMQP_URL`` (the local ``rabbitmq-server`` is started when installed
and not answering); each service that is installed runs under uvicorn.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

GATEWAY = "gateway"


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port: int

    @property
    def package(self) -> str:
        return self.module.split(".")[0]

    def installed(self) -> bool:
        try:
            return importlib.util.find_spec(self.module.split(":")[0]) is not None
        except ModuleNotFoundError:
            return False


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("auth", "docflow_auth.app:create_app", 8001),
    ServiceSpec("documents", "docflow_documents.app:create_app", 8002),
    ServiceSpec("signing", "docflow_signing.app:create_app", 8003),
    ServiceSpec("mail", "docflow_mail.app:create_app", 8004),
    ServiceSpec(GATEWAY, "docflow_gateway.app:create_app", 8000),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def _bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


class EmbeddedMongo:
    """The nx-27017 MongoDB-wire server on a data dir, for machines without MongoDB."""

    def __init__(self, data_dir: Path, port: int | None = None, log_path: Path | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.log_path = log_path or data_dir / "mongo.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> EmbeddedMongo:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen(
            [_bin("nx-27017"), "--data-dir", str(self.data_dir), "--host", "127.0.0.1", "-p", str(self.port),
             "--pid-file", str(self.data_dir / "nx-27017.pid")],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_port("127.0.0.1", self.port, 30, self.process)
        return self

    def stop(self) -> None:
        _terminate(self.process)


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


def _terminate(*processes: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
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


@dataclass
class ServiceProcess:
    spec: ServiceSpec
    port: int
    env: dict[str, str]
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        out = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", self.spec.module,
             "--host", "127.0.0.1", "--port", str(self.port),
             "--loop", "uvloop", "--http", "httptools", "--no-access-log",
             "--log-level", "warning", "--timeout-graceful-shutdown", "5"],
            env=self.env, stdout=out, stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )

    def wait(self, timeout: float = 30) -> None:
        wait_port("127.0.0.1", self.port, timeout, self.process)

    def stop(self) -> None:
        _terminate(self.process)


@dataclass
class Stack:
    """Every installed service as a local process, wired to one MongoDB and one broker."""

    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)
    log_dir: Path | None = None
    only: tuple[str, ...] | None = None
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    def specs(self) -> list[ServiceSpec]:
        return [s for s in SERVICES if s.installed() and (self.only is None or s.name in self.only)]

    def url(self, service: str) -> str:
        return self.processes[service].url

    def start(self) -> Stack:
        specs = self.specs()
        ports = {s.name: self.ports.get(s.name, s.port) for s in specs}
        env = dict(self.env)
        for spec in specs:
            env.setdefault(f"{spec.name.upper()}_URL", f"http://127.0.0.1:{ports[spec.name]}")
        if "auth" in ports:
            env.setdefault("JWKS_URL", f"http://127.0.0.1:{ports['auth']}/.well-known/jwks.json")
        for spec in specs:
            log = self.log_dir / f"{spec.name}.log" if self.log_dir else None
            proc = ServiceProcess(spec, ports[spec.name], env, log)
            proc.start()
            self.processes[spec.name] = proc
        try:
            for proc in self.processes.values():
                proc.wait()
        except Exception:
            self.stop()
            raise
        return self

    def restart(self, service: str, extra_env: Mapping[str, str] | None = None) -> None:
        proc = self.processes[service]
        proc.stop()
        if extra_env:
            proc.env = {**proc.env, **extra_env}
        proc.start()
        proc.wait()

    def stop(self) -> None:
        _terminate(*(proc.process for proc in self.processes.values()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run DocFlow locally.")
    parser.add_argument("--data-dir", default=".data", help="embedded database, keys, mail (default .data)")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DATA_DIR", str(data_dir))
    amqp_url = env.setdefault("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    ensure_rabbitmq(amqp_url)
    mongo: EmbeddedMongo | None = None
    if not env.get("MONGODB_URL"):
        port = 27017 if not port_open("127.0.0.1", 27017) else free_port()
        mongo = EmbeddedMongo(data_dir / "mongo", port, log_path=data_dir / "mongo.log").start()
        env["MONGODB_URL"] = mongo.url
        print(f"embedded MongoDB-wire server on {mongo.url} (data in {data_dir / 'mongo'})", flush=True)
    extras = _start_extras(env, data_dir)
    stack = Stack(env=env, log_dir=None)
    try:
        stack.start()
        names = ", ".join(stack.processes)
        print(f"\nDocFlow is up ({names}).", flush=True)
        if GATEWAY in stack.processes:
            print(f"  gateway:    {stack.url(GATEWAY)}\n  Swagger UI: {stack.url(GATEWAY)}/docs", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGINT, _raise_interrupt)
        while True:
            for name, proc in stack.processes.items():
                if proc.process is not None and proc.process.poll() is not None:
                    print(f"{name} exited with {proc.process.returncode}", flush=True)
                    raise KeyboardInterrupt
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C (or the TERM that follows it) must not cut the shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\nstopping ...", flush=True)
        stack.stop()
        _terminate(*extras)
        if mongo is not None:
            mongo.stop()
    return 0


def _start_extras(env: dict[str, str], data_dir: Path) -> list[subprocess.Popen[bytes]]:
    """Helper processes services need locally (the SMTP sink when the mail service is installed)."""
    started: list[subprocess.Popen[bytes]] = []
    if importlib.util.find_spec("docflow_mail") is not None and not env.get("SMTP_HOST"):
        port = int(env.get("SMTP_SINK_PORT", "1025"))
        web_port = int(env.get("SMTP_SINK_WEB_PORT", "8025"))
        proc = subprocess.Popen(
            [sys.executable, "-m", "docflow_mail.sink", "--port", str(port), "--web-port", str(web_port),
             "--dir", str(data_dir / "mail")],
            start_new_session=True,
        )
        wait_port("127.0.0.1", port, 15, proc)
        env["SMTP_HOST"], env["SMTP_PORT"] = "127.0.0.1", str(port)
        env.setdefault("SMTP_TLS", "none")
        started.append(proc)
    return started


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
