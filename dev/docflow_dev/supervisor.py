"""``make run``: ``python -m docflow_dev.supervisor`` runs DocFlow as local processes.

MongoDB comes from ``MONGODB_URL`` or an embedded MongoDB-wire server (nx-27017) on a local
data dir; RabbitMQ from ``AMQP_URL`` (the local ``rabbitmq-server`` is started when installed
and not answering); each service that is installed runs under uvicorn.

Every child dies with the supervisor, whatever ends it (docs/architecture.md, "make run"): on
Linux each child asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), and
SIGINT, SIGTERM and SIGHUP stop everything in order.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from docflow_dev.devstack import (
    GATEWAY,
    SERVICES,
    Stack,
    StartupError,
    dies_with_parent,
    free_port,
    parse_replicas,
    port_free,
    replica_name,
    require_port,
    stop_with_parent,
    terminate,
    wait_port,
)
from docflow_dev.localservers import EmbeddedMongo, ensure_rabbitmq

# `make run` serves each service's Prometheus metrics on its API port + 100 (auth: 8101)
METRICS_PORT_OFFSET = 100
# replica n (from 2) of a service listens on its port + 1000·(n-1): documents-2 on 9002, metrics 9102
REPLICA_PORT_STEP = 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run DocFlow locally.")
    parser.add_argument("--data-dir", default=".data", help="embedded database, keys, mail (default .data)")
    parser.add_argument("--replicas", default=os.environ.get("REPLICAS", ""),
                        help="replicas per service behind the gateway, e.g. documents=2,mail=3 (default: one each)")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DATA_DIR", str(data_dir))
    # SIGHUP (the terminal closed) stops everything as Ctrl-C does, unless started under nohup;
    # then the supervisor also stops when whatever started it (make, a shell) dies.
    stop_signals = [signal.SIGINT, signal.SIGTERM]
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        stop_signals.append(signal.SIGHUP)
        stop_with_parent(signal.SIGHUP)
    for signum in stop_signals:
        signal.signal(signum, _raise_interrupt)
    mongo: EmbeddedMongo | None = None
    extras: list[subprocess.Popen[bytes]] = []
    stack = Stack(env=env, log_dir=None, tied=True)
    try:
        amqp_url = env.setdefault("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
        ensure_rabbitmq(amqp_url)
        stack.service_env = setup_broker_users(env, data_dir)
        mongo = _embedded_mongo(env, data_dir)
        services = [spec.name for spec in stack.specs()]
        stack.replicas = parse_replicas(args.replicas, [name for name in services if name != GATEWAY])
        stack.ports = _service_ports(env, services, stack.replicas)
        stack.metrics_ports = _metrics_ports(env, stack.ports)
        sink_ports = _sink_ports(env)
        if mongo is not None:
            mongo.start()
            env["MONGODB_URL"] = mongo.url
            print(f"embedded MongoDB-wire server on {mongo.url} (data in {data_dir / 'mongo'})", flush=True)
        _start_extras(env, data_dir, sink_ports, extras)
        stack.start()
        names = ", ".join(stack.processes)
        print(f"\nDocFlow is up ({names}).", flush=True)
        if GATEWAY in stack.processes:
            print(f"  gateway:    {stack.url(GATEWAY)}\n  Swagger UI: {stack.url(GATEWAY)}/docs", flush=True)
        print("  metrics:    " + ", ".join(f"{name} :{port}" for name, port in stack.metrics_ports.items()), flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while True:
            for name, proc in stack.processes.items():
                if proc.process is not None and proc.process.poll() is not None:
                    print(f"{name} exited with {proc.process.returncode}", flush=True)
                    raise KeyboardInterrupt
            time.sleep(1)
    except KeyboardInterrupt:
        status = 0
    except (StartupError, RuntimeError, TimeoutError) as exc:
        print(f"docflow: {exc}", file=sys.stderr, flush=True)
        status = 1
    finally:
        # A second Ctrl-C (or the TERM that follows it) must not cut the shutdown short.
        for signum in stop_signals:
            signal.signal(signum, signal.SIG_IGN)
        if stack.processes or extras or (mongo is not None and mongo.process is not None):
            print("\nstopping ...", flush=True)
        stack.stop()
        terminate(*extras)
        if mongo is not None:
            mongo.stop()
    return status


def setup_broker_users(env: dict[str, str], data_dir: Path) -> dict[str, dict[str, str]]:
    """One broker user per service on the local broker (passwords kept in the data dir), each
    allowed to publish its own event types only; the services' own AMQP_URLs. Without
    rabbitmqctl rights, or with a broker elsewhere, everything runs as the development user."""
    from docflow_shared import broker_users

    if env.get("BROKER_USER_PREFIX"):
        return {}  # set up by the operator, who gives each service its AMQP_URL
    amqp_url = env["AMQP_URL"]
    if urlparse(amqp_url).hostname not in ("127.0.0.1", "localhost", "::1") or broker_users.rabbitmqctl() is None:
        print("broker: every service uses the development user of AMQP_URL", flush=True)
        return {}
    path = data_dir / "broker-users.json"
    # a service added since the file was written gets a password of its own
    passwords = {**broker_users.new_passwords(), **(json.loads(path.read_text()) if path.exists() else {})}
    path.write_text(json.dumps(passwords))
    path.chmod(0o600)
    prefix = "docflow-"
    try:
        urls = broker_users.local_service_users(amqp_url, prefix=prefix, namespace=env.get("BROKER_NAMESPACE", ""),
                                                passwords=passwords)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"broker: per-service users not set up ({exc}); using the development user", flush=True)
        return {}
    env["BROKER_USER_PREFIX"] = prefix
    print(f"broker: one user per service ({prefix}<service>), each publishing its own events only", flush=True)
    return {service: {"AMQP_URL": url} for service, url in urls.items()}


def _embedded_mongo(env: dict[str, str], data_dir: Path) -> EmbeddedMongo | None:
    """The embedded server to start (None with MONGODB_URL), after stopping one that an earlier
    run left on the data dir: then its port is free again."""
    if env.get("MONGODB_URL"):
        return None
    mongo = EmbeddedMongo(data_dir / "mongo", 27017, log_path=data_dir / "mongo.log", tied=True)
    mongo.stop_stale()
    if env.get("MONGODB_PORT"):
        mongo.port = _port(env, "MONGODB_PORT")
        require_port(mongo.port, "embedded MongoDB-wire server", "MONGODB_PORT")
    elif not port_free(mongo.port):
        mongo.port = free_port()
    return mongo


def _service_ports(env: Mapping[str, str], names: list[str], replicas: Mapping[str, int]) -> dict[str, int]:
    """Each process's API port: ``<NAME>_PORT`` for a service (its first replica), and that port
    + 1000·(n-1) for its replica n."""
    defaults = {spec.name: spec.port for spec in SERVICES}
    ports = {}
    for name in names:
        variable = f"{name.upper()}_PORT"
        base = _port(env, variable, defaults[name])
        for number in range(1, replicas.get(name, 1) + 1):
            process = replica_name(name, number)
            ports[process] = base + REPLICA_PORT_STEP * (number - 1)
            if ports[process] > 65535:
                raise StartupError(f"{process}: port {ports[process]} is past 65535; set {variable} lower")
            require_port(ports[process], process, variable)
    return ports


def _metrics_ports(env: Mapping[str, str], ports: Mapping[str, int]) -> dict[str, int]:
    """Each process's Prometheus port: ``<NAME>_METRICS_PORT`` for a service's first replica,
    else its API port + 100 (a replica's too, so replicas never share one)."""
    metrics = {}
    for name, port in ports.items():
        variable = f"{name.upper()}_METRICS_PORT"
        metrics[name] = _port(env, variable, port + METRICS_PORT_OFFSET) if name in _SERVICE_NAMES \
            else port + METRICS_PORT_OFFSET
        require_port(metrics[name], f"{name} metrics", variable)
    return metrics


_SERVICE_NAMES = frozenset(spec.name for spec in SERVICES)


def _sink_ports(env: Mapping[str, str]) -> tuple[int, int] | None:
    """The SMTP sink's SMTP and web ports, checked (None when the sink is not started)."""
    if importlib.util.find_spec("docflow_mail") is None or env.get("SMTP_HOST"):
        return None
    port, web_port = _port(env, "SMTP_SINK_PORT", 1025), _port(env, "SMTP_SINK_WEB_PORT", 8025)
    require_port(port, "SMTP sink", "SMTP_SINK_PORT")
    require_port(web_port, "SMTP sink web page", "SMTP_SINK_WEB_PORT")
    return port, web_port


def _port(env: Mapping[str, str], variable: str, default: int = 0) -> int:
    value = env.get(variable) or str(default)
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise StartupError(f"{variable}={value!r} is not a port number (1-65535)")
    return int(value)


def _start_extras(env: dict[str, str], data_dir: Path, sink_ports: tuple[int, int] | None,
                  started: list[subprocess.Popen[bytes]]) -> None:
    """Helper processes services need locally (the SMTP sink when the mail service is installed),
    added to ``started`` as soon as each is spawned."""
    if sink_ports is not None:
        port, web_port = sink_ports
        proc = subprocess.Popen(
            [sys.executable, "-m", "docflow_dev.mailsink", "--port", str(port), "--web-port", str(web_port),
             "--dir", str(data_dir / "mail")],
            start_new_session=True, preexec_fn=dies_with_parent(),
        )
        started.append(proc)
        wait_port("127.0.0.1", port, 15, proc)
        env["SMTP_HOST"], env["SMTP_PORT"] = "127.0.0.1", str(port)
        env.setdefault("SMTP_TLS", "none")


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
