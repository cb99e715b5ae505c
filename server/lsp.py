"""`kerasfix server`: the language server (LSP over stdio).

It reuses the engine unchanged: the same findings, fixes and settings as `kerasfix check`.
Parsing, linting and fixing run in engine processes (`lsp_engine`, driven by `lsp_linting`'s
threads); the message loop only keeps the documents' text, converts positions (`lsp_text`) and
answers requests. It never imports or runs the user's
code: names are resolved from the source, and jedi is used in its static mode only.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from kerasfix.rules import Settings

from .files import SourceError, discover, read_source
from .lsp_actions import (
    DiagnosticCache,
    FIX_ALL_KIND,
    OPEN_DOCS_COMMAND,
    docs_url,
    fix_all_action,
    fix_all_edits,
    quick_fixes,
    to_diagnostic,
)
from .lsp_config import Configuration
from .lsp_hover import ModuleNames, Signatures, build_hover, module_names, wants_markdown
from .lsp_index import ProjectSync
from .lsp_engine import EngineAborted, EngineCrashed, EngineError, EngineTimeout, engine_process, warm_up
from .lsp_linting import Job, LintOutcome, LintWorker
from .lsp_notebook import NOTEBOOK_FIX_ALL_KIND, NOTEBOOK_SYNC, Notebooks, document_path, lint_text
from .lsp_io import serve_stdio
from .lsp_protocol import KerasfixProtocol
from .lsp_pull import DIAGNOSTIC_OPTIONS, document_report, workspace_report
from .lsp_text import UTF16, ChangeRejected, Lines, apply_change

log = logging.getLogger("kerasfix.server")

CHECK_WORKSPACE_COMMAND = "kerasfix.checkWorkspace"
FIX_ALL_COMMAND = "kerasfix.fixAll"
# How long a request may keep the request engine busy before it is stopped.
REQUEST_BUDGET = 30.0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kerasfix")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class OpenDocument:
    uri: str
    path: str | None
    version: int | None
    text: str
    converter: DiagnosticCache
    # Bumped for every lint scheduled; a lint's result is published unless a newer one was.
    generation: int = 0
    published_generation: int = 0
    published: list[types.Diagnostic] = field(default_factory=list)
    published_version: int | None = None
    # Names the published diagnostics for pull clients: a new one whenever they change.
    result_id: str | None = None
    # Pulls waiting for the lint of the newest text (resolved on the message loop).
    waiters: list[asyncio.Future] = field(default_factory=list)
    wire: list[Any] = field(default_factory=list)
    closed: bool = False
    _lines: Lines | None = None
    _names: tuple[int | None, ModuleNames] | None = None

    def lines(self, encoding: str) -> Lines:
        if self._lines is None or self._lines.text is not self.text or self._lines.encoding != encoding:
            self._lines = Lines(self.text, encoding)
        return self._lines

    def close(self) -> None:
        """No longer open (closed, or its text lost): pulls waiting for its lint answer now."""
        self.closed = True
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def remember_lines(self, lines: Lines) -> None:
        if lines.text is self.text:
            self._lines = lines

    async def names(self) -> ModuleNames:
        """The module's imports and local names. The lint thread reads them from each text
        once it is idle; until it has, a hover uses those of a recent text (imports rarely
        change between keystrokes) rather than parsing a large file itself."""
        if self._names is None:
            text, version = self.text, self.version
            found = await asyncio.get_running_loop().run_in_executor(None, module_names, text)
            self.remember_names(version, found)
            if self._names is None:
                return ModuleNames({})  # no text has parsed yet
        return self._names[1]

    def remember_names(self, version: int | None, found: ModuleNames | None) -> None:
        """Keep the names read from a version's text (None: it did not parse). A text that
        does not parse keeps the names of the last one that did; before any has, nothing is
        kept, so that the next hover reads the current text rather than finding no imports."""
        if found is None:
            if self._names is None:
                return
            found = self._names[1]
        if self._names is None or version is None or self._names[0] is None or version >= self._names[0]:
            self._names = (version, found)


class KerasfixServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("kerasfix", _version(), protocol_cls=KerasfixProtocol, notebook_document_sync=NOTEBOOK_SYNC)
        self.config = Configuration()
        self.documents: dict[str, OpenDocument] = {}
        self.worker = LintWorker(self._linted, self._prepare_hover)
        # Fix-all, workspace checks: engine work a request waits for, apart from the lints.
        self.requests = engine_process("requests")
        self.shutting_down = False
        self.signatures = Signatures()
        # Set once the first diagnostics are out (`_after_first_diagnostics`).
        self._started_the_rest = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self._reported_problems: set[str] = set()
        self._tokens = itertools.count(1)
        self._result_ids = itertools.count(1)
        # Whether the client pulls diagnostics (`textDocument/diagnostic`) rather than having
        # them pushed: set from its capabilities at `initialize`.
        self.pulls = False
        self.notebooks = Notebooks(self)
        # The project index of every engine process, kept current (`lsp_index`).
        self.project = ProjectSync(self)
        normal, slow = self.worker.engines
        self.project.attach(normal, primary=True)
        for engine in (slow, *self.notebooks.worker.engines, self.requests):
            self.project.attach(engine)
        self.worker.background = self.project
        self.project.on_work(self.worker.poke)

    def shows_progress(self) -> bool:
        """Whether the client shows server-initiated `$/progress`."""
        window = self.client_capabilities.window
        return bool(window is not None and window.work_done_progress)

    @property
    def tokens(self) -> itertools.count:
        """Progress tokens, unique in the session."""
        return self._tokens

    def call_soon(self, callback, *arguments: Any) -> None:
        """Run `callback(*arguments)` on the message loop (from any thread)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(callback, *arguments)

    def start_io(self, stdin=None, stdout=None) -> int:  # type: ignore[override]
        """LSP over stdio, read by `lsp_io`, which finds the next message after a broken one;
        returns the exit status."""
        return serve_stdio(self, stdin, stdout)

    # ----- state ---------------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        try:
            return self.workspace.position_encoding or UTF16
        except RuntimeError:  # not initialized yet
            return UTF16

    def settings_for(self, path: str | None) -> Settings:
        settings, problems = self.config.settings_for(path or self._default_path())
        for problem in problems:
            message = str(problem)
            if message not in self._reported_problems:
                self._reported_problems.add(message)
                log.warning("%s", message)
                self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, f"kerasfix: {message}"))
        return settings

    def _default_path(self) -> str | None:
        """Where an unsaved buffer "lives" for settings: the first workspace folder."""
        for folder in self.folders():
            return str(folder / "untitled.py")
        return None

    def folders(self) -> list[Path]:
        try:
            workspace = self.workspace
        except RuntimeError:
            return []
        found = [to_fs_path(folder.uri) for folder in workspace.folders.values()]
        if not found and workspace.root_uri:
            found = [to_fs_path(workspace.root_uri)]
        return [Path(f) for f in found if f]

    def stop_engines(self) -> None:
        """Stop every engine process now, whatever it is doing (shutdown, or the end of input)."""
        self.shutting_down = True
        self.worker.stop()
        self.notebooks.stop()
        self.requests.close()

    def shutdown(self) -> None:
        self.stop_engines()
        super().shutdown()

    # ----- the engine for requests --------------------------------------------------------

    async def run_engine(self, request: tuple) -> Any:
        """Run an engine operation for a request in the request engine process: None when it
        fails (logged), runs past its budget or the request is cancelled (the engine stops)."""
        try:
            return await self.requests.call_async(request, REQUEST_BUDGET)
        except EngineAborted:
            return None
        except EngineError as error:
            log.warning("%s failed: %s", request[0], error)
            return None

    async def fix_all_edits(self, text: str, path: str | None, settings: Settings) -> list[types.TextEdit]:
        fixed = await self.run_engine(("fix", text, path, settings, settings.unsafe_fixes))
        return fix_all_edits(text, fixed, self.encoding) if fixed is not None else []

    # ----- linting -------------------------------------------------------------------------

    def schedule(self, document: OpenDocument, full: bool = False) -> None:
        document.generation += 1
        job = Job(
            uri=document.uri,
            version=document.version,
            text=lint_text(document.uri, document.text),
            path=document.path,
            settings=self.settings_for(document.path),
            converter=document.converter,
            generation=document.generation,
            full=full,
        )
        self.worker.submit(job)

    def relint_paths(self, paths: list[str]) -> None:
        """Lint again, whole, the open documents of `paths`: a module they depend on changed."""
        if self.shutting_down:
            return
        wanted = set(paths)
        documents = [document for document in self.documents.values() if document.path in wanted]
        if documents:
            log.info("a module they depend on changed: checking %s again", ", ".join(Path(d.path).name for d in documents))  # type: ignore[arg-type]
        for document in documents:
            self.schedule(document, full=True)
        if documents:
            self.refresh_pulls()

    def settings_changed(self, why: str) -> None:
        """Re-lint every open document with its new settings (reporting their problems anew)."""
        self._reported_problems.clear()
        log.info("%s: re-linting %d open documents", why, len(self.documents))
        for document in self.documents.values():
            self.schedule(document)
        self.notebooks.relint()
        self.refresh_pulls()

    def _linted(self, job: Job, outcome: LintOutcome) -> None:
        """On the lint thread: convert positions there, publish on the message loop."""
        lines = Lines(job.text, self.encoding)
        diagnostics, wire = job.converter.convert(outcome.findings, lines, job.settings.docs_url)
        log.debug("linted %s version %s (%s): %d findings", job.uri, job.version, outcome.mode, len(diagnostics))
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._publish, job, diagnostics, wire)

    def _prepare_hover(self, job: Job) -> None:
        """On the idle lint thread: read the names of the newest text, so that a hover does
        not parse a large file on the message loop."""
        found = module_names(job.text)
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._store_names, job, found)

    def _store_names(self, job: Job, found: ModuleNames | None) -> None:
        document = self.documents.get(job.uri)
        if document is not None:
            document.remember_names(job.version, found)

    def _publish(self, job: Job, diagnostics: list[types.Diagnostic], wire: list[Any]) -> None:
        document = self.documents.get(job.uri)
        if document is None or job.cancelled.is_set() or job.generation <= document.published_generation:
            return  # closed, or a newer lint was published already
        if self.pulls:
            self._store_for_pull(document, job, diagnostics, wire)
            return
        # A lint is published even when a newer text is waiting: while someone types, the
        # diagnostics follow the text a step behind rather than not at all.
        document.published_generation = job.generation
        document.published = diagnostics
        document.published_version = job.version
        # The diagnostics are already in JSON form (serialized once per finding on the lint
        # thread): the message goes out without another pass of the converter over all of them.
        self.protocol._send_data(
            {
                "jsonrpc": "2.0",
                "method": types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
                "params": {"uri": job.uri, "version": job.version, "diagnostics": wire},
            }
        )
        self._after_first_diagnostics()

    def _after_first_diagnostics(self) -> None:
        """Start what only requests need (jedi's signatures, the request engine) once the first
        diagnostics are out: started with the server, they compete with those for the CPU."""
        if not self._started_the_rest:
            self._started_the_rest = True
            self.signatures.warm()
            warm_up(self.requests)

    def _store_for_pull(self, document: OpenDocument, job: Job, diagnostics: list[types.Diagnostic], wire: list[Any]) -> None:
        """Keep a lint's diagnostics for the client's next pull, and wake the pulls waiting."""
        if document.result_id is None or wire != document.wire:
            document.result_id = str(next(self._result_ids))
        document.wire = wire
        document.published_generation = job.generation
        document.published = diagnostics
        document.published_version = job.version
        waiters, document.waiters = document.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._after_first_diagnostics()

    def refresh_pulls(self) -> None:
        """Ask a pulling client to pull again: findings changed without an edit of their file."""
        workspace = self.client_capabilities.workspace
        diagnostics = workspace.diagnostics if workspace is not None else None
        if self.pulls and diagnostics is not None and diagnostics.refresh_support:
            self.workspace_diagnostic_refresh(None)


