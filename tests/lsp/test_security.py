"""The server and the CLI never import or run the code they check, nor a command named in a
workspace file.

The workspace below is hostile: its module has side effects at import time, it shadows
`keras` and `tensorflow` with packages that have side effects too (and is on PYTHONPATH, and is
the server's working directory, where jedi looks first), and its pyproject.toml names an
executable as the Python to use and shell commands as settings. Each side effect would leave
a file in `markers/`.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = Path(tempfile.mkdtemp(prefix="kerasfix-untrusted-"))
MARKERS = ROOT / "markers"


def _leave(name: str) -> str:
    """Python that leaves a marker file when it runs."""
    return f"import pathlib; pathlib.Path({str(MARKERS / name)!r}).write_text('ran')\n"


TRAIN = (
    _leave("train-imported")
    + f"import os\nos.system({'touch ' + shlex.quote(str(MARKERS / 'train-os-system'))!r})\n"
    + "import tensorflow as tf\n"
    + "from tensorflow import keras\n"
    + "opt = tf.keras.optimizers.Adam(lr=1e-3)\n"
    + "total = tf.reduce_sum([1.0, 2.0])\n"
)


def _build_workspace() -> None:
    MARKERS.mkdir(exist_ok=True)
    (ROOT / "train.py").write_text(TRAIN, encoding="utf-8")
    for package in ("keras", "tensorflow", "jax"):
        (ROOT / package).mkdir(exist_ok=True)
        (ROOT / package / "__init__.py").write_text(_leave(f"{package}-imported"), encoding="utf-8")
    (ROOT / "keras" / "ops.py").write_text(_leave("keras-ops-imported") + "def sum(x): ...\n", encoding="utf-8")
    fake_python = ROOT / "python3"
    fake_python.write_text(f"#!/bin/sh\ntouch {shlex.quote(str(MARKERS / 'fake-python-ran'))}\nexec {shlex.quote(sys.executable)} \"$@\"\n")
    fake_python.chmod(0o755)
    touch = f"touch {MARKERS / 'pyproject-command'}"
    (ROOT / "pyproject.toml").write_text(
        "[tool.kerasfix]\n"
        f"pythonPath = {str(fake_python)!r}\n"
        f"python-path = {str(fake_python)!r}\n"
        f'exclude = ["$({touch})", "`{touch}`"]\n'
        f'select = ["KER", "; {touch}"]\n'
        f'keras-version = "$({touch})"\n',
        encoding="utf-8",
    )


_build_workspace()
SERVER = ["/bin/sh", "-c", f'cd {shlex.quote(str(ROOT))} && exec "$0" -m kerasfix.server server', sys.executable]
ENVIRONMENT = {**os.environ, "PYTHONPATH": str(ROOT)}


def _ran() -> list[str]:
    return sorted(p.name for p in MARKERS.iterdir())


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENVIRONMENT))
async def client(lsp_client: LanguageClient):
    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return types.ApplyWorkspaceEditResult(applied=False)

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual_studio_code"),
            root_uri=from_fs_path(str(ROOT)),
            workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(ROOT)), name="untrusted")],
            initialization_options={"select": ["KER"]},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_the_server_never_runs_the_workspace(client: LanguageClient):
    uri = from_fs_path(str(ROOT / "train.py"))
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=TRAIN))
    )
    await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 20)
    lines = TRAIN.splitlines()
    [row] = [n for n, line in enumerate(lines) if "reduce_sum" in line]
    # Hover looks up the counterpart (keras.ops.sum) with jedi; ask a few times, giving jedi's
    # first lookup time to finish.
    for _ in range(6):
        await client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(row, lines[row].index("reduce_sum") + 2))
        )
        await asyncio.sleep(0.5)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(0, 0), types.Position(0, 0)),
            context=types.CodeActionContext(diagnostics=[], only=["source.fixAll.kerasfix"]),
        )
    )
    assert actions  # the fix-all was computed, from the source alone
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="kerasfix.checkWorkspace"))
    assert result["files"] >= 1 and result["findings"] >= 1
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="kerasfix.fixAll", arguments=[uri]))
    await asyncio.sleep(1.0)
    assert _ran() == []


def test_the_cli_never_runs_the_workspace(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", ".", "--diff", "--unsafe-fixes"],
        cwd=ROOT, env=ENVIRONMENT, capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in result.stderr
    # The strange settings are reported as settings, not run.
    assert "invalid setting" in result.stderr
    assert "learning_rate" in result.stdout
    assert _ran() == []


def test_the_workspace_is_really_hostile():
    """The markers do appear when the workspace's code is run: the tests above can fail."""
    try:
        subprocess.run([sys.executable, "-c", "import keras.ops"], cwd=ROOT, env=ENVIRONMENT, check=True, timeout=60)
        subprocess.run([str(ROOT / "python3"), "-c", "pass"], check=True, timeout=60)
        assert _ran() == ["fake-python-ran", "keras-imported", "keras-ops-imported"]
    finally:
        for marker in MARKERS.iterdir():
            marker.unlink()
