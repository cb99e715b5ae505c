"""Code actions applied to the text: quick fix, unsafe fix, noqa, fix-all (action and command),
documentation."""

from __future__ import annotations

import pytest
from lsprotocol import types

TWO = (
    "import tensorflow as tf\n"
    "\n"
    "a = tf.keras.optimizers.Adam(lr=1e-3)\n"
    "b = tf.keras.optimizers.SGD(lr=0.1, momentum=0.9)  # noqa: E501\n"
)
TWO_FIXED = TWO.replace("(lr=", "(learning_rate=")


def actions_of(result) -> list[types.CodeAction]:
    # The server answers every request about an open document with a list, perhaps empty.
    assert result is not None
    return [a for a in result if isinstance(a, types.CodeAction)]


async def test_quick_fix_is_preferred_and_edits_only_the_keyword(session):
    uri = session.open("train.py", TWO)
    first, second = await session.diagnostics(uri, 1)
    actions = actions_of(await session.code_actions(uri, [first], only=[types.CodeActionKind.QuickFix]))
    [fix] = [a for a in actions if a.is_preferred]
    assert fix.title == "KER601: Rename `lr` to `learning_rate`"
    assert fix.kind == types.CodeActionKind.QuickFix
    assert session.apply(uri, fix.edit) == TWO.replace("Adam(lr=", "Adam(learning_rate=")


async def test_noqa_action_adds_a_comment_or_extends_one(session):
    uri = session.open("train.py", TWO)
    first, second = await session.diagnostics(uri, 1)
    [add] = [a for a in actions_of(await session.code_actions(uri, [first])) if a.title == "Disable KER601 for this line"]
    added = session.apply(uri, add.edit)
    assert added.splitlines()[2] == "a = tf.keras.optimizers.Adam(lr=1e-3)  # noqa: KER601"
    [extend] = [a for a in actions_of(await session.code_actions(uri, [second])) if a.title == "Disable KER601 for this line"]
    extended = session.apply(uri, extend.edit)
    assert extended.splitlines()[3] == "b = tf.keras.optimizers.SGD(lr=0.1, momentum=0.9)  # noqa: E501, KER601"
    # The server agrees: the suppressed line has no finding any more.
    version = session.replace_all(uri, added)
    assert [d.range.start.line for d in await session.diagnostics(uri, version)] == [3]


async def test_fix_all_action_fixes_everything_and_is_idempotent(session):
    uri = session.open("train.py", TWO)
    await session.diagnostics(uri, 1)
    [fix_all] = actions_of(await session.code_actions(uri, [], only=["source.fixAll.kerasfix"]))
    assert fix_all.kind == "source.fixAll.kerasfix"
    fixed = session.apply(uri, fix_all.edit)
    assert fixed == TWO_FIXED
    version = session.replace_all(uri, fixed)
    assert await session.diagnostics(uri, version) == []
    assert list(await session.code_actions(uri, [], only=["source.fixAll"])) == []


async def test_fix_all_is_offered_for_the_generic_source_kind(session):
    uri = session.open("train.py", TWO)
    await session.diagnostics(uri, 1)
    kinds = [a.kind for a in actions_of(await session.code_actions(uri, [], only=[types.CodeActionKind.Source]))]
    assert kinds == ["source.fixAll.kerasfix"]


async def test_fix_all_command_applies_a_workspace_edit(session):
    uri = session.open("train.py", TWO)
    await session.diagnostics(uri, 1)
    result = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kerasfix.fixAll", arguments=[uri])
    )
    assert result == {"applied": True}
    [applied] = session.applied
    assert session.apply(uri, applied.edit) == TWO_FIXED


async def test_documentation_command(session):
    uri = session.open("train.py", TWO)
    first, _ = await session.diagnostics(uri, 1)
    result = await session.code_actions(uri, [first])
    [docs] = [a for a in result if a.title == "Show documentation for KER601"]
    assert isinstance(docs, types.Command) and docs.command == "kerasfix.openRuleDocs"
    assert docs.arguments == ("KER601",)
    outcome = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=docs.command, arguments=docs.arguments)
    )
    url = "https://kerasfix.readthedocs.io/en/latest/rules/ker601-optimizer-lr-argument/"
    window = session.client.capabilities.window
    if window and window.show_document and window.show_document.support:
        # VS Code and Neovim open it in the browser.
        assert outcome == {"opened": True, "url": url}
        assert session.client.shown_documents == [types.ShowDocumentParams(uri=url, external=True)]
        assert session.client.messages == []
    else:
        # Emacs cannot: it is told the address.
        assert outcome == {"opened": False, "url": url}
        assert session.client.shown_documents == []
        assert [(m.type, m.message) for m in session.client.messages] == [(types.MessageType.Info, f"kerasfix KER601: {url}")]


