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
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


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
    assert actions_of(await session.code_actions(uri, [], only=["source.fixAll"])) == []


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
    outcome = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=docs.command, arguments=docs.arguments)
    )
    assert outcome["url"].endswith("/ker601-optimizer-lr-argument/")
    window = session.client.capabilities.window
    if window and window.show_document and window.show_document.support:
        assert [d.uri for d in session.client.shown_documents] == [outcome["url"]]
        assert session.client.shown_documents[0].external is True
    else:
        assert any(outcome["url"] in m.message for m in session.client.messages)


def _unsafe_rule() -> tuple[str, str, str] | None:
    """A rule with an unsafe fix, its code and an example (from the rules present now)."""
    from kerasfix.rules import Settings, all_rules, fix, lint

    for rule in all_rules():
        for example in rule.examples:
            if not example.unsafe or example.after is None:
                continue
            settings = Settings(select=(rule.code,))
            findings = lint(example.source, "x.py", settings)
            if any(f.fix is not None and not f.fix.is_safe for f in findings):
                if fix(example.source, "x.py", settings, unsafe=False).source == example.source:
                    return rule.code, example.source, example.after
    return None


UNSAFE = _unsafe_rule()


@pytest.mark.skipif(UNSAFE is None, reason="no rule with an unsafe fix yet")
@pytest.mark.options({"select": [UNSAFE[0] if UNSAFE else "KER"]})
async def test_unsafe_fix_hidden_by_default(session):
    code, source, _ = UNSAFE
    uri = session.open("unsafe.py", source)
    diagnostics = [d for d in await session.diagnostics(uri, 1) if d.code == code]
    assert diagnostics
    actions = actions_of(await session.code_actions(uri, diagnostics))
    assert not any("(unsafe fix)" in a.title for a in actions)
    assert actions_of(await session.code_actions(uri, [], only=["source.fixAll.kerasfix"])) == []


@pytest.mark.skipif(UNSAFE is None, reason="no rule with an unsafe fix yet")
@pytest.mark.options({"select": [UNSAFE[0] if UNSAFE else "KER"], "unsafeFixes": True})
async def test_unsafe_fix_offered_when_enabled_and_titled_as_such(session):
    code, source, after = UNSAFE
    uri = session.open("unsafe.py", source)
    diagnostics = [d for d in await session.diagnostics(uri, 1) if d.code == code]
    actions = actions_of(await session.code_actions(uri, diagnostics))
    unsafe = [a for a in actions if a.title.endswith("(unsafe fix)")]
    assert unsafe and not any(a.is_preferred for a in unsafe)
    [fix_all] = actions_of(await session.code_actions(uri, [], only=["source.fixAll.kerasfix"]))
    assert fix_all.title.endswith("(including unsafe fixes)")
    assert session.apply(uri, fix_all.edit) == after
