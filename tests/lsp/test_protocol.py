"""The server answers per the protocol whatever the client sends, over raw pipes: broken frames
are skipped up to the next message, malformed or ill-timed requests get their JSON-RPC error,
and a change that cannot be applied is reported instead of letting the texts drift apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types

from raw_server import RawServer, frame

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
SERVER_NOT_INITIALIZED = -32002
TEXT = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"


@pytest.fixture
def raw():
    server = RawServer()
    yield server
    server.close()


@pytest.fixture
def initialized(raw: RawServer, tmp_path: Path) -> RawServer:
    """A server of the test's own, for tests that end it."""
    raw.initialize(tmp_path)
    return raw


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory):
    """One initialized server for the tests that leave it running (a start takes seconds)."""
    server = RawServer()
    server.initialize(tmp_path_factory.mktemp("project"))
    yield server
    server.close()


def probe(raw: RawServer) -> dict:
    """A request whose answer proves the server still reads: MethodNotFound."""
    answer = raw.call("kerasfix/probe", {})
    assert answer["error"]["code"] == METHOD_NOT_FOUND
    return answer


def error_of(answer: dict) -> dict:
    error = answer["error"]
    assert "data" not in error and "Traceback" not in error["message"] and 'File "' not in error["message"]
    return error


# ----- framing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["content-length: ", "Content-Length:", "CONTENT-LENGTH:\t", "Content-Length:   "],
)
def test_header_spellings_are_read(ready: RawServer, header: str):
    msg_id = ready.request("kerasfix/probe", send=False)
    ready.send(frame({"jsonrpc": "2.0", "id": msg_id, "method": "kerasfix/probe", "params": {}}, header=header))
    assert ready.response(msg_id)["error"]["code"] == METHOD_NOT_FOUND


def test_a_too_short_length_gets_a_parse_error_and_the_next_message_is_read(ready: RawServer):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "kerasfix/probe", "params": {}}).encode()
    ready.send(frame(body, length=len(body) - 7))
    answer = ready.response(None)
    assert error_of(answer)["code"] == PARSE_ERROR
    probe(ready)


def test_a_too_long_length_is_cut_at_the_next_header_without_waiting(ready: RawServer):
    first = ready.request("kerasfix/probe", send=False)
    second = ready.request("kerasfix/probe", send=False)
    message = {"jsonrpc": "2.0", "id": first, "method": "kerasfix/probe", "params": {}}
    # Both in one write, and nothing after them: the server must not wait for more bytes.
    ready.send(frame(message, length=len(json.dumps(message)) + 500) + frame({**message, "id": second}))
    assert ready.response(first)["error"]["code"] == METHOD_NOT_FOUND
    assert ready.response(second)["error"]["code"] == METHOD_NOT_FOUND


def test_a_body_that_is_not_json_gets_a_parse_error(ready: RawServer):
    ready.send(frame(b"{this is not json"))
    assert error_of(ready.response(None))["code"] == PARSE_ERROR
    probe(ready)


def test_garbage_between_frames_is_skipped(ready: RawServer):
    ready.send(b"\x00\xffgarbage\r\nnot: a header\r\n\r\n\r\n{}")
    probe(ready)


def test_a_length_no_client_sends_ends_the_server_with_an_error_status(initialized: RawServer):
    initialized.send(b"Content-Length: 999999999999\r\n\r\n{}")
    assert initialized.exit_status() not in (None, 0)
    told = initialized.wait_for(lambda m: m.get("method") == "window/showMessage")
    assert told["params"]["type"] == types.MessageType.Error and "cannot be read" in told["params"]["message"]


def test_a_stream_without_content_length_ends_the_server_with_an_error_status(initialized: RawServer):
    line = b"Content-Type: text/plain\r\n" + b"x" * 1000 + b"\r\n"
    try:
        for _ in range(2000):
            initialized.send(line)
    except BrokenPipeError:
        pass  # it has already given up
    assert initialized.exit_status() not in (None, 0)


# ----- requests and the session's life ------------------------------------------------------


