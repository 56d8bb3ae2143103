"""``docflow-auth``: create the first admin, rotate the token signing key.

    docflow-auth create-admin --email admin@example.com --full-name "Admin" [--password ...]
    docflow-auth rotate-key [--activate-in 60]

``create-admin`` creates a verified admin, or promotes an existing account whose e-mail is
verified (an unverified one is refused) and ends that account's sessions, so that no token
issued before the promotion lives on. It works directly in MongoDB through the repositories;
its events wait in the outbox until the auth service publishes them. Without ``--password`` the password is read from
``DOCFLOW_ADMIN_PASSWORD`` or asked for on the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from docflow_auth.accounts import events
from docflow_auth.accounts.repository import UsersRepository
from docflow_auth.accounts.schemas import SignupCreate
from docflow_auth.accounts.service import new_user
from docflow_auth.context import password_hashing
from docflow_auth.keys.keyring import rotate
from docflow_auth.security.identifiers import normalize_email
from docflow_auth.sessions.repository import SessionsRepository
from docflow_auth.settings import AuthSettings
from docflow_shared.events import new_event
from docflow_shared.mongo import create_client, utc_now
from docflow_shared.outbox import Outbox, retry_stale


async def create_admin(settings: AuthSettings, *, email: str, password: str | None, full_name: str) -> str:
    client = create_client(settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms)
    try:
        users = UsersRepository(client[settings.database_name]["users"], Outbox())
        sessions = SessionsRepository(client[settings.database_name]["sessions"])
        await users.ensure_indexes()
        hashing = password_hashing(settings)
        normalized = normalize_email(email)

        async def attempt() -> str:
            now = utc_now()
            user = await users.by_email(normalized)
            if user is not None:
                if not user.get("email_verified"):
                    raise UnverifiedAccount(f"{normalized} is not verified; confirm the e-mail address first")
                changes: dict[str, object] = {"role": "admin", "blocked": False, "updated_at": now}
                if password:
                    changes["password_hash"] = hashing.hash_sync(password)
                after = {**user, **changes}
                produced = [new_event(events.role_changed(after, previous_role=user.get("role", "user")),
                                      producer="auth")]
                await users.update(user, changes, produced)
                await sessions.revoke_for_user(user["_id"], reason="promoted-to-admin", now=now)
                return f"promoted {normalized} ({user['_id']}) to admin"
            if not password:
                raise SystemExit("a new admin needs a password (--password or DOCFLOW_ADMIN_PASSWORD)")
            data = SignupCreate(email=normalized, password=password, full_name=full_name, locale="en")
            doc = new_user(data, password_hash=hashing.hash_sync(password), at=now, role="admin", verified=True)
            # verified from the start: documents and signing deliver only to proven addresses
            await users.insert(doc, [new_event(events.registered(doc), producer="auth"),
                                     new_event(events.email_verified(doc), producer="auth")])
            return f"created admin {normalized} ({doc['_id']})"

        return await retry_stale(attempt)
    finally:
        await client.close()


class UnverifiedAccount(Exception):
    """create-admin refuses to promote an account whose e-mail address is not verified."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docflow-auth", description="DocFlow auth administration.")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create or promote a verified admin")
    admin.add_argument("--email", required=True)
    admin.add_argument("--full-name", default="Administrator")
    admin.add_argument("--password", default=None)
    rotation = commands.add_parser("rotate-key", help="add a new signing key in DATA_DIR/auth-keys")
    rotation.add_argument("--activate-in", type=float, default=60.0,
                          help="seconds between publishing the key in the JWKS and signing with it (default 60)")
    args = parser.parse_args(argv)
    settings = AuthSettings()
    if args.command == "rotate-key":
        if settings.signing_keys.strip():
            print("AUTH_SIGNING_KEYS is set: add the new PEM after the current one, roll out, then move it first.",
              file=sys.stderr)
            return 2
        kid = rotate(settings.keys_dir, activate_in=args.activate_in)
        print(f"new signing key, published now, signing in {args.activate_in:g} s: {kid}")
        return 0
    password = args.password or os.environ.get("DOCFLOW_ADMIN_PASSWORD")
    if password is None and sys.stdin.isatty():
        password = getpass.getpass("password for the admin: ") or None
    try:
        print(asyncio.run(create_admin(settings, email=args.email, password=password, full_name=args.full_name)))
    except UnverifiedAccount as exc:
        print(f"email: {exc}", file=sys.stderr)
        return 2
    except PydanticCustomError as exc:
        print(f"email: {exc.message()}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        for error in exc.errors():
            print(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
