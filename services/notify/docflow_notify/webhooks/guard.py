"""The SSRF guard: webhooks reach public addresses only, unless an operator allows a network.

Checked when an endpoint is registered or changed (every address its host resolves to), and
again at each delivery on the address actually connected to: the HTTP client resolves through
``GuardedResolver``, so a name that later resolves elsewhere (DNS rebinding) is refused at send
time. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(OSError):
    """The webhook's host is, or resolves to, an address webhooks may not reach."""


class AddressGuard:
    def __init__(self, allowed_networks: list[str]) -> None:
        self.allowed = [ipaddress.ip_network(network, strict=False) for network in allowed_networks]

    def allows(self, address: Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed):
            return True
        # loopback, link-local (169.254.0.0/16: cloud metadata), private, shared, reserved: refused
        return address.is_global and not address.is_multicast

    def check_host(self, host: str) -> Address | None:
        """The literal address ``host`` is, once allowed (RefusedAddress if not); None for a name."""
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return None
        if not self.allows(address):
            raise RefusedAddress(f"{address} is not a public address")
        return address

    async def check_url(self, url: str) -> None:
        """Every address the URL's host resolves to must be allowed; RefusedAddress otherwise."""
        try:
            host = urlsplit(url).hostname
        except ValueError as exc:  # e.g. an unclosed IPv6 bracket
            raise RefusedAddress("the URL cannot be read") from exc
        if not host:
            raise RefusedAddress("the URL names no host")
        if self.check_host(host) is not None:
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode
            raise RefusedAddress(f"{host} does not resolve") from exc
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not self.allows(address):
                raise RefusedAddress(f"{host} resolves to {address}, not a public address")


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, keeping only the addresses the guard allows."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard
        self.resolver = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        results = await self.resolver.resolve(host, port, family)
        allowed = [result for result in results if self.guard.allows(ipaddress.ip_address(result["host"]))]
        if not allowed:
            raise RefusedAddress(f"{host} resolves to no public address")
        return allowed

    async def close(self) -> None:
        await self.resolver.close()
