"""What an event adds to a document's evidence trail (``docflow_signing.evidence.trail``)."""

from __future__ import annotations

from docflow_shared.events import Event
from docflow_signing.evidence.trail import entry_of


def event(event_type: str, producer: str, **data: object) -> Event:
    return Event(type=event_type, producer=producer, correlation_id="req-1", data=data)


class TestEntryOf:
    def test_a_view_names_the_viewer_and_the_client(self) -> None:
        entry = entry_of(event("document.viewed", "documents", document_id="d1", owner_id="usr_owner",
                               viewer_id="usr_reader", client={"ip": "203.0.113.9", "user_agent": "ua/1",
                                                               "request_id": "req-9"}))
        assert entry is not None
        assert (entry["document_id"], entry["actor_id"]) == ("d1", "usr_reader")
        assert (entry["ip"], entry["user_agent"], entry["request_id"]) == ("203.0.113.9", "ua/1", "req-9")
        assert "client" not in entry["details"] and "owner_id" not in entry["details"]

    def test_a_created_document_is_version_one(self) -> None:
        entry = entry_of(event("document.created", "documents", document_id="d1", owner_id="usr_owner",
                               title="Шарт", status="draft"))
        assert entry is not None
        assert entry["actor_id"] == "usr_owner" and entry["details"] == {"title": "Шарт", "status": "draft",
                                                                          "version": 1}
        assert entry["request_id"] == "req-1"  # the correlation id when the payload names no client

    def test_a_route_event_is_read_by_name_whatever_it_carries(self) -> None:
        entry = entry_of(event("route.delegated", "routes", document_id="d1", route_id="rte_1",
                               delegator={"user_id": "usr_a", "full_name": "Әлия", "email": "a@example.com"},
                               delegate={"user_id": "usr_b"}, stage=2, extra={"nested": [1, 2]}))
        assert entry is not None
        assert entry["actor_id"] == "usr_a"
        assert entry["details"]["delegate"] == {"user_id": "usr_b"}
        assert entry["details"]["stage"] == 2 and entry["details"]["route_id"] == "rte_1"

    def test_an_event_without_a_document_adds_nothing(self) -> None:
        assert entry_of(event("route.created", "routes", route_id="rte_1")) is None