server = KerasfixServer()


def _path(uri: str) -> str | None:
    return document_path(uri)


# ----- lifecycle and settings ----------------------------------------------------------------


@server.feature(types.INITIALIZE)
def initialize(ls: KerasfixServer, params: types.InitializeParams) -> None:
    ls.loop = asyncio.get_running_loop()
    # As Ruff's server: a client that can pull diagnostics pulls them (for text documents;
    # notebook cells are still pushed), any other has them pushed.
    ls.pulls = params.capabilities.text_document is not None and params.capabilities.text_document.diagnostic is not None
    ls.config.set_editor(params.initialization_options or {})
    ls.signatures.set_python(ls.config.python_path)
    warm_up(ls.worker.engine)
    log.info("kerasfix %s, Python %s, positions in %s", ls.version, sys.version.split()[0], getattr(ls.encoding, "value", ls.encoding))


@server.feature(types.INITIALIZED)
async def initialized(ls: KerasfixServer, params: types.InitializedParams) -> None:
    ls.project.start(ls.folders(), progress=ls.shows_progress())
    watched = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
    if watched and watched.dynamic_registration:
        registration = types.Registration(
            id="kerasfix-pyproject",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[
                    types.FileSystemWatcher(glob_pattern="**/pyproject.toml"),
                    # Modules of the project: other files' findings depend on their classes.
                    types.FileSystemWatcher(glob_pattern="**/*.py"),
                ]
            ),
        )
        try:
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
        except Exception:  # noqa: BLE001 - without a watcher, saving pyproject.toml still works
            log.warning("the client refused to watch pyproject.toml", exc_info=True)


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def did_change_workspace_folders(ls: KerasfixServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
    # pygls has updated `ls.workspace` already; the index reads the new folders' projects (the
    # modules it has read stay known).
    ls.project.start(ls.folders(), progress=ls.shows_progress())


@server.feature(types.SHUTDOWN)
def shutdown(ls: KerasfixServer, params: Any) -> None:
    ls.stop_engines()
    ls.signatures.shutdown()


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: KerasfixServer, params: types.DidChangeConfigurationParams) -> None:
    settings = params.settings
    if not settings:
        pull = ls.client_capabilities.workspace and ls.client_capabilities.workspace.configuration
        if pull:
            found = await ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="kerasfix")])
            )
            settings = {"kerasfix": found[0] if found else {}}
    ls.config.set_editor(settings or {})
    ls.signatures.set_python(ls.config.python_path)
    ls.settings_changed("settings changed")


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: KerasfixServer, params: types.DidChangeWatchedFilesParams) -> None:
    kinds = {
        types.FileChangeType.Created: "created",
        types.FileChangeType.Changed: "changed",
        types.FileChangeType.Deleted: "deleted",
    }
    ls.project.files_changed(
        [(path, kinds.get(change.type, "changed")) for change in params.changes if (path := _path(change.uri))]
    )
    if any(change.uri.endswith("pyproject.toml") for change in params.changes):
        ls.config.pyproject_changed()
        ls.settings_changed("pyproject.toml changed")


