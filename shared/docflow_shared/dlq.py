"""Dead-letter tooling: list each service's DLQ messages and replay chosen ones (or all).

    python -m docflow_shared.dlq list [--service mail] [--json]
    python -m docflow_shared.dlq replay --service mail (--id EVENT_ID ... | --all)

Reading a DLQ never loses a message: each one is taken, published again with a broker
confirm (back to the DLQ, or to ``<service>.events`` when replayed) and only then acked.
A replayed message starts with a fresh attempt counter. Connection settings come from
``AMQP_URL`` and ``BROKER_NAMESPACE`` (env or ``.env``), as for the services. With
per-service broker users, replay with the service's own credentials: the service acts only on
messages its own user (or the first publisher's) put in its queue.
"""

from __future__ import annotations

import argparse
import asyncio
import builtins
import json
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aiormq.exceptions import ChannelNotFoundEntity

from docflow_shared.broker import (
    ATTEMPTS_HEADER,
    ERROR_HEADER,
    FAILED_AT_HEADER,
    PUBLISHER_HEADER,
    ROUTING_KEY_HEADER,
    broker_user,
    dead_letter_queue_name,
    original_publisher,
    persistent_copy,
    queue_name,
)
from docflow_shared.settings import ServiceSettings

SERVICES = ("auth", "documents", "signing", "routes", "mail", "audit", "notify", "gateway")
REPLAYED_AT_HEADER = "x-docflow-replayed-at"
REPLAYS_HEADER = "x-docflow-replays"


@dataclass(frozen=True)
class DeadLetter:
    """One message in a service's DLQ, as an operator needs to see it."""

    service: str
    event_id: str
    event_type: str
    error: str
    attempts: int
    failed_at: str
    routing_key: str
    replays: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def describe(service: str, message: AbstractIncomingMessage) -> DeadLetter:
    headers = dict(message.headers or {})
    event_id = _text(message.message_id)
    event_type = _text(message.type)
    if not event_id or not event_type:
        try:
            body = json.loads(message.body)
            event_id = event_id or _text(body.get("id"))
            event_type = event_type or _text(body.get("type"))
        except (ValueError, AttributeError):
            pass
    return DeadLetter(
        service=service,
        event_id=event_id,
        event_type=event_type,
        error=_text(headers.get(ERROR_HEADER)),
        attempts=int(_text(headers.get(ATTEMPTS_HEADER)) or 0),
        failed_at=_text(headers.get(FAILED_AT_HEADER)),
        routing_key=_text(headers.get(ROUTING_KEY_HEADER)),
        replays=int(_text(headers.get(REPLAYS_HEADER)) or 0),
    )


def patched_body(body: bytes, data_changes: Mapping[str, Any]) -> bytes:
    """The event with fields of its ``data`` replaced (a corrected copy of a poison event)."""
    event = json.loads(body)
    event["data"] = {**(event.get("data") or {}), **data_changes}
    return json.dumps(event, separators=(",", ":")).encode()


Decide = Callable[[DeadLetter], bool]


