"""Which server the VS Code extension runs (editors/vscode/src/server.ts, run in Node with a
stand-in for the vscode module), with the real launcher (bundled/tool/launch.py) and bundle
(`npm run libs`) and real Python interpreters:

- the `kerasfix.path` setting, when set;
- else a Python interpreter (`kerasfix.interpreter`, else `python3` on PATH, else the usual
  system locations) running the launcher, which imports kerasfix as `kerasfix.importStrategy`
  says: `useBundled` the bundle, `fromEnvironment` the interpreter's own kerasfix, else the bundle;
- an interpreter that cannot load the bundle's compiled modules is reported, or passed over."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import EDITORS, require

EXTENSION = EDITORS / "vscode"
HERE = Path(__file__).parent / "vscode"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    esbuild = require(EXTENSION / "node_modules" / ".bin" / "esbuild", "esbuild (the extension's npm dependencies)")
    out = tmp_path_factory.mktemp("lookup") / "server.js"
    run = subprocess.run(
        [esbuild, str(EXTENSION / "src" / "server.ts"), "--bundle", "--platform=node", "--format=cjs",
         f"--alias:vscode={HERE / 'fake_vscode.js'}", f"--outfile={out}"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return out


@pytest.fixture(scope="module")
def libs() -> Path:
    """The bundle, as the extension's build makes it (kept when it is up to date)."""
    npm = require(shutil.which("npm"), "npm")
    run = subprocess.run([npm, "run", "libs"], cwd=EXTENSION, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return EXTENSION / "bundled" / "libs"


def extension_folder(root: Path, libs: Path) -> Path:
    """An installed extension's layout: the launcher and the bundle beside it."""
    tool = root / "bundled" / "tool"
    tool.mkdir(parents=True)
    shutil.copy(EXTENSION / "bundled" / "tool" / "launch.py", tool)
    (root / "bundled" / "libs").symlink_to(libs)
    return root


@pytest.fixture(scope="module")
def extension(tmp_path_factory: pytest.TempPathFactory, libs: Path) -> Path:
    return extension_folder(tmp_path_factory.mktemp("extension") / "kerasfix extension", libs)


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with nothing installed, made from the Python the bundle is built with."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    python3 = require(shutil.which("python3"), "python3")
    subprocess.run([python3, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True, timeout=120)
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def installed_python(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A virtual environment with a kerasfix 9.9.9 installed (a stand-in package with its
    metadata): the interpreter and its kerasfix package folder."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    python3 = require(shutil.which("python3"), "python3")
    subprocess.run([python3, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], capture_output=True, text=True, timeout=60, check=True)
    site_packages = Path(site.stdout.strip())
    for module in ("kerasfix/__init__.py", "kerasfix/server/__init__.py", "kerasfix/server/cli.py"):
        (site_packages / module).parent.mkdir(parents=True, exist_ok=True)
        (site_packages / module).write_text("")
    (site_packages / "kerasfix-9.9.9.dist-info").mkdir()
    (site_packages / "kerasfix-9.9.9.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: kerasfix\nVersion: 9.9.9\n")
    return python, site_packages / "kerasfix"


def executable(path: Path, body: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(0o755)
    return path


def lookup(bundle: Path, extension: Path, settings: dict, path_folders: list[Path], fallback: list[Path], home: Path) -> dict:
    node = require(shutil.which("node"), "Node.js")
    scenario = {
        "settings": {"kerasfix": settings, "python": {}},
        "workspaceFolder": None,
        "extensionPath": str(extension),
        "fallbackPythons": [str(p) for p in fallback],
    }
    # Nothing of this machine's environment: its PATH, and variables that Python reads.
    env = {"PATH": ":".join(map(str, path_folders)) or "/nonexistent", "HOME": str(home)}
    run = subprocess.run([node, str(HERE / "lookup.js"), str(bundle), json.dumps(scenario)], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def launch(extension: Path, strategy: str) -> list[str]:
    return [str(extension / "bundled" / "tool" / "launch.py"), strategy]


def bundled_origin(extension: Path) -> str:
    return f"kerasfix 0.1.0 from the kerasfix bundled with the extension, {extension / 'bundled' / 'libs' / 'kerasfix'}"


def test_the_path_setting_comes_first(bundle: Path, extension: Path, bare_python: Path, tmp_path: Path, home: Path) -> None:
    chosen = executable(tmp_path / "custom" / "kerasfix")
    result = lookup(bundle, extension, {"path": str(chosen), "interpreter": str(bare_python)}, [], [], home)
    assert result["found"] == {"command": str(chosen), "args": ["server"], "origin": "the kerasfix.path setting", "python": str(bare_python)}


def test_a_path_setting_that_is_not_executable_is_reported(bundle: Path, extension: Path, bare_python: Path, tmp_path: Path, home: Path) -> None:
    result = lookup(bundle, extension, {"path": str(tmp_path / "missing")}, [bare_python.parent], [], home)
    assert result == {"missing": f"kerasfix.path is set to {tmp_path / 'missing'}, which is not an executable file", "notes": []}


def test_the_bundle_by_default_in_an_environment_with_nothing(bundle: Path, extension: Path, bare_python: Path, home: Path) -> None:
    result = lookup(bundle, extension, {"interpreter": str(bare_python)}, [], [], home)
    assert result == {
        "found": {"command": str(bare_python), "args": launch(extension, "useBundled"), "origin": bundled_origin(extension), "python": str(bare_python)},
        "notes": [],
    }


def test_the_bundle_by_default_even_where_kerasfix_is_installed(
    bundle: Path, extension: Path, installed_python: tuple[Path, Path], home: Path
) -> None:
    python, _ = installed_python
    found = lookup(bundle, extension, {"interpreter": str(python), "importStrategy": "useBundled"}, [], [], home)["found"]
    assert (found["command"], found["args"], found["origin"]) == (str(python), launch(extension, "useBundled"), bundled_origin(extension))


def test_from_environment_uses_the_installed_kerasfix(bundle: Path, extension: Path, installed_python: tuple[Path, Path], home: Path) -> None:
    python, package = installed_python
    result = lookup(bundle, extension, {"interpreter": str(python), "importStrategy": "fromEnvironment"}, [], [], home)
    assert result == {
        "found": {
            "command": str(python),
            "args": launch(extension, "fromEnvironment"),
            "origin": f"kerasfix 9.9.9 from the environment of {python}, {package}",
            "python": str(python),
        },
        "notes": [],
    }


def test_from_environment_falls_back_to_the_bundle_and_says_so(bundle: Path, extension: Path, bare_python: Path, home: Path) -> None:
    result = lookup(bundle, extension, {"interpreter": str(bare_python), "importStrategy": "fromEnvironment"}, [], [], home)
    assert result == {
        "found": {"command": str(bare_python), "args": launch(extension, "fromEnvironment"), "origin": bundled_origin(extension), "python": str(bare_python)},
        "notes": [f"kerasfix is not installed in the environment of {bare_python}: using the bundled kerasfix"],
    }


def test_the_launcher_runs_the_server_it_probed(extension: Path, bare_python: Path) -> None:
    """`launch.py useBundled` serves LSP on stdio: at the end of its input it stops."""
    run = subprocess.run(
        [bare_python, *launch(extension, "useBundled")], env={}, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
    )
    version = subprocess.run([bare_python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True, timeout=60)
    libs = extension / "bundled" / "libs" / "kerasfix"
    assert (run.returncode, run.stdout) == (0, "")
    assert run.stderr.splitlines()[0] == f"kerasfix 0.1.0 (bundled: {libs}) on Python {version.stdout.strip()} ({bare_python})"


def test_python3_on_path_then_the_system_locations(bundle: Path, extension: Path, bare_python: Path, tmp_path: Path, home: Path) -> None:
    """With no interpreter set, the first Python that can run the server: one on PATH that
    cannot is passed over, and a system location is tried after PATH."""
    broken = executable(tmp_path / "on-path" / "python3", "#!/bin/sh\necho 'not a Python' >&2\nexit 1\n")
    result = lookup(bundle, extension, {}, [broken.parent], [tmp_path / "nonexistent" / "python3", bare_python], home)
    assert result["found"]["command"] == str(bare_python)
    assert result["found"]["args"] == launch(extension, "useBundled")
    assert "python" not in result["found"]  # no interpreter of the project's is known
    assert result["notes"] == [f"{broken} cannot run the launcher: not a Python"]


def test_no_python_at_all(bundle: Path, extension: Path, home: Path) -> None:
    assert lookup(bundle, extension, {}, [], [], home) == {
        "missing": "no Python interpreter found: kerasfix needs Python 3.10 or newer",
        "notes": [],
    }


@pytest.fixture(scope="module")
def foreign_extension(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An extension whose bundle was built for another Python: its compiled module has another
    Python's file name, as LibCST's parser would."""
    libs = tmp_path_factory.mktemp("foreign-libs")
    (libs / "native_parser.cpython-399-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    (libs / "kerasfix-bundle.json").write_text(json.dumps({
        "python": "3.99.0", "implementation": "cpython", "cacheTag": "cpython-399", "platform": "linux-x86_64",
        "compiledModules": ["native_parser"],
    }))
    return extension_folder(tmp_path_factory.mktemp("foreign") / "kerasfix extension", libs)


def python_description(python: Path) -> str:
    run = subprocess.run(
        [python, "-c", "import platform, sys, sysconfig; print(f'{sys.executable} (Python {platform.python_version()}, {sysconfig.get_platform()})')"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return run.stdout.strip()


def test_a_bundle_for_another_python_is_reported(bundle: Path, foreign_extension: Path, bare_python: Path, home: Path) -> None:
    def mismatch(python: Path) -> str:
        return (
            f"the bundled kerasfix was built for Python 3.99.0 (cpython-399, linux-x86_64) and cannot run in "
            f"{python_description(python)} (its compiled module native_parser does not load there)"
        )

    chosen = lookup(bundle, foreign_extension, {"interpreter": str(bare_python)}, [], [], home)
    assert chosen == {
        "missing": f"{mismatch(bare_python)} (the kerasfix.interpreter setting)",
        "python": str(bare_python),
        "notes": [mismatch(bare_python)],
    }
    # Found on PATH: `python3` and `python` there are one interpreter, tried once.
    found = lookup(bundle, foreign_extension, {}, [bare_python.parent], [], home)
    assert found == {"missing": "no Python interpreter found here can run kerasfix", "notes": [mismatch(bare_python.parent / "python3")]}


def test_from_environment_needs_no_bundle_where_kerasfix_is_installed(
    bundle: Path, foreign_extension: Path, installed_python: tuple[Path, Path], home: Path
) -> None:
    python, _ = installed_python
    found = lookup(bundle, foreign_extension, {"interpreter": str(python), "importStrategy": "fromEnvironment"}, [], [], home)["found"]
    assert found["origin"].startswith(f"kerasfix 9.9.9 from the environment of {python}")


def test_a_compiled_module_that_does_not_load_is_one_line_in_the_log(tmp_path: Path, bare_python: Path) -> None:
    """The probe finds compiled modules by their file names; one that is found and still does
    not load (built against a newer C library, say) stops the server with one line that says so."""
    python_tag = subprocess.run(
        [bare_python, "-c", "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])"], capture_output=True, text=True, timeout=60, check=True
    )
    libs = tmp_path / "libs"
    (libs / "kerasfix").mkdir(parents=True)
    (libs / "kerasfix" / "__init__.py").write_text("")
    (libs / "kerasfix" / "__main__.py").write_text("import native_parser\n")
    (libs / f"native_parser{python_tag.stdout.strip()}").write_bytes(b"not a shared object")
    (libs / "kerasfix-bundle.json").write_text(json.dumps({
        "python": "3", "implementation": "cpython", "cacheTag": "cpython-3", "platform": python_platform(bare_python),
        "compiledModules": ["native_parser"],
    }))
    extension = extension_folder(tmp_path / "extension", libs)
    run = subprocess.run([bare_python, *launch(extension, "useBundled")], env={}, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    started, failed = run.stderr.splitlines()
    assert started.startswith(f"kerasfix (unknown version) (bundled: {extension / 'bundled' / 'libs' / 'kerasfix'}) on Python ")
    assert failed.startswith(f"kerasfix: bundled kerasfix cannot run in {python_description(bare_python)}: ")
    assert "native_parser" in failed


def python_platform(python: Path) -> str:
    run = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_platform())"], capture_output=True, text=True, timeout=60, check=True)
    return run.stdout.strip()
