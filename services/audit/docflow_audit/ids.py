"""The shapes of the ids audit takes in paths, for the OpenAPI document."""

from __future__ import annotations

from docflow_shared.ids import DOCUMENT_ID_PATTERN

PATH_IDS = {"document_id": DOCUMENT_ID_PATTERN}
