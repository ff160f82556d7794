"""Request bodies read as they arrive, for code running in a worker thread.

Starlette would spool a multipart file to a temporary file before our code runs, which would put
a victim's photo on disk in the clear. Instead the body is pulled from the event loop and pushed
through python-multipart's streaming parser, so each piece is hashed and encrypted the moment it
arrives.

The ASGI server hands the body over in chunks of up to a few hundred KiB. Each crossing between
a worker thread and the event loop costs two thread wake-ups, and milliseconds when the loop is
busy (the thread waits for the GIL), so the body crosses in batches of at least BATCH_BYTES.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from app.api.middleware import lift_body_cap
from app.errors import ClientGone, InvalidInput, PayloadTooLarge

MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 16
BATCH_BYTES = 1024 * 1024
# Batches read ahead while the worker thread is busy with earlier ones: enough to keep the
# socket drained through a checkpoint, few enough to keep memory small.
READ_AHEAD_BATCHES = 2

T = TypeVar("T")


def body_chunks(request: Request) -> Iterator[bytes]:
    """The request body, batch by batch, for code running in a worker thread.

    Its caller enforces its own limits as the bytes arrive, so the general body cap is lifted.
    """
    lift_body_cap(request.scope)

    async def next_batch() -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more and size < BATCH_BYTES:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk: bytes = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks), more

    more = True
    while more:
        batch, more = anyio.from_thread.run(next_batch)
        if batch:
            yield batch


# What the read-ahead task passes to the worker thread: a batch of the body, the disconnect
# that cut it short, or None once the whole body has been read.
_Item = bytes | ClientDisconnect | None


async def consume_in_thread(request: Request, consume: Callable[[Iterator[bytes]], T]) -> T:
    """Run `consume` in a worker thread over the request body, in batches of at least
    BATCH_BYTES, while the event loop reads the next batches ahead, so receiving the bytes
    and working on them (hashing, encrypting, writing) overlap.

    For async endpoints; what `consume` raises is raised here, unchanged. `consume` enforces
    its own limits as the bytes arrive, so the general body cap is lifted.
    """
    lift_body_cap(request.scope)
    body = _ReadAhead(request)
    with body:
        async with anyio.create_task_group() as group:
            group.start_soon(body.read)
            # Errors are carried out of the task group by hand: raised inside it, they would
            # arrive wrapped in an ExceptionGroup that no problem handler recognises.
            outcome = await anyio.to_thread.run_sync(_capture, consume, body.batches())
            group.cancel_scope.cancel()
    if isinstance(outcome, _Failure):
        raise outcome.error
    return outcome


class _ReadAhead:
    """The request body, read on the event loop in batches, up to READ_AHEAD_BATCHES ahead of
    the worker thread that takes them.

    Reading starts when the worker first asks for a batch: until then the loop stays free for
    the worker's own start (the hand-over to its thread, its database reads), which a loop
    busy with arriving bytes would hold up waiting for the GIL.
    """

    def __init__(self, request: Request) -> None:
        self._request = request
        self._send, self._receive = anyio.create_memory_object_stream[_Item](READ_AHEAD_BATCHES)
        self._wanted = anyio.Event()

    def __enter__(self) -> "_ReadAhead":
        return self

    def __exit__(self, *_: object) -> None:
        self._send.close()
        self._receive.close()

    async def read(self) -> None:
        await self._wanted.wait()
        # Closed at the end, or when the reading is cancelled: the worker then sees the end.
        with self._send:
            chunks: list[bytes] = []
            size = 0
            ending: _Item = None
            try:
                async for chunk in self._request.stream():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= BATCH_BYTES:
                        await self._send.send(b"".join(chunks))
                        chunks, size = [], 0
            except ClientDisconnect as disconnect:
                ending = disconnect
            if size:  # what did arrive is passed on, even when the client went away
                await self._send.send(b"".join(chunks))
            await self._send.send(ending)

    def batches(self) -> Iterator[bytes]:
        """The batches, for the worker thread."""
        while True:
            try:
                item = anyio.from_thread.run(self._next)
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                # The reader was cancelled before the body ended (the server is stopping):
                # for the consumer that is the same as the client going away.
                raise ClientGone() from None
            if item is None:
                return
            if isinstance(item, ClientDisconnect):
                raise ClientGone() from item
            yield item

    async def _next(self) -> _Item:
        self._wanted.set()
        return await self._receive.receive()


@dataclass(frozen=True)
class _Failure:
    error: Exception


def _capture(consume: Callable[[Iterator[bytes]], T], batches: Iterator[bytes]) -> T | _Failure:
    try:
        return consume(batches)
    except Exception as error:
        return _Failure(error)


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
            raise PayloadTooLarge(f"A form field can be up to {MAX_FIELD_BYTES} bytes.")

    def _part_end(self) -> None:
        if self._part.name != self._file_field and self._part.name:
            try:
                self.fields[self._part.name] = self._part.value.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InvalidInput(
                    "Form fields must be UTF-8 text.", field=self._part.name
                ) from error
