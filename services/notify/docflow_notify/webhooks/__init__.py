"""Webhooks: endpoints, signed deliveries with retries, the delivery log."""
