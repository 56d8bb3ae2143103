"""The SSRF guard: public addresses only, unless an operator allows a network; checked on the
registered URL and again on the address resolved at send time."""

from __future__ import annotations

import ipaddress

import aiohttp
import pytest

from docflow_notify.webhooks.guard import AddressGuard, GuardedResolver, RefusedAddress


class TestAllows:
    @pytest.mark.parametrize("address", ["169.254.169.254", "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1",
                                         "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1",
                                         "::ffff:169.254.169.254", "224.0.0.1"])
    def test_loopback_link_local_private_and_the_like_are_refused(self, address: str) -> None:
        assert not AddressGuard([]).allows(ipaddress.ip_address(address))

    @pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
    def test_public_addresses_are_allowed(self, address: str) -> None:
        assert AddressGuard([]).allows(ipaddress.ip_address(address))

    def test_an_operator_allows_a_network(self) -> None:
        guard = AddressGuard(["127.0.0.1/32"])
        assert guard.allows(ipaddress.ip_address("127.0.0.1"))
        assert not guard.allows(ipaddress.ip_address("127.0.0.2"))
        assert not guard.allows(ipaddress.ip_address("169.254.169.254"))


class TestCheckUrl:
    async def test_a_literal_metadata_address_is_refused(self) -> None:
        with pytest.raises(RefusedAddress):
            await AddressGuard([]).check_url("http://169.254.169.254/latest/meta-data/")

    async def test_a_name_resolving_to_loopback_is_refused(self) -> None:
        with pytest.raises(RefusedAddress):
            await AddressGuard([]).check_url("http://localhost:8080/hook")

    async def test_unreadable_urls_and_names_are_refused_not_crashed_on(self) -> None:
        for url in ("http://[::1/hook", "http://" + "a" * 70 + ".example/hook", "http:///hook"):
            with pytest.raises(RefusedAddress):
                await AddressGuard([]).check_url(url)

    async def test_a_name_is_allowed_when_its_network_is(self) -> None:
        await AddressGuard(["127.0.0.0/8", "::1/128"]).check_url("http://localhost:8080/hook")


class TestResolveAtSendTime:
    async def test_the_resolver_refuses_a_name_whose_addresses_are_all_refused(self) -> None:
        resolver = GuardedResolver(AddressGuard([]))
        try:
            with pytest.raises(RefusedAddress):
                await resolver.resolve("localhost", 80)
        finally:
            await resolver.close()

    async def test_the_resolver_keeps_the_allowed_addresses(self) -> None:
        resolver = GuardedResolver(AddressGuard(["127.0.0.1/32"]))
        try:
            found = await resolver.resolve("localhost", 80)
        finally:
            await resolver.close()
        assert {result["host"] for result in found} == {"127.0.0.1"}


class TestSendTime:
    async def test_a_connection_to_a_name_resolving_inward_fails_with_the_refusal(self) -> None:
        guard = AddressGuard([])
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=GuardedResolver(guard))) as http:
            with pytest.raises(aiohttp.ClientConnectorError) as failed:
                await http.post("http://localhost:9/hook", data=b"{}")
        assert isinstance(failed.value.os_error, RefusedAddress)
