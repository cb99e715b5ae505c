"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit as a project using them would:
pre-commit clones the hook repository at a commit, installs kerasfix into its own virtual
environment from PyPI and the clone, and passes the staged Python files and notebooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Building the hook's environment downloads kerasfix's dependencies; running a hook is quick.
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 120

# All findings fixable: `kerasfix-fix` fixes them all.
FIXABLE = """\
from tensorflow import keras

model = keras.models.load_model("model.h5")
model.fit_generator(data, epochs=2)
"""
FIXABLE_FIXED = """\
import keras

model = keras.models.load_model("model.h5")
model.fit(data, epochs=2)
"""
# One finding (KER221) has no fix.
MIXED = FIXABLE + "session = keras.backend.get_session()\n"
MIXED_FIXED = FIXABLE_FIXED + "session = keras.backend.get_session()\n"


def _notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"cell{index}",
                    "metadata": {},
                    "outputs": [],
                    "source": source.splitlines(keepends=True),
                }
                for index, source in enumerate(cells)
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    ) + "\n"


NOTEBOOK = _notebook("import numpy as np\n", "from tensorflow import keras\n")
NOTEBOOK_FIXED = _notebook("import numpy as np\n", "import keras\n")


@dataclass(frozen=True)
class HookRepo:
    path: Path
    rev: str
    env: dict[str, str]


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


def _commit_all(repo: Path, env: dict[str, str]) -> str:
    _git(repo, env, "init", "--quiet")
    _git(repo, env, "add", ".")
    _git(repo, env, "commit", "--quiet", "--no-verify", "-m", "files")
    return _git(repo, env, "rev-parse", "HEAD")


