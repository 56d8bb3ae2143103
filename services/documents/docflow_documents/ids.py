"""Opaque ids and timestamps as DocFlow's documents service stores them."""

from __future__ import annotations

from datetime import datetime

from docflow_shared.errors import NotFound
from docflow_shared.ids import DOCUMENT_ID_LENGTH, DOCUMENT_ID_PATTERN, well_formed
from docflow_shared.mongo import event_clock, utc_now
from docflow_shared.pagination import Keyset

# every id documents makes has the shape of a document's: new_id(length=ID_LENGTH)
ID_LENGTH = DOCUMENT_ID_LENGTH
# Path parameters that carry one of these ids, for the OpenAPI document.
PATH_IDS = {name: DOCUMENT_ID_PATTERN for name in ("document_id", "file_id", "comment_id", "item_id", "contact_id")}


# Every listing is newest first by ``sort_key``: unique, so a page is one flat range query (no
# ``$or``), which every MongoDB-compatible server plans well.
LISTING_ORDER = Keyset("sort_key", unique=True)


def sort_key(created_us: int, item_id: str) -> str:
    """The creation counter (zero-padded), then the id: orders like (created, id)."""
    return f"{created_us:017d}:{item_id}"


def checked_id(value: str, what: str = "resource") -> str:
    """The id if it could be one of ours; a malformed id is simply not found."""
    if not well_formed(value, length=ID_LENGTH):
        raise NotFound(f"No such {what}.")
    return value


def stamp(moment: datetime | None = None) -> tuple[datetime, int]:
    """The time to store (a BSON date) and an ordering counter for sort keys and versions
    (integer microseconds: a counter, not a time; see ``docflow_shared.mongo.event_clock``)."""
    moment = moment or utc_now()
    return moment, event_clock(moment)
