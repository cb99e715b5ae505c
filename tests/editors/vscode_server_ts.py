"""Runs the VS Code extension's server lookup (editors/vscode/src/server.ts) in Node, bundled with a
stand-in for the vscode module, for the lookup and install tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from .conftest import EDITORS, require

HERE = Path(__file__).parent / "vscode"


def bundle_server_ts(out: Path) -> Path:
    esbuild = EDITORS / "vscode" / "node_modules" / ".bin" / "esbuild"
    require(esbuild, "esbuild (the extension's npm dependencies)")
    run = subprocess.run(
        [str(esbuild), str(EDITORS / "vscode" / "src" / "server.ts"), "--bundle", "--platform=node", "--format=cjs",
         f"--alias:vscode={HERE / 'fake_vscode.js'}", f"--outfile={out}"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return out


def lookup(bundle: Path, settings: dict, path_folders: list[Path], home: Path, wheel: Path) -> dict:
    """findServer's answer, with `install`: installCommand for the interpreter it names."""
    node = require(shutil.which("node"), "Node.js")
    scenario = {"settings": {"kerasfix": settings, "python": {}}, "workspaceFolder": None, "wheel": str(wheel)}
    env = {"PATH": ":".join(map(str, path_folders)) or "/nonexistent", "HOME": str(home)}
    run = subprocess.run([node, str(HERE / "install_lookup.js"), str(bundle), json.dumps(scenario)], env=env, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)