# ----- document sync -------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: KerasfixServer, params: types.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    converter = DiagnosticCache(ls.protocol._converter.unstructure)
    document = OpenDocument(item.uri, _path(item.uri), item.version, item.text, converter)
    ls.documents[item.uri] = document
    ls.schedule(document)
    ls.project.opened(document.path, document)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: KerasfixServer, params: types.DidChangeTextDocumentParams) -> None:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return
    lines = document.lines(ls.encoding)
    try:
        for event in params.content_changes:
            lines = apply_change(lines, event)
    except ChangeRejected as error:
        ls.protocol.lost.lose(document.uri, params.text_document.version, str(error))
        return
    document.text = lines.text
    document.remember_lines(lines)
    document.version = params.text_document.version
    ls.schedule(document)
    ls.project.edited(document.path, document)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.TextDocumentSaveRegistrationOptions(include_text=True))
def did_save(ls: KerasfixServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if uri.endswith("pyproject.toml"):
        ls.config.pyproject_changed()
        ls.settings_changed("pyproject.toml saved")
        return
    document = ls.documents.get(uri)
    if document is not None:
        ls.schedule(document)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: KerasfixServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    document = ls.documents.pop(uri, None)
    ls.worker.forget(uri)
    if document is not None:
        ls.project.closed(document.path)
        document.close()
        if not ls.pulls:  # a pulling client drops a closed document's diagnostics itself
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def notebook_did_open(ls: KerasfixServer, params: types.DidOpenNotebookDocumentParams) -> None:
    ls.notebooks.did_open(params)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def notebook_did_change(ls: KerasfixServer, params: types.DidChangeNotebookDocumentParams) -> None:
    ls.notebooks.did_change(params)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def notebook_did_close(ls: KerasfixServer, params: types.DidCloseNotebookDocumentParams) -> None:
    ls.notebooks.did_close(params)


# ----- pull diagnostics ----------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, DIAGNOSTIC_OPTIONS)
async def document_diagnostic(ls: KerasfixServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
    document = ls.documents.get(params.text_document.uri)
    if document is None:  # not open, or a notebook cell (their diagnostics are pushed)
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    return await document_report(document, params.previous_result_id)


@server.feature(types.WORKSPACE_DIAGNOSTIC)
async def workspace_diagnostic(ls: KerasfixServer, params: types.WorkspaceDiagnosticParams) -> types.WorkspaceDiagnosticReport:
    previous = {item.uri: item.value for item in params.previous_result_ids}
    return await workspace_report(list(ls.documents.values()), previous)


# ----- hover ---------------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: KerasfixServer, params: types.HoverParams) -> types.Hover | None:
    if ls.notebooks.is_synced_cell(params.text_document.uri):
        return await ls.notebooks.hover(params)
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return None
    published = document.published if document.published_version == document.version else []
    position = params.position

    async def qualify(spelled: str) -> str | None:
        return (await document.names()).qualify(spelled, position.line)

    markdown = wants_markdown(ls.client_capabilities)
    return await build_hover(published, document.lines(ls.encoding), position, qualify, ls.signatures, markdown)


# ----- code actions and commands ------------------------------------------------------------


def _wants(only: list[str] | None, kind: str) -> bool:
    if not only:
        return True
    return any(kind == wanted or kind.startswith(wanted + ".") for wanted in only)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND, NOTEBOOK_FIX_ALL_KIND],
        resolve_provider=False,
    ),
)
async def code_action(ls: KerasfixServer, params: types.CodeActionParams) -> list[types.CodeAction | types.Command] | None:
    if ls.notebooks.owns(params.text_document.uri):
        return await ls.notebooks.code_action(params)
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return None
    settings = ls.settings_for(document.path)
    only = params.context.only
    actions: list[types.CodeAction | types.Command] = []
    lines = document.lines(ls.encoding)
    if _wants(only, types.CodeActionKind.QuickFix):
        actions.extend(
            quick_fixes(
                document.uri,
                document.version,
                lines,
                params.context.diagnostics,
                document.published if document.published_version == document.version else (),
                settings.unsafe_fixes,
            )
        )
    if _wants(only, FIX_ALL_KIND) and (only or any(d.source == "kerasfix" for d in params.context.diagnostics) or document.published):
        text, version = document.text, document.version
        edits = await ls.fix_all_edits(text, document.path, settings)
        if edits and document.version == version:
            actions.append(fix_all_action(document.uri, version, edits, settings.unsafe_fixes))
    return actions


