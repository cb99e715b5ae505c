"""A bad pyproject.toml in the editor: each problem is shown once, in the words the command line
uses, and the server keeps linting (with the good entries, or the defaults for a file it cannot
read): an editor must not stop working because of a typo in the configuration."""

from __future__ import annotations

from lsprotocol import types

SOURCE = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"  # KER101, KER107, KER601


async def _messages(session) -> list[types.ShowMessageParams]:
    """What the server has shown so far: everything it sent before answering a request sent now."""
    await session.round_trip()
    return [m for m in session.client.messages if m.message.startswith("kerasfix: invalid setting")]


async def test_unknown_codes_in_the_pyproject_are_shown_and_the_good_entries_kept(session):
    path = session.root / "pyproject.toml"
    path.write_text(
        '[tool.kerasfix]\nselect = ["KER6", "KER999"]\nseverity = { KER601 = "error", KER88 = "hint" }\n',
        encoding="utf-8",
    )
    uri = session.open("train.py", SOURCE)
    diagnostics = await session.diagnostics(uri, 1)
    assert [(d.code, d.severity) for d in diagnostics] == [("KER601", types.DiagnosticSeverity.Error)]
    shown = await _messages(session)
    assert [(m.type, m.message) for m in shown] == [
        (
            types.MessageType.Warning,
            f"kerasfix: invalid setting `select` in {path}: `select[1]` = \"KER999\" is not a rule code or"
            " prefix (no rule's code starts with KER999): that entry is ignored",
        ),
        (
            types.MessageType.Warning,
            f"kerasfix: invalid setting `severity.KER88` in {path}: \"KER88\" is not a rule code or prefix"
            " (no rule's code starts with KER88): that entry is ignored",
        ),
    ]
    # Shown once, not on every lint.
    version = session.change(uri, (2, 0), (2, 0), "x = 1\n")
    await session.diagnostics(uri, version)
    assert await _messages(session) == shown


async def test_a_pyproject_that_is_not_toml_is_shown_and_the_defaults_used(session):
    path = session.root / "pyproject.toml"
    path.write_text('[tool.kerasfix]\nignore = ["KER601"]\nselect = ["KER601"\n', encoding="utf-8")
    uri = session.open("train.py", SOURCE)
    # Nothing of the file applies (its `ignore` would hide KER601): the editor's settings over
    # the defaults, as without a pyproject.toml. The server goes on.
    assert [str(d.code) for d in await session.diagnostics(uri, 1)] == ["KER601"]
    shown = await _messages(session)
    assert [(m.type, m.message) for m in shown] == [
        (
            types.MessageType.Warning,
            f"kerasfix: invalid setting `tool.kerasfix`: cannot read {path}, line 4, column 1:"
            " not valid TOML: Unclosed array",
        )
    ]
