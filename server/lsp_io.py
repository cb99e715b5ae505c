"""Reading LSP messages from stdin, and finding the next one after a broken frame.

pygls's reader only knows `Content-Length: N` spelt exactly so, and trusts the length: one
frame with a wrong length, or a header spelt `content-length:12`, leaves it waiting for a
frame it will never see, alive and deaf. This reader takes header names in any case, with or
without a space after the colon, ignores other headers, and resynchronises on the next frame:

- A raw CR LF can never occur inside a JSON string, and `Content-Length` is no JSON token, so
  the bytes `Content-Length: N` CR LF cannot be part of a valid body: found inside a declared
  body, they mark where the next frame starts (the declared length was too long), and the
  reader cuts there instead of waiting for bytes that will never come.
- Bytes read where headers were expected (the rest of a body whose length was too short,
  garbage) are skipped up to the next `Content-Length` header.
- A body that is not JSON is reported (`Unreadable`) so that the client gets a Parse error.

When the stream cannot be framed at all (no `Content-Length` in a long run of bytes, or a
length no client would send), `feed` raises `StreamBroken`: the server then exits with a
non-zero status, so that the editor restarts it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from pygls.io_ import StdoutWriter
from pygls.server import JsonRPCServer

log = logging.getLogger("kerasfix.server")

# Larger than any document an editor sends; a bigger length means the stream is not LSP.
MAX_CONTENT_LENGTH = 256 * 1024 * 1024
# Bytes skipped in a row without finding a frame before the stream counts as unreadable.
MAX_UNFRAMED_BYTES = 1024 * 1024
# Header bytes kept while waiting for a line end: a `Content-Length` line is far shorter.
MAX_HEADER_LINE = 4096
# How far before the newly read bytes a header may have started, when searching a body.
_MARKER_SPAN = 64
CHUNK_SIZE = 64 * 1024

_NAME = b"content-length"
_LENGTH_VALUE = re.compile(rb"[ \t]*:[ \t]*(\d+)[ \t]*")
# After the name, inside a body: the rest of a header line, up to its CR LF.
_MARKER_REST = re.compile(rb"[ \t]*:[ \t]*\d+[ \t]*\r\n")
_OTHER_HEADER = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*:.*")


class StreamBroken(Exception):
    """The input cannot be split into messages any more."""


@dataclass(frozen=True)
class Message:
    """A frame whose body is JSON, decoded."""

    value: Any


@dataclass(frozen=True)
class Unreadable:
    """A frame whose body is not JSON."""

    reason: str


def _decode(body: bytes) -> Message | Unreadable:
    try:
        return Message(json.loads(body))
    except (ValueError, RecursionError) as error:  # ValueError covers bad JSON and bad UTF-8
        return Unreadable(f"{type(error).__name__}: {error}"[:200])


class FrameReader:
    """Splits the bytes read from the client into messages, incrementally: each byte is
    looked at a bounded number of times, however the input is cut into chunks."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._position = 0  # where the unread bytes begin
        self._length: int | None = None  # the Content-Length of the header block being read
        self._in_body = False
        self._scanned = 0  # bytes of an incomplete body already searched for the next header
        self._skipped = 0  # bytes skipped since the last frame

    def feed(self, data: bytes) -> Iterator[Message | Unreadable]:
        """The messages completed by `data`, in order; raises `StreamBroken` once the stream
        cannot be recovered (after the messages before that point)."""
        self._buffer += data
        try:
            while True:
                if self._in_body:
                    frame = self._read_body()
                    if frame is None:
                        return
                    yield frame
                elif not self._read_headers():
                    return
        finally:
            del self._buffer[: self._position]
            self._position = 0

    # ----- headers ---------------------------------------------------------------------------

    def _read_headers(self) -> bool:
        """Reads header lines; True once the blank line after a Content-Length is read."""
        buffer = self._buffer
        while True:
            end = buffer.find(b"\r\n", self._position)
            if end < 0:
                self._bound_pending_header()
                return False
            line = bytes(buffer[self._position : end])
            self._position = end + 2
            if not line:
                if self._length is not None:
                    self._in_body = True
                    self._scanned = 0
                    return True
                self._skip(2)  # a blank line outside any frame
                continue
            self._header_line(line)

    def _header_line(self, line: bytes) -> None:
        at = line.lower().rfind(_NAME)
        if at >= 0 and (match := _LENGTH_VALUE.fullmatch(line, at + len(_NAME))):
            if at > 0:  # garbage before the header: a new frame starts here
                self._skip(at)
            length = int(match.group(1))
            if length > MAX_CONTENT_LENGTH:
                raise StreamBroken(f"a message of {length} bytes announced (at most {MAX_CONTENT_LENGTH} are read)")
            self._length = length
        elif _OTHER_HEADER.fullmatch(line) and at < 0:
            pass  # Content-Type and the like: only the length matters
        else:
            log.warning("skipping bytes that are not a header: %r", line[:80])
            self._length = None
            self._skip(len(line) + 2)

    def _bound_pending_header(self) -> None:
        """Without a line end, keep only the bytes that may begin a header."""
        pending = len(self._buffer) - self._position
        if pending > MAX_HEADER_LINE:
            self._length = None
            self._skip(pending - _MARKER_SPAN)
            self._position += pending - _MARKER_SPAN

    def _skip(self, count: int) -> None:
        self._skipped += count
        if self._skipped > MAX_UNFRAMED_BYTES:
            raise StreamBroken(f"{self._skipped} bytes without a Content-Length header")

    # ----- bodies ----------------------------------------------------------------------------

    def _read_body(self) -> Message | Unreadable | None:
        assert self._length is not None
        start, length, available = self._position, self._length, len(self._buffer) - self._position
        if available >= length:
            frame = _decode(bytes(self._buffer[start : start + length]))
            if isinstance(frame, Unreadable):
                # The declared length may have been too long, with the next frame inside it.
                cut = self._next_header(start, min(len(self._buffer), start + length + _MARKER_SPAN))
                if cut is not None and cut < start + length:
                    return self._frame_ends(cut)
            return self._frame_ends(start + length, frame)
        cut = self._next_header(max(start, start + self._scanned - _MARKER_SPAN), len(self._buffer))
        if cut is not None:
            return self._frame_ends(cut)
        self._scanned = available
        return None

    def _frame_ends(self, end: int, frame: Message | Unreadable | None = None) -> Message | Unreadable:
        if frame is None:
            log.warning("a message was shorter than its Content-Length: reading the next one")
            frame = _decode(bytes(self._buffer[self._position : end]))
        self._position = end
        self._in_body = False
        self._length = None
        self._skipped = 0
        return frame

    def _next_header(self, low: int, high: int) -> int | None:
        """Where a `Content-Length: N` CR LF line begins in `buffer[low:high]`, if it does."""
        window = bytes(self._buffer[low:high]).lower()
        at = window.find(_NAME)
        while at >= 0:
            if _MARKER_REST.match(window, at + len(_NAME)):
                return low + at
            at = window.find(_NAME, at + 1)
        return None


