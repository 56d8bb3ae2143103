"""Event envelope and catalogue."""

from docflow_shared.events.catalogue import CATALOGUE, Person
from docflow_shared.events.envelope import Event, EventPayload, new_event

__all__ = ["CATALOGUE", "Event", "EventPayload", "Person", "new_event"]