def _environment(tmp: Path) -> dict[str, str]:
    """The machine's environment without its settings: an empty HOME, pre-commit's cache in `tmp`,
    nothing from an active virtual environment or from a git command this test runs inside."""
    home = tmp / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
        and not key.startswith(("GIT_", "PRE_COMMIT"))
    }
    env.update(
        HOME=str(home),
        PRE_COMMIT_HOME=str(tmp / "pre-commit-cache"),
        GIT_AUTHOR_NAME="kerasfix tests",
        GIT_AUTHOR_EMAIL="tests@kerasfix.invalid",
        GIT_COMMITTER_NAME="kerasfix tests",
        GIT_COMMITTER_EMAIL="tests@kerasfix.invalid",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def _make_project(path: Path, hooks: HookRepo, files: dict[str, str]) -> Path:
    path.mkdir()
    config = (
        "repos:\n"
        f"  - repo: {hooks.path}\n"
        f"    rev: {hooks.rev}\n"
        "    hooks:\n"
        "      - id: kerasfix-check\n"
        "      - id: kerasfix-fix\n"
    )
    (path / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    _commit_all(path, hooks.env)
    return path


def _pre_commit(project: Path, hooks: HookRepo, *args: str, timeout: float = RUN_TIMEOUT):
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--color", "never"],
        cwd=project,
        env=hooks.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _run_hook(project: Path, hooks: HookRepo, hook: str):
    return _pre_commit(project, hooks, "run", hook, "--all-files")


@pytest.fixture(scope="module")
def hooks(tmp_path_factory) -> HookRepo:
    """The hook repository, committed, and pre-commit's environment for it, built once."""
    tmp = tmp_path_factory.mktemp("pre-commit")
    env = _environment(tmp)
    # The committed tree, as a clone of this repository holds it (work in progress left out).
    repo = tmp / "kerasfix"
    repo.mkdir()
    archive = tmp / "kerasfix.tar"
    _git(ROOT, env, "archive", "--format=tar", f"--output={archive}", "HEAD")
    subprocess.run(["tar", "-x", "-f", str(archive), "-C", str(repo)], timeout=60, check=True)
    hooks = HookRepo(repo, _commit_all(repo, env), env)
    project = _make_project(tmp / "install", hooks, {})
    result = _pre_commit(project, hooks, "install-hooks", timeout=INSTALL_TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    return hooks


def _frame(path: str, line: int, column: int, code: str, message: str, text: str, width: int, advice: str) -> str:
    """One finding as `kerasfix check` prints it by default: the line, the code frame, the advice."""
    return (
        f"{path}:{line}:{column}: {code} {message}\n"
        "  |\n"
        f"{line} | {text}\n"
        f"  | {' ' * (column - 1)}{'^' * width} {code}\n"
        "  |\n"
        f"  = {advice}\n"
        "\n"
    )


def _import_finding(path: str) -> str:
    return _frame(
        path, 1, 1, "KER101", "[*] Keras is imported through TensorFlow: import `keras` itself",
        "from tensorflow import keras", 28, "help: Use `import keras`",
    )


FIT_GENERATOR = _frame(
    "train.py", 4, 7, "KER509", "[*] `fit_generator` was removed in Keras 3: `fit` takes generators directly",
    "model.fit_generator(data, epochs=2)", 13, "help: Use `fit`",
)
GET_SESSION = _frame(
    "train.py", 5, 11, "KER221", "`keras.backend.get_session` was removed in Keras 3",
    "session = keras.backend.get_session()", 25,
    "note: TF1 sessions and graphs do not exist in Keras 3: remove the call",
)


def _hook_report(name: str, status: str, details: str = "", output: str = "") -> str:
    """What pre-commit prints for one hook: its status line, then why it failed and its output."""
    # pre-commit pads the name with dots to 79 columns when the hooks' names are short.
    line = f"{name}{'.' * (79 - len(name) - len(status))}{status}\n"
    if status == "Passed":
        return line
    return f"{line}{details}\n{output}\n"


def _read(project: Path, *names: str) -> dict[str, str]:
    return {name: (project / name).read_text(encoding="utf-8") for name in names}


def test_check_hook_fails_with_the_findings_of_python_files_and_notebooks(hooks, tmp_path):
    files = {"train.py": MIXED, "explore.ipynb": NOTEBOOK, "notes.md": "from tensorflow import keras\n"}
    project = _make_project(tmp_path / "project", hooks, files)
    result = _run_hook(project, hooks, "kerasfix-check")
    # Only the Python file and the notebook are checked, not the Markdown file.
    assert (result.stdout, result.returncode) == (
        _hook_report(
            "kerasfix check",
            "Failed",
            "- hook id: kerasfix-check\n- exit code: 1\n",
            _import_finding("explore.ipynb:cell 2")
            + _import_finding("train.py")
            + FIT_GENERATOR
            + GET_SESSION
            + "Found 4 errors.\n[*] 3 fixable with the `--fix` option.\n",
        ),
        1,
    ), result.stderr
    assert _read(project, *files) == files


def test_fix_hook_rewrites_the_files_fails_once_then_passes(hooks, tmp_path):
    project = _make_project(tmp_path / "project", hooks, {"train.py": FIXABLE, "explore.ipynb": NOTEBOOK})
    first = _run_hook(project, hooks, "kerasfix-fix")
    assert (first.stdout, first.returncode) == (
        _hook_report(
            "kerasfix fix",
            "Failed",
            "- hook id: kerasfix-fix\n- exit code: 1\n- files were modified by this hook\n",
            "Found 3 errors (3 fixed, 0 remaining).\n",
        ),
        1,
    ), first.stderr
    fixed = {"train.py": FIXABLE_FIXED, "explore.ipynb": NOTEBOOK_FIXED}
    assert _read(project, *fixed) == fixed
    # Fixing the fixed files changes nothing: both hooks pass.
    again = _run_hook(project, hooks, "kerasfix-fix")
    assert (again.stdout, again.returncode) == (_hook_report("kerasfix fix", "Passed"), 0), again.stderr
    assert _read(project, *fixed) == fixed
    check = _run_hook(project, hooks, "kerasfix-check")
    assert (check.stdout, check.returncode) == (_hook_report("kerasfix check", "Passed"), 0), check.stderr


def test_fix_hook_leaves_what_it_cannot_fix_to_the_check_hook(hooks, tmp_path):
    project = _make_project(tmp_path / "project", hooks, {"train.py": MIXED})
    first = _run_hook(project, hooks, "kerasfix-fix")
    assert (first.stdout, first.returncode) == (
        _hook_report(
            "kerasfix fix",
            "Failed",
            "- hook id: kerasfix-fix\n- exit code: 1\n- files were modified by this hook\n",
            GET_SESSION + "Found 3 errors (2 fixed, 1 remaining).\n",
        ),
        1,
    ), first.stderr
    assert _read(project, "train.py") == {"train.py": MIXED_FIXED}
    # The finding without a fix remains: the fix hook still fails, without changing the file,
    # and the check hook reports exactly that finding.
    again = _run_hook(project, hooks, "kerasfix-fix")
    assert (again.stdout, again.returncode) == (
        _hook_report(
            "kerasfix fix",
            "Failed",
            "- hook id: kerasfix-fix\n- exit code: 1\n",
            GET_SESSION + "Found 1 error (0 fixed, 1 remaining).\n",
        ),
        1,
    ), again.stderr
    assert _read(project, "train.py") == {"train.py": MIXED_FIXED}
    check = _run_hook(project, hooks, "kerasfix-check")
    assert (check.stdout, check.returncode) == (
        _hook_report(
            "kerasfix check", "Failed", "- hook id: kerasfix-check\n- exit code: 1\n", GET_SESSION + "Found 1 error.\n"
        ),
        1,
    ), check.stderr


def test_a_commit_runs_the_hooks_on_the_staged_files_only(hooks, tmp_path):
    project = _make_project(tmp_path / "project", hooks, {"legacy.py": FIXABLE})
    _pre_commit(project, hooks, "install").check_returncode()
    (project / "train.py").write_text(FIXABLE, encoding="utf-8")
    _git(project, hooks.env, "add", "train.py")
    commit = ["commit", "--quiet", "-m", "train"]
    refused = subprocess.run(
        ["git", *commit], cwd=project, env=hooks.env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    # git runs its hooks with their output sent to its standard error.
    assert (refused.stderr, refused.returncode) == (
        _hook_report(
            "kerasfix check",
            "Failed",
            "- hook id: kerasfix-check\n- exit code: 1\n",
            _import_finding("train.py") + FIT_GENERATOR + "Found 2 errors.\n[*] 2 fixable with the `--fix` option.\n",
        )
        + _hook_report(
            "kerasfix fix",
            "Failed",
            "- hook id: kerasfix-fix\n- exit code: 1\n- files were modified by this hook\n",
            "Found 2 errors (2 fixed, 0 remaining).\n",
        ),
        1,
    ), refused.stdout
    # The commit did not happen; the staged file is fixed in the working tree, the committed one is
    # left alone.
    assert _git(project, hooks.env, "log", "--format=%s") == "files"
    assert _read(project, "legacy.py", "train.py") == {"legacy.py": FIXABLE, "train.py": FIXABLE_FIXED}
    # With the fixes staged, the hooks pass and the commit is made.
    _git(project, hooks.env, "add", "train.py")
    _git(project, hooks.env, *commit)
    assert _git(project, hooks.env, "log", "--format=%s") == "train\nfiles"


def test_hooks_leave_files_the_project_excludes(hooks, tmp_path):
    # pre-commit names every staged file: the hooks still honour `exclude` (--force-exclude).
    files = {"old_train.py": MIXED, "pyproject.toml": '[tool.kerasfix]\nexclude = ["old_*.py"]\n'}
    project = _make_project(tmp_path / "project", hooks, files)
    for hook, name in (("kerasfix-check", "kerasfix check"), ("kerasfix-fix", "kerasfix fix")):
        result = _run_hook(project, hooks, hook)
        assert (result.stdout, result.returncode) == (_hook_report(name, "Passed"), 0), result.stderr
    assert _read(project, *files) == files
