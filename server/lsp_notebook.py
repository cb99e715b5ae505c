"""Jupyter notebooks in the language server (LSP 3.17 notebook document sync).

pygls keeps each synced notebook and the text of its cells in its workspace. Here the code cells
of a notebook are linted as one program (`rules.notebook`: IPython lines skipped, an import in
an early cell resolves names in later ones) on a background thread, and the findings are
published per cell. Hover, quick fixes and fix-all work inside cells; their edits are addressed
to the cells' URIs, so a fix that adds an import to the first cell edits that cell.

A client without notebook sync may open each cell as a plain text document (VS Code's
`vscode-notebook-cell:` URIs): such a cell is linted alone, with its IPython lines skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.uris import to_fs_path

from .lsp_actions import FIX_ALL_KIND, SOURCE, fix_title, published_for, quick_fixes, to_diagnostic
from .lsp_hover import ModuleNames, build_hover, module_names, wants_markdown
from .lsp_linting import Job, LintOutcome, LintWorker
from .lsp_text import Lines, changed_region

log = logging.getLogger("kerasfix.server")

if TYPE_CHECKING:
    from kerasfix.rules.engine.notebook import CellProgram


def cell_program(texts: list[str]) -> CellProgram:
    """The notebook's cells as one program. The engine's notebook module is imported on the first
    notebook, not when the server starts: it brings LibCST, which a server for scripts never needs
    in its own process."""
    from kerasfix.rules.engine.notebook import CellProgram

    return CellProgram(texts)

NOTEBOOK_FIX_ALL_KIND = "notebook.source.fixAll.kerasfix"
CELL_SCHEME = "vscode-notebook-cell"
# Python cells of Jupyter notebooks are synced as notebooks; other cells come as text documents.
NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[
        types.NotebookDocumentFilterWithCells(
            notebook="jupyter-notebook", cells=[types.NotebookCellLanguage(language="python")]
        )
    ],
    save=False,
)


def document_path(uri: str) -> str | None:
    """The file a document is (or, for a notebook cell, is part of): settings come from there."""
    if uri.startswith("file:"):
        return to_fs_path(uri)
    parsed = urlparse(uri)
    if parsed.scheme == CELL_SCHEME and parsed.path:
        return to_fs_path("file://" + parsed.path)
    return None


def is_cell_uri(uri: str) -> bool:
    """A notebook cell opened as a text document of its own."""
    parsed = urlparse(uri)
    return parsed.scheme == CELL_SCHEME or unquote(parsed.path).endswith(".ipynb")


def lint_text(uri: str, text: str) -> str:
    """What to lint for a text document: a notebook cell without its IPython lines (same
    length, so positions are unchanged), any other document as it is."""
    if not is_cell_uri(uri):
        return text
    from kerasfix.rules.engine.notebook import python_view

    return python_view(text)


@dataclass(frozen=True)
class CellText:
    uri: str
    version: int | None
    text: str


@dataclass
class NotebookJob(Job):
    cells: tuple[CellText, ...] = ()
    program: CellProgram | None = None


@dataclass
class OpenNotebook:
    uri: str
    path: str | None
    generation: int = 0
    # The generation of the lint last published: an older lint's result is never published.
    published_generation: int = 0
    # Per cell URI: the diagnostics last published and the cell version they are for.
    published: dict[str, list[types.Diagnostic]] = field(default_factory=dict)
    published_versions: dict[str, int | None] = field(default_factory=dict)
    # For hover: the cells' (uri, version) pairs, the names of their program, and the program.
    names: tuple[tuple, ModuleNames, CellProgram] | None = None

    def current(self, uri: str, version: int | None) -> list[types.Diagnostic] | None:
        """The published diagnostics of a cell if they are for this version of its text."""
        if uri in self.published and self.published_versions.get(uri) == version:
            return self.published[uri]
        return None


def _wants(only: Sequence[str] | None, kind: str) -> bool:
    return not only or any(kind == wanted or kind.startswith(wanted + ".") for wanted in only)


def _document_edits(edits: dict[str, tuple[int | None, list[types.TextEdit]]]) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=text_edits
            )
            for uri, (version, text_edits) in edits.items()
        ]
    )


def _fix_all_title(unsafe: bool) -> str:
    return "Fix all kerasfix problems" + (" (including unsafe fixes)" if unsafe else "")


def _fix_all_edits(cells: Sequence[CellText], fixed: Sequence[str], encoding: str):
    """Per changed cell: (its version, one edit replacing the region that fixing changed);
    `fixed` holds the cells' sources with every fix applied."""
    edits: dict[str, tuple[int | None, list[types.TextEdit]]] = {}
    for cell, new in zip(cells, fixed):
        if new != cell.text:
            start, old_end, new_end = changed_region(cell.text, new)
            where = Lines(cell.text, encoding).range(start, old_end)
            edits[cell.uri] = (cell.version, [types.TextEdit(range=where, new_text=new[start:new_end])])
    return edits