def test_requests_before_initialize_get_server_not_initialized(raw: RawServer, tmp_path: Path):
    raw.open((tmp_path / "a.py").as_uri(), TEXT)
    for method, params in [
        ("workspace/executeCommand", {"command": "kerasfix.fixAll"}),
        ("textDocument/hover", {"textDocument": {"uri": "file:///a.py"}, "position": {"line": 0, "character": 0}}),
        ("shutdown", None),
    ]:
        assert error_of(raw.call(method, params))["code"] == SERVER_NOT_INITIALIZED, method
    assert "capabilities" in raw.initialize(tmp_path)["result"]
    # The didOpen sent before initialize was dropped: nothing was published for it.
    probe(raw)
    assert not [m for m in raw.received if m.get("method") == "textDocument/publishDiagnostics"]


@pytest.mark.parametrize(
    "params",
    [
        {"textDocument": {"uri": "file:///a.py"}, "position": {"line": -1, "character": 0}},
        {"textDocument": {"uri": "file:///a.py"}},
        None,
        {"textDocument": "file:///a.py", "position": {"line": "x", "character": 0}},
    ],
)
def test_requests_with_invalid_params_get_invalid_params(ready: RawServer, params):
    assert error_of(ready.call("textDocument/hover", params))["code"] == INVALID_PARAMS
    probe(ready)


@pytest.mark.parametrize(
    "message",
    [
        [1, 2],
        "text",
        {"jsonrpc": "2.0", "id": [1], "method": "kerasfix/probe"},
        {"jsonrpc": "1.0", "id": 7, "method": "kerasfix/probe"},
        {"jsonrpc": "2.0", "id": 7, "method": 42},
        {"jsonrpc": "2.0", "id": 7, "method": "kerasfix/probe", "params": "text"},
    ],
)
def test_malformed_messages_get_invalid_request(ready: RawServer, message):
    ready.send(frame(message))
    expected_id = message.get("id") if isinstance(message, dict) and isinstance(message.get("id"), int) else None
    assert error_of(ready.response(expected_id))["code"] == INVALID_REQUEST
    probe(ready)


def test_a_second_initialize_and_requests_after_shutdown_get_invalid_request(initialized: RawServer):
    again = initialized.call("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    assert error_of(again)["code"] == INVALID_REQUEST
    assert initialized.call("shutdown")["result"] is None
    assert error_of(initialized.call("kerasfix/probe", {}))["code"] == INVALID_REQUEST
    assert error_of(initialized.call("shutdown"))["code"] == INVALID_REQUEST
    initialized.notify("exit", None)
    assert initialized.exit_status() == 0


def test_exit_without_shutdown_is_an_error_status(initialized: RawServer):
    initialized.notify("exit", None)
    assert initialized.exit_status() == 1


def test_a_failing_handler_answers_without_a_traceback():
    from concurrent.futures import Future

    from pygls.lsp.server import LanguageServer

    from kerasfix.server.lsp_protocol import KerasfixProtocol

    class Recorder:
        sent: list[dict] = []

        def write(self, data: bytes) -> None:
            self.sent.append(json.loads(data))

        def close(self) -> None:
            pass

    protocol = LanguageServer("test", "0", protocol_cls=KerasfixProtocol).protocol
    protocol.set_writer(Recorder(), include_headers=False)
    failed: Future = Future()
    try:
        raise KeyError("boom")
    except KeyError as error:
        failed.set_exception(error)
    protocol._send_handler_result(failed, msg_id=3)
    [answer] = Recorder.sent
    assert answer["id"] == 3 and error_of(answer)["code"] == -32603


# ----- changes that cannot be applied ---------------------------------------------------------


def change(raw: RawServer, uri: str, version: int, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
    where = {"start": {"line": start[0], "character": start[1]}, "end": {"line": end[0], "character": end[1]}}
    document = {"uri": uri, "version": version}
    raw.notify("textDocument/didChange", {"textDocument": document, "contentChanges": [{"range": where, "text": text}]})


def codes(published: dict) -> list:
    return [d.get("code") for d in published["diagnostics"]]


def has_finding(params: dict) -> bool:
    return codes(params) == ["KER601"]


def assert_lost(raw: RawServer, uri: str, version: int) -> None:
    shown = raw.wait_for(lambda m: m.get("method") == "window/showMessage" and uri in m["params"]["message"])
    assert shown["params"]["type"] == types.MessageType.Error
    [lost] = raw.published(uri, version, lambda params: not has_finding(params))["diagnostics"]
    assert lost["range"]["start"] == {"line": 0, "character": 0} and "lost" in lost["message"]


@pytest.mark.parametrize(
    "start, end",
    [((-1, 0), (0, 0)), ((0, -3), (0, 2)), ((1, 5), (1, 2)), ((1, 4), (0, 0)), ((9, 0), (9, 0))],
    ids=["negative-line", "negative-character", "end-before-start", "end-on-an-earlier-line", "start-past-the-end"],
)
def test_a_change_that_cannot_apply_marks_the_document_lost(ready: RawServer, tmp_path: Path, start, end):
    uri = (tmp_path / "lost.py").as_uri()  # a new file for each case
    ready.open(uri, TEXT)
    ready.published(uri, 1, has_finding)
    # Past the end of a line, and past the last line: clamped, as the protocol says.
    change(ready, uri, 2, (0, 99), (0, 120), "  # tf")
    change(ready, uri, 3, (3, 0), (7, 4), "x = 1\n")
    ready.published(uri, 3, has_finding)
    change(ready, uri, 4, start, end, "y")
    assert_lost(ready, uri, 4)
    # Edits to a lost text publish nothing computed from it ...
    change(ready, uri, 5, (0, 0), (0, 0), "# ")
    # ... until the whole text comes back.
    ready.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 6}, "contentChanges": [{"text": TEXT}]})
    ready.published(uri, 6, has_finding)
    publications = [m["params"] for m in ready.received if m.get("method") == "textDocument/publishDiagnostics"]
    assert not [p for p in publications if p["uri"] == uri and p.get("version") == 5]


