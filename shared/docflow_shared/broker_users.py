"""One RabbitMQ user per service, allowed to publish its own event types only.

Each service connects as ``<prefix><service>``. Its permissions cover the shared exchanges and
its own queues (``<namespace><service>.*``); its topic permissions on ``docflow.events`` let it
publish exactly the types the catalogue says it produces (docs/architecture.md, "Who may
publish what"). The broker refuses anything else: the channel closes with ACCESS_REFUSED.

The users are written as a RabbitMQ definitions document, which serves both ways of running
DocFlow: docker compose loads it when the broker boots (``python -m docflow_shared.broker_users
definitions``), ``make run`` and the test stack import it into the local broker with
``rabbitmqctl import_definitions``.

    python -m docflow_shared.broker_users definitions --out definitions.json
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse, urlunparse

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from docflow_shared.broker import dead_letter_exchange_name, exchange_name
from docflow_shared.events.producers import types_of

SERVICES = ("auth", "documents", "signing", "routes", "mail", "audit", "notify", "gateway")
HASHING = "rabbit_password_hashing_sha256"


def service_user(prefix: str, service: str) -> str:
    return f"{prefix}{service}"


def permissions(namespace: str, service: str) -> dict[str, str]:
    """configure / write / read: the shared exchanges, the service's own queues, and (write) the
    default exchange its delayed retries go through."""
    shared = "|".join(re.escape(name) for name in (exchange_name(namespace), dead_letter_exchange_name(namespace)))
    own = f"{re.escape(namespace + service)}\\..+"
    return {
        "configure": f"^({shared}|{own})$",
        "write": f"^({shared}|{own}|amq\\.default)$",
        "read": f"^({shared}|{own})$",
    }


def topic_write(service: str) -> str:
    """The routing keys ``service`` may publish on the events exchange: its own types."""
    types = types_of(service)
    return f"^({'|'.join(re.escape(t) for t in types)})$" if types else "^$"


def password_hash(password: str) -> str:
    """RabbitMQ's salted SHA-256 (``rabbit_password_hashing_sha256``), as definitions carry it."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(*, prefix: str, namespace: str, passwords: Mapping[str, str], vhost: str = "/",
                admin: tuple[str, str] | None = None, with_vhost: bool = False) -> dict[str, Any]:
    """The definitions document for the services in ``passwords`` (and an operator ``admin``)."""
    users: list[dict[str, Any]] = []
    grants: list[dict[str, str]] = []
    topics: list[dict[str, str]] = []
    if admin is not None:
        users.append({"name": admin[0], "password_hash": password_hash(admin[1]), "hashing_algorithm": HASHING,
                      "tags": ["administrator"]})
        grants.append({"user": admin[0], "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"})
    for service, password in passwords.items():
        user = service_user(prefix, service)
        users.append({"name": user, "password_hash": password_hash(password), "hashing_algorithm": HASHING,
                      "tags": []})
        grants.append({"user": user, "vhost": vhost, **permissions(namespace, service)})
        topics.append({"user": user, "vhost": vhost, "exchange": exchange_name(namespace),
                       "write": topic_write(service), "read": ".*"})
    document: dict[str, Any] = {"users": users, "permissions": grants, "topic_permissions": topics}
    if with_vhost:
        document["vhosts"] = [{"name": vhost}]
    return document


def service_url(amqp_url: str, user: str, password: str) -> str:
    """``amqp_url`` with another user's credentials."""
    parsed = urlparse(amqp_url)
    host = parsed.hostname or "127.0.0.1"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{parsed.port}" if parsed.port else "")
    return urlunparse(parsed._replace(netloc=netloc))


def new_passwords(services: Sequence[str] = SERVICES) -> dict[str, str]:
    return {service: secrets.token_urlsafe(24) for service in services}


# --- the local broker (rabbitmqctl) ---------------------------------------------------------------

def rabbitmqctl() -> str | None:
    return shutil.which("rabbitmqctl")


def import_locally(document: Mapping[str, Any]) -> None:
    """Load definitions into the local broker; raises RuntimeError when rabbitmqctl cannot."""
    ctl = rabbitmqctl()
    if ctl is None:
        raise RuntimeError("rabbitmqctl is not installed")
    # on standard input: the node reads a file as another user, and the hashes stay off the disk
    result = subprocess.run([ctl, "-q", "import_definitions", "--format", "json"], input=json.dumps(document),
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"rabbitmqctl import_definitions failed: {(result.stderr or result.stdout).strip()}")


def delete_locally(users: Sequence[str]) -> None:
    """Remove users from the local broker (a test run's own); missing ones are ignored."""
    ctl = rabbitmqctl()
    if ctl is None:
        return
    for user in users:
        subprocess.run([ctl, "-q", "delete_user", user], capture_output=True, timeout=60, check=False)


def local_service_users(amqp_url: str, *, prefix: str, namespace: str,
                        passwords: Mapping[str, str]) -> dict[str, str]:
    """Create the services' users in the local broker; each service's AMQP URL."""
    if urlparse(amqp_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"the broker at {amqp_url} is not the local one rabbitmqctl manages")
    import_locally(definitions(prefix=prefix, namespace=namespace, passwords=passwords))
    return {service: service_url(amqp_url, service_user(prefix, service), password)
            for service, password in passwords.items()}


# --- command line (docker compose) ----------------------------------------------------------------

class BrokerUsersSettings(BaseSettings):
    """Passwords of the services' broker users (``RABBITMQ_<SERVICE>_PASSWORD``) and the operator's."""

    model_config = SettingsConfigDict(env_prefix="RABBITMQ_", env_file=".env", extra="ignore",
                                      populate_by_name=True)

    prefix: str = Field("docflow-", validation_alias=AliasChoices("BROKER_USER_PREFIX"))
    namespace: str = Field("", validation_alias=AliasChoices("BROKER_NAMESPACE"))
    admin_user: str = Field("", validation_alias=AliasChoices("RABBITMQ_USER"))
    admin_password: str = Field("", validation_alias=AliasChoices("RABBITMQ_PASSWORD"))
    # one per service, under the prefix: RABBITMQ_AUTH_PASSWORD, ...
    auth_password: str = ""
    documents_password: str = ""
    signing_password: str = ""
    mail_password: str = ""
    routes_password: str = ""
    audit_password: str = ""
    notify_password: str = ""
    gateway_password: str = ""

    def passwords(self) -> dict[str, str]:
        found = {service: str(getattr(self, f"{service}_password")) for service in SERVICES}
        missing = [f"RABBITMQ_{service.upper()}_PASSWORD" for service, value in found.items() if not value]
        if missing:
            raise SystemExit(f"set {', '.join(missing)} (one broker password per service)")
        return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docflow_shared.broker_users",
                                     description="Write the services' RabbitMQ users as a definitions file.")
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("definitions", help="write the definitions JSON the broker loads at boot")
    write.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    settings = BrokerUsersSettings()
    admin = (settings.admin_user, settings.admin_password) if settings.admin_user else None
    document = definitions(prefix=settings.prefix, namespace=settings.namespace, passwords=settings.passwords(),
                           admin=admin, with_vhost=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2))
    args.out.chmod(0o644)
    print(f"wrote {len(document['users'])} broker users to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
