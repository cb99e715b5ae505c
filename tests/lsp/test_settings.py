"""Settings from the editor and from pyproject.toml, workspace commands, the command line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.uris import from_fs_path

SOURCE = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"


async def test_configuration_change_relints_open_documents(session):
    uri = session.open("train.py", SOURCE)
    [diagnostic] = await session.diagnostics(uri, 1)
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    count = len(session.published)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"kerasfix": {"select": ["KER601"], "severity": {"KER6": "error"}}})
    )
    await session.wait_published(count)
    [diagnostic] = session.published[-1].diagnostics
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    count = len(session.published)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"kerasfix": {"select": ["KER601"], "ignore": ["KER601"]}})
    )
    await session.wait_published(count)
    assert list(session.published[-1].diagnostics) == []


async def test_bad_settings_are_reported_and_the_rest_kept(session):
    uri = session.open("train.py", SOURCE)
    await session.diagnostics(uri, 1)
    count = len(session.published)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"kerasfix": {"select": ["KER601"], "targetBackends": ["theano"]}})
    )
    await session.wait_published(count)
    assert len(session.published[-1].diagnostics) == 1
    assert any("theano" in message.message for message in session.client.messages)


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
    await session.wait_published(count)
    assert list(session.published[-1].diagnostics) == []


async def test_pyproject_watcher_registered_when_the_client_allows_it(session):
    await asyncio.sleep(0.2)
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

    return await asyncio.wait_for(wait(), 20)


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
    await session.wait_published(count)
    [diagnostic] = session.published[-1].diagnostics
    assert diagnostic.severity == types.DiagnosticSeverity.Hint
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
    await session.wait_published(count)
    assert list(session.published[-1].diagnostics) == []
