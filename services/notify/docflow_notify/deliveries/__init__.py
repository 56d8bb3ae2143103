"""Deliveries of events to webhooks: stored once per (event, webhook), signed, posted, retried
with backoff, each attempt's outcome in the delivery log."""
