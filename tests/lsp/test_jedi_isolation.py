"""jedi, used the plain way, obeys a workspace's `.jedi/project.json`: it may put the workspace
on its sys.path, import the workspace's extension modules to inspect them (running the package's
`__init__.py`) and run a program of the workspace as its Python. The server builds its own jedi
project, so that nothing of the workspace reaches jedi, with each jedi release it allows.

The server below starts inside such a workspace, with the workspace on PYTHONPATH too; its
signature warm-up (at `initialized`) and a hover both look up `keras.ops.sum`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hostile_workspace import (
    JEDI_VERSIONS,
    STUB_SIGNATURE,
    hostile_workspace,
    hover_after_lookup,
    jedi_folder,
    open_train,
    ran,
    server_environment,
    server_in,
    stub_environment,
)


@pytest.fixture(params=JEDI_VERSIONS)
def jedi(request: pytest.FixtureRequest) -> tuple[str, Path]:
    return request.param, jedi_folder(request.param)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    root.mkdir()
    hostile_workspace(root)
    return root


@pytest.fixture
def environment(tmp_path: Path) -> Path:
    """A virtual environment (its bin/python is this interpreter) with a stub `keras.ops`."""
    return stub_environment(tmp_path / "venv", python=Path(sys.executable))


def test_the_server_gets_the_jedi_it_is_given(jedi: tuple[str, Path], workspace: Path) -> None:
    version, folder = jedi
    probe = subprocess.run(
        [sys.executable, "-c", "import jedi; print(jedi.__version__)"],
        cwd=workspace, env=server_environment(folder, workspace), capture_output=True, text=True, check=True, timeout=60,
    )
    assert probe.stdout.strip() == version


async def test_signatures_never_run_the_workspace(jedi: tuple[str, Path], workspace: Path, environment: Path) -> None:
    _, folder = jedi
    env = server_environment(folder, workspace)
    async with server_in(workspace, env, {"pythonPath": str(environment)}) as client:
        text = await hover_after_lookup(client, open_train(client, workspace))
    assert ran(workspace / "markers") == []
    # The lookups did finish: the signature comes from the environment, not the workspace.
    assert STUB_SIGNATURE in text


def test_the_workspace_is_really_hostile(jedi: tuple[str, Path], workspace: Path) -> None:
    """Driven the plain way, the same jedi imports the workspace's package and runs its program."""
    _, folder = jedi
    naive = (
        "import sys, jedi\n"
        "code = 'import keras.ops\\nkeras.ops.sum'\n"
        "environment = jedi.create_environment(sys.executable, safe=False)\n"
        "jedi.Script(code, environment=environment).infer(2, 12)\n"
        "try:\n"
        "    jedi.Script(code).infer(2, 12)\n"
        "except Exception:\n"
        "    pass\n"
    )
    subprocess.run([sys.executable, "-c", naive], cwd=workspace, env=server_environment(folder, workspace), check=True, timeout=120)
    assert ran(workspace / "markers") == ["jedi-project-python-ran", "keras-imported"]
