"""Random bytes and messages written straight to the server's stdin (hypothesis).

Each example is a batch of frames: garbage bytes, bodies with a wrong Content-Length, headers
spelt oddly, JSON that is not JSON-RPC, now and then a length no client sends, and valid
JSON-RPC with random method names, random (nested) params and ids of every kind, with or
without an id. After each batch a request the server must answer (an unknown method:
MethodNotFound) proves it still reads its input. The property: the server answers it, or it has
exited with a non-zero status (so that the editor restarts it); it never stays alive and
silent. One server serves the examples until one ends it. A few dozen examples run by default;
a long run:

    KERASFIX_FUZZ_EXAMPLES=2000 python3 -m pytest tests/lsp/test_fuzz_frames.py -s
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from raw_server import RawServer, frame

EXAMPLES = int(os.environ.get("KERASFIX_FUZZ_EXAMPLES", "30"))
METHOD_NOT_FOUND = -32601
TEXT = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
# Lifecycle methods are left out: a session that is shut down answers every request alike.
METHODS = [
    "textDocument/hover",
    "textDocument/codeAction",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didSave",
    "textDocument/didClose",
    "workspace/executeCommand",
    "workspace/didChangeConfiguration",
    "notebookDocument/didChange",
    "$/cancelRequest",
    "$/setTrace",
    "textDocument/completion",
]
HEADERS = ["Content-Length: ", "content-length:", "CONTENT-LENGTH:\t", "Content-Length:  ", "Content-Type: x\r\nContent-Length: "]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
ids = st.one_of(
    st.integers(-(2**70), 2**70), st.text(max_size=10), st.floats(allow_nan=False), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)
)


@st.composite
def positions(draw) -> dict:
    return {"line": draw(st.integers(-3, 5)), "character": draw(st.integers(-3, 80))}


@st.composite
def lsp_params(draw, uri: str) -> dict:
    """Params shaped like the server's, with random holes and values."""
    where = {"start": draw(positions()), "end": draw(positions())}
    shapes = [
        {"textDocument": {"uri": uri}, "position": draw(positions())},
        {
            "textDocument": {"uri": uri, "version": draw(st.integers(-1, 50))},
            "contentChanges": [{"range": where, "text": draw(st.text(max_size=10))}],
        },
        {"textDocument": {"uri": uri}, "range": where, "context": {"diagnostics": draw(st.lists(json_values, max_size=2))}},
        {
            "command": draw(st.sampled_from(["kerasfix.fixAll", "kerasfix.openRuleDocs", "unknown"])),
            "arguments": draw(st.lists(json_values, max_size=3)),
        },
        draw(st.dictionaries(st.text(max_size=12), json_values, max_size=5)),
    ]
    return draw(st.sampled_from(shapes))


@st.composite
def messages(draw, uri: str) -> bytes:
    message: dict = {"jsonrpc": draw(st.sampled_from(["2.0", "2.0", "2.0", "1.0", None]))}
    if message["jsonrpc"] is None:
        del message["jsonrpc"]
    message["method"] = draw(st.sampled_from(METHODS) | st.text(max_size=20))
    if draw(st.booleans()):
        message["id"] = draw(ids)
    if draw(st.booleans()):
        message["params"] = draw(lsp_params(uri) | json_values)
    return json.dumps(message).encode()


@st.composite
def frames(draw, uri: str) -> bytes:
    if draw(st.integers(0, 99)) == 0:
        # Rarely (each one ends the server): a length no client sends.
        return b"Content-Length: " + str(draw(st.integers(2**28 + 1, 10**15))).encode() + b"\r\n\r\n{}"
    kind = draw(st.sampled_from(["message", "wrong-length", "odd-header", "garbage", "not-json", "deep"]))
    if kind == "garbage":
        return draw(st.binary(max_size=300))
    if kind == "not-json":
        return frame(draw(st.binary(max_size=100)))
    if kind == "deep":
        depth = draw(st.integers(1, 5000))
        return frame(b"[" * depth + b"]" * depth)
    body = draw(messages(uri))
    if kind == "wrong-length":
        wrong = len(body) + draw(st.integers(-len(body), 200).filter(bool))
        return frame(body, length=wrong, header=draw(st.sampled_from(HEADERS)))
    return frame(body, header=draw(st.sampled_from(HEADERS)) if kind == "odd-header" else "Content-Length: ")


class Session:
    """One server for the examples, started again when an example ended it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = (root / "fuzz.py").as_uri()
        self.server: RawServer | None = None
        self.starts = 0
        self.probes = 0

    def running(self) -> RawServer:
        if self.server is None:
            self.server = RawServer()
            self.server.initialize(self.root, {"select": ["KER"]})
            self.server.open(self.uri, TEXT)
            self.starts += 1
        return self.server

    def check_alive_or_failed(self) -> None:
        """The server answers a request, or has exited with a non-zero status."""
        server = self.running()
        self.probes += 1
        probe = f"probe-{self.probes}"
        try:
            server.send(frame({"jsonrpc": "2.0", "id": probe, "method": "kerasfix/probe", "params": {}}))
            answer = server.response(probe)
        except (BrokenPipeError, EOFError, TimeoutError):
            status = server.exit_status(timeout=10)
            assert status is not None, "the server is alive but does not answer"
            assert status != 0, "the server exited with status 0 on bad input"
            server.close()
            self.server = None
            return
        assert answer["error"]["code"] == METHOD_NOT_FOUND
        server.received.clear()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory):
    fuzz = Session(tmp_path_factory.mktemp("fuzz"))
    yield fuzz
    fuzz.close()


def test_random_frames_never_leave_the_server_deaf(session: Session):
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.lists(frames(session.uri), min_size=1, max_size=8), st.booleans())
    def batch(pieces: list[bytes], one_write: bool):
        server = session.running()
        try:
            if one_write:
                server.send(b"".join(pieces))
            else:
                for piece in pieces:
                    server.send(piece)
        except BrokenPipeError:
            pass  # it exited: the probe checks how
        session.check_alive_or_failed()

    batch()
    # Clean frames are still read after all that.
    session.check_alive_or_failed()
    assert session.server is not None
    print(f"{session.probes} probes answered or exits checked; the server was started {session.starts} times")