class DeadLetterQueues:
    """Lists and replays DLQ messages of the services in one broker namespace."""

    def __init__(self, amqp_url: str, namespace: str = "", user_prefix: str = "") -> None:
        self.amqp_url = amqp_url
        self.namespace = namespace
        self.user = broker_user(amqp_url)
        self.user_prefix = user_prefix
        self._connection: AbstractConnection | None = None

    async def __aenter__(self) -> DeadLetterQueues:
        self._connection = await aio_pika.connect(self.amqp_url, timeout=10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def list(self, services: Sequence[str] = SERVICES) -> builtins.list[DeadLetter]:
        letters: builtins.list[DeadLetter] = []
        for service in services:
            letters += await self._cycle(service, replay=lambda letter: False)
        return letters

    async def replay(
        self,
        service: str,
        event_ids: Collection[str] | None = None,
        *,
        data_changes: Mapping[str, Any] | None = None,
    ) -> builtins.list[DeadLetter]:
        """Send the chosen messages (all when ``event_ids`` is None) back to the service's queue."""
        wanted = None if event_ids is None else {str(i) for i in event_ids}

        def chosen(letter: DeadLetter) -> bool:
            return wanted is None or letter.event_id in wanted

        replayed = await self._cycle(service, replay=chosen, data_changes=data_changes)
        return [letter for letter in replayed if chosen(letter)]

    async def _channel(self) -> AbstractChannel:
        assert self._connection is not None, "use DeadLetterQueues as an async context manager"
        return await self._connection.channel(publisher_confirms=True, on_return_raises=True)

    async def _cycle(self, service: str, *, replay: Decide,
                     data_changes: Mapping[str, Any] | None = None) -> builtins.list[DeadLetter]:
        """Take every message present now once; replay the chosen ones, put the rest back."""
        dlq_name = dead_letter_queue_name(self.namespace, service)
        channel = await self._channel()
        try:
            try:
                queue = await channel.declare_queue(dlq_name, passive=True)
            except ChannelNotFoundEntity:
                return []
            count = queue.declaration_result.message_count or 0
            seen: builtins.list[DeadLetter] = []
            for _ in range(count):
                message = await queue.get(no_ack=False, fail=False, timeout=10)
                if message is None:
                    break
                letter = describe(service, message)
                seen.append(letter)
                try:
                    if replay(letter):
                        await self._publish(channel, service, message, queue_name(self.namespace, service),
                                            replayed=True, data_changes=data_changes)
                    else:
                        await self._publish(channel, service, message, dlq_name, replayed=False)
                except Exception:
                    await message.nack(requeue=True)
                    raise
                await message.ack()
            return seen
        finally:
            if not channel.is_closed:
                await channel.close()

    async def _publish(self, channel: AbstractChannel, service: str, message: AbstractIncomingMessage,
                       routing_key: str, *, replayed: bool, data_changes: Mapping[str, Any] | None = None) -> None:
        headers = dict(message.headers or {})
        # the service dead-lettered it, or this tool put it back: both recorded the first publisher
        movers = {self.user, f"{self.user_prefix}{service}" if self.user_prefix else self.user}
        headers[PUBLISHER_HEADER] = original_publisher(message, movers)
        body = message.body
        if replayed:
            for name in (ATTEMPTS_HEADER, ERROR_HEADER, FAILED_AT_HEADER):
                headers.pop(name, None)
            headers[REPLAYED_AT_HEADER] = datetime.now(UTC).isoformat()
            headers[REPLAYS_HEADER] = int(_text(headers.get(REPLAYS_HEADER)) or 0) + 1
            if data_changes:
                body = patched_body(body, data_changes)
        copy = persistent_copy(message, headers, body, user_id=self.user)
        await channel.default_exchange.publish(copy, routing_key=routing_key, timeout=10)


# --- command line ---------------------------------------------------------------------------

def _print_table(letters: Sequence[DeadLetter]) -> None:
    if not letters:
        print("no dead-lettered messages")
        return
    for letter in letters:
        print(f"{letter.service:<10} {letter.event_type:<36} {letter.event_id}  attempts={letter.attempts} "
              f"failed_at={letter.failed_at or '-'}" + (f" replays={letter.replays}" if letter.replays else ""))
        print(f"{'':<10} error: {letter.error or '-'}")


async def run(args: argparse.Namespace, settings: ServiceSettings) -> int:
    async with DeadLetterQueues(settings.amqp_url, settings.broker_namespace,
                                settings.broker_user_prefix) as dlqs:
        if args.command == "list":
            letters = await dlqs.list(args.service or SERVICES)
            if args.json:
                print(json.dumps([letter.as_dict() for letter in letters], ensure_ascii=False, indent=2))
            else:
                _print_table(letters)
            return 0
        changes = json.loads(args.set_data) if args.set_data else None
        if changes is not None and not isinstance(changes, dict):
            print("--set-data takes a JSON object", file=sys.stderr)
            return 2
        replayed = await dlqs.replay(args.service, None if args.all else args.id, data_changes=changes)
        if args.json:
            print(json.dumps([letter.as_dict() for letter in replayed], ensure_ascii=False, indent=2))
        else:
            print(f"replayed {len(replayed)} message(s) to {queue_name(settings.broker_namespace, args.service)}")
            _print_table(replayed)
        missing = set(args.id or ()) - {letter.event_id for letter in replayed}
        if missing:
            print(f"not found in the DLQ: {', '.join(sorted(missing))}", file=sys.stderr)
            return 1
        return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m docflow_shared.dlq",
                                   description="List and replay dead-lettered DocFlow events.")
    commands = root.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="show DLQ messages with their recorded error")
    listing.add_argument("--service", action="append", help="only this service (repeatable)")
    listing.add_argument("--json", action="store_true", help="JSON output")
    replaying = commands.add_parser("replay", help="send DLQ messages back to the service's queue")
    replaying.add_argument("--service", required=True)
    which = replaying.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", action="append", help="event id to replay (repeatable)")
    which.add_argument("--all", action="store_true", help="replay every message of the DLQ")
    replaying.add_argument("--set-data", help="JSON object merged into the event's data (with --id)")
    replaying.add_argument("--json", action="store_true", help="JSON output")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "set_data", None) and args.all:
        parser().error("--set-data needs --id: correct chosen messages, not the whole DLQ")
    return asyncio.run(run(args, ServiceSettings()))


if __name__ == "__main__":
    raise SystemExit(main())
