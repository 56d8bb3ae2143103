"""Which service may publish which event type (docs/architecture.md, "Who may publish what").

Consumers refuse an event whose producer is not the one its type belongs to, and the broker
users of the services are given topic permissions for their own types only.
"""

from __future__ import annotations

from docflow_shared.events.catalogue import CATALOGUE

# First match wins: exact types before the prefixes they share.
_OWNERS: tuple[tuple[str, str], ...] = (
    ("document.signed", "signing"),
    ("document.completed", "routes"),
    ("signature.requested", "routes"),
    ("signature.request_expired", "routes"),
    ("signature.request_cancelled", "routes"),
    ("user.", "auth"),
    ("session.", "auth"),
    ("document.", "documents"),
    ("file.", "documents"),
    ("signature.", "signing"),
    ("certificate.", "signing"),
    ("route.", "routes"),
    ("mail.", "mail"),
)


def producer_of(event_type: str) -> str | None:
    """The service that owns ``event_type``; None for a type no service publishes."""
    for pattern, service in _OWNERS:
        if event_type == pattern or (pattern.endswith(".") and event_type.startswith(pattern)):
            return service
    return None


def types_of(service: str) -> list[str]:
    """The catalogue's event types ``service`` publishes, sorted."""
    return sorted(t for t in CATALOGUE if producer_of(t) == service)
