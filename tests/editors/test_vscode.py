"""kerasfix in a real VS Code, installed as users install it: the extension is built and packaged
from editors/vscode (tsc, esbuild, the bundled kerasfix, @vscode/vsce), installed into code-server
(VS Code 1.100, from npm) and driven in Debian's Chromium through playwright-core. The only Python
it is given is a bare virtual environment with nothing installed, and no `kerasfix` program is
on its PATH: the extension runs the kerasfix bundled in it.

Screenshots are kept in tests/artifacts/: vscode-end-state-hover.png (squiggles, Problems,
hover), vscode-end-state-unsafe-fix.png (the quick fix menu with an unsafe fix),
vscode-end-state.png (fixed), vscode-end-state-missing-server.png (the notification when the
server cannot start), and -failure.png on a failure."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
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
    editor_env,
    require,
)

EXTENSION = EDITORS / "vscode"
DRIVER = Path(__file__).parent / "vscode" / "drive.js"
CODE_SERVER = CACHE / f"code-server-{CODE_SERVER_VERSION}" / "node_modules" / ".bin" / "code-server"
PLAYWRIGHT_CORE = CACHE / f"playwright-core-{PLAYWRIGHT_VERSION}" / "node_modules" / "playwright-core"


# A finding whose only fix is unsafe (KER301), after the conftest's two KER601 findings.
UNSAFE_SOURCE = 'model = keras.Sequential([keras.layers.Dense(1)])\nmodel.save("saved_model")\n'
UNSAFE_FIXED = 'model.save("saved_model.keras")'
UNSAFE_TITLE = "KER301: Unsafe fix: Save to a `.keras` file (may change behaviour)"
# Variables through which a Python could find installed packages.
PYTHON_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONSTARTUP", "VIRTUAL_ENV", "CONDA_PREFIX")


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
    # kerasfix and its dependencies (`npm run libs`), and the launcher that runs them.
    assert {
        "extension/bundled/tool/launch.py",
        "extension/bundled/libs/kerasfix-bundle.json",
        "extension/bundled/libs/kerasfix/__main__.py",
        "extension/bundled/libs/kerasfix/server/lsp.py",
        "extension/bundled/libs/pygls/__init__.py",
        "extension/bundled/libs/libcst/__init__.py",
    } <= names
    compiled = json.loads(archive_manifest(vsix))["compiledModules"]
    assert "libcst.native" in compiled
    assert not [n for n in names if n.endswith((".whl", ".pyc")) or "node_modules" in n or n.endswith(".ts")]
    assert manifest["main"] == "./dist/extension.js"
    assert manifest["engines"]["vscode"] == "^1.82.0"  # what vscode-languageclient 9 needs
    settings = manifest["contributes"]["configuration"]["properties"]
    assert settings["kerasfix.importStrategy"]["enum"] == ["useBundled", "fromEnvironment"]
    assert settings["kerasfix.importStrategy"]["default"] == "useBundled"
    for key in ("path", "interpreter", "importStrategy", "select", "ignore", "unsafeFixes", "targetBackends", "kerasVersion"):
        assert f"kerasfix.{key}" in settings
    titles = {f"{c['category']}: {c['title']}" for c in manifest["contributes"]["commands"]}
    assert titles == {"kerasfix: Fix all", "kerasfix: Check workspace", "kerasfix: Restart server", "kerasfix: Show output"}


def archive_manifest(vsix: Path) -> str:
    with zipfile.ZipFile(vsix) as archive:
        return archive.read("extension/bundled/libs/kerasfix-bundle.json").decode()


@pytest.fixture
def bare_python(tmp_path: Path) -> Path:
    """A virtual environment with nothing in it: no pip, no system site-packages. It is made
    from `python3`, the Python that `npm run libs` builds the bundle with."""
    python3 = require(shutil.which("python3"), "python3")
    venv = tmp_path / "bare venv"
    subprocess.run([python3, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True, timeout=120)
    python = venv / "bin" / "python"
    for module in ("kerasfix", "pygls", "libcst", "lsprotocol"):
        # From a folder of its own: `-c` puts the working folder on the path (a checkout's
        # `kerasfix/` would be found there).
        bare = subprocess.run([python, "-c", f"import {module}"], env={}, cwd=tmp_path, capture_output=True, timeout=60)
        assert bare.returncode != 0, f"{module} is importable in the bare environment"
    return python


def test_vscode_squiggle_problems_hover_and_quick_fix(vsix: Path, project: Path, bare_python: Path, tmp_path: Path) -> None:
    code_server = require(CODE_SERVER, f"code-server {CODE_SERVER_VERSION}")
    chromium = require(shutil.which("chromium"), "Chromium")
    node = require(shutil.which("node"), "Node.js")
    if not (PLAYWRIGHT_CORE / "package.json").exists():
        pytest.fail(f"playwright-core is not installed in {PLAYWRIGHT_CORE}: run `bash tests/editors/setup.sh`")

    (project / "pyproject.toml").write_text('[tool.kerasfix]\nselect = ["KER601", "KER301"]\n', encoding="utf-8")
    (project / "train.py").write_text(KERAS2_SOURCE + UNSAFE_SOURCE, encoding="utf-8")
    # Nothing on the code-server's PATH has kerasfix: no script, and no Python that imports it.
    env = editor_env(tmp_path / "home")
    for name in PYTHON_VARIABLES:
        env.pop(name, None)
    env["PATH"] = os.pathsep.join(dict.fromkeys([str(bare_python.parent), os.path.dirname(node), "/usr/bin", "/bin"]))
    assert shutil.which("kerasfix", path=env["PATH"]) is None

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
            # The one Python given to the extension, with nothing installed.
            "kerasfix.interpreter": str(bare_python),
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
        unsafe_screenshot = ARTIFACTS / "vscode-end-state-unsafe-fix.png"
        unsafe_screenshot.unlink(missing_ok=True)
        missing_screenshot = ARTIFACTS / "vscode-end-state-missing-server.png"
        missing_screenshot.unlink(missing_ok=True)
        (ARTIFACTS / "vscode-end-state-failure.png").unlink(missing_ok=True)
        drive = subprocess.run(
            [node, str(DRIVER), f"http://127.0.0.1:{port}/?folder={project}", "train.py", str(screenshot), "7", "14"],
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
        "workbench", "opened", "squiggle", "problems", "hover", "unsafe fix", "quick fix", "fix all", "clean", "missing server",
    ]
    assert seen["squiggles"] >= 3
    assert any("KER601" in row and "learning_rate" in row for row in seen["problems"]), seen["problems"]
    assert any("KER301" in row for row in seen["problems"]), seen["problems"]
    assert "KER601" in seen["hover"] and "learning_rate" in seen["hover"], seen["hover"]
    # The menu's first row is its "Quick Fix" heading; Enter takes the first action under it.
    assert seen["quickFixes"][:3] == ["Quick Fix", "KER601: Rename `lr` to `learning_rate`", "Disable KER601 for this line"], seen["quickFixes"]
    assert seen["unsafeQuickFixes"][:3] == ["Quick Fix", UNSAFE_TITLE, "Disable KER301 for this line"], seen["unsafeQuickFixes"]

    lines = (KERAS2_SOURCE + UNSAFE_SOURCE).splitlines()
    assert seen["afterUnsafeFix"] == [*lines[:-1], UNSAFE_FIXED, ""]
    assert seen["afterQuickFix"] == [*lines[:FIRST_LINE], FIRST_FIXED, *lines[FIRST_LINE + 1 : -1], UNSAFE_FIXED, ""]
    assert seen["afterFixAll"] == [*lines[:FIRST_LINE], FIRST_FIXED, SECOND_FIXED, lines[5], UNSAFE_FIXED, ""]
    for picture in (screenshot, hover_screenshot, unsafe_screenshot, missing_screenshot):
        assert picture.stat().st_size > 10_000, picture
    assert seen["missingServer"] == (
        "kerasfix: kerasfix.path is set to /nonexistent/bin/kerasfix, which is not an executable file. "
        "Set kerasfix.path to a kerasfix executable, or clear it to run the kerasfix bundled with the extension."
    ), seen["missingServer"]

    # The extension's output channel, as code-server logs it: the bundled kerasfix ran, in the bare venv.
    bundled = extensions / "kerasfix.kerasfix-0.1.0" / "bundled"
    started = f"Starting {bare_python} {bundled / 'tool' / 'launch.py'} useBundled"
    log = output_channel_log(user_data)
    assert f"{started} (from kerasfix 0.1.0 from the kerasfix bundled with the extension, {bundled / 'libs' / 'kerasfix'})" in log, log
    version = subprocess.run([bare_python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True, timeout=60)
    assert f"kerasfix 0.1.0 (bundled: {bundled / 'libs' / 'kerasfix'}) on Python {version.stdout.strip()} ({bare_python})" in log, log


def output_channel_log(user_data: Path) -> str:
    logs = sorted(user_data.glob("logs/*/exthost*/output_logging_*/*kerasfix*.log"))
    assert logs, sorted(str(p.relative_to(user_data)) for p in user_data.glob("logs/**/*.log"))
    return "\n".join(p.read_text(encoding="utf-8") for p in logs)