# ----- the message loop ----------------------------------------------------------------------


class Receiver(Protocol):
    def receive(self, value: Any) -> None: ...

    def unreadable(self, reason: str) -> None: ...

    def stream_broken(self, reason: str) -> None: ...


class ChunkReader:
    """Reads the stream on a daemon thread, one chunk when asked (so a busy server still makes
    the client's writes wait, as a plain read does), and never keeps the process from exiting
    while a read blocks."""

    def __init__(self, stream: BinaryIO, size: int = CHUNK_SIZE) -> None:
        self._read = getattr(stream, "read1", stream.read)
        self._size = size
        self._requests: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[bytes]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def read(self) -> bytes:
        """The next bytes; empty at the end of the stream."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        self._requests.put((loop, future))
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kerasfix-stdin", daemon=True)
            self._thread.start()
        return await future

    def _run(self) -> None:
        while True:
            loop, future = self._requests.get()
            try:
                data = self._read(self._size)
            except (OSError, ValueError):  # closed under us: the same as the end of the stream
                log.warning("reading the client's messages failed", exc_info=True)
                data = b""
            try:
                loop.call_soon_threadsafe(_resolve, future, data)
            except RuntimeError:  # the loop is closed: the server is exiting
                return
            if not data:
                return


def _resolve(future: asyncio.Future[bytes], data: bytes) -> None:
    if not future.done():
        future.set_result(data)


async def serve(stream: BinaryIO, receiver: Receiver, stop: threading.Event) -> int:
    """Hands every message read from `stream` to `receiver` until the end of the stream (0) or
    until the stream cannot be framed (1). An `exit` notification's SystemExit ends it too, with
    the status it carries."""
    chunks = ChunkReader(stream)
    frames = FrameReader()
    while not stop.is_set():
        data = await chunks.read()
        if not data:
            return 0
        try:
            for frame in frames.feed(data):
                if isinstance(frame, Message):
                    receiver.receive(frame.value)
                else:
                    receiver.unreadable(frame.reason)
                await asyncio.sleep(0)  # let lint results and other callbacks through
        except StreamBroken as error:
            receiver.stream_broken(str(error))
            return 1
        except SystemExit as stop_now:
            return stop_now.code if isinstance(stop_now.code, int) else 0 if stop_now.code is None else 1
    return 0


def serve_stdio(server: JsonRPCServer, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """Runs `server` on stdin and stdout (what pygls's `start_io` does, with this module's
    reader); returns the exit status."""
    server._stop_event = stop = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    log.info("Starting: reading the editor's messages on stdin")
    try:
        return asyncio.run(serve(stdin or sys.stdin.buffer, server.protocol, stop))  # type: ignore[arg-type]
    except BrokenPipeError:
        log.error("the connection to the editor is lost")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        server.shutdown()
