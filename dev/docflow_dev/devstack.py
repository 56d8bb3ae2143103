"""DocFlow's services as local processes: the ``Stack`` that ``make run`` (``docflow_dev.supervisor``)
and the end-to-end test fixtures start, and the process and port helpers they share.

Under ``make run`` every child dies with the supervisor, whatever ends it (docs/architecture.md,
"make run"): on Linux each child asks the kernel for SIGTERM when its parent dies
(``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from docflow_dev.processes import (
    StartupError,
    dies_with_parent,
    free_port,
    port_free,
    port_open,
    require_port,
    stop_pid,
    stop_with_parent,
    terminate,
    wait_port,
    wait_ready,
)

__all__ = [
    "GATEWAY",
    "SERVICES",
    "ServiceProcess",
    "ServiceSpec",
    "Stack",
    "StartupError",
    "dies_with_parent",
    "free_port",
    "parse_replicas",
    "port_free",
    "port_open",
    "replica_name",
    "require_port",
    "stop_pid",
    "stop_with_parent",
    "terminate",
    "wait_port",
    "wait_ready",
]

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
    ServiceSpec("routes", "docflow_routes.app:create_app", 8007),
    ServiceSpec("audit", "docflow_audit.app:create_app", 8006),
    ServiceSpec("notify", "docflow_notify.app:create_app", 8005),
    ServiceSpec(GATEWAY, "docflow_gateway.app:create_app", 8000),
)


def replica_name(service: str, number: int) -> str:
    """The process name of a service's replica ``number`` (counted from 1, the service's own name)."""
    return service if number == 1 else f"{service}-{number}"


def parse_replicas(value: str, services: list[str]) -> dict[str, int]:
    """``documents=2,mail=3`` as replicas per service; a wrong name or count is a StartupError."""
    replicas: dict[str, int] = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        name, _, count = item.partition("=")
        name = name.strip()
        if name not in services:
            raise StartupError(f"REPLICAS: unknown service {name!r} (services: {', '.join(services)})")
        if not count.strip().isdigit() or not 1 <= int(count) <= 16:
            raise StartupError(f"REPLICAS: {item!r} needs a count from 1 to 16 (e.g. {name}=2)")
        replicas[name] = int(count)
    return replicas


class SharedDatabase(StartupError):
    """Two processes of one service on one database that publish differently."""


def publisher_of(env: Mapping[str, str]) -> tuple[str, str, str]:
    """How a process publishes what its outbox holds: the broker (host, port, vhost), its broker
    user and its namespace."""
    url = urlsplit(env.get("AMQP_URL", ""))
    return (f"{url.hostname}:{url.port}{url.path}", url.username or "", env.get("BROKER_NAMESPACE", ""))


def database_of(spec: ServiceSpec, env: Mapping[str, str]) -> tuple[str, str]:
    return env.get("MONGODB_URL", ""), f"{env.get('MONGODB_DB_PREFIX', '')}{spec.name}"


# every running process started here, by the database it serves
_RUNNING: dict[tuple[str, str], list[ServiceProcess]] = {}


def claim_database(proc: ServiceProcess) -> None:
    """Refuse to start a second process on a service's database that publishes as another broker
    user or into another namespace. Replicas of one service share its database and its outbox;
    whichever relay claims an entry publishes it (docs/architecture.md, "Replicas"), so a process
    publishing as another user would have its share of the events dropped by every consumer
    (DESIGN's Security rules: a consumer accepts an event only from its producer's user), and one
    in another namespace would take events away from this one's consumers."""
    key = database_of(proc.spec, proc.env)
    live = [other for other in _RUNNING.get(key, []) if other is not proc and other.alive()]
    for other in live:
        if publisher_of(other.env) != publisher_of(proc.env):
            raise SharedDatabase(
                f"{proc.spec.name}: database {key[1]} is already served by a process publishing as "
                f"{publisher_of(other.env)[1:]}, not {publisher_of(proc.env)[1:]}; give this one a "
                "MONGODB_DB_PREFIX of its own")
    _RUNNING[key] = [*live, proc]


def release_database(proc: ServiceProcess) -> None:
    key = database_of(proc.spec, proc.env)
    _RUNNING[key] = [other for other in _RUNNING.get(key, []) if other is not proc]