def _uri_argument(arguments: tuple[Any, ...]) -> str | None:
    """The document a command is about: a URI, or an object with `uri` / `textDocument.uri`."""
    for item in arguments:
        if isinstance(item, str):
            return item
        if isinstance(item, dict):
            uri = item.get("uri") or (item.get("textDocument") or {}).get("uri")
            if isinstance(uri, str):
                return uri
    return None


@server.command(FIX_ALL_COMMAND)
async def fix_all_command(ls: KerasfixServer, *arguments: Any) -> dict[str, Any]:
    """Apply every fix to a document (unsafe ones too when the settings allow them)."""
    uri = _uri_argument(arguments)
    if uri and ls.notebooks.owns(uri):
        return await ls.notebooks.fix_all_command(uri)
    document = ls.documents.get(uri) if uri else None
    if document is None:
        return {"applied": False, "reason": "no such open document"}
    settings = ls.settings_for(document.path)
    text, version = document.text, document.version
    edits = await ls.fix_all_edits(text, document.path, settings)
    if not edits or document.version != version:
        return {"applied": False, "reason": "nothing to fix" if not edits else "the document changed"}
    result = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(
            edit=fix_all_action(uri, version, edits, settings.unsafe_fixes).edit, label="kerasfix: fix all"
        )
    )
    return {"applied": bool(result and result.applied)}


