"""argon2id hashing off the event loop, and the password policy."""

from __future__ import annotations

import functools
from importlib import resources

import anyio
from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of passwords that are too common to accept (lower-cased)."""
    text = resources.files("docflow_auth").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problems(password: str, email: str | None) -> list[str]:
    """Why ``password`` is not acceptable for the account ``email`` (empty when it is)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    if email:
        local = email.split("@", 1)[0].lower()
        if lowered == email.lower() or (len(local) >= 3 and local in lowered):
            problems.append("The password must not contain your e-mail address.")
    if lowered in common_passwords() or lowered.rstrip("0123456789!") in common_passwords():
        problems.append("This password is too common.")
    return problems


class PasswordHashing:
    """argon2id (OWASP: m=19 MiB, t=2, p=1 by default), run in a bounded thread pool."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int, threads: int) -> None:
        self.hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, hash_len=32, salt_len=16
        )
        self.limiter = anyio.CapacityLimiter(threads)
        self._dummy_hash: str | None = None

    @property
    def parameters(self) -> dict[str, int | str]:
        p = self.hasher
        return {"algorithm": "argon2id", "memory_kib": p.memory_cost, "time_cost": p.time_cost,
                "parallelism": p.parallelism, "hash_len": p.hash_len, "salt_len": p.salt_len}

    async def prepare(self) -> None:
        """Hash a throw-away password: unknown accounts are verified against it (same work)."""
        self._dummy_hash = await self.hash("docflow-dummy-password-for-timing")

    async def hash(self, password: str) -> str:
        return await to_thread.run_sync(self.hasher.hash, password, limiter=self.limiter)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; an unknown account (no hash) costs the same work."""
        target = password_hash or self._dummy_hash or self.hasher.hash("x")
        ok = await to_thread.run_sync(self._verify, target, password, limiter=self.limiter)
        return ok and password_hash is not None

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def hash_sync(self, password: str) -> str:
        """For the command line, where no event loop runs."""
        return self.hasher.hash(password)
