"""Notebook document sync: a Jupyter notebook's code cells linted as one program, diagnostics,
hover, quick fixes and fix-all per cell, against the real `kerasfix server`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import attrs
import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import connect

from kerasfix.rules.engine.model import rule_url

SERVER = [sys.executable, "-m", "kerasfix.server", "server"]
# How long a test waits for an answer or a publication before it fails: generous, for a busy machine.
WAIT = 60.0
SETTINGS = {"select": ["KER601", "KER201"]}

MARKDOWN = "# Training\n\nWritten for TensorFlow 2.12."
SETUP = "%pip install -q tensorflow==2.12\n!nvidia-smi\n"
IMPORTS = "import numpy as np\nimport tensorflow as tf\nfrom tensorflow.keras import layers\n"
# Non-ASCII before the finding: its column differs between UTF-8 and UTF-16.
MODEL = (
    "%%time\n"
    "model = tf.keras.Sequential([layers.Dense(1)])\n"
    "title = '損失 📉'; opt = tf.keras.optimizers.Adam(lr=1e-3)\n"
    "model.compile(optimizer=opt, loss='mse')\n"
)
LAYER = (
    "class Scale(layers.Layer):\n"
    "    def call(self, x):\n"
    "        return tf.reduce_sum(x, axis=0)\n"
)
PLOT = "files = !ls\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def position(text: str, line: int, word: str, encoding: str) -> types.Position:
    """Where `word` starts on `line`, counted in the client's units (independent of the server)."""
    current = text.splitlines()[line]
    return types.Position(line, _units(current[: current.index(word)], encoding))


def to_offset(text: str, where: types.Position, encoding: str) -> int:
    lines = text.splitlines(keepends=True)
    offset = sum(len(item) for item in lines[: where.line])
    current = lines[where.line] if where.line < len(lines) else ""
    seen = 0
    for ch in current:
        if seen >= where.character or ch in "\r\n":
            break
        seen += _units(ch, encoding)
        offset += 1
    return offset