# A rule whose only fix is unsafe (KER105: a PreprocessingLayer base becomes a plain Layer, which
# lacks `adapt()`), a text it fixes and the text fixed.
UNSAFE = (
    "KER105",
    "import keras\nclass Scale(keras.layers.experimental.preprocessing.PreprocessingLayer):\n    pass\n",
    "import keras\nclass Scale(keras.layers.Layer):\n    pass\n",
)


UNSAFE_TITLE = "KER105: Unsafe fix: Use `keras.layers.Layer` (may change behaviour)"
# The unsafe finding, with a safe one (KER601) beside it.
MIXED = UNSAFE[1] + "opt = keras.optimizers.Adam(lr=1e-3)\n"
MIXED_SAFE_FIXED = UNSAFE[1] + "opt = keras.optimizers.Adam(learning_rate=1e-3)\n"
MIXED_ALL_FIXED = UNSAFE[2] + "opt = keras.optimizers.Adam(learning_rate=1e-3)\n"


@pytest.mark.options({"select": [UNSAFE[0]]})
async def test_unsafe_fix_offered_by_default_titled_as_such_and_not_preferred(session):
    code, source, after = UNSAFE
    uri = session.open("unsafe.py", source)
    diagnostics = await session.diagnostics(uri, 1)
    assert [d.code for d in diagnostics] == [code]
    # Its own quick fix, never the preferred one (an editor's "auto fix" skips it); no fix-all.
    result = await session.code_actions(uri, diagnostics)
    assert [a.title for a in result] == [UNSAFE_TITLE, f"Disable {code} for this line", f"Show documentation for {code}"]
    unsafe = result[0]
    assert unsafe.kind == types.CodeActionKind.QuickFix
    assert unsafe.is_preferred is False
    assert list(unsafe.diagnostics) == diagnostics
    assert session.apply(uri, unsafe.edit) == after
    assert list(await session.code_actions(uri, [], only=["source.fixAll.kerasfix"])) == []


@pytest.mark.options({"select": [UNSAFE[0]], "unsafeFixes": True})
async def test_unsafe_fix_with_unsafe_fixes_enabled_is_the_same_and_fix_all_applies_it(session):
    code, source, after = UNSAFE
    uri = session.open("unsafe.py", source)
    diagnostics = await session.diagnostics(uri, 1)
    assert [d.code for d in diagnostics] == [code]
    actions = actions_of(await session.code_actions(uri, diagnostics))
    assert [(a.title, a.kind, a.is_preferred) for a in actions] == [
        (UNSAFE_TITLE, types.CodeActionKind.QuickFix, False),
        (f"Disable {code} for this line", types.CodeActionKind.QuickFix, None),
        ("Fix all kerasfix problems (including unsafe fixes)", "source.fixAll.kerasfix", None),
    ]
    assert session.apply(uri, actions[0].edit) == after
    [fix_all] = actions_of(await session.code_actions(uri, [], only=["source.fixAll.kerasfix"]))
    assert fix_all.title == "Fix all kerasfix problems (including unsafe fixes)"
    assert session.apply(uri, fix_all.edit) == after


@pytest.mark.options({"select": [UNSAFE[0], "KER601"]})
async def test_fix_all_applies_only_safe_fixes_by_default(session):
    uri = session.open("mixed.py", MIXED)
    diagnostics = await session.diagnostics(uri, 1)
    assert [d.code for d in diagnostics] == ["KER105", "KER601"]
    actions = actions_of(await session.code_actions(uri, diagnostics, only=[types.CodeActionKind.QuickFix]))
    assert [(a.title, a.is_preferred) for a in actions if a.edit and not a.title.startswith("Disable")] == [
        (UNSAFE_TITLE, False),
        ("KER601: Rename `lr` to `learning_rate`", True),
    ]
    [fix_all] = actions_of(await session.code_actions(uri, [], only=["source.fixAll.kerasfix"]))
    assert fix_all.title == "Fix all kerasfix problems"
    assert session.apply(uri, fix_all.edit) == MIXED_SAFE_FIXED


@pytest.mark.options({"select": [UNSAFE[0], "KER601"], "unsafeFixes": True})
async def test_fix_all_applies_unsafe_fixes_too_when_enabled(session):
    uri = session.open("mixed.py", MIXED)
    await session.diagnostics(uri, 1)
    [fix_all] = actions_of(await session.code_actions(uri, [], only=["source.fixAll.kerasfix"]))
    assert fix_all.title == "Fix all kerasfix problems (including unsafe fixes)"
    assert session.apply(uri, fix_all.edit) == MIXED_ALL_FIXED
