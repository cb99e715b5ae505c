"""Hover for a client that does not declare Markdown (eglot without markdown-mode): plain
text, which such a client shows as it is."""

from __future__ import annotations

import asyncio

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import SERVER, SETTINGS, Session, connect

from kerasfix.rules.engine.model import rule_url

SOURCE = "import keras\n\nopt = keras.optimizers.Adam(lr=1e-3)\n"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, workspace):
    capabilities = client_capabilities("emacs")
    capabilities.text_document.hover.content_format = [types.MarkupKind.PlainText]
    lsp_client.session = await connect(
        lsp_client,
        workspace,
        capabilities,
        dict(SETTINGS),
        lambda result: Session(lsp_client, workspace, result.capabilities.position_encoding or "utf-16"),
    )
    yield
    await lsp_client.shutdown_session()


async def test_a_client_without_markdown_gets_plain_text(client):
    session = client.session
    uri = session.open("p.py", SOURCE)
    await session.diagnostics(uri, 1)
    result = await asyncio.wait_for(
        session.client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(2, SOURCE.splitlines()[2].index("lr") + 1))
        ),
        20,
    )
    assert result.contents.kind == types.MarkupKind.PlainText
    assert result.contents.value == (
        "KER601: `lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`\n\n"
        f"Quick fix available\nDocs: {rule_url('KER601', 'optimizer-lr-argument')}"
    )
