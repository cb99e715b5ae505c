"""The Helix configuration.

Helix itself is not driven here: it is not packaged in Debian 12, on PyPI or on npm, and its
release binaries come only from GitHub, which the test install (tests/editors/setup.sh) may not
download. So the shipped languages.toml is checked against the rules Helix documents
(https://docs.helix-editor.com/languages.html) and applies in its source: which server answers
hover is decided by kerasfix's place in `language-servers` and its feature filter, and both are
asserted exactly. The server the file names is then started with its command, args and config
exactly as Helix would start it, and its capabilities are matched against that filter."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import tomllib
from pathlib import Path
from typing import Any

from .conftest import EDITORS

LANGUAGES = EDITORS / "helix" / "languages.toml"
# Keys Helix accepts in a [language-server.<name>] table.
SERVER_KEYS = {"command", "args", "config", "timeout", "environment", "required-root-patterns"}


def load() -> dict[str, Any]:
    with LANGUAGES.open("rb") as file:
        return tomllib.load(file)


def test_language_server_table() -> None:
    server = load()["language-server"]["kerasfix"]
    assert set(server) <= SERVER_KEYS, set(server) - SERVER_KEYS
    assert server["command"] == "kerasfix"
    assert server["args"] == ["server"]
    # Helix sends `config` as initializationOptions: the server reads its section from there.
    assert set(server["config"]) == {"kerasfix"}
    assert isinstance(server["config"]["kerasfix"], dict)


# Helix's feature names (`only-features` / `except-features`) and the server capability each
# one needs (helix-lsp's Client::supports_feature); None: every server has it.
HELIX_FEATURES = {
    "format": "documentFormattingProvider",
    "goto-declaration": "declarationProvider",
    "goto-definition": "definitionProvider",
    "goto-type-definition": "typeDefinitionProvider",
    "goto-reference": "referencesProvider",
    "goto-implementation": "implementationProvider",
    "signature-help": "signatureHelpProvider",
    "hover": "hoverProvider",
    "document-highlight": "documentHighlightProvider",
    "completion": "completionProvider",
    "code-action": "codeActionProvider",
    "workspace-command": "executeCommandProvider",
    "document-symbols": "documentSymbolProvider",
    "workspace-symbols": "workspaceSymbolProvider",
    "diagnostics": None,
    "rename-symbol": "renameProvider",
    "inlay-hints": "inlayHintProvider",
    "document-colors": "colorProvider",
}
KERASFIX_FEATURES = ["diagnostics", "code-action", "hover", "workspace-command"]


def python_servers() -> list[str | dict[str, Any]]:
    languages = load()["language"]
    assert isinstance(languages, list), "[[language]] must be an array of tables"
    (python,) = [entry for entry in languages if entry.get("name") == "python"]
    # Entries Helix merges with its built-in python language need no other key.
    assert set(python) == {"name", "language-servers"}
    return python["language-servers"]


def test_kerasfix_comes_first_so_helix_shows_its_hover() -> None:
    # Helix 23.10 to 25.01 send hover only to the first server in the list whose filter allows
    # it and whose capabilities include it; 25.07 asks them all. First place is what makes
    # kerasfix's hover appear in every release that has `language-servers`.
    first, *_ = python_servers()
    assert first == {"name": "kerasfix", "only-features": KERASFIX_FEATURES}
    assert set(KERASFIX_FEATURES) <= set(HELIX_FEATURES)


def test_another_server_keeps_every_other_feature() -> None:
    # The servers after kerasfix carry no filter, so completion, go-to, rename, formatting and
    # signature help (which kerasfix's `only-features` leaves out) still have a server.
    _, *others = python_servers()
    assert others == ["pylsp"]


def _message(payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


# How long the server may take to send its next message (it is started fresh, on a busy machine).
READ_TIMEOUT = 120.0


def _read_messages(stream, into: queue.SimpleQueue) -> None:
    """On a thread: every message the server writes, then None at the end of its output."""
    try:
        while True:
            length = None
            while (line := stream.readline()).strip() != b"":
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if not line or length is None:
                break  # end of output
            into.put(json.loads(stream.read(length)))
    finally:
        into.put(None)


class Reader:
    """The server's messages, each read with a timeout: a server that stops answering fails the
    test with a message rather than hanging it."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.messages: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=_read_messages, args=(process.stdout, self.messages), daemon=True).start()

    def next(self, waiting_for: str) -> dict[str, Any]:
        try:
            message = self.messages.get(timeout=READ_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"the server sent nothing for {READ_TIMEOUT:g} s while the test waited for {waiting_for}") from None
        if message is None:
            stderr = self.process.stderr.read().decode(errors="replace") if self.process.poll() is not None else ""
            raise AssertionError(f"the server closed its output while the test waited for {waiting_for}: {stderr[-2000:]}")
        return message


def test_the_configured_command_serves_lsp(env: dict[str, str], tmp_path: Path) -> None:
    server = load()["language-server"]["kerasfix"]
    executable = shutil.which(server["command"], path=env["PATH"])
    assert executable, f"{server['command']} is not on PATH"
    process = subprocess.Popen(
        [executable, *server["args"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        assert process.stdin and process.stdout
        process.stdin.write(_message({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {},
                       "initializationOptions": server["config"]},
        }))
        process.stdin.write(_message({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        # Opening a document makes the server apply the settings (and report any it rejects).
        uri = (tmp_path / "train.py").as_uri()
        process.stdin.write(_message({
            "jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                        "text": "import keras\nkeras.optimizers.Adam(lr=0.1)\n"}},
        }))
        process.stdin.flush()
        reader = Reader(process)
        answers: dict[int, dict[str, Any]] = {}
        warnings = []
        published = None
        while 2 not in answers:
            message = reader.next("the diagnostics of train.py" if published is None else "the answer to shutdown")
            if "id" in message:
                answers[message["id"]] = message
            elif message.get("method") == "window/showMessage":
                warnings.append(message["params"]["message"])
            elif message.get("method") == "textDocument/publishDiagnostics" and published is None:
                published = message["params"]
                process.stdin.write(_message({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
                process.stdin.flush()
        assert published["uri"] == uri
        assert "KER601" in [d["code"] for d in published["diagnostics"]]
        result = answers[1]["result"]
        assert result["serverInfo"]["name"] == "kerasfix"
        assert result["capabilities"]["codeActionProvider"]
        assert result["capabilities"]["hoverProvider"]
        # The shipped filter names exactly the features Helix can use from this server: none it
        # offers is filtered out, and none is listed that it lacks.
        (entry,) = [entry for entry in python_servers() if isinstance(entry, dict) and entry["name"] == "kerasfix"]
        offered = [feature for feature, capability in HELIX_FEATURES.items()
                   if capability is None or result["capabilities"].get(capability)]
        assert sorted(offered) == sorted(entry["only-features"])
        assert warnings == []
        process.stdin.write(_message({"jsonrpc": "2.0", "method": "exit"}))
        process.stdin.close()
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