def test_a_saved_text_or_reopening_brings_a_lost_document_back(ready: RawServer, tmp_path: Path):
    uri = (tmp_path / "saved.py").as_uri()
    ready.open(uri, TEXT)
    ready.published(uri, 1, has_finding)
    change(ready, uri, 2, (0, 0), (0, -1), "")
    assert_lost(ready, uri, 2)
    ready.notify("textDocument/didSave", {"textDocument": {"uri": uri}, "text": TEXT})
    ready.published(uri, 2, has_finding)
    change(ready, uri, 3, (2, 0), (1, 0), "")
    assert_lost(ready, uri, 3)
    ready.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    ready.published(uri, None, lambda params: not params["diagnostics"])
    ready.open(uri, TEXT, version=7)
    ready.published(uri, 7, has_finding)


def test_the_server_asks_for_the_text_on_save(ready: RawServer):
    result = ready.initialize_result
    assert result["capabilities"]["textDocumentSync"]["save"]["includeText"] is True


def test_rejected_changes_are_named_and_clamped_ones_are_not():
    from kerasfix.server.lsp_text import ChangeRejected, Lines, apply_change

    lines = Lines("ab\ncd\n")

    def partial(start: tuple[int, int], end: tuple[int, int]) -> types.TextDocumentContentChangePartial:
        where = types.Range(types.Position(*start), types.Position(*end))
        return types.TextDocumentContentChangePartial(range=where, text="X")

    assert apply_change(lines, partial((0, 9), (0, 9))).text == "abX\ncd\n"
    assert apply_change(lines, partial((3, 0), (8, 8))).text == "ab\ncd\nX"
    with pytest.raises(ChangeRejected, match="ends before it starts"):
        apply_change(lines, partial((1, 1), (1, 0)))
    with pytest.raises(ChangeRejected, match="past the end"):
        apply_change(lines, partial((4, 0), (4, 0)))


@pytest.mark.parametrize("chunk", [1, 7, 65536])
def test_a_body_quoting_a_header_is_read_whole_however_the_input_is_cut(chunk: int):
    from kerasfix.server.lsp_io import FrameReader, Message

    # In JSON the CR LF of the quoted header is escaped: no new frame starts there.
    text = "print('Content-Length: 12\r\n\r\n{}')\n" * 50
    message = {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"text": text}}
    data = frame(message) * 3
    reader = FrameReader()
    read = [item for start in range(0, len(data), chunk) for item in reader.feed(data[start : start + chunk])]
    assert read == [Message(message)] * 3
