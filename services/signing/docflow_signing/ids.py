"""The shapes of the ids signing takes in paths (made by docflow_shared.ids.new_id), for the
OpenAPI document; ``docflow_shared.ids.well_formed`` checks them."""

from __future__ import annotations

from docflow_shared.ids import DOCUMENT_ID_PATTERN, id_pattern

CERTIFICATE_PREFIX, SIGNATURE_PREFIX = "crt_", "sig_"

PATH_IDS = {"document_id": DOCUMENT_ID_PATTERN, "file_id": DOCUMENT_ID_PATTERN,
            "certificate_id": id_pattern(CERTIFICATE_PREFIX), "signature_id": id_pattern(SIGNATURE_PREFIX)}