def apply_text_edits(text: str, edits: list[types.TextEdit], encoding: str) -> str:
    located = sorted(
        ((to_offset(text, e.range.start, encoding), to_offset(text, e.range.end, encoding), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new in located:
        text = text[:start] + new + text[end:]
    return text


class NotebookSession:
    """A client with notebook sync, and what the server sent it."""

    def __init__(self, client: LanguageClient, root: Path, encoding: str, capabilities) -> None:
        self.client = client
        self.root = root
        self.encoding = encoding
        self.capabilities = capabilities
        self.published: list[types.PublishDiagnosticsParams] = []
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.notebook_uri = ""
        self.notebook_version = 0
        self.cells: list[str] = []  # cell URIs in notebook order
        self.kinds: dict[str, types.NotebookCellKind] = {}
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self._made = 0

    def _cell_uri(self) -> str:
        self._made += 1
        return f"vscode-notebook-cell:{self.root / 'train.ipynb'}#W{self._made}sZmlsZQ%3D%3D"

    def _item(self, uri: str) -> types.TextDocumentItem:
        language = "markdown" if self.kinds[uri] == types.NotebookCellKind.Markup else "python"
        return types.TextDocumentItem(uri=uri, language_id=language, version=self.versions[uri], text=self.texts[uri])

    def _new_cell(self, text: str, kind=types.NotebookCellKind.Code) -> types.NotebookCell:
        uri = self._cell_uri()
        self.kinds[uri], self.texts[uri], self.versions[uri] = kind, text, 1
        return types.NotebookCell(kind=kind, document=uri)

    def open_notebook(self, *cells: str | tuple[str, types.NotebookCellKind]) -> list[str]:
        made = [self._new_cell(*((c,) if isinstance(c, str) else c)) for c in cells]
        self.cells = [cell.document for cell in made]
        self.notebook_uri = from_fs_path(str(self.root / "train.ipynb"))
        self.notebook_version = 1
        self.client.notebook_document_did_open(
            types.DidOpenNotebookDocumentParams(
                notebook_document=types.NotebookDocument(
                    uri=self.notebook_uri, notebook_type="jupyter-notebook", version=1, cells=made
                ),
                cell_text_documents=[self._item(uri) for uri in self.cells],
            )
        )
        return list(self.cells)

    def _notebook_changed(self, change: types.NotebookDocumentChangeEvent) -> None:
        self.notebook_version += 1
        self.client.notebook_document_did_change(
            types.DidChangeNotebookDocumentParams(
                notebook_document=types.VersionedNotebookDocumentIdentifier(
                    version=self.notebook_version, uri=self.notebook_uri
                ),
                change=change,
            )
        )

    def edit_cell(self, uri: str, start: types.Position, end: types.Position, text: str) -> int:
        self.versions[uri] += 1
        self.texts[uri] = apply_text_edits(self.texts[uri], [types.TextEdit(types.Range(start, end), text)], self.encoding)
        self._notebook_changed(
            types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    text_content=[
                        types.NotebookDocumentCellContentChanges(
                            document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                            changes=[types.TextDocumentContentChangePartial(range=types.Range(start, end), text=text)],
                        )
                    ]
                )
            )
        )
        return self.versions[uri]

    def replace_cells(self, start: int, delete: int, *texts: str) -> list[str]:
        """Remove `delete` cells at `start` and insert new code cells there."""
        removed = self.cells[start : start + delete]
        made = [self._new_cell(text) for text in texts]
        self.cells[start : start + delete] = [cell.document for cell in made]
        self._notebook_changed(
            types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    structure=types.NotebookDocumentCellChangeStructure(
                        array=types.NotebookCellArrayChange(start=start, delete_count=delete, cells=made),
                        did_open=[self._item(cell.document) for cell in made],
                        did_close=[types.TextDocumentIdentifier(uri) for uri in removed],
                    )
                )
            )
        )
        return [cell.document for cell in made]

    def close_notebook(self) -> None:
        self.client.notebook_document_did_close(
            types.DidCloseNotebookDocumentParams(
                notebook_document=types.NotebookDocumentIdentifier(self.notebook_uri),
                cell_text_documents=[types.TextDocumentIdentifier(uri) for uri in self.cells],
            )
        )

    async def diagnostics(self, uri: str, version: int | None) -> list[types.Diagnostic]:
        """The newest diagnostics published for a cell at its `version` (waits for them)."""

        async def published() -> list[types.Diagnostic]:
            while True:
                for params in reversed(self.published):
                    if params.uri == uri:
                        if params.version == version:
                            return list(params.diagnostics)
                        break
                await asyncio.sleep(0.01)

        return await asyncio.wait_for(published(), WAIT)

    async def round_trip(self) -> None:
        """Wait for the answer to a request sent now: the server handles messages in order, so
        everything it sent while handling the messages before it has arrived by then."""
        await self.hover(from_fs_path(str(self.root / "not-open.py")), types.Position(0, 0))

    async def synced(self, cell: str) -> None:
        """Wait until the diagnostics of every change sent so far have been published: `cell`
        (a code cell of the open notebook) gets an edit that changes nothing but its version, and
        the lint that publishes that version is of the notebook with every earlier change. An
        older lint is never published after a newer one."""
        version = self.edit_cell(cell, types.Position(0, 0), types.Position(0, 0), "")
        await self.diagnostics(cell, version)
        # The other cells' publications of that lint were sent with it.
        await self.round_trip()

    def latest(self, uri: str) -> list[types.Diagnostic] | None:
        for params in reversed(self.published):
            if params.uri == uri:
                return list(params.diagnostics)
        return None

    async def code_actions(self, uri: str, diagnostics: list[types.Diagnostic], only: list[str] | None = None):
        where = diagnostics[0].range if diagnostics else types.Range(types.Position(0, 0), types.Position(0, 0))
        result = await asyncio.wait_for(
            self.client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri),
                    range=where,
                    context=types.CodeActionContext(diagnostics=diagnostics, only=only),
                )
            ),
            WAIT,
        )
        return [a for a in result or [] if isinstance(a, types.CodeAction)]

    async def hover(self, uri: str, where: types.Position) -> types.Hover | None:
        return await asyncio.wait_for(
            self.client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), where)), WAIT
        )

    def apply(self, edit: types.WorkspaceEdit) -> dict[str, str]:
        """Each cell's text after the edit, as an editor applies it (versions must match)."""
        texts = dict(self.texts)
        for change in edit.document_changes or []:
            uri = change.text_document.uri
            assert change.text_document.version in (None, self.versions[uri])
            texts[uri] = apply_text_edits(texts[uri], list(change.edits), self.encoding)
        for uri, edits in (edit.changes or {}).items():
            texts[uri] = apply_text_edits(texts[uri], list(edits), self.encoding)
        return texts


