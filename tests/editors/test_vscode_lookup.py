"""How the VS Code extension finds the server (editors/vscode/src/server.ts), run in Node with a
stand-in for the vscode module: the kerasfix.path setting, else kerasfix in the interpreter's
environment (the script beside it, else `python -m kerasfix.server`), else PATH, else the
extension's own virtual environment, else a message with the install command."""

from __future__ import annotations

from pathlib import Path

import pytest

from .vscode_server_ts import bundle_server_ts
from .vscode_server_ts import lookup as run_lookup

WHEEL = Path("/opt/kerasfix for vscode/bundled/kerasfix-0.1.0-py3-none-any.whl")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundle_server_ts(tmp_path_factory.mktemp("lookup") / "server.js")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def executable(path: Path, body: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(0o755)
    return path


def lookup(bundle: Path, settings: dict, path_folders: list[Path], home: Path) -> dict:
    return run_lookup(bundle, settings, path_folders, home, WHEEL)


def test_the_path_setting_comes_first(bundle: Path, tmp_path: Path, home: Path) -> None:
    chosen = executable(tmp_path / "custom" / "kerasfix")
    executable(tmp_path / "on-path" / "kerasfix")
    found = lookup(bundle, {"path": str(chosen)}, [tmp_path / "on-path"], home)["found"]
    assert (found["command"], found["args"]) == (str(chosen), ["server"])


def test_a_path_setting_that_is_not_executable_is_reported(bundle: Path, tmp_path: Path, home: Path) -> None:
    executable(tmp_path / "on-path" / "kerasfix")
    result = lookup(bundle, {"path": str(tmp_path / "missing")}, [tmp_path / "on-path"], home)
    assert "found" not in result
    assert str(tmp_path / "missing") in result["missing"]


def test_the_script_beside_the_interpreter(bundle: Path, tmp_path: Path, home: Path) -> None:
    python = executable(tmp_path / "venv" / "bin" / "python")
    script = executable(tmp_path / "venv" / "bin" / "kerasfix")
    executable(tmp_path / "on-path" / "kerasfix")
    found = lookup(bundle, {"interpreter": str(python)}, [tmp_path / "on-path"], home)["found"]
    assert (found["command"], found["args"], found["python"]) == (str(script), ["server"], str(python))


def test_the_interpreter_runs_the_module_when_kerasfix_imports(bundle: Path, tmp_path: Path, home: Path) -> None:
    python = executable(tmp_path / "env" / "python")  # exits 0: `import kerasfix.server` works
    found = lookup(bundle, {"interpreter": str(python)}, [], home)["found"]
    assert (found["command"], found["args"]) == (str(python), ["-m", "kerasfix.server", "server"])


def test_path_when_the_interpreter_has_no_kerasfix(bundle: Path, tmp_path: Path, home: Path) -> None:
    python = executable(tmp_path / "env" / "python", "#!/bin/sh\nexit 1\n")
    on_path = executable(tmp_path / "on-path" / "kerasfix")
    found = lookup(bundle, {"interpreter": str(python)}, [tmp_path / "on-path"], home)["found"]
    assert (found["command"], found["origin"]) == (str(on_path), "PATH")


def test_the_extensions_own_venv_after_path(bundle: Path, tmp_path: Path, home: Path) -> None:
    venv = home / ".local" / "share" / "kerasfix" / "venv"
    installed = executable(venv / "bin" / "kerasfix")
    found = lookup(bundle, {}, [tmp_path / "empty"], home)["found"]
    assert (found["command"], found["args"], found["origin"]) == (str(installed), ["server"], str(venv))
    on_path = executable(tmp_path / "on-path" / "kerasfix")
    assert lookup(bundle, {}, [tmp_path / "on-path"], home)["found"]["command"] == str(on_path)


def test_nothing_found_says_how_to_install(bundle: Path, tmp_path: Path, home: Path) -> None:
    python = executable(tmp_path / "env" / "python", "#!/bin/sh\nexit 1\n")
    result = lookup(bundle, {"interpreter": str(python)}, [tmp_path / "empty"], home)
    assert result["missing"] == f"kerasfix is installed neither in the environment of {python} nor on PATH"
    # The bundled wheel, into the interpreter's environment; paths with spaces stay one word.
    assert result["install"] == f"{python} -m pip install '{WHEEL}'"
    bare = lookup(bundle, {}, [tmp_path / "empty"], home)
    assert bare["missing"] == "kerasfix is not on PATH"
    venv = home / ".local" / "share" / "kerasfix" / "venv"
    assert bare["install"] == f"python3 -m venv {venv} && {venv}/bin/python -m pip install '{WHEEL}'"


def test_the_install_command_quotes_spaces_and_quotes(bundle: Path, tmp_path: Path, home: Path) -> None:
    python = executable(tmp_path / "it's my env" / "bin" / "python", "#!/bin/sh\nexit 1\n")
    result = lookup(bundle, {"interpreter": str(python)}, [tmp_path / "empty"], home)
    quoted = "'" + str(python).replace("'", "'\\''") + "'"
    assert result["install"] == f"{quoted} -m pip install '{WHEEL}'"
