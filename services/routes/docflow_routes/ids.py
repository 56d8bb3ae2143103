"""The shapes of the ids routes takes in paths (made by docflow_shared.ids.new_id), for the
OpenAPI document; ``docflow_shared.ids.well_formed`` checks them."""

from __future__ import annotations

from docflow_shared.ids import DOCUMENT_ID_PATTERN, id_pattern

REQUEST_PREFIX = "srq_"

PATH_IDS = {"document_id": DOCUMENT_ID_PATTERN, "request_id": id_pattern(REQUEST_PREFIX)}
