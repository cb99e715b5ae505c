"""Hostile workspaces, stand-in virtual environments and a server started inside a workspace,
for the tests that prove no setting and no workspace file makes the server run code.

Every side effect leaves a file in the workspace's `markers/` folder."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from contextlib import asynccontextmanager
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

CACHE = Path(os.environ.get("KERASFIX_TEST_CACHE", Path.home() / ".cache" / "kerasfix-tests"))
# The jedi releases the server must be safe with (pyproject.toml allows exactly these series).
JEDI_VERSIONS = ("0.19.2", "0.20.0")
# The signature of the stub `keras.ops.sum` that stand-in environments ship.
STUB_SIGNATURE = "sum(x, axis=None, stub_only_argument=0)"
STUB_OPS = f'def {STUB_SIGNATURE}:\n    """Stub sum, found by reading the file."""\n'
TRAIN = "import tensorflow as tf\n\ntotal = tf.reduce_sum(x)\n"
REDUCE_SUM = types.Position(2, TRAIN.splitlines()[2].index("reduce_sum") + 2)


def jedi_folder(version: str) -> Path:
    """A folder holding jedi `version` (and its parso), installed from PyPI on first use, to put
    first on a server's PYTHONPATH; the test environment's own jedi is left alone."""
    folder = CACHE / f"jedi-{version}"
    if not (folder / "jedi" / "__init__.py").is_file():
        partial = folder.with_name(folder.name + ".partial")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-conflicts",
             "--upgrade", "--target", str(partial), f"jedi=={version}"],
            check=True, timeout=600,
        )
        shutil.rmtree(folder, ignore_errors=True)  # what an interrupted install left
        partial.replace(folder)
    return folder


def leave_marker(markers: Path, name: str) -> str:
    """Python source that leaves the marker `name` when it runs."""
    return f"import pathlib; pathlib.Path({str(markers / name)!r}).write_text('ran')\n"


def marker_program(path: Path, markers: Path, name: str) -> Path:
    """An executable that leaves the marker `name` and fails, as a stand-in interpreter."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\ntouch {shlex.quote(str(markers / name))}\nexit 1\n")
    path.chmod(0o755)
    return path


def stub_environment(root: Path, python: Path | None = None) -> Path:
    """A virtual environment's layout (pyvenv.cfg, bin/python, lib/pythonX.Y/site-packages)
    whose site-packages has a pure-Python `keras.ops` stub. `python` is what bin/python links
    to; without it, bin/python must be written by the caller. Returns bin/python."""
    version = sysconfig.get_python_version()
    (root / "pyvenv.cfg").parent.mkdir(parents=True, exist_ok=True)
    (root / "pyvenv.cfg").write_text(
        f"home = {Path(sys.executable).parent}\ninclude-system-site-packages = false\nversion = {sys.version.split()[0]}\n"
    )
    keras = root / "lib" / f"python{version}" / "site-packages" / "keras"
    keras.mkdir(parents=True, exist_ok=True)
    (keras / "__init__.py").write_text("")
    (keras / "ops.py").write_text(STUB_OPS)
    binary = root / "bin" / "python"
    binary.parent.mkdir(parents=True, exist_ok=True)
    if python is not None:
        binary.symlink_to(python)
    return binary


def hostile_workspace(root: Path) -> Path:
    """A workspace whose own `keras` package leaves a marker when imported, with an empty
    `keras/ops.so` (an extension module jedi would import to inspect it) and a
    `.jedi/project.json` that asks jedi to load such extensions and to run a program of the
    workspace as its Python. Returns its markers folder."""
    markers = root / "markers"
    markers.mkdir(parents=True)
    (root / "keras").mkdir()
    (root / "keras" / "__init__.py").write_text(leave_marker(markers, "keras-imported"))
    (root / "keras" / "ops.so").write_bytes(b"")
    fake_python = marker_program(root / "tools" / "python", markers, "jedi-project-python-ran")
    (root / ".jedi").mkdir()
    project = {
        "path": str(root),
        "environment_path": str(fake_python),
        "load_unsafe_extensions": True,
        "sys_path": [str(root)],
        "added_sys_path": [str(root)],
        "smart_sys_path": True,
    }
    (root / ".jedi" / "project.json").write_text(json.dumps([1, project]))
    (root / "train.py").write_text(TRAIN)
    return markers


def ran(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir())


def server_environment(jedi: Path | None, workspace: Path) -> dict[str, str]:
    """The server's environment: `jedi` first on PYTHONPATH, then the workspace itself (as a
    user whose shell adds the project folder would have it)."""
    folders = [str(jedi)] if jedi else []
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*folders, str(workspace)])}


@asynccontextmanager
async def server_in(workspace: Path, env: dict[str, str], options: dict | None = None):
    """A client of `kerasfix server` started with `workspace` as its working directory."""
    # `--verbose`: the server logs to the client when jedi has looked a name up.
    command = ["/bin/sh", "-c", f'cd {shlex.quote(str(workspace))} && exec "$0" -m kerasfix.server server --verbose', sys.executable]
    client = await ClientServerConfig(server_command=command, server_env=env).start()

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual_studio_code"),
                root_uri=from_fs_path(str(workspace)),
                workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(workspace)), name="untrusted")],
                initialization_options=options or {},
            )
        )
        yield client
    finally:
        await client.shutdown_session()
        await client.stop()


def open_train(client: LanguageClient, workspace: Path) -> str:
    uri = from_fs_path(str(workspace / "train.py"))
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=TRAIN))
    )
    return uri


# The name whose signature a hover on `tf.reduce_sum` shows, looked up by jedi at startup.
LOOKED_UP = "jedi looked up keras.ops.sum:"
# How long jedi may take over its first lookup on a busy machine.
LOOKUP_WAIT = 120.0


async def hover_after_lookup(client: LanguageClient, uri: str) -> str:
    """The text of a hover on `tf.reduce_sum` (whose counterpart is `keras.ops.sum`) once jedi
    has finished looking `keras.ops.sum` up (the server logs it): with its signature if jedi
    found one."""

    async def looked_up() -> None:
        while not any(LOOKED_UP in message.message for message in client.log_messages):
            await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)

    try:
        await asyncio.wait_for(looked_up(), LOOKUP_WAIT)
    except asyncio.TimeoutError:
        raise AssertionError(f"the server did not log {LOOKED_UP!r} within {LOOKUP_WAIT:g} s") from None
    hover = await asyncio.wait_for(
        client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), REDUCE_SUM)), 30
    )
    return hover.contents.value if hover else ""
