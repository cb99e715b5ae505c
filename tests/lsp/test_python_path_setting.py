"""The `pythonPath` setting names an interpreter whose environment's site-packages the hover
signatures come from. The server never runs it, from whichever channel it comes (the
initialization options, a settings change, a pyproject.toml of the workspace): it finds the
site-packages from the environment's layout. A relative path is refused with a warning.

Every interpreter below is a program that leaves a marker and fails."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from hostile_workspace import (
    JEDI_VERSIONS,
    STUB_SIGNATURE,
    hostile_workspace,
    hover_after_lookup,
    jedi_folder,
    marker_program,
    open_train,
    ran,
    server_environment,
    server_in,
    stub_environment,
)
from lsprotocol import types


@pytest.fixture(params=JEDI_VERSIONS)
def jedi(request: pytest.FixtureRequest) -> Path:
    return jedi_folder(request.param)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A hostile workspace whose pyproject.toml names a program as pythonPath, and which holds a
    virtual environment whose bin/python is a program too (named relatively below)."""
    root = tmp_path / "workspace"
    root.mkdir()
    markers = hostile_workspace(root)
    program = marker_program(root / "tools" / "pyproject-python", markers, "EXECUTED-pyproject")
    (root / "pyproject.toml").write_text(
        f"[tool.kerasfix]\npythonPath = {str(program)!r}\npython-path = {str(program)!r}\n"
    )
    marker_program(stub_environment(root / "venv"), markers, "EXECUTED-relative")
    return root


@pytest.fixture
def environment(tmp_path: Path, workspace: Path) -> Path:
    """A virtual environment outside the workspace with a stub `keras.ops`; its bin/python is a
    program that leaves the marker EXECUTED."""
    return marker_program(stub_environment(tmp_path / "venv"), workspace / "markers", "EXECUTED")


async def test_initialization_options(jedi: Path, workspace: Path, environment: Path) -> None:
    async with server_in(workspace, server_environment(jedi, workspace), {"pythonPath": str(environment)}) as client:
        text = await hover_after_lookup(client, open_train(client, workspace))
    assert ran(workspace / "markers") == []
    # Read from the environment's site-packages without running its interpreter.
    assert STUB_SIGNATURE in text
    assert "Stub sum, found by reading the file." in text


async def test_a_settings_change(jedi: Path, workspace: Path, environment: Path) -> None:
    async with server_in(workspace, server_environment(jedi, workspace)) as client:
        uri = open_train(client, workspace)
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"kerasfix": {"pythonPath": str(environment)}})
        )
        text = await hover_after_lookup(client, uri)
    assert ran(workspace / "markers") == []
    assert STUB_SIGNATURE in text


def _about_a_relative_python_path(message: types.ShowMessageParams) -> bool:
    return "`pythonPath`" in message.message and "relative path" in message.message


async def test_a_path_that_is_not_absolute_is_refused_with_a_warning(jedi: Path, workspace: Path) -> None:
    async with server_in(workspace, server_environment(jedi, workspace), {"pythonPath": "venv/bin/python"}) as client:
        uri = open_train(client, workspace)
        while not any(map(_about_a_relative_python_path, client.messages)):
            await asyncio.wait_for(client.wait_for_notification(types.WINDOW_SHOW_MESSAGE), 30)
        text = await hover_after_lookup(client, uri)
    [warning] = filter(_about_a_relative_python_path, client.messages)
    assert warning.type == types.MessageType.Warning
    assert ran(workspace / "markers") == []
    assert STUB_SIGNATURE not in text


def test_the_interpreters_are_really_programs(workspace: Path, environment: Path) -> None:
    """Run, each interpreter named above leaves its marker: the tests above can fail."""
    for program in (environment, workspace / "tools" / "pyproject-python", workspace / "venv" / "bin" / "python"):
        subprocess.run([str(program)], timeout=60)
    assert ran(workspace / "markers") == ["EXECUTED", "EXECUTED-pyproject", "EXECUTED-relative"]
