"""The real `kerasfix server` over raw pipes: the test writes bytes, however broken, and reads
the framed messages the server sends back."""

from __future__ import annotations

import itertools
import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

SERVER = [sys.executable, "-m", "kerasfix.server", "server", *(["--verbose", "--log-file", __import__("os").environ["RAW_LOG"]] if "RAW_LOG" in __import__("os").environ else [])]
WAIT = 20.0


def frame(message: Any, length: int | None = None, header: str = "Content-Length: ") -> bytes:
    """One message with its header; `length` overrides the true length of the body."""
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return f"{header}{len(body) if length is None else length}\r\n\r\n".encode() + body


class RawServer:
    def __init__(self, env: dict[str, str] | None = None, cwd: Path | None = None, before_start: Callable[[], None] | None = None) -> None:
        """`before_start` runs in the new process, in `cwd`, just before the server starts."""
        self.process = subprocess.Popen(
            SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd,
            preexec_fn=before_start,
        )
        self.received: list[dict[str, Any]] = []
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._ids = itertools.count(1000)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        """Frames as the LSP spec writes them (the server's own output is well formed)."""
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = None
            while True:
                line = stdout.readline()
                if not line:
                    self._inbox.put(None)
                    return
                if line == b"\r\n":
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None
            self._inbox.put(json.loads(stdout.read(length)))

    # ----- sending -------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self.send(frame({"jsonrpc": "2.0", "method": method, "params": params}))

    def request(self, method: str, params: Any = None, *, send: bool = True) -> int:
        """Sends a request (or, with `send=False`, only picks its id); returns the id."""
        msg_id = next(self._ids)
        if send:
            self.send(frame({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}))
        return msg_id

    # ----- receiving -----------------------------------------------------------------------

    def wait_for(
        self, matches: Callable[[dict[str, Any]], bool], timeout: float = WAIT, *, take: bool = False
    ) -> dict[str, Any]:
        """The first message received (already, or within `timeout`) that `matches`; `take`
        removes it from `received` (a response is awaited once: ids such as null repeat)."""
        for message in self.received:
            if matches(message):
                if take:
                    self.received.remove(message)
                return message
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the server did not send the expected message")
            try:
                message = self._inbox.get(timeout=remaining)
            except queue.Empty:
                continue
            if message is None:
                self._inbox.put(None)  # stays at the end of the stream
                raise EOFError("the server closed its output")
            if matches(message):
                if not take:
                    self.received.append(message)
                return message
            self.received.append(message)

    def drain(self) -> list[dict[str, Any]]:
        """Everything received so far (without waiting for more)."""
        while True:
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                return self.received
            if message is None:
                self._inbox.put(None)
                return self.received
            self.received.append(message)

    def response(self, msg_id: Any, timeout: float = WAIT) -> dict[str, Any]:
        return self.wait_for(lambda m: "method" not in m and m.get("id") == msg_id, timeout, take=True)

    def call(self, method: str, params: Any = None) -> dict[str, Any]:
        return self.response(self.request(method, params))

    def published(
        self, uri: str, version: int | None, where: Callable[[dict[str, Any]], bool] = lambda params: True
    ) -> dict[str, Any]:
        """The params of a publication for `uri` at `version` (that `where` accepts)."""
        return self.wait_for(
            lambda m: m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri
            and m["params"].get("version") == version
            and where(m["params"])
        )["params"]

    # ----- session -------------------------------------------------------------------------

    def initialize(self, root: Path, options: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.call(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "capabilities": {},
                "initializationOptions": options or {"select": ["KER601"]},
            },
        )
        self.notify("initialized", {})
        self.initialize_result = answer.get("result")
        return answer

    def open(self, uri: str, text: str, version: int = 1) -> None:
        item = {"uri": uri, "languageId": "python", "version": version, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})

    def exit_status(self, timeout: float = WAIT) -> int | None:
        """The exit status once the process has ended, or None if it is still running."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except BrokenPipeError:  # unsent bytes for a server that has exited
                    pass
