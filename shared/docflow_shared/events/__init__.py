"""Event envelope and catalogue."""

from docflow_shared.events.catalogue import CATALOGUE
from docflow_shared.events.envelope import Event, EventPayload, new_event
from docflow_shared.events.person import Client, Person

__all__ = ["CATALOGUE", "Client", "Event", "EventPayload", "Person", "new_event"]
