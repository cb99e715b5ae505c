"""Fixtures for the editor tests: where tests/editors/setup.sh put each editor, and a small
Keras 2 project to open in it.

A missing editor fails its test (run `bash tests/editors/setup.sh` first): these tests are the
proof that the shipped integrations work, and a skip would hide that they did not run.
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EDITORS = REPO / "editors"
CACHE = Path(os.environ.get("KERASFIX_TEST_CACHE", Path.home() / ".cache" / "kerasfix-tests"))
ARTIFACTS = REPO / "tests" / "artifacts"
# Versions installed by setup.sh (keep them in step).
CODE_SERVER_VERSION = "4.100.3"
PLAYWRIGHT_VERSION = "1.55.0"
NEOVIM_WHEEL_VERSION = "0.11.4"

# Two findings, spelled two ways: the quick fix takes the first, fix-all the second.
KERAS2_SOURCE = """\
import keras
from tensorflow.keras import optimizers

first = keras.optimizers.Adam(lr=0.001)
second = optimizers.SGD(lr=0.1, momentum=0.9)
"""
FIRST_LINE = 3  # 0-based line of the first finding
FIRST_FIXED = "first = keras.optimizers.Adam(learning_rate=0.001)"
SECOND_FIXED = "second = optimizers.SGD(learning_rate=0.1, momentum=0.9)"
# Columns (0-based) of `lr=0.001` on the first finding's line.
FIRST_START, FIRST_END = 30, 38


def require(path: Path | str | None, what: str) -> str:
    """The editor's executable, or a test failure that says how to install it."""
    if path is None or not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{what} is not installed ({path or 'not on PATH'}): run `bash tests/editors/setup.sh`")
    return str(path)


def editor_env(home: Path) -> dict[str, str]:
    """An environment with a fresh HOME and XDG folders, and this Python's kerasfix first on PATH."""
    env = dict(os.environ)
    scripts = sysconfig.get_path("scripts")
    env["PATH"] = os.pathsep.join([scripts, env.get("PATH", "")])
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = home / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env["HOME"] = str(home)
    env.pop("DISPLAY", None)
    return env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with a Keras 2 script; pyproject.toml selects the one rule the tests
    are about, so that rules added later do not change what the editors show."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[tool.kerasfix]\nselect = ["KER601"]\n', encoding="utf-8")
    (folder / "train.py").write_text(KERAS2_SOURCE, encoding="utf-8")
    return folder


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    scripts = sysconfig.get_path("scripts")
    if shutil.which("kerasfix", path=scripts) is None:
        pytest.fail(f"the kerasfix script is not in {scripts}: run `pip install -e .`")
    return editor_env(tmp_path / "home")
