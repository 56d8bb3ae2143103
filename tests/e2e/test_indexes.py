"""The indexes real MongoDB needs once DocFlow has started: the one each outbox relay polls every
second, and the expiry of the consumers' processed-event marks."""

from __future__ import annotations

from docflow_dev.devstack import Stack
from docflow_dev.testing.asserts import eventually
from docflow_shared.mongo import Document, create_client

# every collection with an outbox, by service (each service's OUTBOX_COLLECTIONS)
OUTBOX_COLLECTIONS = {
    "auth": ["users", "sessions"],
    "documents": ["documents", "files", "shares", "comments", "activity"],
    "signing": ["signatures"],
    "routes": ["signature_requests"],
    "mail": ["deliveries"],
}
CONSUMERS_WITH_PROCESSED_EVENTS = ["documents", "signing", "routes"]
FOURTEEN_DAYS = 14 * 24 * 3600  # the default PROCESSED_EVENTS_TTL_SECONDS


async def index_keys(stack: Stack, service: str, collection: str) -> list[Document]:
    env = stack.env
    client = create_client(env["MONGODB_URL"])
    try:
        db = client[f"{env['MONGODB_DB_PREFIX']}{service}"]
        return [{"key": dict(i["key"]), **{k: v for k, v in i.items() if k == "expireAfterSeconds"}}
                async for i in await db[collection].list_indexes()]
    finally:
        await client.close()


class TestIndexesAfterStart:
    async def test_every_outbox_collection_has_the_pending_index(self, stack: Stack) -> None:
        for service, collections in OUTBOX_COLLECTIONS.items():
            for collection in collections:
                async def indexed(service: str = service, collection: str = collection) -> bool:
                    keys = await index_keys(stack, service, collection)
                    return {"key": {"outbox_pending": 1}} in keys

                try:
                    await eventually(indexed, timeout=20)
                except AssertionError:
                    raise AssertionError(f"no outbox_pending index on {service}.{collection}") from None

    async def test_an_audit_chain_has_one_record_per_place(self, stack: Stack) -> None:
        async def indexed() -> bool:
            keys = await index_keys(stack, "audit", "records")
            return {"key": {"document_id": 1, "seq": 1}} in keys

        await eventually(indexed, timeout=20, what="audit.records (document_id, seq) index")

    async def test_processed_events_expire(self, stack: Stack) -> None:
        for service in CONSUMERS_WITH_PROCESSED_EVENTS:
            async def expiring(service: str = service) -> bool:
                keys = await index_keys(stack, service, "processed_events")
                return {"key": {"at": 1}, "expireAfterSeconds": FOURTEEN_DAYS} in keys

            try:
                await eventually(expiring, timeout=20)
            except AssertionError:
                raise AssertionError(f"{service}.processed_events does not expire after 14 days") from None
