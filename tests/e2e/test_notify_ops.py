"""Notify as part of the whole: the gateway's readiness and merged OpenAPI include it, and its
metrics count open streams and webhook deliveries."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.asserts import eventually

API = "/api/v1"

pytestmark = pytest.mark.asyncio(loop_scope="session")

SignUp = Callable[..., Awaitable[dict[str, str]]]


async def metric(stack: Stack, name: str, **labels: str) -> float:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(stack.metrics_url("notify"))
    assert response.status_code == 200, response.text
    wanted = set(labels.items())
    return sum(sample.value for family in text_string_to_metric_families(response.text)
               for sample in family.samples if sample.name == name and wanted <= set(sample.labels.items()))


@pytest_asyncio.fixture(loop_scope="session")
async def ok_receiver() -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/hook"
    await runner.cleanup()


class TestGateway:
    async def test_ready_checks_notify(self, client: httpx.AsyncClient) -> None:
        ready = await client.get("/ready")
        assert ready.json()["checks"]["notify"] == "up", ready.text

    async def test_the_merged_openapi_has_the_event_stream_and_the_webhooks(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert "get" in paths[f"{API}/events"]
        assert {"get", "post"} <= set(paths[f"{API}/webhooks"])
        assert "post" in paths[f"{API}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/redeliver"]

    async def test_a_websocket_elsewhere_is_refused(self, stack: Stack) -> None:
        url = "ws" + stack.url("gateway").removeprefix("http") + f"{API}/documents"
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url)
        assert refused.value.status == 403


class TestMetrics:
    async def test_open_websockets_and_webhook_deliveries_are_counted(
            self, client: httpx.AsyncClient, stack: Stack, verified_headers: SignUp, ok_receiver: str) -> None:
        owner, recipient = await verified_headers(), await verified_headers()
        token = recipient["Authorization"].removeprefix("Bearer ")
        url = "ws" + stack.url("gateway").removeprefix("http") + f"{API}/events"
        async with aiohttp.ClientSession() as session, \
                session.ws_connect(url, protocols=("docflow.events", f"bearer.{token}")):
            await eventually(lambda: metric(stack, "docflow_notify_open_streams", transport="websocket"),
                             timeout=30, what="an open websocket counted")
        delivered = await metric(stack, "docflow_webhook_deliveries_total", outcome="delivered")
        created = await client.post(f"{API}/webhooks", headers=owner,
                                    json={"url": ok_receiver, "event_types": ["document.created"]})
        assert created.status_code == 201, created.text
        document = await client.post(f"{API}/documents", headers=owner, json={"title": f"M {uuid.uuid4().hex[:4]}"})
        assert document.status_code == 201, document.text

        async def counted() -> bool:
            return await metric(stack, "docflow_webhook_deliveries_total", outcome="delivered") > delivered

        await eventually(counted, timeout=30, what="a delivery counted")
        log = await client.get(f"{API}/webhooks/{created.json()['id']}/deliveries", headers=owner)
        assert json.loads(log.text)["items"][0]["status"] == "delivered"
