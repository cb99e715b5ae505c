"""Quick fixes for the diagnostics a client sends back in other units than it negotiated:
Neovim 0.7-0.10 negotiate UTF-16 but echo diagnostics with byte columns, so on a line with
non-ASCII text the range differs from the one the server published."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, Session, options_for, start_session, to_offset

OPTIMIZER = "import tensorflow as tf\n\nπ = tf.keras.optimizers.Adam(lr=1e-3)  # 学習率 🚀\n"
FIXED = "import tensorflow as tf\n\nπ = tf.keras.optimizers.Adam(learning_rate=1e-3)  # 学習率 🚀\n"
# Ten characters before the finding take 30 bytes: its byte range is past its UTF-16 range.
FAR = "import tensorflow as tf\n\n学習率の値 = 学習率 = tf.keras.optimizers.Adam(lr=1e-3)\n"
FAR_FIXED = FAR.replace("(lr=", "(learning_rate=")
FIX_TITLE = "KER601: Rename `lr` to `learning_rate`"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=["neovim@v0.7.0", "neovim@v0.10.0"])
async def neovim(lsp_client: LanguageClient, request, workspace: Path):
    lsp_client.session = await start_session(lsp_client, request, workspace, options_for(request))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def neovim_session(neovim: LanguageClient) -> Session:
    return neovim.session


def in_bytes(text: str, where: types.Range, encoding: str) -> types.Range:
    """`where` (in `encoding`) with its columns counted in UTF-8 bytes, as Neovim sends them."""
    lines = text.splitlines(keepends=True)

    def convert(position: types.Position) -> types.Position:
        offset = to_offset(text, (position.line, position.character), encoding)
        line_start = sum(len(item) for item in lines[: position.line])
        return types.Position(position.line, len(text[line_start:offset].encode("utf-8")))

    return types.Range(convert(where.start), convert(where.end))


async def fixes(session: Session, uri: str, sent: types.Diagnostic) -> list[types.CodeAction]:
    result = await session.code_actions(uri, [sent], only=[types.CodeActionKind.QuickFix])
    return [a for a in result if isinstance(a, types.CodeAction) and a.title == FIX_TITLE]


async def test_byte_columns_with_data_find_the_fix(neovim_session):
    session = neovim_session
    assert session.encoding == "utf-16"
    uri = session.open("train.py", OPTIMIZER)
    [published] = await session.diagnostics(uri, 1)
    sent = attrs.evolve(published, range=in_bytes(OPTIMIZER, published.range, session.encoding))
    assert sent.range != published.range  # `π` is one UTF-16 unit and two bytes
    [fix] = await fixes(session, uri, sent)
    assert fix.is_preferred is True
    assert list(fix.diagnostics) == [sent]
    assert session.apply(uri, fix.edit) == FIXED


async def test_byte_columns_without_data_find_the_fix_by_code_and_overlap(neovim_session):
    session = neovim_session
    uri = session.open("train.py", OPTIMIZER)
    [published] = await session.diagnostics(uri, 1)
    sent = attrs.evolve(published, range=in_bytes(OPTIMIZER, published.range, session.encoding), data=None)
    [fix] = await fixes(session, uri, sent)
    assert session.apply(uri, fix.edit) == FIXED


async def test_data_finds_the_fix_when_the_byte_range_does_not_even_overlap(neovim_session):
    session = neovim_session
    uri = session.open("train.py", FAR)
    [published] = await session.diagnostics(uri, 1)
    sent = attrs.evolve(published, range=in_bytes(FAR, published.range, session.encoding))
    assert sent.range.start.character > published.range.end.character
    [fix] = await fixes(session, uri, sent)
    assert session.apply(uri, fix.edit) == FAR_FIXED
    # Without its data, nothing on the line stands for it: no fix rather than a wrong one.
    assert await fixes(session, uri, attrs.evolve(sent, data=None)) == []


async def test_an_id_of_an_older_text_finds_nothing(neovim_session):
    session = neovim_session
    uri = session.open("train.py", FAR)
    [old] = await session.diagnostics(uri, 1)
    # The same finding, published again for a new text in which the line moved down.
    version = session.change(uri, (1, 0), (1, 0), "\n")
    [new] = await session.diagnostics(uri, version)
    assert new.data["id"] != old.data["id"]
    assert await fixes(session, uri, attrs.evolve(new, data=old.data)) == []
    [fix] = await fixes(session, uri, new)
    assert session.apply(uri, fix.edit) == FAR_FIXED.replace("\n\n", "\n\n\n", 1)
