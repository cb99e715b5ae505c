"""Settings from the editor and from pyproject.toml, workspace commands, the command line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.uris import from_fs_path

from conftest import WAIT
from kerasfix.rules import Settings
from kerasfix.server.lsp_config import Configuration

SOURCE = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"


async def _republished(session, uri: str, after: int, matches, what: str) -> list[types.Diagnostic]:
    """The diagnostics of the first publication for `uri`, past the first `after` ones, that
    `matches`: the event that shows a changed setting has reached the server."""
    async def wait() -> list[types.Diagnostic]:
        while True:
            for params in session.published[after:]:
                if params.uri == uri and matches(list(params.diagnostics)):
                    return list(params.diagnostics)
            await asyncio.sleep(0.01)

    try:
        return await asyncio.wait_for(wait(), WAIT)
    except asyncio.TimeoutError:
        seen = [[(d.code, d.severity) for d in p.diagnostics] for p in session.published[after:] if p.uri == uri]
        raise AssertionError(f"no publication for {uri} with {what}; published since: {seen}") from None


async def _after_an_edit(session, uri: str) -> list[types.Diagnostic]:
    """The diagnostics of a new version of the document (a line added at its end): a lint
    scheduled after everything sent before it, so it shows the settings in force now."""
    line = session.texts[uri].count("\n")
    version = session.change(uri, (line, 0), (line, 0), "x = 1\n")
    return await session.diagnostics(uri, version)


def _severities(diagnostics: list[types.Diagnostic]) -> list[tuple[str, types.DiagnosticSeverity]]:
    return [(str(d.code), d.severity) for d in diagnostics]


async def test_configuration_change_relints_open_documents(session):
    uri = session.open("train.py", SOURCE)
    [diagnostic] = await session.diagnostics(uri, 1)
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    error = [("KER601", types.DiagnosticSeverity.Error)]
    count = len(session.published)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"kerasfix": {"select": ["KER601"], "severity": {"KER6": "error"}}})
    )
    # The open document is linted again without being edited.
    await _republished(session, uri, count, lambda found: _severities(found) == error, "KER601 as an error")
    assert _severities(await _after_an_edit(session, uri)) == error
    count = len(session.published)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"kerasfix": {"select": ["KER601"], "ignore": ["KER601"]}})
    )
    await _republished(session, uri, count, lambda found: found == [], "no diagnostics")
    assert await _after_an_edit(session, uri) == []


async def test_bad_settings_are_reported_and_the_rest_kept(session):
    uri = session.open("train.py", SOURCE)
    await session.diagnostics(uri, 1)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"kerasfix": {"select": ["KER601"], "targetBackends": ["theano"], "severity": {"KER601": "hint"}}}
        )
    )
    message = await _shown(session, "theano")
    assert message.startswith("kerasfix: invalid setting `targetBackends`")
    # The bad backend falls back to the default; the other settings of the change apply.
    assert _severities(await _after_an_edit(session, uri)) == [("KER601", types.DiagnosticSeverity.Hint)]


async def test_pyproject_change_relints(session):
    uri = session.open("train.py", SOURCE)
    assert len(await session.diagnostics(uri, 1)) == 1
    pyproject = session.root / "pyproject.toml"
    pyproject.write_text('[tool.kerasfix]\nignore = ["KER601"]\n', encoding="utf-8")
    count = len(session.published)
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=from_fs_path(str(pyproject)), type=types.FileChangeType.Created)]
        )
    )
    await _republished(session, uri, count, lambda found: found == [], "no diagnostics")
    assert await _after_an_edit(session, uri) == []


async def test_pyproject_watcher_registered_when_the_client_allows_it(session):
    # The server registers the watcher when it handles `initialized`, before it reads a
    # document opened afterwards: once that document's diagnostics have arrived, the request
    # to register has arrived before them, if there is one.
    uri = session.open("train.py", SOURCE)
    assert len(await session.diagnostics(uri, 1)) == 1
    watched = session.client.capabilities.workspace.did_change_watched_files
    methods = [r.method for r in session.registrations]
    if watched and watched.dynamic_registration:
        assert methods == [types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    else:
        assert methods == []


async def test_each_folder_uses_its_own_pyproject(session):
    # Two projects in the workspace: one targets TensorFlow only, the other ignores KER601.
    (session.root / "a").mkdir()
    (session.root / "b").mkdir()
    (session.root / "b" / "pyproject.toml").write_text('[tool.kerasfix]\nignore = ["KER601"]\n', encoding="utf-8")
    (session.root / "a" / "pyproject.toml").write_text('[tool.kerasfix]\nkeras-version = "3.0"\n', encoding="utf-8")
    first = session.open("a/train.py", SOURCE)
    second = session.open("b/train.py", SOURCE)
    assert len(await session.diagnostics(first, 1)) == 1
    assert await session.diagnostics(second, 1) == []


async def test_check_workspace_lints_every_file_with_progress(session):
    (session.root / "pkg").mkdir()
    (session.root / "pkg" / "one.py").write_text(SOURCE, encoding="utf-8")
    (session.root / "pkg" / "two.py").write_text("print('no keras here')\n", encoding="utf-8")
    (session.root / ".venv").mkdir()
    (session.root / ".venv" / "skip.py").write_text(SOURCE, encoding="utf-8")
    result = await asyncio.wait_for(
        session.client.workspace_execute_command_async(types.ExecuteCommandParams(command="kerasfix.checkWorkspace")),
        30,
    )
    assert result == {"files": 2, "findings": 1}
    published = {p.uri: list(p.diagnostics) for p in session.published}
    assert [d.code for d in published[session.uri("pkg/one.py")]] == ["KER601"]
    assert published[session.uri("pkg/two.py")] == []
    assert session.uri(".venv/skip.py") not in published
    window = session.client.capabilities.window
    if window and window.work_done_progress:
        [reports] = session.client.progress_reports.values()
        assert isinstance(reports[0], types.WorkDoneProgressBegin)
        assert isinstance(reports[-1], types.WorkDoneProgressEnd)
        assert [r.percentage for r in reports[1:-1]] == [50, 100]


def test_version_flag():
    out = subprocess.run([sys.executable, "-m", "kerasfix.server", "server", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("kerasfix ")


def test_main_accepts_the_cli_arguments(tmp_path: Path):
    log = tmp_path / "server.log"
    # No client: the server reads end-of-file on stdin and stops; the log file is written.
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "server", "--log-file", str(log), "--verbose"],
        input=b"", capture_output=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Starting: reading the editor's messages on stdin" in log.read_text(encoding="utf-8")


# ----- invalid settings: a message naming the problem, defaults for it, the rest applied -----


async def _shown(session, needle: str) -> str:
    async def wait() -> str:
        while True:
            for message in session.client.messages:
                if needle in message.message:
                    return message.message
            await asyncio.sleep(0.01)

    try:
        return await asyncio.wait_for(wait(), WAIT)
    except asyncio.TimeoutError:
        shown = [m.message for m in session.client.messages]
        raise AssertionError(f"no message naming {needle!r}; shown: {shown}") from None


@pytest.mark.options(
    {"select": ["KER601", "NOPE9"], "targetBackends": ["theano"], "severity": {"KER6": "error", "KER5": "loud"}}
)
async def test_bad_initialization_options_are_shown_and_the_rest_applied(session):
    uri = session.open("train.py", SOURCE)
    diagnostics = await session.diagnostics(uri, 1)
    # The bad code is dropped from `select` and the bad `severity` entry from its table: the
    # rest of each still applies.
    [lr] = diagnostics
    assert lr.code == "KER601" and lr.severity == types.DiagnosticSeverity.Error
    assert "loud" in await _shown(session, "`severity.KER5`")
    message = await _shown(session, "NOPE9")
    assert message.startswith("kerasfix: invalid setting `select`") and "unknown rule code" in message
    assert "theano" in await _shown(session, "targetBackends")
    shown = [m for m in session.client.messages if "NOPE9" in m.message]
    assert all(m.type == types.MessageType.Warning for m in shown)
    # Reported once, not once per lint.
    version = session.change(uri, (2, 0), (2, 0), "x = 1\n")
    await session.diagnostics(uri, version)
    assert len([m for m in session.client.messages if "NOPE9" in m.message]) == 1


async def test_bad_configuration_change_is_shown_and_the_rest_applied(session):
    uri = session.open("train.py", SOURCE)
    await session.diagnostics(uri, 1)
    count = len(session.published)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"kerasfix": {"select": ["KER601"], "kerasVersion": "three", "unsafeFixes": "yes", "severity": {"KER601": "hint"}}}
        )
    )
    hint = [("KER601", types.DiagnosticSeverity.Hint)]
    await _republished(session, uri, count, lambda found: _severities(found) == hint, "KER601 as a hint")
    assert _severities(await _after_an_edit(session, uri)) == hint
    assert "three" in await _shown(session, "`kerasVersion`")
    assert "yes" in await _shown(session, "`unsafeFixes`")


@pytest.mark.parametrize(
    "pyproject",
    [
        '[tool.kerasfix]\nselect = ["KER601"\n',  # not TOML
        "[tool.kerasfix]\nselect = 3\nunsafe-fixes = \"yes\"\n",  # wrong types
        "tool = 3  # [tool.kerasfix]\n",  # `tool` is not a table
        b"[tool.kerasfix]\n# caf\xe9\n",  # not UTF-8
    ],
    ids=["syntax", "types", "tool-not-a-table", "latin-1"],
)
async def test_malformed_pyproject_is_shown_and_defaults_used(session, pyproject):
    path = session.root / "pyproject.toml"
    if isinstance(pyproject, bytes):
        path.write_bytes(pyproject)
    else:
        path.write_text(pyproject, encoding="utf-8")
    uri = session.open("train.py", SOURCE)
    # The editor's `select` (KER601) still applies over the defaults.
    assert [d.code for d in await session.diagnostics(uri, 1)] == ["KER601"]
    message = await _shown(session, "pyproject.toml")
    assert message.startswith("kerasfix: invalid setting `")
    # Fixing the file (and saying so) clears nothing else and re-lints.
    path.write_text('[tool.kerasfix]\nignore = ["KER601"]\n', encoding="utf-8")
    count = len(session.published)
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=from_fs_path(str(path)), type=types.FileChangeType.Changed)]
        )
    )
    await _republished(session, uri, count, lambda found: found == [], "no diagnostics")
    assert await _after_an_edit(session, uri) == []


# ----- the editor's settings over pyproject.toml's, key by key --------------------------------


@pytest.mark.options({"severity": {"KER601": "error"}})
async def test_editor_settings_win_over_pyproject_for_the_same_key(session):
    project = session.root / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.kerasfix]\nseverity = { KER601 = "hint" }\nper-file-ignores = { "quiet.py" = ["KER601"] }\n',
        encoding="utf-8",
    )
    uri = session.open("proj/train.py", SOURCE)
    quiet = session.open("proj/quiet.py", SOURCE)
    # initializationOptions' `severity` over the pyproject's; the pyproject's other keys apply.
    assert _severities(await session.diagnostics(uri, 1)) == [("KER601", types.DiagnosticSeverity.Error)]
    assert await session.diagnostics(quiet, 1) == []
    # didChangeConfiguration's `severity` over the pyproject's.
    info = [("KER601", types.DiagnosticSeverity.Information)]
    count = len(session.published)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"kerasfix": {"select": ["KER601"], "severity": {"KER601": "info"}}})
    )
    await _republished(session, uri, count, lambda found: _severities(found) == info, "KER601 as information")
    assert _severities(await _after_an_edit(session, uri)) == info
    assert await _after_an_edit(session, quiet) == []
    # Without `severity` from the editor, the pyproject's applies.
    hint = [("KER601", types.DiagnosticSeverity.Hint)]
    count = len(session.published)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"kerasfix": {"select": ["KER601"]}})
    )
    await _republished(session, uri, count, lambda found: _severities(found) == hint, "KER601 as a hint")
    assert _severities(await _after_an_edit(session, uri)) == hint
    assert await _after_an_edit(session, quiet) == []
    # A file the pyproject does not cover keeps the default severity.
    other = session.open("elsewhere.py", SOURCE)
    assert _severities(await session.diagnostics(other, 1)) == [("KER601", types.DiagnosticSeverity.Warning)]


@pytest.mark.parametrize(
    "sent",
    [{"kerasfix": []}, {"settings": {"kerasfix": []}}, [], {"kerasfix": {"severity": [], "perFileIgnores": []}}],
    ids=["section", "vscode-shape", "whole", "table-settings"],
)
def test_an_empty_lua_table_sent_as_a_json_array_is_an_empty_table(sent):
    # Neovim encodes Lua's `{}` as `[]`: the shipped defaults must start without a warning.
    configuration = Configuration()
    configuration.set_editor(sent)
    settings, problems = configuration.settings_for(None)
    assert (settings, problems) == (Settings(), ())


def test_a_non_empty_array_for_a_table_setting_is_still_refused():
    configuration = Configuration()
    configuration.set_editor({"kerasfix": {"severity": ["KER601"]}})
    settings, problems = configuration.settings_for(None)
    assert settings == Settings()
    assert [str(p) for p in problems] == [
        'invalid setting `severity` in editor settings: expected a table such as { KER2 = "error" }; '
        "the setting is ignored"
    ]
