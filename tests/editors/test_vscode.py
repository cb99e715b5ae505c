"""kerasfix in a real VS Code: the extension is built and packaged from editors/vscode (tsc,
esbuild, @vscode/vsce), installed into code-server (VS Code 1.100, from npm) and driven in
Debian's Chromium through playwright-core. Screenshots are kept in tests/artifacts/:
vscode-end-state-hover.png (squiggles, Problems, hover), vscode-end-state.png (fixed),
vscode-end-state-missing-server.png (the install notification), and -failure.png on a failure."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from .conftest import (
    ARTIFACTS,
    CACHE,
    CODE_SERVER_VERSION,
    EDITORS,
    FIRST_FIXED,
    FIRST_LINE,
    KERAS2_SOURCE,
    PLAYWRIGHT_VERSION,
    SECOND_FIXED,
    require,
)

EXTENSION = EDITORS / "vscode"
DRIVER = Path(__file__).parent / "vscode" / "drive.js"
CODE_SERVER = CACHE / f"code-server-{CODE_SERVER_VERSION}" / "node_modules" / ".bin" / "code-server"
PLAYWRIGHT_CORE = CACHE / f"playwright-core-{PLAYWRIGHT_VERSION}" / "node_modules" / "playwright-core"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension, type-checked, bundled and packaged as a user's build would be."""
    npm = require(shutil.which("npm"), "npm")
    if not (EXTENSION / "node_modules" / ".bin" / "vsce").exists():
        pytest.fail("the extension's npm dependencies are not installed: run `bash tests/editors/setup.sh`")
    run = subprocess.run([npm, "run", "package"], cwd=EXTENSION, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    package = EXTENSION / "dist" / "kerasfix.vsix"
    kept = tmp_path_factory.mktemp("vsix") / "kerasfix.vsix"
    shutil.copy(package, kept)
    return kept


def test_vsix_contents(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("extension/package.json"))
    assert {"extension/package.json", "extension/dist/extension.js", "extension/readme.md"} <= names
    # The server the missing-server notification offers to install (`npm run wheel`).
    assert [n for n in names if n.endswith(".whl")] == ["extension/bundled/kerasfix-0.1.0-py3-none-any.whl"]
    assert not [n for n in names if "node_modules" in n or n.endswith(".ts")], names
    assert manifest["main"] == "./dist/extension.js"
    assert manifest["engines"]["vscode"] == "^1.82.0"  # what vscode-languageclient 9 needs
    settings = manifest["contributes"]["configuration"]["properties"]
    for key in ("path", "interpreter", "select", "ignore", "unsafeFixes", "targetBackends", "kerasVersion"):
        assert f"kerasfix.{key}" in settings
    titles = {f"{c['category']}: {c['title']}" for c in manifest["contributes"]["commands"]}
    assert titles == {"kerasfix: Fix all", "kerasfix: Check workspace", "kerasfix: Restart server", "kerasfix: Show output"}


def test_vscode_squiggle_problems_hover_and_quick_fix(vsix: Path, project: Path, env: dict[str, str], tmp_path: Path) -> None:
    code_server = require(CODE_SERVER, f"code-server {CODE_SERVER_VERSION}")
    chromium = require(shutil.which("chromium"), "Chromium")
    node = require(shutil.which("node"), "Node.js")
    if not (PLAYWRIGHT_CORE / "package.json").exists():
        pytest.fail(f"playwright-core is not installed in {PLAYWRIGHT_CORE}: run `bash tests/editors/setup.sh`")

    extensions, user_data = tmp_path / "extensions", tmp_path / "user-data"
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(
        json.dumps({
            "files.hotExit": "off",
            "security.workspace.trust.enabled": False,
            "workbench.startupEditor": "none",
            "workbench.tips.enabled": False,
            "extensions.ignoreRecommendations": True,
            "telemetry.telemetryLevel": "off",
            "update.mode": "none",
            # The interpreter whose environment has this checkout's kerasfix.
            "kerasfix.interpreter": sys.executable,
        }),
        encoding="utf-8",
    )
    common = ["--extensions-dir", str(extensions), "--user-data-dir", str(user_data)]
    install = subprocess.run(
        [code_server, *common, "--install-extension", str(vsix)],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert any(p.name.startswith("kerasfix.kerasfix-") for p in extensions.iterdir()), install.stdout

    port = _free_port()
    log = (tmp_path / "code-server.log").open("w")
    server = subprocess.Popen(
        [code_server, *common, "--bind-addr", f"127.0.0.1:{port}", "--auth", "none", "--disable-telemetry",
         "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override", str(project)],
        env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "code-server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "code-server did not answer /healthz within 60 s"
            time.sleep(0.3)

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        screenshot = ARTIFACTS / "vscode-end-state.png"
        screenshot.unlink(missing_ok=True)
        hover_screenshot = ARTIFACTS / "vscode-end-state-hover.png"
        hover_screenshot.unlink(missing_ok=True)
        missing_screenshot = ARTIFACTS / "vscode-end-state-missing-server.png"
        missing_screenshot.unlink(missing_ok=True)
        (ARTIFACTS / "vscode-end-state-failure.png").unlink(missing_ok=True)
        drive = subprocess.run(
            [node, str(DRIVER), f"http://127.0.0.1:{port}/?folder={project}", "train.py", str(screenshot)],
            env=dict(env, PLAYWRIGHT_CORE=str(PLAYWRIGHT_CORE), CHROMIUM=chromium),
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
        )
        lines = drive.stdout.strip().splitlines()
        assert lines, drive.stderr[-3000:]
        seen = json.loads(lines[-1])
    finally:
        # The extension host and the kerasfix server run in code-server's process group.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()

    assert "error" not in seen, f"{seen['error']}\nsteps: {seen['steps']}\ncode-server: {(tmp_path / 'code-server.log').read_text()[-2000:]}"
    assert seen["steps"] == [
        "workbench", "opened", "squiggle", "problems", "hover", "quick fix", "fix all", "clean", "missing server",
    ]
    assert seen["squiggles"] >= 2
    assert any("KER601" in row and "learning_rate" in row for row in seen["problems"]), seen["problems"]
    assert "KER601" in seen["hover"] and "learning_rate" in seen["hover"], seen["hover"]
    # The menu's first row is its "Quick Fix" heading; Enter takes the first action under it.
    assert seen["quickFixes"][:3] == ["Quick Fix", "KER601: Rename `lr` to `learning_rate`", "Disable KER601 for this line"], seen["quickFixes"]

    lines = KERAS2_SOURCE.splitlines()
    assert seen["afterQuickFix"] == [*lines[:FIRST_LINE], FIRST_FIXED, *lines[FIRST_LINE + 1 :], ""]
    assert seen["afterFixAll"] == [*lines[:FIRST_LINE], FIRST_FIXED, SECOND_FIXED, ""]
    assert screenshot.stat().st_size > 10_000
    assert hover_screenshot.stat().st_size > 10_000
    assert missing_screenshot.stat().st_size > 10_000
    assert "/nonexistent/bin/kerasfix" in seen["missingServer"], seen["missingServer"]
    wheel = extensions / "kerasfix.kerasfix-0.1.0" / "bundled" / "kerasfix-0.1.0-py3-none-any.whl"
    assert wheel.is_file()
    install = f"{sys.executable} -m pip install {wheel}"
    assert f"Install it with: {install} (or set kerasfix.path)." in seen["missingServer"], seen["missingServer"]