def with_notebooks(capabilities: types.ClientCapabilities) -> types.ClientCapabilities:
    """A client that syncs notebooks, as VS Code does since 1.76."""
    return attrs.evolve(
        capabilities,
        notebook_document=types.NotebookDocumentClientCapabilities(
            synchronization=types.NotebookDocumentSyncClientCapabilities(execution_summary_support=True)
        ),
    )


async def start(lsp_client: LanguageClient, root: Path, capabilities) -> NotebookSession:
    return await connect(
        lsp_client,
        root,
        capabilities,
        SETTINGS,
        lambda result: NotebookSession(
            lsp_client, root, result.capabilities.position_encoding or "utf-16", result.capabilities
        ),
    )


# VS Code (UTF-16 positions) and Neovim (UTF-8), both with notebook sync.
@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=["visual_studio_code", "neovim"])
async def notebook_client(lsp_client: LanguageClient, request, workspace: Path):
    lsp_client.notebook_session = await start(lsp_client, workspace, with_notebooks(client_capabilities(request.param)))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def nb(notebook_client: LanguageClient) -> NotebookSession:
    return notebook_client.notebook_session


def open_training_notebook(nb: NotebookSession) -> list[str]:
    return nb.open_notebook((MARKDOWN, types.NotebookCellKind.Markup), SETUP, IMPORTS, MODEL, LAYER, PLOT)


def located(diagnostics: list[types.Diagnostic]) -> list[tuple[str, int, int]]:
    return [(str(d.code), d.range.start.line, d.range.start.character) for d in diagnostics]


async def test_notebook_sync_is_advertised_for_python_cells_of_jupyter_notebooks(nb):
    sync = nb.capabilities.notebook_document_sync
    [selector] = sync.notebook_selector
    assert selector.notebook == "jupyter-notebook"
    assert [cell.language for cell in selector.cells] == ["python"]
    assert "notebook.source.fixAll.kerasfix" in nb.capabilities.code_action_provider.code_action_kinds


async def test_each_cell_gets_its_diagnostics_with_names_from_earlier_cells(nb):
    markdown, setup, imports, model, layer, plot = open_training_notebook(nb)
    # `tf` comes from the imports cell: without it neither finding would exist.
    lr = position(MODEL, 2, "lr=", nb.encoding)
    assert located(await nb.diagnostics(model, 1)) == [("KER601", lr.line, lr.character)]
    assert located(await nb.diagnostics(layer, 1)) == [("KER201", 2, 15)]
    # Magics and shell escapes are no syntax errors; the other cells are clean.
    for cell in (setup, imports, plot):
        assert await nb.diagnostics(cell, 1) == []
    await nb.synced(plot)
    assert nb.latest(markdown) is None
    assert not any(d.code == "KER001" for p in nb.published for d in p.diagnostics)
    [diagnostic] = await nb.diagnostics(model, 1)
    end = position(MODEL, 2, ")", nb.encoding)
    assert diagnostic.range.end == end


async def test_editing_cells_and_the_notebook_structure(nb):
    markdown, setup, imports, model, layer, plot = open_training_notebook(nb)
    await nb.diagnostics(model, 1)
    # A change inside a cell.
    line = PLOT.count("\n")
    version = nb.edit_cell(plot, types.Position(line, 0), types.Position(line, 0), "sgd = tf.keras.optimizers.SGD(lr=0.1)\n")
    assert located(await nb.diagnostics(plot, version)) == [("KER601", 3, 30)]
    # A removed cell loses its diagnostics; an added one gets its own.
    [added] = nb.replace_cells(3, 1, "rms = tf.keras.optimizers.RMSprop(lr=1.0)\n")
    assert located(await nb.diagnostics(added, 1)) == [("KER601", 0, 34)]
    await nb.synced(plot)
    assert nb.latest(model) == []
    assert located(nb.latest(added)) == [("KER601", 0, 34)] and located(nb.latest(layer)) == [("KER201", 2, 15)]
    # Without the cell that imports `tf`, the later cells' names no longer resolve.
    nb.replace_cells(2, 1)
    await nb.synced(plot)
    assert nb.latest(added) == [] and nb.latest(plot) == [] and nb.latest(layer) == []


