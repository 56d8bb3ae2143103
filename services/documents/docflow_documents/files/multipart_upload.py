"""Streaming ``multipart/form-data``: yields the bytes of the ``file`` part as they arrive.

The body is never buffered: python-multipart's push parser is fed each received piece and the
file part's data is handed on at once (``request.form()`` would spool the whole file).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from docflow_documents.files.naming import filename_from_disposition
from docflow_shared.errors import BadRequest, PayloadTooLarge, Unprocessable, UnsupportedMediaType, field_error

FILE_FIELD = "file"
MAX_OTHER_FIELDS_BYTES = 64 * 1024


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    field_name: bytes = b""
    field_value: bytes = b""


class MultipartFileReader:
    """Parses one upload request; ``file_data()`` yields the file part's bytes."""

    def __init__(self, content_type: str | None, body: AsyncIterator[bytes]) -> None:
        media, options = parse_options_header(content_type or "")
        if media != b"multipart/form-data":
            raise UnsupportedMediaType("Upload files as multipart/form-data with a 'file' part.")
        boundary = options.get(b"boundary")
        if not boundary:
            raise BadRequest("The multipart boundary is missing.", slug="malformed-multipart")
        self._body = body
        self._events: list[tuple[str, bytes]] = []
        self._part = _Part()
        try:
            self._parser = MultipartParser(boundary, callbacks={
                "on_part_begin": lambda: self._events.append(("begin", b"")),
                "on_header_field": lambda d, s, e: self._events.append(("hfield", d[s:e])),
                "on_header_value": lambda d, s, e: self._events.append(("hvalue", d[s:e])),
                "on_header_end": lambda: self._events.append(("hend", b"")),
                "on_headers_finished": lambda: self._events.append(("headers", b"")),
                "on_part_data": lambda d, s, e: self._events.append(("data", d[s:e])),
                "on_part_end": lambda: self._events.append(("pend", b"")),
                "on_end": lambda: self._events.append(("end", b"")),
            })
        except (FormParserError, ValueError) as exc:
            raise BadRequest("The multipart boundary is not valid.", slug="malformed-multipart") from exc
        self.filename: str | None = None
        self.declared_type: str | None = None
        self.found = False
        self.ended = False

    async def file_data(self) -> AsyncIterator[bytes]:
        in_file = False
        other_bytes = 0
        async for piece in self._body:
            if not piece:
                continue
            self._events.clear()
            try:
                self._parser.write(piece)
            except FormParserError as exc:
                raise BadRequest("The multipart body is malformed.", slug="malformed-multipart") from exc
            for kind, data in self._events:
                if kind == "data":
                    if in_file:
                        yield data
                    else:
                        other_bytes += len(data)
                        if other_bytes > MAX_OTHER_FIELDS_BYTES:
                            raise PayloadTooLarge("Form fields other than 'file' are too large.")
                elif kind == "begin":
                    self._part = _Part()
                elif kind == "hfield":
                    self._part.field_name += data
                elif kind == "hvalue":
                    self._part.field_value += data
                elif kind == "hend":
                    name = self._part.field_name.decode("latin-1").strip().lower()
                    self._part.headers[name] = self._part.field_value.decode("latin-1").strip()
                    self._part.field_name, self._part.field_value = b"", b""
                elif kind == "headers":
                    in_file = self._start_part()
                elif kind == "pend":
                    in_file = False
                elif kind == "end":
                    self.ended = True
        if not self.ended:
            raise BadRequest("The multipart body ended before its closing boundary.", slug="malformed-multipart")
        if not self.found:
            raise Unprocessable("A 'file' part with a file name is required.",
                                errors=[field_error("file", "missing", "missing")])

    def _start_part(self) -> bool:
        disposition = self._part.headers.get("content-disposition", "")
        raw = disposition.encode("latin-1", errors="replace")
        _, options = parse_options_header(raw)
        if options.get(b"name") != FILE_FIELD.encode() or self.found:
            return False
        if b"filename" not in options and "filename*" not in disposition.lower():
            return False
        self.found = True
        self.filename = filename_from_disposition(disposition, options.get(b"filename"))
        self.declared_type = self._part.headers.get("content-type")
        return True

    async def drain(self, limit: int) -> bool:
        """Read and drop the rest of the body (up to ``limit`` bytes); True when it all came."""
        seen = 0
        async for piece in self._body:
            seen += len(piece)
            if seen > limit:
                return False
        return True
