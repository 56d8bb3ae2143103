"""Dependencies every router of the signing service shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Query, Request

from docflow_signing.context import SigningContext
from docflow_signing.openapi import upload_body
from docflow_signing.settings import SigningSettings
from docflow_signing.uploads import read_upload


def get_context(request: Request) -> SigningContext:
    return cast(SigningContext, request.app.state.context)


Ctx = Annotated[SigningContext, Depends(get_context)]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


@dataclass(frozen=True, slots=True)
class BlobUpload:
    """A blob an endpoint takes as multipart ``field``, a JSON object or the raw bytes: ``read`` is
    the dependency that reads it (``read_fields`` in that order for JSON), ``openapi_extra`` what
    the OpenAPI document says of the body."""

    field: str
    limit: Callable[[SigningSettings], int]
    read_fields: tuple[str, ...]
    documented_fields: dict[str, str]
    raw_types: tuple[str, ...]
    description: str

    @property
    def openapi_extra(self) -> dict[str, Any]:
        return upload_body(self.field, self.documented_fields, self.raw_types, self.description)

    async def read(self, request: Request, ctx: Ctx) -> bytes:
        return await read_upload(request, field=self.field, limit=self.limit(ctx.settings),
                                 json_fields=self.read_fields)
