"""kerasfix in a real Emacs: Debian's emacs-nox with elpa-eglot, in --batch, through the shipped
editors/emacs/kerasfix.el."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from .conftest import EDITORS, FIRST_END, FIRST_FIXED, FIRST_LINE, FIRST_START, KERAS2_SOURCE, SECOND_FIXED, require

DRIVER = Path(__file__).parent / "emacs" / "drive.el"


def test_emacs_eglot_diagnostics_hover_and_fixes(project: Path, env: dict[str, str], tmp_path: Path) -> None:
    emacs = require(shutil.which("emacs"), "Emacs")
    if not list(Path("/usr/share/emacs/site-lisp/elpa").glob("eglot-*")):
        raise AssertionError("eglot is not installed (Debian package elpa-eglot): run `bash tests/editors/setup.sh`")
    result_file = tmp_path / "result.json"
    env = dict(env, KERASFIX_FILE=str(project / "train.py"), KERASFIX_RESULT=str(result_file), KERASFIX_EMACS_DIR=str(EDITORS / "emacs"))
    run = subprocess.run(
        [emacs, "--batch", "-Q", "-l", str(DRIVER)],
        cwd=project, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )
    assert result_file.exists(), f"Emacs wrote no result (exit {run.returncode}): {run.stderr[-3000:]}"
    result = json.loads(result_file.read_text())
    assert result["failure"] is None, (result, run.stderr[-3000:])
    assert run.returncode == 0

    diagnostics = result["diagnostics"]
    assert [(d["line"], d["type"]) for d in diagnostics] == [(FIRST_LINE, "eglot-warning"), (FIRST_LINE + 1, "eglot-warning")]
    first = diagnostics[0]
    assert (first["column"], first["end_column"]) == (FIRST_START, FIRST_END)
    # eglot shows "source [code]: message".
    assert first["text"].startswith("kerasfix [KER601]: ") and "learning_rate" in first["text"], first["text"]

    assert result["hover"] and "KER601" in result["hover"] and "learning_rate" in result["hover"], result["hover"]

    lines = KERAS2_SOURCE.splitlines()
    assert result["after_quick_fix"] == [*lines[:FIRST_LINE], FIRST_FIXED, *lines[FIRST_LINE + 1 :]]
    assert result["after_fix_all"] == [*lines[:FIRST_LINE], FIRST_FIXED, SECOND_FIXED]
