"""Pull diagnostics (LSP 3.17): a client that declares `textDocument.diagnostic` pulls them and
is sent no `publishDiagnostics`; any other client still has them pushed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import attrs
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import SERVER, WAIT, Session, connect

# The codes these tests are about: the optimizer's argument, and a layer's ops (whose findings
# depend on its base class, in another module).
SETTINGS = {"select": ["KER601", "KER201"]}
OPTIMIZER = "import tensorflow as tf\n\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
PLAIN_BASE = "class BaseLayer:\n    pass\n"
KERAS_BASE = "import tensorflow as tf\n\n\nclass BaseLayer(tf.keras.layers.Layer):\n    pass\n"
LAYER = (
    "import tensorflow as tf\n\nfrom .base import BaseLayer\n\n\n"
    "class PairDistance(BaseLayer):\n"
    "    def call(self, a, b):\n"
    "        return tf.concat([a, b], axis=-1)\n"
)


def pulling() -> types.ClientCapabilities:
    """Neovim's capabilities (it declares pull diagnostics), with workspace refreshes."""
    capabilities = client_capabilities("neovim")
    assert capabilities.text_document.diagnostic is not None
    return attrs.evolve(
        capabilities,
        workspace=attrs.evolve(
            capabilities.workspace, diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
        ),
    )


def pushed() -> types.ClientCapabilities:
    capabilities = client_capabilities("visual_studio_code")
    assert capabilities.text_document.diagnostic is None
    return capabilities


class PullSession(Session):
    def __init__(self, client: LanguageClient, root: Path, result: types.InitializeResult) -> None:
        super().__init__(client, root, result.capabilities.position_encoding or "utf-16")
        self.provider = result.capabilities.diagnostic_provider

    @property
    def refreshes(self) -> int:
        """How many `workspace/diagnostic/refresh` requests the server sent."""
        return self.client.diagnostic_refresh_count

    async def pull(self, uri: str, previous: str | None = None) -> types.DocumentDiagnosticReport:
        return await asyncio.wait_for(
            self.client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri), previous_result_id=previous)
            ),
            WAIT,
        )

    async def pull_workspace(self, previous: list[types.PreviousResultId]) -> types.WorkspaceDiagnosticReport:
        return await asyncio.wait_for(
            self.client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=previous)), WAIT
        )

    async def refreshed(self, after: int) -> None:
        async def wait() -> None:
            while self.refreshes <= after:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(wait(), WAIT)


async def start(lsp_client: LanguageClient, root: Path, capabilities: types.ClientCapabilities) -> PullSession:
    return await connect(lsp_client, root, capabilities, SETTINGS, lambda result: PullSession(lsp_client, root, result))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def pull_client(lsp_client: LanguageClient, workspace: Path):
    lsp_client.session = await start(lsp_client, workspace, pulling())
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def push_client(lsp_client: LanguageClient, workspace: Path):
    lsp_client.session = await start(lsp_client, workspace, pushed())
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def puller(pull_client: LanguageClient) -> PullSession:
    return pull_client.session


@pytest.fixture
def pushee(push_client: LanguageClient) -> PullSession:
    return push_client.session


def codes(diagnostics) -> list[tuple[str, types.Range]]:
    return [(d.code, d.range) for d in diagnostics]


async def test_a_pulling_client_is_offered_pulls_and_sent_no_publications(puller):
    assert puller.provider == types.DiagnosticOptions(
        inter_file_dependencies=True, workspace_diagnostics=True, identifier="kerasfix"
    )
    uri = puller.open("train.py", OPTIMIZER)
    report = await puller.pull(uri)
    assert report.kind == "full"
    assert codes(report.items) == [("KER601", types.Range(types.Position(2, 31), types.Position(2, 38)))]
    [diagnostic] = report.items
    assert diagnostic.source == "kerasfix"
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.data["fix"]["edits"] == [[2, 31, 2, 33, "learning_rate"]]
    await puller.round_trip()
    assert puller.published == []


async def test_a_second_pull_without_changes_is_unchanged_and_an_edit_gives_a_new_report(puller):
    uri = puller.open("train.py", OPTIMIZER)
    first = await puller.pull(uri)
    assert first.kind == "full" and first.result_id
    again = await puller.pull(uri, first.result_id)
    assert again == types.RelatedUnchangedDocumentDiagnosticReport(result_id=first.result_id)
    # A save lints the text again: the same findings keep their result id.
    puller.client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
    saved = await puller.pull(uri, first.result_id)
    assert saved == types.RelatedUnchangedDocumentDiagnosticReport(result_id=first.result_id)
    # Pulled right after the edit: the answer waits for the lint of the edited text.
    puller.change(uri, (3, 0), (3, 0), "sgd = tf.keras.optimizers.SGD(lr=0.1)\n")
    edited = await puller.pull(uri, first.result_id)
    assert edited.kind == "full" and edited.result_id not in (None, first.result_id)
    assert codes(edited.items) == [
        ("KER601", types.Range(types.Position(2, 31), types.Position(2, 38))),
        ("KER601", types.Range(types.Position(3, 30), types.Position(3, 36))),
    ]
    puller.change(uri, (2, 31), (2, 33), "learning_rate")
    fixed = await puller.pull(uri, edited.result_id)
    assert codes(fixed.items) == [("KER601", types.Range(types.Position(3, 30), types.Position(3, 36)))]
    await puller.round_trip()
    assert puller.published == []


async def test_the_workspace_pull_lists_the_open_files(puller):
    train = puller.open("train.py", OPTIMIZER)
    clean = puller.open("clean.py", "x = 1\n")
    first = await puller.pull(train)
    report = await puller.pull_workspace([types.PreviousResultId(uri=train, value=first.result_id)])
    by_uri = {item.uri: item for item in report.items}
    assert set(by_uri) == {train, clean}
    assert by_uri[train] == types.WorkspaceUnchangedDocumentDiagnosticReport(uri=train, version=1, result_id=first.result_id)
    assert by_uri[clean].kind == "full" and by_uri[clean].version == 1 and list(by_uri[clean].items) == []
    report = await puller.pull_workspace([])
    [full] = [item for item in report.items if item.uri == train]
    assert full.kind == "full" and codes(full.items) == codes(first.items) and full.result_id == first.result_id


async def test_a_change_in_another_module_asks_the_client_to_pull_again(puller):
    (puller.root / "setup.cfg").write_text("", encoding="utf-8")
    (puller.root / "pkg").mkdir()
    (puller.root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (puller.root / "pkg" / "base.py").write_text(PLAIN_BASE, encoding="utf-8")
    (puller.root / "pkg" / "distance.py").write_text(LAYER, encoding="utf-8")
    layer = puller.open("pkg/distance.py", LAYER)
    before = await puller.pull(layer)
    assert list(before.items) == []
    base = puller.open("pkg/base.py", PLAIN_BASE)
    await puller.pull(base)
    refreshes = puller.refreshes
    # The base class becomes a Keras layer in the editor's buffer: the layer's findings change.
    puller.replace_all(base, KERAS_BASE)
    await puller.refreshed(refreshes)
    after = await puller.pull(layer, before.result_id)
    assert after.kind == "full"
    assert [(d.code, d.range.start.line, d.range.start.character) for d in after.items] == [("KER201", 7, 15)]


async def test_a_client_that_cannot_pull_still_has_diagnostics_pushed(pushee):
    assert pushee.provider is None
    uri = pushee.open("train.py", OPTIMIZER)
    assert codes(await pushee.diagnostics(uri, 1)) == [
        ("KER601", types.Range(types.Position(2, 31), types.Position(2, 38)))
    ]
