"""`kerasfix check` / `kerasfix rule` follow Ruff's command-line conventions: exact output and
exit code of each."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kerasfix.server.cli import VERSION, main

KERAS2 = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
FIXED = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n"
MESSAGE = "`lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`"
LINE = f"a.py:2:32: KER601 [*] {MESSAGE}\n"
CONCISE = ["--output-format", "concise", "--jobs", "1"]
EXAMPLES = Path(__file__).parent / "examples"
# A fix of the first line makes the import unused: the fixer then removes it (KER114), a
# finding that a check of the original code does not report.
REVEALING = "from tensorflow.keras import backend as K\n\nx = K.int_shape(1)\n"


def run(*args: str, cwd: Path, stdin: bytes | None = None, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kerasfix.server", *args],
        cwd=cwd,
        input=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=300,
    )


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(KERAS2)
    return tmp_path


# ----- 1. --quiet and --silent -------------------------------------------------------------


def test_quiet_prints_the_findings_without_the_summary(project, capsys):
    assert main(["check", "a.py", "--select", "KER601", "-q", *CONCISE]) == 1
    assert capsys.readouterr() == (LINE, "")
    assert main(["check", "a.py", "--select", "KER601", "--quiet", "--jobs", "1"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(LINE) and "  = help: Rename `lr` to `learning_rate`\n" in out
    assert "Found" not in out and "fixable" not in out and err == ""
    # Without -q, the same findings and the summary.
    assert main(["check", "a.py", "--select", "KER601", *CONCISE]) == 1
    assert capsys.readouterr() == (LINE + "Found 1 error.\n[*] 1 fixable with the `--fix` option.\n", "")


def test_quiet_diff_prints_the_diff_without_the_count(project, capsys):
    assert main(["check", "a.py", "--select", "KER601", "--diff", "-q", *CONCISE]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("--- a/a.py\n+++ b/a.py\n") and err == ""


@pytest.mark.parametrize("mode", [[], ["--diff"], ["--statistics"], ["--output-format", "json"]])
def test_silent_prints_nothing_and_keeps_the_exit_code(project, capsys, mode):
    assert main(["check", "a.py", "--select", "KER601", "--silent", "--jobs", "1", *mode]) == 1
    assert capsys.readouterr() == ("", "")
    assert (project / "a.py").read_text() == KERAS2
    (project / "clean.py").write_text("import keras\n")
    assert main(["check", "clean.py", "-s", "--jobs", "1", *mode]) == 0
    assert capsys.readouterr() == ("", "")


def test_silent_unreadable_file_exit_2_without_output(project, capsys):
    (project / "bad.py").write_bytes(b"x = '\xff'\n")
    assert main(["check", "bad.py", "--silent", "--jobs", "1"]) == 2
    assert capsys.readouterr() == ("", "")
    assert main(["check", "bad.py", *CONCISE]) == 2
    out, err = capsys.readouterr()
    assert out == "No errors found; 1 file could not be checked (the errors above say why).\n"
    assert err.startswith("kerasfix: error: bad.py: not valid UTF-8")


# ----- 2. a closed standard output ---------------------------------------------------------


def _closed_stdout_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run with standard output a pipe whose reading end is already closed: every write to it
    fails as it does after `| head` has exited."""
    read, write = os.pipe()
    os.close(read)
    try:
        return run(*args, cwd=cwd, stdout=write)
    finally:
        os.close(write)


def test_rule_all_into_a_closed_pipe_ends_quietly(tmp_path):
    result = _closed_stdout_run("rule", "--all", cwd=tmp_path)
    assert (result.returncode, result.stderr.decode()) == (0, "")