class Notebooks:
    """The open notebooks of a `KerasfixServer`, and its features inside their cells."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.open: dict[str, OpenNotebook] = {}
        self.worker = LintWorker(self._linted, self._prepare_hover, name="notebook-lint")

    # ----- which documents are ours ---------------------------------------------------------

    def _notebook_of(self, uri: str) -> OpenNotebook | None:
        """The open notebook that `uri` is, or holds as a cell."""
        if uri in self.open:
            return self.open[uri]
        try:
            notebook = self.server.workspace.get_notebook_document(cell_uri=uri)
        except RuntimeError:  # not initialized
            return None
        return self.open.get(notebook.uri) if notebook is not None else None

    def is_synced_cell(self, uri: str) -> bool:
        return uri not in self.open and self._notebook_of(uri) is not None

    def is_plain_cell(self, uri: str) -> bool:
        return uri in self.server.documents and is_cell_uri(uri)

    def owns(self, uri: str) -> bool:
        """Code actions and commands on `uri` are answered here (a notebook, one of its cells,
        or a cell opened as a text document)."""
        return self._notebook_of(uri) is not None or self.is_plain_cell(uri)

    def _cells(self, state: OpenNotebook) -> tuple[tuple[CellText, ...], int | None]:
        """The notebook's Python code cells, in order, and the notebook's version."""
        workspace = self.server.workspace
        notebook = workspace.get_notebook_document(notebook_uri=state.uri)
        if notebook is None:
            return (), None
        cells = []
        for cell in notebook.cells:
            if cell.kind != types.NotebookCellKind.Code:
                continue
            document = workspace.text_documents.get(unquote(cell.document))
            if document is None or document.language_id not in (None, "python"):
                continue
            cells.append(CellText(cell.document, document.version, document.source))
        return tuple(cells), notebook.version

    # ----- sync ---------------------------------------------------------------------------

    def did_open(self, params: types.DidOpenNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        self.open[uri] = OpenNotebook(uri, document_path(uri))
        self.schedule(self.open[uri])

    def did_change(self, params: types.DidChangeNotebookDocumentParams) -> None:
        state = self.open.get(params.notebook_document.uri)
        if state is None:
            return
        structure = params.change.cells.structure if params.change.cells else None
        for removed in (structure.did_close if structure else None) or []:
            self._clear(state, removed.uri)
        self.schedule(state)

    def did_close(self, params: types.DidCloseNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        state = self.open.pop(uri, None)
        self.worker.forget(uri)
        if state is None:
            return
        for cell_uri in {*state.published, *(cell.uri for cell in params.cell_text_documents)}:
            self._clear(state, cell_uri)

    def _clear(self, state: OpenNotebook, cell_uri: str) -> None:
        state.published.pop(cell_uri, None)
        state.published_versions.pop(cell_uri, None)
        self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell_uri, diagnostics=[]))

    def relint(self, full: bool = False) -> None:
        """Lint every open notebook again: after a settings change, or (`full`, the whole text
        although it did not change) after a project module it may import changed."""
        for state in self.open.values():
            self.schedule(state, full)

    def stop(self) -> None:
        self.worker.stop()

    # ----- linting ------------------------------------------------------------------------

    def schedule(self, state: OpenNotebook, full: bool = False) -> None:
        cells, version = self._cells(state)
        program = cell_program([cell.text for cell in cells])
        state.generation += 1
        self.worker.submit(
            NotebookJob(
                uri=state.uri,
                version=version,
                text=program.text,
                path=state.path,
                settings=self.server.settings_for(state.path),
                converter=None,
                generation=state.generation,
                cells=cells,
                program=program,
                full=full,
            )
        )

    def _linted(self, job: NotebookJob, outcome: LintOutcome) -> None:
        """On the lint thread: the findings as diagnostics of each cell."""
        encoding = self.server.encoding
        lines = [Lines(cell.text, encoding) for cell in job.cells]
        per_cell: dict[str, list[types.Diagnostic]] = {cell.uri: [] for cell in job.cells}
        for finding in outcome.findings:
            located = job.program.locate(finding) if job.program is not None else None
            if located is None:
                continue
            fix = located.finding.fix
            diagnostic = to_diagnostic(
                replace(located.finding, fix=None), lines[located.cell], job.settings.docs_url
            )
            if fix is not None and isinstance(diagnostic.data, dict):
                # Each edit names its cell (an added import may go to an earlier one).
                diagnostic.data["fix"] = {
                    "title": fix.title,
                    "safe": fix.is_safe,
                    "edits": [
                        [job.cells[e.cell].uri, *_positions(lines[e.cell].range(e.start, e.end)), e.content]  # type: ignore[attr-defined]
                        for e in fix.edits
                    ],
                }
            per_cell[job.cells[located.cell].uri].append(diagnostic)
        log.debug("linted notebook %s version %s (%s): %d findings", job.uri, job.version, outcome.mode, len(outcome.findings))
        loop = self.server.loop
        if loop is not None:
            loop.call_soon_threadsafe(self._publish, job, per_cell)

    def _publish(self, job: NotebookJob, per_cell: dict[str, list[types.Diagnostic]]) -> None:
        state = self.open.get(job.uri)
        if state is None or job.cancelled.is_set() or job.generation <= state.published_generation:
            return  # closed, or a newer lint was published already
        # A lint is published even when a newer text is waiting: while someone types, the
        # diagnostics follow the text a step behind rather than not at all.
        state.published_generation = job.generation
        for uri in [uri for uri in state.published if uri not in per_cell]:
            self._clear(state, uri)  # a cell that left the notebook (or stopped being Python)
        for cell in job.cells:
            diagnostics = per_cell[cell.uri]
            if state.published.get(cell.uri) == diagnostics and state.published_versions.get(cell.uri) == cell.version:
                continue
            state.published[cell.uri] = diagnostics
            state.published_versions[cell.uri] = cell.version
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=cell.uri, version=cell.version, diagnostics=diagnostics)
            )

    def _prepare_hover(self, job: NotebookJob) -> None:
        """On the idle lint thread: the names of the newest program, for hover."""
        found = module_names(job.text)
        loop = self.server.loop
        if loop is not None and job.program is not None:
            key = tuple((cell.uri, cell.version) for cell in job.cells)
            loop.call_soon_threadsafe(self._store_names, job.uri, key, found, job.program)

    def _store_names(self, uri: str, key: tuple, found: ModuleNames | None, program: CellProgram) -> None:
        state = self.open.get(uri)
        if state is None:
            return
        if found is None:  # the program does not parse: keep the names of the last one that did
            if state.names is not None:
                state.names = (key, state.names[1], state.names[2])
                return
            found = ModuleNames({})
        state.names = (key, found, program)

    async def _names(self, state: OpenNotebook, cells: tuple[CellText, ...]) -> tuple[ModuleNames, CellProgram]:
        key = tuple((cell.uri, cell.version) for cell in cells)
        if state.names is None or state.names[0] != key:
            program = cell_program([cell.text for cell in cells])
            found = await asyncio.get_running_loop().run_in_executor(None, module_names, program.text)
            self._store_names(state.uri, key, found, program)
        if state.names is None:
            return ModuleNames({}), cell_program([])
        return state.names[1], state.names[2]

    # ----- hover --------------------------------------------------------------------------

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        uri, position = params.text_document.uri, params.position
        state = self._notebook_of(uri)
        if state is None:
            return None
        cells, _ = self._cells(state)
        place = next((i for i, cell in enumerate(cells) if cell.uri == uri), None)
        if place is None:
            return None
        cell = cells[place]
        server = self.server

        async def qualify(spelled: str) -> str | None:
            names, program = await self._names(state, cells)
            line = position.line + (program.first_line(place) if place < len(program.sources) else 0)
            return names.qualify(spelled, line)

        published = state.current(uri, cell.version) or []
        markdown = wants_markdown(server.client_capabilities)
        return await build_hover(published, Lines(cell.text, server.encoding), position, qualify, server.signatures, markdown)

    # ----- code actions and fix-all -------------------------------------------------------

    async def code_action(self, params: types.CodeActionParams) -> list[types.CodeAction | types.Command] | None:
        uri = params.text_document.uri
        if self.is_plain_cell(uri):
            return await self._plain_cell_actions(params)
        state = self._notebook_of(uri)
        if state is None:
            return None
        server = self.server
        settings = server.settings_for(state.path)
        only = params.context.only
        cells, version = self._cells(state)
        cell = next((c for c in cells if c.uri == uri), None)
        actions: list[types.CodeAction | types.Command] = []
        if cell is not None and _wants(only, types.CodeActionKind.QuickFix):
            published = state.current(uri, cell.version) or []
            actions.extend(self._fixes(state, cells, params.context.diagnostics, published, settings.unsafe_fixes))
            lines = Lines(cell.text, server.encoding)
            actions.extend(quick_fixes(uri, cell.version, lines, params.context.diagnostics, (), settings.unsafe_fixes))
        kinds = []
        if _wants(only, FIX_ALL_KIND) and (only or any(d.source == SOURCE for d in params.context.diagnostics) or any(state.published.values())):
            kinds.append(FIX_ALL_KIND)
        if only and _wants(only, NOTEBOOK_FIX_ALL_KIND):
            kinds.append(NOTEBOOK_FIX_ALL_KIND)  # VS Code's notebook-wide actions on save
        if kinds:
            edits = await self._fix_all_edits(cells, state.path, settings)
            if edits and self._cells(state)[1] == version:
                edit = _document_edits(edits)
                actions.extend(
                    types.CodeAction(title=_fix_all_title(settings.unsafe_fixes), kind=kind, edit=edit) for kind in kinds
                )
        return actions

    def _fixes(self, state, cells, diagnostics, published, unsafe: bool) -> list[types.CodeAction]:
        """A quick fix per diagnostic whose fix the server published for the cells' current
        text (its edits may reach other cells: an import added to the first one)."""
        versions = {cell.uri: cell.version for cell in cells}
        actions = []
        for diagnostic in diagnostics:
            if diagnostic.source != SOURCE or not isinstance(diagnostic.code, str):
                continue
            match = published_for(diagnostic, published)
            fix = match.data.get("fix") if match is not None and isinstance(match.data, dict) else None
            if fix is None:
                continue  # an unsafe fix is offered too: titled as such, never preferred
            edits: dict[str, tuple[int | None, list[types.TextEdit]]] = {}
            for uri, start_line, start_char, end_line, end_char, text in fix["edits"]:
                if uri not in versions or state.current(uri, versions[uri]) is None:
                    break  # a cell the fix reaches has changed since: its positions are stale
                where = types.Range(types.Position(start_line, start_char), types.Position(end_line, end_char))
                edits.setdefault(uri, (versions[uri], []))[1].append(types.TextEdit(range=where, new_text=text))
            else:
                actions.append(
                    types.CodeAction(
                        title=fix_title(diagnostic.code, fix),
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        is_preferred=bool(fix["safe"]),
                        edit=_document_edits(edits),
                    )
                )
        return actions

    async def _plain_cell_actions(self, params: types.CodeActionParams) -> list[types.CodeAction | types.Command]:
        """A cell opened as a text document: the usual actions; fix-all skips its IPython lines."""
        server = self.server
        document = server.documents[params.text_document.uri]
        settings = server.settings_for(document.path)
        only = params.context.only
        actions: list[types.CodeAction | types.Command] = []
        if _wants(only, types.CodeActionKind.QuickFix):
            published = document.published if document.published_version == document.version else ()
            lines = document.lines(server.encoding)
            actions.extend(
                quick_fixes(document.uri, document.version, lines, params.context.diagnostics, published, settings.unsafe_fixes)
            )
        if _wants(only, FIX_ALL_KIND) and (only or any(d.source == SOURCE for d in params.context.diagnostics) or document.published):
            cell, version = CellText(document.uri, document.version, document.text), document.version
            edits = await self._fix_all_edits((cell,), document.path, settings)
            if edits and document.version == version:
                actions.append(
                    types.CodeAction(title=_fix_all_title(settings.unsafe_fixes), kind=FIX_ALL_KIND, edit=_document_edits(edits))
                )
        return actions

    async def _fix_all_edits(self, cells: Sequence[CellText], path: str | None, settings):
        """The fix-all edits of the cells, computed by the server's request engine (none if it
        fails or the request is cancelled: the engine's error is logged)."""
        fixed = await self.server.run_engine(("fix_cells", [cell.text for cell in cells], path, settings, settings.unsafe_fixes))
        return _fix_all_edits(cells, fixed, self.server.encoding) if fixed is not None else {}

    async def fix_all_command(self, uri: str) -> dict[str, Any]:
        """`kerasfix.fixAll` on a notebook (or any of its cells), or on a cell opened alone."""
        server = self.server
        if self.is_plain_cell(uri):
            document = server.documents[uri]
            cells, version, path = (CellText(uri, document.version, document.text),), document.version, document.path
            current = lambda: document.version  # noqa: E731
        else:
            state = self._notebook_of(uri)
            if state is None:
                return {"applied": False, "reason": "no such open document"}
            (cells, version), path = self._cells(state), state.path
            current = lambda: self._cells(state)[1]  # noqa: E731
        settings = server.settings_for(path)
        edits = await self._fix_all_edits(cells, path, settings)
        if not edits or current() != version:
            return {"applied": False, "reason": "nothing to fix" if not edits else "the document changed"}
        result = await server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=_document_edits(edits), label="kerasfix: fix all")
        )
        return {"applied": bool(result and result.applied)}


def _positions(where: types.Range) -> list[int]:
    return [where.start.line, where.start.character, where.end.line, where.end.character]
