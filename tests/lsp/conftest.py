"""Start the real `kerasfix server` and drive it as VS Code, Neovim and Emacs would."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from collections.abc import Callable
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pygls.uris import from_fs_path

# `python -m kerasfix.server` is the `kerasfix` command, run with this interpreter.
SERVER = [sys.executable, "-m", "kerasfix.server", "server"]
CLIENTS = ["visual_studio_code", "neovim", "emacs"]
# Tests select the codes they are about, so that rules added later do not change their results.
SETTINGS = {"select": ["KER601"]}
# How long a test waits for an answer or a publication before it fails: generous, for a busy machine.
WAIT = 60.0


class Session:
    """A client connected to the server, with what the server sent it."""

    def __init__(self, client: LanguageClient, root: Path, encoding: str) -> None:
        self.client = client
        self.root = root
        self.encoding = encoding
        self.published: list[types.PublishDiagnosticsParams] = []
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.registrations: list[types.Registration] = []
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}

    def uri(self, name: str) -> str:
        return from_fs_path(str(self.root / name))

    def open(self, name: str, text: str) -> str:
        uri = self.uri(name)
        self.versions[uri] = 1
        self.texts[uri] = text
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
        )
        return uri

    def change(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> int:
        """An incremental change; positions in the negotiated encoding."""
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                [
                    types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(*start), types.Position(*end)), text=text
                    )
                ],
            )
        )
        self.texts[uri] = apply_edits(self.texts[uri], [(start, end, text)], self.encoding)
        return self.versions[uri]

    def replace_all(self, uri: str, text: str) -> int:
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                [types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        self.texts[uri] = text
        return self.versions[uri]

    async def diagnostics(self, uri: str, version: int | None) -> list[types.Diagnostic]:
        """The diagnostics published for `uri` at `version` (waits for them)."""
        async def published() -> list[types.Diagnostic]:
            while True:
                for params in reversed(self.published):
                    if params.uri == uri and params.version == version:
                        return list(params.diagnostics)
                await asyncio.sleep(0.01)

        return await asyncio.wait_for(published(), WAIT)

    async def wait_published(self, count: int) -> None:
        """Wait until more than `count` publications have arrived."""
        async def wait() -> None:
            while len(self.published) <= count:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(wait(), WAIT)

    async def round_trip(self) -> None:
        """Wait for the answer to a request sent now: the server handles messages in order, so
        everything it sent while handling the messages before it has arrived by then."""
        await asyncio.wait_for(
            self.client.text_document_hover_async(
                types.HoverParams(types.TextDocumentIdentifier(self.uri("not-open.py")), types.Position(0, 0))
            ),
            WAIT,
        )

    async def cleared(self, uri: str) -> None:
        async def wait() -> None:
            while not (self.published and self.published[-1].uri == uri and not self.published[-1].diagnostics):
                await asyncio.sleep(0.01)

        await asyncio.wait_for(wait(), WAIT)

    async def code_actions(self, uri: str, diagnostics: list[types.Diagnostic], only: list[str] | None = None):
        where = diagnostics[0].range if diagnostics else types.Range(types.Position(0, 0), types.Position(0, 0))
        return await asyncio.wait_for(
            self.client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri),
                    range=where,
                    context=types.CodeActionContext(diagnostics=diagnostics, only=only),
                )
            ),
            WAIT,
        )

    def apply(self, uri: str, edit: types.WorkspaceEdit) -> str:
        """The document's text with a workspace edit applied, as an editor applies it."""
        edits = []
        for change in edit.document_changes or []:
            assert change.text_document.uri == uri
            assert change.text_document.version in (None, self.versions[uri])
            edits.extend(((e.range.start.line, e.range.start.character), (e.range.end.line, e.range.end.character), e.new_text) for e in change.edits)
        for change_uri, text_edits in (edit.changes or {}).items():
            assert change_uri == uri
            edits.extend(((e.range.start.line, e.range.start.character), (e.range.end.line, e.range.end.character), e.new_text) for e in text_edits)
        return apply_edits(self.texts[uri], edits, self.encoding)