def test_check_into_a_closed_pipe_ends_quietly_with_its_exit_code(tmp_path):
    (tmp_path / "many.py").write_text("import keras\n" + "opt = keras.optimizers.Adam(lr=1)\n" * 3000)
    result = _closed_stdout_run("check", "many.py", "--select", "KER601", "--jobs", "1", cwd=tmp_path)
    assert (result.returncode, result.stderr.decode()) == (1, "")
    # The same with the pipe open: 3000 findings, well past a pipe's buffer.
    result = run("check", "many.py", "--select", "KER601", "--jobs", "1", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.decode().count("KER601 [*]") == 3000


# ----- 3. --statistics -----------------------------------------------------------------------


# KER504 twice: `compiled_loss` outside a step (a safe fix) and `compiled_metrics` (unsafe).
MIXED = """\
import keras


class Trainer(keras.Model):
    def loss_on(self, x, y):
        return self.compiled_loss(y, self(x))

    def test_step(self, data):
        x, y = data
        self.compiled_metrics.update_state(y, self(x, training=False))
        return {m.name: m.result() for m in self.metrics}


optimizer = keras.optimizers.Adam(lr=1e-2)
"""


@pytest.fixture
def mixed(tmp_path, monkeypatch):
    """An example with KER504 findings of which one has a safe fix and one an unsafe fix (m.py),
    and the shipped Keras 2 script (k.py)."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLES / "keras2_training.py", tmp_path / "k.py")
    (tmp_path / "m.py").write_text(MIXED, encoding="utf-8")
    return tmp_path


def test_statistics_one_row_per_code_with_ruffs_markers(mixed, capsys):
    args = ["check", "m.py", "--select", "KER504,KER601", *CONCISE]
    assert main(args) == 1
    listing = capsys.readouterr().out.splitlines()
    # What the listing says: KER504 twice, one of them with a safe fix; KER601 once, fixable.
    assert [line.split(" ")[1:3] for line in listing[:3]] == [["KER504", "[*]"], ["KER504", "[-]"], ["KER601", "[*]"]]
    assert main([*args, "--statistics"]) == 1
    assert capsys.readouterr() == (
        "2\tKER504\t[-] compiled-loss-and-metrics\n"
        "1\tKER601\t[*] optimizer-lr-argument\n"
        "Found 3 errors.\n"
        "[*] 2 fixable with the `--fix` option (1 hidden fix can be enabled with the `--unsafe-fixes` option).\n",
        "",
    )
    assert main(["check", "k.py", "--select", "KER301", "--statistics", *CONCISE]) == 1
    assert capsys.readouterr().out.splitlines()[0] == "1\tKER301\t[ ] save-to-directory"


def test_statistics_json_uses_ruffs_fields(mixed, capsys):
    assert main(["check", "m.py", "--select", "KER504,KER601", "--statistics", "--output-format", "json"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out) == [
        {"code": "KER504", "name": "compiled-loss-and-metrics", "count": 2, "fixable": False, "fixable_count": 1},
        {"code": "KER601", "name": "optimizer-lr-argument", "count": 1, "fixable": True, "fixable_count": 1},
    ]
    assert main(["check", "k.py", "--select", "KER601", "--ignore", "KER601", "--statistics", "--output-format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


# ----- 4. repeated --select / --ignore / --extend-select --------------------------------------


def test_repeated_code_options_add_up(project, capsys):
    assert main(["check", "a.py", "--select", "KER601", "--select", "KER101", *CONCISE]) == 1
    assert [line.split(" ")[1] for line in capsys.readouterr().out.splitlines() if ": KER" in line] == [
        "KER101", "KER601"
    ]
    assert main(["check", "a.py", "--select", "KER101,KER601", "--ignore", "KER101", "--ignore", "KER601", *CONCISE]) == 0
    assert capsys.readouterr() == ("All checks passed!\n", "")
    assert main(["check", "a.py", "--select", "KER601", "--extend-select", "KER101", "--extend-select", "KER107", *CONCISE]) == 1
    assert [line.split(" ")[1] for line in capsys.readouterr().out.splitlines() if ": KER" in line] == [
        "KER107", "KER101", "KER601"
    ]


# ----- 5. --stdin-filename without a path -----------------------------------------------------


def test_stdin_filename_without_a_path_reads_stdin(project, capsys, monkeypatch):
    (project / "a.py").write_text("import keras\n")  # not what is checked
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(KERAS2.encode())))
    assert main(["check", "--stdin-filename", "model.py", "--select", "KER601", "--output-format", "concise"]) == 1
    assert capsys.readouterr() == (
        f"model.py:2:32: KER601 [*] {MESSAGE}\nFound 1 error.\n[*] 1 fixable with the `--fix` option.\n", ""
    )


def test_stdin_filename_fix_without_a_path_prints_the_fixed_code(tmp_path):
    result = run("check", "--fix", "--stdin-filename", "model.py", "--select", "KER601", cwd=tmp_path, stdin=KERAS2.encode())
    assert (result.returncode, result.stdout.decode()) == (0, FIXED)
    assert result.stderr.decode() == "Found 1 error (1 fixed, 0 remaining).\n"


# ----- 6. nothing to check ---------------------------------------------------------------------


def test_a_folder_without_python_files_warns(tmp_path, capsys):
    (tmp_path / "README.txt").write_text("no code here\n")
    assert main(["check", str(tmp_path), "--jobs", "1"]) == 0
    assert capsys.readouterr() == (
        "All checks passed!\n", "kerasfix: warning: No Python files found under the given path(s)\n"
    )
    (tmp_path / "m.py").write_text("import keras\n")
    assert main(["check", str(tmp_path), "--jobs", "1"]) == 0
    assert capsys.readouterr() == ("All checks passed!\n", "")


# ----- 7. grammar --------------------------------------------------------------------------------


def test_one_hidden_fix_is_singular(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "u.py").write_text('import keras\nmodel = keras.Sequential()\nmodel.save("out")\n')
    (tmp_path / "v.py").write_text('import keras\nmodel = keras.Sequential()\nmodel.save("out")\nmodel.save("b")\n')
    assert main(["check", "u.py", "--select", "KER301", "--statistics", *CONCISE]) == 1
    assert capsys.readouterr().out.splitlines()[1:] == [
        "Found 1 error.", "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option)."
    ]
    assert main(["check", "v.py", "--select", "KER301", "--statistics", *CONCISE]) == 1
    assert capsys.readouterr().out.splitlines()[1:] == [
        "Found 2 errors.", "No fixes available (2 hidden fixes can be enabled with the `--unsafe-fixes` option)."
    ]


def test_diff_counts_are_singular_and_nothing_to_fix_says_so(project, capsys):
    assert main(["check", "a.py", "--select", "KER601", "--diff", *CONCISE]) == 1
    out, err = capsys.readouterr()
    assert err == "Would fix 1 error in 1 file.\n"
    assert main(["check", "a.py", "--select", "KER107", "--diff", *CONCISE]) == 0
    assert capsys.readouterr() == ("", "No errors would be fixed.\n")


# ----- 8. -V, --output-format help, JSON filename, --output-file, --exit-non-zero-on-fix,
#          --show-fixes ------------------------------------------------------------------------


def test_short_version_flag(capsys):
    assert main(["-V"]) == 0
    assert capsys.readouterr().out == f"kerasfix {VERSION}\n"
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"kerasfix {VERSION}\n"


def test_output_format_help_lists_the_formats(capsys):
    assert main(["check", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--output-format FORMAT how findings are printed: full, concise, json, sarif, github (default: full)" in help_text


def test_json_filename_is_absolute(project, capsys):
    assert main(["check", "a.py", "--select", "KER601", "--output-format", "json", "--jobs", "1"]) == 1
    (item,) = json.loads(capsys.readouterr().out)
    assert item["filename"] == str(project / "a.py")


def test_output_file_gets_the_report(project, capsys):
    target = project / "reports" / "out.txt"
    assert main(["check", "a.py", "--select", "KER601", "--output-file", str(target), *CONCISE]) == 1
    assert capsys.readouterr() == ("", "")
    assert target.read_text() == LINE + "Found 1 error.\n[*] 1 fixable with the `--fix` option.\n"
    (project / "a_dir").mkdir()
    assert main(["check", "a.py", "--output-file", str(project / "a_dir"), *CONCISE]) == 2
    assert capsys.readouterr().err.startswith("kerasfix: error: --output-file ")


def test_exit_non_zero_on_fix(project, capsys):
    assert main(["check", "a.py", "--select", "KER601", "--fix", "--exit-non-zero-on-fix", *CONCISE]) == 1
    assert capsys.readouterr() == ("Found 1 error (1 fixed, 0 remaining).\n", "")
    assert (project / "a.py").read_text() == FIXED
    # Nothing left to fix: exit 0.
    assert main(["check", "a.py", "--select", "KER601", "--fix", "--exit-non-zero-on-fix", *CONCISE]) == 0
    assert capsys.readouterr() == ("All checks passed!\n", "")
    (project / "a.py").write_text(KERAS2)
    assert main(["check", "a.py", "--select", "KER601", "--fix", *CONCISE]) == 0


def test_show_fixes_lists_the_fixes_per_file_and_rule(project, capsys):
    (project / "b.py").write_text(KERAS2 + "opt2 = tf.keras.optimizers.SGD(lr=1)\n")
    assert main(["check", "a.py", "b.py", "--select", "KER601,KER101", "--fix", "--show-fixes", *CONCISE]) == 0
    assert capsys.readouterr() == (
        "\nFixed 6 errors:\n"
        "- a.py:\n"
        "    1 × KER101 (tf-keras-namespace)\n"
        "    1 × KER601 (optimizer-lr-argument)\n"
        "- b.py:\n"
        "    2 × KER101 (tf-keras-namespace)\n"
        "    2 × KER601 (optimizer-lr-argument)\n"
        "\n"
        "Found 6 errors (6 fixed, 0 remaining).\n",
        "",
    )
    # A finding left unfixed is not listed.
    (project / "a.py").write_text(KERAS2)
    assert main(["check", "a.py", "--select", "KER601,KER107", "--fix", "--show-fixes", *CONCISE]) == 1
    assert capsys.readouterr() == (
        "a.py:1:1: KER107 TensorFlow is imported unconditionally in Keras code: on Keras 3 this module cannot run"
        " without TensorFlow installed\n"
        "\nFixed 1 error:\n"
        "- a.py:\n"
        "    1 × KER601 (optimizer-lr-argument)\n"
        "\n"
        "Found 2 errors (1 fixed, 1 remaining).\n",
        "",
    )


# ----- 9. the counts of check, --diff and --fix agree ---------------------------------------------


def test_check_diff_and_fix_counts_agree_and_findings_revealed_by_fixing_are_named(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.py").write_text(REVEALING)
    assert main(["check", "r.py", *CONCISE]) == 1
    assert capsys.readouterr() == (
        "r.py:1:6: KER101 [*] Keras is imported through TensorFlow: import `keras` itself\n"
        "r.py:3:5: KER221 [*] `keras.backend.int_shape` was removed in Keras 3\n"
        "Found 2 errors.\n"
        "[*] 2 fixable with the `--fix` option.\n",
        "",
    )
    assert main(["check", "r.py", "--diff", *CONCISE]) == 1
    out, err = capsys.readouterr()
    assert err == "Would fix 3 errors in 1 file (1 found after fixing).\n"
    assert main(["check", "r.py", "--fix", "--show-fixes", *CONCISE]) == 0
    assert capsys.readouterr() == (
        "\nFixed 3 errors:\n"
        "- r.py:\n"
        "    1 × KER101 (tf-keras-namespace)\n"
        "    1 × KER221 (removed-backend-function)\n"
        "    1 × found after fixing\n"
        "\n"
        "Found 3 errors (3 fixed, 0 remaining; 1 found after fixing).\n",
        "",
    )
    assert "backend" not in (tmp_path / "r.py").read_text()


def test_example_counts_agree(tmp_path, capsys, monkeypatch):
    """On a real example, the diff's count is the fix's count, and both are the check's
    fixable count plus the findings that fixing revealed."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLES / "keras2_training.py", tmp_path / "k.py")
    assert main(["check", "k.py", *CONCISE]) == 1
    summary = capsys.readouterr().out.splitlines()[-2:]
    found = int(summary[0].split()[1])
    fixable = int(summary[1].split()[1])
    assert main(["check", "k.py", "--diff", *CONCISE]) == 1
    would = capsys.readouterr().err
    assert main(["check", "k.py", "--fix", *CONCISE]) == 1
    result = capsys.readouterr().out.splitlines()[-1]
    match = re.fullmatch(r"Would fix (\d+) errors in 1 file \((\d+) found after fixing\)\.\n", would)
    assert match, would
    would_fix, revealed = map(int, match.groups())
    # Fixing the example reveals a finding (an import the fixes leave unused).
    assert revealed >= 1
    assert would_fix == fixable + revealed
    remaining = found - fixable
    assert result == (
        f"Found {found + revealed} errors ({would_fix} fixed, {remaining} remaining; {revealed} found after fixing)."
    )


def test_with_unsafe_fixes_enabled_check_counts_what_fix_applies(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "u.py").write_text('import keras\nmodel = keras.Sequential()\nmodel.save("out")\n')
    args = ["check", "u.py", "--select", "KER301", *CONCISE]
    assert main([*args, "--statistics"]) == 1
    assert capsys.readouterr().out == (
        "1\tKER301\t[ ] save-to-directory\n"
        "Found 1 error.\nNo fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option).\n"
    )
    assert main([*args, "--statistics", "--unsafe-fixes"]) == 1
    assert capsys.readouterr().out == (
        "1\tKER301\t[*] save-to-directory\nFound 1 error.\n[*] 1 fixable with the `--fix` option.\n"
    )
    # The same from the settings.
    (tmp_path / "pyproject.toml").write_text("[tool.kerasfix]\nunsafe-fixes = true\n")
    assert main([*args, "--statistics"]) == 1
    assert capsys.readouterr().out == (
        "1\tKER301\t[*] save-to-directory\nFound 1 error.\n[*] 1 fixable with the `--fix` option.\n"
    )
    assert main([*args, "--diff"]) == 1
    assert capsys.readouterr().err == "Would fix 1 error in 1 file.\n"
    assert main([*args, "--fix"]) == 0
    assert capsys.readouterr().out == "Found 1 error (1 fixed, 0 remaining).\n"


# ----- --force-exclude -----------------------------------------------------------------------


def test_force_exclude_applies_exclude_to_named_paths_and_stdin(project, capsys, monkeypatch):
    (project / "pyproject.toml").write_text('[tool.kerasfix]\nexclude = ["a.py"]\n')
    # A file named on the command line is checked even when excluded...
    assert main(["check", "a.py", "--select", "KER601", *CONCISE]) == 1
    assert capsys.readouterr() == (LINE + "Found 1 error.\n[*] 1 fixable with the `--fix` option.\n", "")
    # ...unless --force-exclude, as in Ruff.
    assert main(["check", "a.py", "--select", "KER601", "--force-exclude", *CONCISE]) == 0
    assert capsys.readouterr() == (
        "All checks passed!\n", "kerasfix: warning: No Python files found under the given path(s)\n"
    )
    assert main(["check", "a.py", "--fix", "--select", "KER601", "--force-exclude", *CONCISE]) == 0
    assert (project / "a.py").read_text() == KERAS2
    capsys.readouterr()
    # Standard input named by --stdin-filename: nothing reported, and --fix hands the text back.
    for mode, expected_out in (([], ""), (["--fix"], KERAS2)):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(KERAS2.encode())))
        code = main(["check", "-", "--stdin-filename", "a.py", "--force-exclude", "--select", "KER601", *mode, *CONCISE])
        assert (code, capsys.readouterr()) == (0, (expected_out, ""))
    # Another file is not affected.
    (project / "b.py").write_text(KERAS2)
    assert main(["check", "b.py", "--select", "KER601", "--force-exclude", *CONCISE]) == 1
    assert capsys.readouterr().out == LINE.replace("a.py", "b.py") + "Found 1 error.\n[*] 1 fixable with the `--fix` option.\n"