async def test_hover_inside_a_cell(nb):
    _, _, _, model, layer, _ = open_training_notebook(nb)
    await nb.diagnostics(model, 1)
    on_lr = await nb.hover(model, position(MODEL, 2, "lr=", nb.encoding))
    assert on_lr.contents.value == (
        "**KER601** `lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`\n\n"
        f"Quick fix available · [Documentation]({rule_url('KER601', 'optimizer-lr-argument')})"
    )
    # `tf` is imported in another cell: the counterpart is still found.
    where = position(LAYER, 2, "reduce_sum", nb.encoding)
    on_name = await nb.hover(layer, types.Position(where.line, where.character + 3))
    assert "keras.ops.sum" in on_name.contents.value
    assert on_name.range == types.Range(types.Position(2, 15), types.Position(2, 28))


async def test_hover_knows_which_names_a_function_in_a_cell_shadows(nb):
    # Line 1 of both cells: only the first is inside a function whose parameter is `tf`.
    _, shadowing, plain = nb.open_notebook(
        IMPORTS, "def total(tf):\n    return tf.reduce_sum(1)\n", "y = 0\nz = tf.reduce_sum(1)\n"
    )
    await nb.diagnostics(plain, 1)
    where = position("    return tf.reduce_sum(1)", 0, "reduce_sum", nb.encoding)
    assert await nb.hover(shadowing, types.Position(1, where.character + 1)) is None
    where = position("z = tf.reduce_sum(1)", 0, "reduce_sum", nb.encoding)
    assert "keras.ops.sum" in (await nb.hover(plain, types.Position(1, where.character + 1))).contents.value


async def test_quick_fix_inside_a_cell(nb):
    _, _, _, model, _, _ = open_training_notebook(nb)
    [diagnostic] = await nb.diagnostics(model, 1)
    actions = await nb.code_actions(model, [diagnostic], only=[types.CodeActionKind.QuickFix])
    [fix] = [a for a in actions if a.is_preferred]
    assert fix.title == "KER601: Rename `lr` to `learning_rate`"
    assert [c.text_document.uri for c in fix.edit.document_changes] == [model]
    assert nb.apply(fix.edit)[model] == MODEL.replace("(lr=", "(learning_rate=")
    [noqa] = [a for a in actions if a.title == "Disable KER601 for this line"]
    assert nb.apply(noqa.edit)[model].splitlines()[2].endswith("Adam(lr=1e-3)  # noqa: KER601")


async def test_a_quick_fix_may_add_an_import_to_an_earlier_cell(nb):
    _, _, imports, _, layer, _ = open_training_notebook(nb)
    [diagnostic] = await nb.diagnostics(layer, 1)
    [fix] = [a for a in await nb.code_actions(layer, [diagnostic]) if a.is_preferred]
    assert fix.title == "KER201: Replace `tf.reduce_sum` with `keras.ops.sum`"
    assert sorted(c.text_document.uri for c in fix.edit.document_changes) == sorted([imports, layer])
    texts = nb.apply(fix.edit)
    assert texts[imports] == IMPORTS + "import keras\n"
    assert texts[layer] == LAYER.replace("tf.reduce_sum", "keras.ops.sum")


async def test_fix_all_over_the_notebook(nb):
    _, setup, imports, model, layer, plot = open_training_notebook(nb)
    await nb.diagnostics(model, 1)
    await nb.diagnostics(layer, 1)
    expected = {
        imports: IMPORTS + "import keras\n",
        model: MODEL.replace("(lr=", "(learning_rate="),
        layer: LAYER.replace("tf.reduce_sum", "keras.ops.sum"),
    }
    for kind in ("source.fixAll.kerasfix", "notebook.source.fixAll"):
        [action] = await nb.code_actions(layer, [], only=[kind])
        assert action.kind.startswith(kind)
        fixed = nb.apply(action.edit)
        assert {uri: text for uri, text in fixed.items() if text != nb.texts[uri]} == expected
        assert fixed[setup] == SETUP and fixed[plot] == PLOT
    # The command does the same from the notebook's URI.
    result = await nb.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kerasfix.fixAll", arguments=[nb.notebook_uri])
    )
    assert result == {"applied": True}
    [applied] = nb.applied
    fixed = nb.apply(applied.edit)
    assert {uri: text for uri, text in fixed.items() if text != nb.texts[uri]} == expected
    # Fixed cells: nothing left, and no fix-all on offer.
    for uri in expected:
        version = nb.versions[uri]
        old = nb.texts[uri]
        end = types.Position(old.count("\n"), 0)
        nb.edit_cell(uri, types.Position(0, 0), end, fixed[uri])
        assert nb.texts[uri] == fixed[uri]
    for uri in expected:
        assert await nb.diagnostics(uri, nb.versions[uri]) == []
    assert await nb.code_actions(model, [], only=["source.fixAll.kerasfix"]) == []


