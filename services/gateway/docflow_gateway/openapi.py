"""One OpenAPI document for the whole API, merged from the services' own specs."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import Any

import aiohttp

from docflow_gateway.routing import Upstream
from docflow_shared.openapi import describe_problems

logger = logging.getLogger(__name__)

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
}


def merge_specs(specs: dict[str, dict[str, Any]], *, title: str, version: str) -> dict[str, Any]:
    """Paths as the services publish them (already under /api/v1); schemas renamed on clashes."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "DocFlow API: accounts, documents, files, sharing, signatures, mail."},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": SECURITY_SCHEMES},
        "security": [{"bearerAuth": []}],
        "tags": [],
    }
    schemas: dict[str, Any] = merged["components"]["schemas"]
    for service, spec in sorted(specs.items()):
        spec = copy.deepcopy(spec)
        renames: dict[str, str] = {}
        for name, schema in spec.get("components", {}).get("schemas", {}).items():
            target = name
            if name in schemas and schemas[name] != schema:
                target = f"{service.capitalize()}{name}"
                renames[name] = target
            schemas[target] = schema
        paths = spec.get("paths", {})
        if renames:
            paths = _rename_refs(paths, renames)
            for name in renames.values():
                schemas[name] = _rename_refs(schemas[name], renames)
        for path, item in paths.items():
            merged["paths"][path] = item
        for tag in spec.get("tags", []):
            if tag not in merged["tags"]:
                merged["tags"].append(tag)
    describe_problems(merged)  # the gateway itself refuses any operation (401, 413, 429)
    return merged


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[1]
                value = f"#/components/schemas/{renames.get(name, name)}"
            out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


class OpenAPIAggregator:
    """Fetches each upstream's /openapi.json, merges them, caches the result for a while."""

    def __init__(self, upstreams: dict[str, Upstream], gateway_spec: dict[str, Any], ttl: float) -> None:
        self.upstreams = upstreams
        self.gateway_spec = gateway_spec
        self.ttl = ttl
        self._cached: dict[str, Any] | None = None
        self._at = 0.0

    async def spec(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        if self._cached is not None and time.monotonic() - self._at < self.ttl:
            return self._cached
        results = await asyncio.gather(*(self._fetch(session, u) for u in self.upstreams.values()))
        specs = {name: spec for name, spec in zip(self.upstreams, results, strict=True) if spec}
        specs["gateway"] = self.gateway_spec
        merged = merge_specs(specs, title="DocFlow API", version="1.0.0")
        missing = [name for name, spec in zip(self.upstreams, results, strict=True) if not spec]
        if missing:
            merged["info"]["x-unavailable-services"] = missing
        else:
            self._cached, self._at = merged, time.monotonic()
        return merged

    async def _fetch(self, session: aiohttp.ClientSession, upstream: Upstream) -> dict[str, Any] | None:
        """The service's document, from the first of its replicas that gives it."""
        for base_url in upstream.base_urls:
            try:
                async with session.get(f"{base_url}/openapi.json", timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    if resp.status == 200:
                        document: dict[str, Any] = await resp.json()
                        return document
            except (aiohttp.ClientError, TimeoutError) as exc:
                logger.warning("no OpenAPI from %s at %s: %r", upstream.name, base_url, exc)
        return None
