"""The VS Code extension in an untrusted workspace (Restricted Mode): no setting of the
workspace, and nothing inside its folder, chooses the program the extension runs.

The manifest declares the settings that name a program as restricted (VS Code then reads them
from the user's settings only), and the server lookup (editors/vscode/src/server.ts, run in Node
with a stand-in for the vscode module that applies those declarations as VS Code does, and is
the only source of settings) ignores the Python extension's settings and `${workspaceFolder}`
there."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import EDITORS, require

HERE = Path(__file__).parent / "vscode"
MANIFEST = EDITORS / "vscode" / "package.json"
# Words with which a setting says it names something to run.
NAMES_A_PROGRAM = re.compile(r"path|program|interpreter|executable|binary|command", re.IGNORECASE)


def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def test_settings_that_name_a_program_are_restricted_in_untrusted_workspaces() -> None:
    declared = manifest()
    settings = declared["contributes"]["configuration"]["properties"]
    naming_a_program = {
        key for key, schema in settings.items()
        if NAMES_A_PROGRAM.search(key) or NAMES_A_PROGRAM.search(schema.get("markdownDescription", schema.get("description", "")))
    }
    assert {"kerasfix.path", "kerasfix.interpreter"} <= naming_a_program  # the check sees them
    untrusted = declared["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] == "limited"
    assert untrusted["description"]
    assert naming_a_program <= set(untrusted["restrictedConfigurations"]) <= set(settings)


def test_virtual_workspaces_are_declared_unsupported() -> None:
    """The server is a local process reading files from disk: a virtual file system gives it nothing."""
    virtual = manifest()["capabilities"]["virtualWorkspaces"]
    assert virtual["supported"] is False
    assert virtual["description"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    esbuild = EDITORS / "vscode" / "node_modules" / ".bin" / "esbuild"
    require(esbuild, "esbuild (the extension's npm dependencies)")
    out = tmp_path_factory.mktemp("trust") / "server.js"
    run = subprocess.run(
        [str(esbuild), str(EDITORS / "vscode" / "src" / "server.ts"), "--bundle", "--platform=node", "--format=cjs",
         f"--alias:vscode={HERE / 'fake_vscode_trust.js'}", f"--outfile={out}"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return out


# What the extension's launcher answers when asked whether it can run the server.
PROBE_ANSWER = json.dumps({"origin": "bundled", "kerasfix": "0.1.0", "location": "/bundle/kerasfix", "python": "python", "note": ""})


def program(path: Path, marker: Path) -> Path:
    """A program that leaves `marker` and answers as a Python running the launcher would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\ntouch '{marker}'\necho '{PROBE_ANSWER}'\n")
    path.chmod(0o755)
    return path


def lookup(bundle: Path, *, trusted: bool, user: dict, workspace: dict, folder: Path) -> dict:
    node = require(shutil.which("node"), "Node.js")
    scenario = {
        "trusted": trusted, "manifest": str(MANIFEST), "user": user, "workspace": workspace, "workspaceFolder": str(folder),
        # No system location: the machine's own Python would be found.
        "extensionPath": str(EDITORS / "vscode"), "fallbackPythons": [],
    }
    run = subprocess.run(
        [node, str(HERE / "lookup.js"), str(bundle), json.dumps(scenario)],
        env={"PATH": "/nonexistent"}, capture_output=True, text=True, timeout=30,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "workspace").mkdir()
    return tmp_path / "workspace"


def test_workspace_settings_naming_programs_are_not_run_untrusted(bundle: Path, folder: Path) -> None:
    marker = folder / "RAN"
    workspace = {
        "kerasfix": {"path": str(program(folder / "bin" / "kerasfix", marker)), "interpreter": str(program(folder / "bin" / "python", marker))},
        "python": {"defaultInterpreterPath": str(program(folder / "venv" / "bin" / "python", marker))},
    }
    result = lookup(bundle, trusted=False, user={}, workspace=workspace, folder=folder)
    assert "found" not in result  # the workspace's kerasfix.path would be started as the server
    assert not marker.exists()  # the interpreters would be run to look for kerasfix
    assert result["missing"] == "no Python interpreter found: kerasfix needs Python 3.10 or newer"


def test_a_user_setting_pointing_into_an_untrusted_workspace_is_refused(bundle: Path, folder: Path) -> None:
    marker = folder / "RAN"
    program(folder / ".venv" / "bin" / "python", marker)
    user = {"kerasfix": {"interpreter": "${workspaceFolder}/.venv/bin/python"}, "python": {}}
    result = lookup(bundle, trusted=False, user=user, workspace={}, folder=folder)
    assert "found" not in result
    assert not marker.exists()
    assert result["missing"] == "kerasfix.interpreter names a program in the workspace folder, which is not trusted"


def test_user_settings_still_choose_the_server_untrusted(bundle: Path, folder: Path, tmp_path: Path) -> None:
    python = program(tmp_path / "user-env" / "bin" / "python", tmp_path / "RAN")
    result = lookup(bundle, trusted=False, user={"kerasfix": {"interpreter": str(python)}, "python": {}}, workspace={}, folder=folder)
    assert result["found"]["command"] == str(python)


def test_a_trusted_workspace_chooses_its_server(bundle: Path, folder: Path) -> None:
    python = program(folder / ".venv" / "bin" / "python", folder / "RAN")
    workspace = {"kerasfix": {"interpreter": "${workspaceFolder}/.venv/bin/python"}, "python": {}}
    result = lookup(bundle, trusted=True, user={}, workspace=workspace, folder=folder)
    assert result["found"]["command"] == str(python)