@dataclass(eq=False)
class ServiceProcess:
    spec: ServiceSpec
    port: int
    env: dict[str, str]
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    tied: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        claim_database(self)
        out = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", self.spec.module,
             "--host", "127.0.0.1", "--port", str(self.port),
             "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--no-proxy-headers",
             "--log-level", "warning", "--timeout-graceful-shutdown", "5"],
            env=self.env, stdout=out, stderr=subprocess.STDOUT if out else None,
            start_new_session=True, preexec_fn=dies_with_parent() if self.tied else None,
        )

    def wait(self, timeout: float = 60, *, ready: bool = True) -> None:
        """Wait for the port, then (``ready``) for ``/ready``; the gateway's ``/ready`` asks every
        upstream, so it is only waited for by its port."""
        started = time.monotonic()
        try:
            wait_port("127.0.0.1", self.port, timeout, self.process)
            if ready and self.spec.name != GATEWAY:
                wait_ready(f"{self.url}/ready", timeout - (time.monotonic() - started), self.process)
        except (RuntimeError, TimeoutError) as exc:
            raise type(exc)(f"{self.spec.name}: {exc}") from None

    def stop(self) -> None:
        terminate(self.process)
        release_database(self)


@dataclass
class Stack:
    """Every installed service as a local process, wired to one MongoDB and one broker."""

    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)
    log_dir: Path | None = None
    only: tuple[str, ...] | None = None
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    tied: bool = False  # each service dies with this process (make run)
    # a service's own values on top of ``env`` (its broker user's AMQP_URL)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    # each service's Prometheus /metrics port (<NAME>_METRICS_PORT); a service left out serves none
    metrics_ports: dict[str, int] = field(default_factory=dict)
    # wait for each service's /ready, not only its port (off for a stack started without a broker)
    ready: bool = True
    start_timeout: float = 60

    # replicas per service (``make run REPLICAS=documents=2``); a service left out runs one
    replicas: dict[str, int] = field(default_factory=dict)

    def specs(self) -> list[ServiceSpec]:
        return [s for s in SERVICES if s.installed() and (self.only is None or s.name in self.only)]

    def url(self, service: str) -> str:
        return self.processes[service].url

    def metrics_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.metrics_ports[service]}/metrics"

    def replica_names(self, service: str) -> list[str]:
        """The process names of a service's replicas: its own name, then ``<name>-2``, ``-3``..."""
        return [service, *(replica_name(service, n) for n in range(2, self.replicas.get(service, 1) + 1))]

    def start(self) -> Stack:
        """Start every service; one with replicas starts its first, and the others once it is
        ready, so that keys it creates in the data dir on a first run exist before they read them."""
        specs = self.specs()
        names = {s.name: self.replica_names(s.name) for s in specs}
        for spec in specs:
            for name in names[spec.name][1:]:
                self.ports.setdefault(name, free_port())
                if spec.name in self.metrics_ports:
                    self.metrics_ports.setdefault(name, free_port())
        ports = {name: self.ports.get(name, s.port) for s in specs for name in names[s.name]}
        env = dict(self.env)
        for spec in specs:
            # <SVC>_URL lists every replica: the gateway takes them in turn (docs/architecture.md, "Replicas")
            env.setdefault(f"{spec.name.upper()}_URL",
                           ",".join(f"http://127.0.0.1:{ports[name]}" for name in names[spec.name]))
        if "auth" in names:
            env.setdefault("JWKS_URL", ",".join(f"http://127.0.0.1:{ports[name]}/.well-known/jwks.json"
                                                for name in names["auth"]))
        for spec in specs:
            if spec.name in self.metrics_ports:
                env[f"{spec.name.upper()}_METRICS_PORT"] = str(self.metrics_ports[spec.name])
        try:
            for wave in (0, 1):
                started = []
                for spec in specs:
                    for name in names[spec.name][:1] if wave == 0 else names[spec.name][1:]:
                        own = {**env, **self.service_env.get(spec.name, {})}
                        if name in self.metrics_ports:
                            own[f"{spec.name.upper()}_METRICS_PORT"] = str(self.metrics_ports[name])
                        log = self.log_dir / f"{name}.log" if self.log_dir else None
                        proc = ServiceProcess(spec, ports[name], own, log, tied=self.tied)
                        proc.start()
                        self.processes[name] = proc
                        started.append(proc)
                for proc in started:
                    proc.wait(self.start_timeout, ready=self.ready)
        except Exception:
            self.stop()
            raise
        return self

    def restart(self, service: str, extra_env: Mapping[str, str] | None = None, *, ready: bool = True) -> None:
        proc = self.processes[service]
        proc.stop()
        if extra_env:
            proc.env = {**proc.env, **extra_env}
        proc.start()
        proc.wait(ready=ready)

    def stop(self) -> None:
        terminate(*(proc.process for proc in self.processes.values()))
        for proc in self.processes.values():
            release_database(proc)