@server.command(OPEN_DOCS_COMMAND)
async def open_rule_docs(ls: KerasfixServer, *arguments: Any) -> dict[str, Any]:
    code = arguments[0] if arguments else None
    url = docs_url(str(code), ls.settings_for(None).docs_url) if code else None
    if url is None:
        return {"opened": False}
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        result = await ls.window_show_document_async(types.ShowDocumentParams(uri=url, external=True))
        return {"opened": bool(result and result.success), "url": url}
    ls.window_show_message(types.ShowMessageParams(types.MessageType.Info, f"kerasfix {code}: {url}"))
    return {"opened": False, "url": url}


def python_files(folder: Path, settings_of) -> list[Path]:
    """The files `kerasfix check` checks in `folder`, each path excluded by its own settings."""

    def is_excluded(path: Path) -> bool:
        return settings_of(str(path))[0].is_excluded(path)

    found: list[Path] = []
    for path, problem in discover([folder], is_excluded):
        if problem is None:
            found.append(path)
        else:
            log.warning("cannot check %s: %s", path, problem)
    return found


async def _check_file(ls: KerasfixServer, path: Path, settings: Settings) -> tuple[str, list]:
    """The file's text and findings, linted by the request engine (the same `read_source` as
    the CLI reads it there); a file the engine could not check gets one finding saying why."""
    try:
        checked = await ls.requests.call_async(("lint_file", str(path), settings), REQUEST_BUDGET)
    except (EngineTimeout, EngineCrashed) as error:
        try:
            text = read_source(path).text
        except SourceError:
            return "", []
        from kerasfix.rules.engine.lint import unparsable

        return text, [unparsable(text, f"{error} while checking it")]
    except EngineError as error:
        log.warning("cannot check %s: %s", path, error)
        return "", []
    if isinstance(checked, str):
        log.warning("cannot read %s: %s", path, checked)
        return "", []
    return checked


