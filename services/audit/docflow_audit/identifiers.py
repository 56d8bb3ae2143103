"""The path ids the audit service takes, for the OpenAPI document."""

from __future__ import annotations

from docflow_shared.ids import id_pattern

# documents' ids (docflow_shared.ids, 32 characters); a malformed one is simply not found
DOCUMENT_ID_PATTERN = id_pattern(length=32)
PATH_IDS = {"document_id": DOCUMENT_ID_PATTERN}
