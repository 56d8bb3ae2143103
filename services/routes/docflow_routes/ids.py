"""The shapes of routes' ids (made by docflow_shared.ids.new_id) and of the ids it receives."""

from __future__ import annotations

import re

from docflow_shared.ids import id_pattern

ID_PATTERN = re.compile(r"^[a-z]{3}_[0-9a-f]{24}$")
DOCUMENT_ID_PATTERN = r"^[0-9a-f]{32}$"  # documents' ids, as its events and paths carry them

PATH_IDS = {"document_id": DOCUMENT_ID_PATTERN, "request_id": id_pattern("srq_")}


def well_formed(value: str, prefix: str) -> bool:
    """Whether ``value`` can be an id of this kind (malformed ids are answered with 404)."""
    return value.startswith(prefix + "_") and ID_PATTERN.match(value) is not None
