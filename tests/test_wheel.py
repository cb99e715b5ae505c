"""The built distributions work on their own: `python -m build` makes an sdist and a wheel that
`twine check --strict` accepts, and the wheel, installed into a fresh virtual environment, runs
the command line, `python -m kerasfix` and the language server, and ships every file the
engine reads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, client_capabilities

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PROJECT["tool"]["setuptools"]
VERSION = PROJECT["project"]["version"]
# `readme` is a file name or a table naming the file.
README = PROJECT["project"]["readme"]
README = README if isinstance(README, str) else README["file"]
# Downloads (setuptools for the build, the dependencies for the venv) are kept with the suite's
# other caches, so a second run reads them from disk.
CACHE = Path(os.environ.get("KERASFIX_TEST_CACHE", Path.home() / ".cache" / "kerasfix-tests"))
# Source-tree files that are not installed: the language server's notes for its developers.
NOT_SHIPPED = {"server/README.md"}

EXAMPLE = ROOT / "tests" / "examples" / "keras2_training.py"
# Findings on the example that every version of the rules reports, at these places.
EXAMPLE_FINDINGS = [("KER101", 9, 1), ("KER101", 10, 6), ("KER101", 11, 6), ("KER601", 71, 51)]


def _environment(home: Path) -> dict[str, str]:
    """The environment of the tools run here: an empty HOME, nothing leaking in from the
    interpreter running the tests, and the shared pip cache."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HOME=str(home), PIP_CACHE_DIR=str(CACHE / "pip"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def _run(command: list[str], env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The sdist and the wheel, built from a copy of what a checkout holds for the build (so
    the build writes nothing into the source tree)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in ("pyproject.toml", README, "LICENSE"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    for folder in SETUPTOOLS["package-dir"].values():
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    home = work / "home"
    home.mkdir()
    dist = work / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], _environment(home), work, 600)
    [sdist] = dist.glob("*.tar.gz")
    [wheel] = dist.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel, "home": home}


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> Path:
    """A fresh virtual environment (no system site-packages) with the wheel installed: its bin
    folder."""
    env = tmp_path_factory.mktemp("venv") / "env"
    venv.create(env, with_pip=True, clear=True)
    python = env / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", str(built["wheel"])], _environment(built["home"]), env, 600)
    return env / "bin"


def test_twine_accepts_both_distributions(built):
    result = _run(
        [sys.executable, "-m", "twine", "check", "--strict", str(built["sdist"]), str(built["wheel"])],
        _environment(built["home"]), built["home"], 120,
    )
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_the_wheel_ships_every_module_data_file_and_doc(built):
    expected = set()
    for package, folder in SETUPTOOLS["package-dir"].items():
        for path in (ROOT / folder).rglob("*"):
            relative = path.relative_to(ROOT).as_posix()
            if path.is_file() and "__pycache__" not in path.parts and relative not in NOT_SHIPPED:
                inside = path.relative_to(ROOT / folder).as_posix()
                expected.add(f"{package.replace('.', '/')}/{inside}")
    # The engine's tables, the hover's counterparts and the rules' README are among them.
    assert {"kerasfix/rules/data/removed_names.toml", "kerasfix/server/data/counterparts.toml",
            "kerasfix/rules/README.md", "kerasfix/__main__.py"} <= expected
    with zipfile.ZipFile(built["wheel"]) as wheel:
        shipped = {name for name in wheel.namelist() if not name.startswith(f"kerasfix-{VERSION}.dist-info/")}
    assert shipped == expected


def test_the_console_script_checks_a_keras2_script(installed, tmp_path):
    shutil.copy2(EXAMPLE, tmp_path / "train.py")
    command = ["check", "train.py", "--output-format", "json", "--quiet"]
    env = _environment(tmp_path)
    result = subprocess.run(
        [str(installed / "kerasfix"), *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stderr) == (1, "")
    found = [(f["code"], f["location"]["row"], f["location"]["column"]) for f in json.loads(result.stdout)]
    assert set(EXAMPLE_FINDINGS) <= set(found)
    # The installed wheel reports exactly what the checkout reports: every rule and table came along.
    checkout = subprocess.run(
        [sys.executable, "-m", "kerasfix", *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert (checkout.returncode, checkout.stderr) == (1, "")
    assert result.stdout == checkout.stdout


def test_python_m_kerasfix_prints_the_version(installed, tmp_path):
    result = subprocess.run(
        [str(installed / "python"), "-m", "kerasfix", "--version"],
        cwd=tmp_path, env=_environment(tmp_path), capture_output=True, text=True, timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, f"kerasfix {VERSION}\n", "")


async def test_the_language_server_answers_initialize(installed, tmp_path):
    config = ClientServerConfig(
        server_command=[str(installed / "kerasfix"), "server"], server_env=_environment(tmp_path)
    )
    client = await config.start()
    try:
        result = await client.initialize_session(
            types.InitializeParams(capabilities=client_capabilities("visual_studio_code"), root_uri=tmp_path.as_uri())
        )
        assert result.server_info == types.ServerInfo(name="kerasfix", version=VERSION)
    finally:
        # `shutdown` then `exit`, as an editor ends a session.
        await client.shutdown_session()
        await client.stop()
