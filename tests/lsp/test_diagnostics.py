"""Diagnostics: on open, after incremental edits, on close, in the client's position encoding."""

from __future__ import annotations

from lsprotocol import types



OPTIMIZER = "import tensorflow as tf\n\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"


async def test_open_publishes_findings_with_everything_an_editor_shows(session):
    uri = session.open("train.py", OPTIMIZER)
    [diagnostic] = await session.diagnostics(uri, 1)
    assert diagnostic.code == "KER601"
    assert diagnostic.source == "kerasfix"
    assert diagnostic.range == types.Range(types.Position(2, 31), types.Position(2, 38))
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert list(diagnostic.tags) == [types.DiagnosticTag.Deprecated]
    assert diagnostic.code_description.href.endswith("/ker601-optimizer-lr-argument/")
    assert diagnostic.data["fix"]["safe"] is True
    assert diagnostic.data["fix"]["edits"] == [[2, 31, 2, 33, "learning_rate"]]


async def test_incremental_edits_update_and_close_clears(session):
    uri = session.open("train.py", OPTIMIZER)
    assert len(await session.diagnostics(uri, 1)) == 1
    # Rename the keyword by hand: the finding goes away.
    version = session.change(uri, (2, 31), (2, 33), "learning_rate")
    assert await session.diagnostics(uri, version) == []
    # Add a second optimizer with `lr=` on a new line.
    version = session.change(uri, (3, 0), (3, 0), "sgd = tf.keras.optimizers.SGD(lr=0.1)\n")
    [diagnostic] = await session.diagnostics(uri, version)
    assert diagnostic.range == types.Range(types.Position(3, 30), types.Position(3, 36))
    session.client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await session.cleared(uri)


async def test_save_relints(session):
    uri = session.open("train.py", OPTIMIZER)
    await session.diagnostics(uri, 1)
    count = len(session.published)
    session.client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
    # The save produced a publication of its own, for the same version.
    await session.wait_published(count)
    assert session.published[-1].version == 1
    assert [d.code for d in session.published[-1].diagnostics] == ["KER601"]


# CJK text (one UTF-16 unit, three UTF-8 bytes each) and an emoji (two UTF-16 units, four
# UTF-8 bytes) before the finding on the same line.
WIDE = 'import tensorflow as tf\nopt = ("数据😀", tf.keras.optimizers.Adam(lr=1e-3))\n'


async def test_columns_on_cjk_and_emoji_lines_follow_the_negotiated_encoding(session):
    uri = session.open("wide.py", WIDE)
    [diagnostic] = await session.diagnostics(uri, 1)
    line = WIDE.splitlines()[1]
    start = line.index("lr=")
    prefix = line[:start]
    if session.encoding == "utf-8":
        expected = len(prefix.encode("utf-8"))
    else:
        assert session.encoding == "utf-16"
        expected = len(prefix.encode("utf-16-le")) // 2
    assert diagnostic.range.start == types.Position(1, expected)
    assert diagnostic.range.end == types.Position(1, expected + len("lr=1e-3"))
    # The fix edits exactly the keyword.
    [action] = [a for a in await session.code_actions(uri, [diagnostic]) if getattr(a, "is_preferred", False)]
    assert session.apply(uri, action.edit) == WIDE.replace("lr=", "learning_rate=")


async def test_encoding_is_utf8_when_offered_else_utf16(session):
    offered = session.client.capabilities.general and session.client.capabilities.general.position_encodings
    assert session.encoding == ("utf-8" if offered and "utf-8" in offered else "utf-16")


async def test_edit_after_wide_characters_lands_on_the_right_characters(session):
    uri = session.open("wide.py", WIDE)
    await session.diagnostics(uri, 1)
    line = WIDE.splitlines()[1]
    column = line.index("lr=")
    units = len(line[:column].encode("utf-8")) if session.encoding == "utf-8" else len(line[:column].encode("utf-16-le")) // 2
    # Replace `lr` (two ASCII characters after the wide ones) by `learning_rate`.
    version = session.change(uri, (1, units), (1, units + 2), "learning_rate")
    assert await session.diagnostics(uri, version) == []
    assert "learning_rate=1e-3" in session.texts[uri]


async def test_syntax_error_mid_edit_keeps_other_findings_then_recovers(session):
    text = (
        "import tensorflow as tf\n"
        "\n"
        "def build():\n"
        "    return tf.keras.optimizers.Adam(lr=1e-3)\n"
        "\n"
        "def other():\n"
        "    return 1\n"
    )
    uri = session.open("half.py", text)
    [before] = await session.diagnostics(uri, 1)
    # Start typing a call in `other`, then an unclosed bracket above the finding.
    version = session.change(uri, (0, 0), (0, 0), "x = (\n")
    diagnostics = await session.diagnostics(uri, version)
    codes = sorted(d.code for d in diagnostics)
    assert codes == ["KER001", "KER601"]
    [kept] = [d for d in diagnostics if d.code == "KER601"]
    # The kept finding moved down by the inserted line.
    assert kept.range.start == types.Position(before.range.start.line + 1, before.range.start.character)
    [syntax] = [d for d in diagnostics if d.code == "KER001"]
    assert syntax.severity == types.DiagnosticSeverity.Error
    # Close the bracket: fresh findings replace the carried ones.
    version = session.change(uri, (0, 5), (0, 5), ")")
    [after] = await session.diagnostics(uri, version)
    assert after.code == "KER601"
    assert after.range.start.line == before.range.start.line + 1


async def test_a_flood_of_quick_edits_ends_with_the_last_version_only(session):
    uri = session.open("flood.py", "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n")
    await session.diagnostics(uri, 1)
    published_before = len(session.published)
    version = 1
    for index in range(200):
        version = session.change(uri, (2, 0), (2, 0), f"x{index} = {index}\n")
    diagnostics = await session.diagnostics(uri, version)
    assert [d.code for d in diagnostics] == ["KER601"]
    last_text = session.texts[uri]
    # One more edit: once its own publication has arrived, nothing of the flood can follow.
    probe = session.change(uri, (0, 0), (0, 0), "# checked\n")
    [probed] = await session.diagnostics(uri, probe)
    assert probed.range.start.line == diagnostics[0].range.start.line + 1
    flood = [p for p in session.published[published_before:] if p.uri == uri]
    # Each lint is published once, versions only go up, and the last version of the flood is
    # published before the probe's and nothing after it.
    versions = [p.version for p in flood]
    assert versions == sorted(set(versions))
    assert versions[-2:] == [version, probe]
    # What was published for the last version is what a fresh lint of its text finds.
    fresh = session.open("fresh.py", last_text)
    assert await session.diagnostics(fresh, 1) == diagnostics