def _units(text: str, encoding: str) -> list[int]:
    """Code-unit width of each character."""
    if encoding == "utf-8":
        return [len(ch.encode("utf-8")) for ch in text]
    if encoding == "utf-16":
        return [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return [1] * len(text)


def to_offset(text: str, position: tuple[int, int], encoding: str) -> int:
    """Independent of the server's code: walk the lines and count units one by one."""
    line, character = position
    lines = text.splitlines(keepends=True)
    offset = sum(len(item) for item in lines[:line])
    current = lines[line] if line < len(lines) else ""
    seen = 0
    for ch, width in zip(current, _units(current, encoding)):
        if seen >= character or ch in "\r\n":
            break
        seen += width
        offset += 1
    return offset


def apply_edits(text: str, edits: list[tuple[tuple[int, int], tuple[int, int], str]], encoding: str) -> str:
    located = sorted(((to_offset(text, s, encoding), to_offset(text, e, encoding), new) for s, e, new in edits), reverse=True)
    for start, end, new in located:
        text = text[:start] + new + text[end:]
    return text


async def connect(
    lsp_client: LanguageClient,
    root: Path,
    capabilities: types.ClientCapabilities,
    options: dict[str, Any],
    make_session: Callable[[types.InitializeResult], Any],
):
    """Initialize a session with `root` as its workspace, recording what the server publishes,
    registers and asks to apply on the session `make_session` builds from the server's answer
    (an object with `published` and `applied` lists, and `registrations` if it keeps them)."""
    original = lsp_client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]
    box: list[Any] = []

    def record(params: types.PublishDiagnosticsParams) -> None:
        box[0].published.append(params)
        original(params)

    lsp_client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        if hasattr(box[0], "registrations"):
            box[0].registrations.extend(params.registrations)

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        box[0].applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=from_fs_path(str(root)),
            workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name=root.name)],
            initialization_options=options,
        )
    )
    box.append(make_session(result))
    return box[0]


def pushed_to(capabilities: types.ClientCapabilities) -> types.ClientCapabilities:
    """The capabilities without pull diagnostics (pytest-lsp's Neovim declares them): the
    suite reads pushed diagnostics; test_pull_diagnostics.py covers the pulling clients."""
    if capabilities.text_document is not None:
        capabilities.text_document.diagnostic = None
    return capabilities


async def start_session(lsp_client: LanguageClient, request, root: Path, options: dict[str, Any]) -> Session:
    return await connect(
        lsp_client,
        root,
        pushed_to(client_capabilities(request.param)),
        options,
        lambda result: Session(lsp_client, root, result.capabilities.position_encoding or "utf-16"),
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def options_for(request) -> dict[str, Any]:
    """The test settings, with those of the test's `options` marker over them."""
    options = dict(SETTINGS)
    marker = request.node.get_closest_marker("options")
    if marker is not None:
        options.update(marker.args[0])
    return options


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=CLIENTS)
async def client(lsp_client: LanguageClient, request, workspace: Path):
    lsp_client.session = await start_session(lsp_client, request, workspace, options_for(request))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def session(client: LanguageClient) -> Session:
    return client.session


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[*SERVER, "--verbose"]), params=CLIENTS)
async def verbose_client(lsp_client: LanguageClient, request, workspace: Path):
    lsp_client.session = await start_session(lsp_client, request, workspace, options_for(request))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def verbose_session(verbose_client: LanguageClient) -> Session:
    """A session whose server sends its debug log (`--verbose`) as `window/logMessage`: it
    says when background work (jedi's lookups, the project index's updates) is done."""
    return verbose_client.session


async def logged(session: Session, text: str, after: int = 0, wait: float = 2 * WAIT) -> int:
    """Wait until the server has logged a message containing `text` more than `after` times;
    returns how many times it has."""

    def count() -> int:
        return sum(text in message.message for message in session.client.log_messages)

    async def logged_more() -> int:
        while (found := count()) <= after:
            await asyncio.sleep(0.01)
        return found

    try:
        return await asyncio.wait_for(logged_more(), wait)
    except asyncio.TimeoutError:
        raise AssertionError(f"the server did not log {text!r} within {wait:g} s") from None


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "options(mapping): initializationOptions merged over the default test settings")
