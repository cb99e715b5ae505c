"""The server and the CLI never import or run the code they check, nor a command named in a
workspace file.

The workspace below is hostile: its module has side effects at import time and imports
`keras.ops`, `tensorflow` and `jax`, which the workspace shadows with packages that have side
effects too (and is on PYTHONPATH, and is the server's working directory, where jedi looks
first); the interpreter the editor names as `pythonPath` is a program of the workspace, whose
environment holds a `keras` with side effects of its own; and its pyproject.toml names that
program as the Python to use and shell commands as settings. Each side effect would leave a
file in `markers/`, and `test_the_workspace_is_really_hostile` shows that each of them does.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

WAIT = 20.0
# jedi's first lookup takes seconds, more on a loaded machine.
JEDI_WAIT = 120.0
# Every marker a side effect of the workspace leaves.
MARKERS = sorted(
    [
        "train-imported",
        "train-os-system",
        "keras-imported",
        "keras-ops-imported",
        "tensorflow-imported",
        "jax-imported",
        "fake-python-ran",
        "env-keras-ops-imported",
        "pyproject-command",
    ]
)
# The signature jedi reads, never runs, from the `pythonPath` environment's keras.
ENV_SIGNATURE = "sum(x, axis=None, keepdims=False)"


@dataclass(frozen=True)
class Workspace:
    root: Path
    markers: Path
    python: Path
    train: str
    environment: dict[str, str]
    # The settings of pyproject.toml that hold a shell command.
    commands: tuple[str, ...]

    def ran(self) -> list[str]:
        return sorted(p.name for p in self.markers.iterdir())


def _leave(markers: Path, name: str) -> str:
    """Python that leaves a marker file when it runs."""
    return f"import pathlib; pathlib.Path({str(markers / name)!r}).write_text('ran')\n"


def build_workspace(root: Path) -> Workspace:
    markers = root / "markers"
    markers.mkdir()
    train = (
        _leave(markers, "train-imported")
        + f"import os\nos.system({'touch ' + shlex.quote(str(markers / 'train-os-system'))!r})\n"
        + "import jax\n"
        + "import keras.ops\n"
        + "import tensorflow as tf\n"
        + "opt = tf.keras.optimizers.Adam(lr=1e-3)\n"
        + "total = tf.reduce_sum([1.0, 2.0])\n"
    )
    (root / "train.py").write_text(train, encoding="utf-8")
    for package in ("keras", "tensorflow", "jax"):
        (root / package).mkdir()
        (root / package / "__init__.py").write_text(_leave(markers, f"{package}-imported"), encoding="utf-8")
    (root / "keras" / "ops.py").write_text(_leave(markers, "keras-ops-imported") + "def sum(x): ...\n", encoding="utf-8")
    # The editor's `pythonPath`: a program that would leave a marker if it were run, in an
    # environment whose site-packages jedi may read.
    python = root / "venv" / "bin" / "python3"
    python.parent.mkdir(parents=True)
    python.write_text(f"#!/bin/sh\ntouch {shlex.quote(str(markers / 'fake-python-ran'))}\nexec {shlex.quote(sys.executable)} \"$@\"\n")
    python.chmod(0o755)
    site_keras = root / "venv" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages" / "keras"
    site_keras.mkdir(parents=True)
    (site_keras / "__init__.py").write_text("", encoding="utf-8")
    (site_keras / "ops.py").write_text(
        _leave(markers, "env-keras-ops-imported")
        + "def sum(x, axis=None, keepdims=False):\n    \"\"\"Sum of the elements.\"\"\"\n",
        encoding="utf-8",
    )
    touch = f"touch {markers / 'pyproject-command'}"
    commands = (f"$({touch})", f"`{touch}`", f"; {touch}")
    (root / "pyproject.toml").write_text(
        "[tool.kerasfix]\n"
        f"pythonPath = {str(python)!r}\n"
        f"python-path = {str(python)!r}\n"
        f'exclude = ["{commands[0]}", "{commands[1]}"]\n'
        f'select = ["KER", "{commands[2]}"]\n'
        f'keras-version = "{commands[0]}"\n',
        encoding="utf-8",
    )
    return Workspace(root, markers, python, train, {**os.environ, "PYTHONPATH": str(root)}, commands)


@pytest.fixture
def untrusted(tmp_path: Path) -> Workspace:
    root = tmp_path / "untrusted"
    root.mkdir()
    return build_workspace(root)


@pytest_asyncio.fixture
async def client(untrusted: Workspace):
    # `--verbose`: the server's debug log says when jedi has looked a name up.
    command = [
        "/bin/sh", "-c", f'cd {shlex.quote(str(untrusted.root))} && exec "$0" -m kerasfix.server server --verbose', sys.executable
    ]
    lsp_client = await ClientServerConfig(server_command=command, server_env=untrusted.environment).start()
    lsp_client.applied = []
    lsp_client.published = []
    lsp_client.publication = asyncio.Event()
    original = lsp_client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: types.PublishDiagnosticsParams) -> None:
        lsp_client.published.append(params)
        lsp_client.publication.set()
        original(params)

    lsp_client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    lsp_client.logged = asyncio.Event()
    original_log = lsp_client.protocol.fm.features[types.WINDOW_LOG_MESSAGE]

    def record_log(params: types.LogMessageParams) -> None:
        original_log(params)
        lsp_client.logged.set()

    lsp_client.protocol.fm.features[types.WINDOW_LOG_MESSAGE] = record_log

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        lsp_client.applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=False)

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    root_uri = from_fs_path(str(untrusted.root))
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual_studio_code"),
            root_uri=root_uri,
            workspace_folders=[types.WorkspaceFolder(uri=root_uri, name="untrusted")],
            initialization_options={"select": ["KER"], "pythonPath": str(untrusted.python)},
        )
    )
    yield lsp_client
    await lsp_client.shutdown_session()
    await lsp_client.stop()


async def _published(client: LanguageClient, uri: str, version: int) -> list[types.Diagnostic]:
    """The diagnostics published for `uri` at `version` (waits for them)."""
    while True:
        client.publication.clear()
        for params in client.published:
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)
        await client.publication.wait()


async def _logged(client: LanguageClient, text: str) -> None:
    """Wait until the server has logged a message containing `text`."""
    while True:
        client.logged.clear()
        if any(text in params.message for params in client.log_messages):
            return
        await client.logged.wait()


async def test_the_server_never_runs_the_workspace(client: LanguageClient, untrusted: Workspace):
    uri = from_fs_path(str(untrusted.root / "train.py"))
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=untrusted.train))
    )
    diagnostics = await asyncio.wait_for(_published(client, uri, 1), WAIT)
    # Linted with the editor's settings: the workspace's select (with a command in it) is invalid.
    assert [d.code for d in diagnostics] == ["KER107", "KER101", "KER601", "KER225"]
    lines = untrusted.train.splitlines()
    [row] = [n for n, line in enumerate(lines) if "reduce_sum" in line]
    # Hover looks up the counterpart (keras.ops.sum) with jedi, in the `pythonPath` environment;
    # the server looks it up once initialized, and logs when jedi has found it.
    await asyncio.wait_for(_logged(client, "jedi looked up keras.ops.sum: a signature"), JEDI_WAIT)
    at_reduce_sum = types.Position(row, lines[row].index("reduce_sum") + 2)
    found = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), at_reduce_sum)), WAIT)
    hover = found.contents.value
    assert hover.startswith("**`tf.reduce_sum`** → Keras 3: **`keras.ops.sum`**")
    assert f"```python\n{ENV_SIGNATURE}\n```\nSum of the elements." in hover
    actions = await asyncio.wait_for(
        client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri),
                range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                context=types.CodeActionContext(diagnostics=[], only=["source.fixAll.kerasfix"]),
            )
        ),
        WAIT,
    )
    # The fix-all, computed from the source alone: the safe fixes of KER101 and KER601.
    [opt_row] = [n for n, line in enumerate(lines) if line.startswith("opt = ")]
    old = "tf.keras.optimizers.Adam(lr"
    expected_edit = types.WorkspaceEdit(
        document_changes=(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=1),
                edits=(
                    types.TextEdit(
                        range=types.Range(types.Position(opt_row, 6), types.Position(opt_row, 6 + len(old))),
                        new_text="keras.optimizers.Adam(learning_rate",
                    ),
                ),
            ),
        )
    )
    assert list(actions) == [types.CodeAction(title="Fix all kerasfix problems", kind="source.fixAll.kerasfix", edit=expected_edit)]
    result = await asyncio.wait_for(
        client.workspace_execute_command_async(types.ExecuteCommandParams(command="kerasfix.checkWorkspace")), WAIT
    )
    # train.py and the three shadowing packages' modules; the `venv` folder is not checked.
    assert result == {"files": 5, "findings": len(diagnostics)}
    applied = await asyncio.wait_for(
        client.workspace_execute_command_async(types.ExecuteCommandParams(command="kerasfix.fixAll", arguments=[uri])), WAIT
    )
    assert applied == {"applied": False}  # this client refuses the edit
    assert [a.edit for a in client.applied] == [expected_edit]
    # Each answer above came after the work that would have run the workspace's code: the lint
    # (with the pyproject settings), jedi's lookup in the `pythonPath` environment, the fix-all
    # and the workspace check.
    assert untrusted.ran() == []


def test_the_cli_never_runs_the_workspace(untrusted: Workspace):
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", ".", "--diff", "--unsafe-fixes"],
        cwd=untrusted.root, env=untrusted.environment, capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in result.stderr
    # The strange settings are reported as settings, not run (the exclude patterns are valid
    # patterns, matching no file).
    invalid = re.findall(r"invalid setting `([^`]+)`", result.stderr)
    assert invalid == ["pythonPath", "python-path", "select", "keras-version"]
    assert result.stderr.endswith("Would fix 4 errors in 1 file.\n")
    changed = [line for line in result.stdout.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        "-import tensorflow as tf",
        "-opt = tf.keras.optimizers.Adam(lr=1e-3)",
        "-total = tf.reduce_sum([1.0, 2.0])",
        "+opt = keras.optimizers.Adam(learning_rate=1e-3)",
        "+total = keras.ops.sum([1.0, 2.0])",
    ]
    assert result.returncode == 1
    assert untrusted.ran() == []


def test_the_workspace_is_really_hostile(untrusted: Workspace):
    """Every marker appears when what the workspace holds is run: the tests above can fail."""
    root, environment = untrusted.root, untrusted.environment
    # The module, run as the server would import it, imports the shadowing packages; it stops
    # at `tf.keras`, which the shadowing tensorflow lacks.
    run = subprocess.run([sys.executable, "-c", "import train"], cwd=root, env=environment, capture_output=True, text=True, timeout=60)
    assert "AttributeError: module 'tensorflow' has no attribute 'keras'" in run.stderr
    # The `pythonPath` interpreter, run, and its environment's keras, imported by it.
    [site_packages] = (root / "venv" / "lib").glob("python*/site-packages")
    subprocess.run([str(untrusted.python), "-c", "import keras.ops"], cwd=untrusted.markers,
                   env={**os.environ, "PYTHONPATH": str(site_packages)}, check=True, timeout=60)
    # Each command of pyproject.toml's settings, given to a shell.
    for command in untrusted.commands:
        assert command in (root / "pyproject.toml").read_text(encoding="utf-8")
        (untrusted.markers / "pyproject-command").unlink(missing_ok=True)
        subprocess.run(["/bin/sh", "-c", f"echo {command}"], check=True, capture_output=True, timeout=60)
        assert (untrusted.markers / "pyproject-command").exists(), command
    assert untrusted.ran() == MARKERS
