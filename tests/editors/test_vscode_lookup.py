"""How the VS Code extension finds the server (editors/vscode/src/server.ts), run in Node with a
stand-in for the vscode module: the kerasfix.path setting, else kerasfix in the interpreter's
environment (the script beside it, else `python -m kerasfix.server`), else PATH, else a message
with the install command."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import EDITORS, require

HERE = Path(__file__).parent / "vscode"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    esbuild = EDITORS / "vscode" / "node_modules" / ".bin" / "esbuild"
    require(esbuild, "esbuild (the extension's npm dependencies)")
    out = tmp_path_factory.mktemp("lookup") / "server.js"
    run = subprocess.run(
        [str(esbuild), str(EDITORS / "vscode" / "src" / "server.ts"), "--bundle", "--platform=node", "--format=cjs",
         f"--alias:vscode={HERE / 'fake_vscode.js'}", f"--outfile={out}"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return out


def executable(path: Path, body: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(0o755)
    return path


def lookup(bundle: Path, settings: dict, path_folders: list[Path]) -> dict:
    node = require(shutil.which("node"), "Node.js")
    scenario = {"settings": {"kerasfix": settings, "python": {}}, "workspaceFolder": None}
    env = {"PATH": ":".join(map(str, path_folders)) or "/nonexistent"}
    run = subprocess.run([node, str(HERE / "lookup.js"), str(bundle), json.dumps(scenario)], env=env, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_path_setting_comes_first(bundle: Path, tmp_path: Path) -> None:
    chosen = executable(tmp_path / "custom" / "kerasfix")
    executable(tmp_path / "on-path" / "kerasfix")
    found = lookup(bundle, {"path": str(chosen)}, [tmp_path / "on-path"])["found"]
    assert (found["command"], found["args"]) == (str(chosen), ["server"])


def test_a_path_setting_that_is_not_executable_is_reported(bundle: Path, tmp_path: Path) -> None:
    executable(tmp_path / "on-path" / "kerasfix")
    result = lookup(bundle, {"path": str(tmp_path / "missing")}, [tmp_path / "on-path"])
    assert "found" not in result
    assert str(tmp_path / "missing") in result["missing"]


def test_the_script_beside_the_interpreter(bundle: Path, tmp_path: Path) -> None:
    python = executable(tmp_path / "venv" / "bin" / "python")
    script = executable(tmp_path / "venv" / "bin" / "kerasfix")
    executable(tmp_path / "on-path" / "kerasfix")
    found = lookup(bundle, {"interpreter": str(python)}, [tmp_path / "on-path"])["found"]
    assert (found["command"], found["args"], found["python"]) == (str(script), ["server"], str(python))


def test_the_interpreter_runs_the_module_when_kerasfix_imports(bundle: Path, tmp_path: Path) -> None:
    python = executable(tmp_path / "env" / "python")  # exits 0: `import kerasfix.server` works
    found = lookup(bundle, {"interpreter": str(python)}, [])["found"]
    assert (found["command"], found["args"]) == (str(python), ["-m", "kerasfix.server", "server"])


def test_path_when_the_interpreter_has_no_kerasfix(bundle: Path, tmp_path: Path) -> None:
    python = executable(tmp_path / "env" / "python", "#!/bin/sh\nexit 1\n")
    on_path = executable(tmp_path / "on-path" / "kerasfix")
    found = lookup(bundle, {"interpreter": str(python)}, [tmp_path / "on-path"])["found"]
    assert (found["command"], found["origin"]) == (str(on_path), "PATH")


def test_nothing_found_says_how_to_install(bundle: Path, tmp_path: Path) -> None:
    python = executable(tmp_path / "env" / "python", "#!/bin/sh\nexit 1\n")
    result = lookup(bundle, {"interpreter": str(python)}, [tmp_path / "empty"])
    assert result["missing"] == f"kerasfix is installed neither in the environment of {python} nor on PATH"
    assert result["install"] == f"{python} -m pip install kerasfix"
    bare = lookup(bundle, {}, [tmp_path / "empty"])
    assert bare["missing"] == "kerasfix is not on PATH"
    assert bare["install"] == "python3 -m pip install kerasfix"