@server.command(CHECK_WORKSPACE_COMMAND)
async def check_workspace(ls: KerasfixServer, *arguments: Any) -> dict[str, int]:
    """Lint every Python file of the workspace folders and publish their diagnostics, with
    `$/progress` reports when the client shows them."""
    loop = asyncio.get_running_loop()
    files: list[Path] = []
    for folder in ls.folders():
        files.extend(await loop.run_in_executor(None, python_files, folder, ls.config.settings_for))
    window = ls.client_capabilities.window
    token: str | None = None
    if window is not None and window.work_done_progress:
        token = f"kerasfix-check-{next(ls._tokens)}"
        await ls.work_done_progress.create_async(token)
        ls.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title="kerasfix: checking the workspace", percentage=0, cancellable=False)
        )
    total_findings = 0
    for index, path in enumerate(files, 1):
        if ls.shutting_down:
            break  # nothing is published after a shutdown
        uri = from_fs_path(str(path))
        settings = ls.settings_for(str(path))
        text, findings = await _check_file(ls, path, settings)
        if ls.shutting_down:
            break
        total_findings += len(findings)
        if uri not in ls.documents:
            lines = Lines(text, ls.encoding)
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=uri, diagnostics=[to_diagnostic(f, lines, settings.docs_url) for f in findings]
                )
            )
        if token is not None:
            ls.work_done_progress.report(
                token,
                types.WorkDoneProgressReport(message=f"{index}/{len(files)} {path.name}", percentage=index * 100 // len(files)),
            )
    if token is not None:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=f"{len(files)} files, {total_findings} findings"))
    log.info("checked %d files: %d findings", len(files), total_findings)
    return {"files": len(files), "findings": total_findings}


# ----- logging and the command line ---------------------------------------------------------


class ClientLogHandler(logging.Handler):
    """Sends log records to the editor as `window/logMessage` (from any thread)."""

    _TYPES = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
        logging.DEBUG: types.MessageType.Log,
    }

    def __init__(self, ls: KerasfixServer) -> None:
        super().__init__()
        self.ls = ls

    def emit(self, record: logging.LogRecord) -> None:
        loop = self.ls.loop
        if loop is None or loop.is_closed():
            return
        kind = self._TYPES.get(record.levelno, types.MessageType.Log if record.levelno < logging.INFO else types.MessageType.Error)
        params = types.LogMessageParams(type=kind, message=self.format(record))
        loop.call_soon_threadsafe(self._send, params)

    def _send(self, params: types.LogMessageParams) -> None:
        try:
            self.ls.window_log_message(params)
        except Exception:  # noqa: BLE001 - a lost log line must not break the server
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kerasfix server", description="The kerasfix language server (LSP over stdio).")
    parser.add_argument("--log-file", metavar="PATH", help="also write the server's log to this file")
    parser.add_argument("--verbose", action="store_true", help="log every lint and request (for bug reports)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    # Clients such as vscode-languageclient add --stdio for the stdio transport: it is the only one.
    parser.add_argument("--stdio", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.version:
        print(f"kerasfix {_version()}")
        return 0
    level = logging.DEBUG if args.verbose else logging.INFO
    logger = logging.getLogger("kerasfix")
    logger.setLevel(level)
    client_handler = ClientLogHandler(server)
    client_handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(client_handler)
    if args.log_file:
        file_handler = logging.FileHandler(args.log_file, encoding="utf-8")
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(file_handler)
        logging.getLogger().setLevel(level)
        if not args.verbose:
            logging.getLogger("pygls").setLevel(logging.WARNING)
    return server.start_io()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
