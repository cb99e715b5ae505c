"""The install command that the VS Code extension offers when it finds no server
(editors/vscode/src/server.ts, installCommand) works: run in a shell, with an empty HOME and paths
with spaces, it installs the wheel that `npm run wheel` bundles into the extension, and the
server lookup then finds kerasfix there and it runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EDITORS, require
from .vscode_server_ts import bundle_server_ts, lookup

EXTENSION = EDITORS / "vscode"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("install") / "a folder with spaces"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def bundle(root: Path) -> Path:
    return bundle_server_ts(root / "server.js")


@pytest.fixture(scope="module")
def wheel(root: Path) -> Path:
    """The wheel the extension's build bundles, copied where the extension's folder might be."""
    npm = require(shutil.which("npm"), "npm")
    run = subprocess.run([npm, "run", "wheel"], cwd=EXTENSION, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    built = sorted((EXTENSION / "bundled").iterdir())
    assert [p.name for p in built] == ["kerasfix-0.1.0-py3-none-any.whl"]
    kept = root / "kerasfix extension" / "bundled" / built[0].name
    kept.parent.mkdir(parents=True)
    shutil.copy(built[0], kept)
    return kept


def run_in_shell(command: str, home: Path) -> None:
    """The command as the extension's terminal runs it: python3 is this test run's Python. The
    tests share pip's download cache, outside their homes, so that the second one is faster."""
    cache = home.parent / "cache"
    env = {"HOME": str(home), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "XDG_CACHE_HOME": str(cache)}
    run = subprocess.run(["/bin/sh", "-c", command], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def assert_runs(kerasfix: str) -> None:
    version = subprocess.run([kerasfix, "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert (version.returncode, version.stdout) == (0, "kerasfix 0.1.0\n"), version.stderr


def test_without_an_interpreter_it_creates_the_venv_the_lookup_finds(bundle: Path, wheel: Path, root: Path) -> None:
    home = root / "home"
    home.mkdir()
    before = lookup(bundle, {}, [], home, wheel)
    assert before["missing"] == "kerasfix is not on PATH"
    run_in_shell(before["install"], home)

    venv = home / ".local" / "share" / "kerasfix" / "venv"
    found = lookup(bundle, {}, [], home, wheel)["found"]
    assert (found["command"], found["args"], found["origin"]) == (str(venv / "bin" / "kerasfix"), ["server"], str(venv))
    assert_runs(found["command"])


def test_with_an_interpreter_it_installs_into_its_environment(bundle: Path, wheel: Path, root: Path) -> None:
    home = root / "home of the interpreter test"
    home.mkdir()
    env = root / "project env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, capture_output=True, timeout=120)
    python = env / "bin" / "python"
    before = lookup(bundle, {"interpreter": str(python)}, [], home, wheel)
    assert before["missing"] == f"kerasfix is installed neither in the environment of {python} nor on PATH"
    run_in_shell(before["install"], home)

    found = lookup(bundle, {"interpreter": str(python)}, [], home, wheel)["found"]
    assert (found["command"], found["args"], found["python"]) == (str(env / "bin" / "kerasfix"), ["server"], str(python))
    assert_runs(found["command"])
