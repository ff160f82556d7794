"""Request bodies read as they arrive, from a sync endpoint's worker thread.

Starlette would spool a multipart file to a temporary file before our code runs, which would put
a victim's photo on disk in the clear. Instead the body is pulled chunk by chunk from the event
loop and pushed through python-multipart's streaming parser, so each chunk is hashed and
encrypted the moment it arrives.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import anyio.from_thread
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from app.errors import InvalidInput

MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 16


def body_chunks(request: Request) -> Iterator[bytes]:
    """The request body, chunk by chunk, for code running in a worker thread."""

    async def receive() -> Message:
        return await request.receive()

    while True:
        message = anyio.from_thread.run(receive)
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if body := message.get("body", b""):
            yield body
        if not message.get("more_body", False):
            return


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    headers: dict[bytes, bytes] = field(default_factory=dict)
    value: bytearray = field(default_factory=bytearray)


class MultipartStream:
    """Fields are collected (small); the one file part is handed to `on_file_data`."""

    def __init__(
        self,
        content_type: str,
        file_field: str,
        on_file_start: Callable[[str | None], None],
        on_file_data: Callable[[bytes], None],
    ) -> None:
        media, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if media != b"multipart/form-data" or not boundary:
            raise InvalidInput("Send the file as multipart/form-data.", field="file")
        self.fields: dict[str, str] = {}
        self.file_seen = False
        self._file_field = file_field
        self._on_file_start = on_file_start
        self._on_file_data = on_file_data
        self._part = _Part()
        self._header_field = b""
        self._header_value = b""
        self._parts = 0
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field_data,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
            # Room for a very long file name (they are cut to 255 characters for display).
            max_header_size=64 * 1024,
        )

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except FormParserError as error:
            raise InvalidInput("The form could not be read.", field="file") from error

    def finish(self) -> None:
        try:
            self._parser.finalize()
        except FormParserError as error:
            raise InvalidInput("The form could not be read.", field="file") from error
        if not self.file_seen:
            raise InvalidInput("No file was sent.", field=self._file_field)

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise InvalidInput("Too many form fields.", field="file")
        self._part = _Part()

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._part.headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._part.headers.get(b"content-disposition", b""))
        self._part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._part.filename = filename.decode("utf-8", "replace") if filename is not None else None
        if self._part.name == self._file_field:
            if self.file_seen:
                raise InvalidInput("Send one file at a time.", field=self._file_field)
            self.file_seen = True
            self._on_file_start(self._part.filename)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part.name == self._file_field:
            self._on_file_data(data[start:end])
            return
        self._part.value += data[start:end]
        if len(self._part.value) > MAX_FIELD_BYTES:
            raise InvalidInput("A form field is too long.", field=self._part.name)

    def _part_end(self) -> None:
        if self._part.name != self._file_field and self._part.name:
            try:
                self.fields[self._part.name] = self._part.value.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InvalidInput(
                    "Form fields must be UTF-8 text.", field=self._part.name
                ) from error
