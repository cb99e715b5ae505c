"""The `docsUrl` editor setting: the base of each diagnostic's `codeDescription` link."""

from __future__ import annotations

import pytest
from lsprotocol import types

SOURCE = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
BASE = "https://docs.example.org/kerasfix/"


@pytest.mark.options({"docsUrl": BASE})
async def test_code_description_uses_the_editor_docs_url(session):
    uri = session.open("train.py", SOURCE)
    [diagnostic] = await session.diagnostics(uri, 1)
    assert diagnostic.code_description.href == f"{BASE}ker601-optimizer-lr-argument/"


async def test_code_description_defaults_to_the_published_docs(session):
    uri = session.open("train.py", SOURCE)
    [diagnostic] = await session.diagnostics(uri, 1)
    assert diagnostic.code_description.href == (
        "https://kerasfix.readthedocs.io/en/latest/rules/ker601-optimizer-lr-argument/"
    )


@pytest.mark.options({"docsUrl": BASE})
async def test_show_documentation_opens_the_page_under_the_editor_docs_url(session):
    outcome = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kerasfix.openRuleDocs", arguments=["KER601"])
    )
    assert outcome["url"] == f"{BASE}ker601-optimizer-lr-argument/"