async def test_closing_the_notebook_clears_its_diagnostics(nb):
    _, _, _, model, layer, _ = open_training_notebook(nb)
    await nb.diagnostics(model, 1)
    await nb.diagnostics(layer, 1)
    assert nb.latest(model) and nb.latest(layer)
    nb.close_notebook()
    # The cells are cleared on the close itself, and a lint still running is not published.
    await nb.round_trip()
    assert nb.latest(model) == [] and nb.latest(layer) == []


# ----- a client without notebook sync --------------------------------------------------------


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=["visual_studio_code"])
async def plain_client(lsp_client: LanguageClient, request, workspace: Path):
    lsp_client.notebook_session = await start(lsp_client, workspace, client_capabilities(request.param))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def plain(plain_client: LanguageClient) -> NotebookSession:
    return plain_client.notebook_session


async def test_a_cell_opened_as_a_text_document_is_linted_alone_without_its_magics(plain):
    assert plain.capabilities.notebook_document_sync is None
    uri = f"vscode-notebook-cell:{plain.root / 'train.ipynb'}#W3sZmlsZQ%3D%3D"
    text = "%%time\n!nvidia-smi\nimport tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
    plain.texts[uri], plain.versions[uri] = text, 1
    plain.client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    [diagnostic] = await plain.diagnostics(uri, 1)
    assert (diagnostic.code, diagnostic.range.start.line, diagnostic.range.start.character) == ("KER601", 3, 31)
    [fix_all] = await plain.code_actions(uri, [], only=["source.fixAll.kerasfix"])
    assert plain.apply(fix_all.edit)[uri] == text.replace("(lr=", "(learning_rate=")


def test_cell_uris_and_the_notebook_they_belong_to():
    from kerasfix.server.lsp_notebook import document_path, is_cell_uri, lint_text

    cell = "vscode-notebook-cell:/home/me/project/train.ipynb#W0sZmlsZQ%3D%3D"
    assert is_cell_uri(cell) and not is_cell_uri("file:///home/me/project/train.py")
    assert document_path(cell) == "/home/me/project/train.ipynb"
    assert document_path("untitled:Untitled-1") is None
    assert lint_text(cell, "%pip install keras\nx = 1\n") == "#pip install keras\nx = 1\n"
    assert lint_text("file:///home/me/project/train.py", "%pip\n") == "%pip\n"


NOTEBOOK_LAYER = (
    "import tensorflow as tf\nfrom pkg.base import BaseLayer\n\n\n"
    "class Pair(BaseLayer):\n"
    "    def call(self, a, b):\n"
    "        return tf.concat([a, b], axis=-1)\n"
)


async def test_a_base_class_changed_on_disk_checks_the_open_notebook_again(nb):
    # The notebook's layer derives from a project module's class, which becomes a Keras layer
    # on disk: the notebook is checked again without any edit of its own.
    (nb.root / "setup.cfg").write_text("", encoding="utf-8")
    package = nb.root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    base = package / "base.py"
    base.write_text("class BaseLayer:\n    pass\n", encoding="utf-8")
    # Made after the server started: the editor's file watcher says so.
    nb.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=from_fs_path(str(path)), type=types.FileChangeType.Created)
                for path in (package / "__init__.py", base)
            ]
        )
    )
    [cell] = nb.open_notebook(NOTEBOOK_LAYER)
    assert await nb.diagnostics(cell, 1) == []
    base.write_text("import tensorflow as tf\n\n\nclass BaseLayer(tf.keras.layers.Layer):\n    pass\n", encoding="utf-8")
    nb.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=from_fs_path(str(base)), type=types.FileChangeType.Changed)]
        )
    )

    async def layer_findings() -> None:
        while located(nb.latest(cell) or []) != [("KER201", 6, 15)]:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(layer_findings(), WAIT * 2)
