"""pyproject.toml lists every package folder, so a built wheel holds every rule family."""

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    folders = config["package-dir"]
    assert folders == {"kerasfix": "kerasfix", "kerasfix.rules": "rules", "kerasfix.server": "server"}
    found = set()
    for package, top in folders.items():
        for init in (ROOT / top).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / top).parts
            found.add(".".join((package, *relative)))
    # `kerasfix/` holds only its own modules: the other folders are its subpackages.
    assert {"kerasfix", "kerasfix.rules", "kerasfix.server"} <= found
    assert found == listed


def test_data_files_are_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    data = config["package-data"]
    assert "data/*.toml" in data["kerasfix.rules"] and "data/*.toml" in data["kerasfix.server"]


def test_the_console_script_runs_the_cli(capsys):
    from importlib.metadata import entry_points

    from kerasfix.server.entry import main

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert declared == {"kerasfix": "kerasfix.server.entry:main"}
    # The installed metadata names the same function, and it runs the command line.
    [script] = [e for e in entry_points(group="console_scripts") if e.name == "kerasfix"]
    assert script.value == "kerasfix.server.entry:main"
    run = script.load()
    assert run is main
    assert run(["rule", "KER601"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# KER601 optimizer-lr-argument\n")
    assert run(["rule", "KER999"]) == 2
    assert "KER999" in capsys.readouterr().err
    # `server` goes straight to the language server (its options, its version line).
    assert run(["server", "--version"]) == 0
    assert capsys.readouterr().out.startswith("kerasfix ")


def test_the_installed_command_checks_a_file(tmp_path):
    import shutil
    import subprocess

    command = shutil.which("kerasfix")
    assert command is not None, "the `kerasfix` command is not on PATH"
    (tmp_path / "a.py").write_text("import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n")
    result = subprocess.run(
        [command, "check", "a.py", "--select", "KER601", "--output-format", "concise"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines()[0] == "a.py:2:32: KER601 [*] `lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`"
    version = subprocess.run([command, "--version"], capture_output=True, text=True, timeout=60)
    from importlib.metadata import version as installed

    assert (version.returncode, version.stdout) == (0, f"kerasfix {installed('kerasfix')}\n")


def test_python_m_kerasfix_is_the_command(tmp_path):
    import subprocess
    from importlib.metadata import version as installed

    (tmp_path / "a.py").write_text("import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n")
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix", "check", "a.py", "--select", "KER601", "--output-format", "concise"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines()[0] == "a.py:2:32: KER601 [*] `lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`"
    version = subprocess.run(
        [sys.executable, "-m", "kerasfix", "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (version.returncode, version.stdout, version.stderr) == (0, f"kerasfix {installed('kerasfix')}\n", "")
