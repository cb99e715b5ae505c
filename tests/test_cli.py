"""The `kerasfix` command, run as users run it (a subprocess) and in-process for speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kerasfix.rules.engine.settings import PyprojectError, load_pyproject
from kerasfix.server.cli import main

KERAS2 = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
FIXED = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n"
ONLY = ["--select", "KER601"]


def run(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kerasfix.server", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=120,
    )


def test_console_script_check_and_exit_codes(tmp_path):
    (tmp_path / "a.py").write_text(KERAS2)
    (tmp_path / "clean.py").write_text("import keras\n")
    result = run("check", ".", *ONLY, cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "a.py:2:32: KER601 [*]" in out
    assert "^^^^^^^ KER601" in out
    assert run("check", "clean.py", cwd=tmp_path).returncode == 0
    assert run("check", "a.py", "--exit-zero", *ONLY, cwd=tmp_path).returncode == 0


def test_fix_writes_and_second_run_is_clean(tmp_path, capsys):
    path = tmp_path / "a.py"
    path.write_text(KERAS2)
    assert main(["check", str(path), "--fix", *ONLY]) == 0
    assert path.read_text() == FIXED
    assert "1 fixed, 0 remaining" in capsys.readouterr().out
    assert main(["check", str(path), "--fix", *ONLY]) == 0
    assert path.read_text() == FIXED


def test_diff_writes_nothing(tmp_path, capsys):
    path = tmp_path / "a.py"
    path.write_text(KERAS2)
    assert main(["check", str(path), "--diff", *ONLY]) == 1
    out = capsys.readouterr().out
    assert "-opt = tf.keras.optimizers.Adam(lr=1e-3)\n+opt = tf.keras.optimizers.Adam(learning_rate=1e-3)" in out
    assert path.read_text() == KERAS2


def test_json_uses_ruff_fields(tmp_path, capsys):
    path = tmp_path / "a.py"
    path.write_text(KERAS2)
    assert main(["check", str(path), "--output-format", "json", *ONLY]) == 1
    (item,) = json.loads(capsys.readouterr().out)
    assert item["code"] == "KER601"
    assert item["filename"] == str(path)
    assert item["location"] == {"row": 2, "column": 32}
    assert item["end_location"] == {"row": 2, "column": 39}
    assert item["fix"]["applicability"] == "safe"
    assert item["fix"]["edits"] == [
        {"content": "learning_rate", "location": {"row": 2, "column": 32}, "end_location": {"row": 2, "column": 34}}
    ]
    assert item["url"].startswith("https://")


def test_a_findings_note_says_why_in_json_and_full_output(tmp_path, capsys):
    # KER308's note names the save that makes registration matter.
    path = tmp_path / "a.py"
    path.write_text(
        "import keras\n\nclass Block(keras.layers.Layer):\n    pass\n\n"
        "model = keras.Sequential([Block()])\nmodel.save('m.keras')\n"
    )
    assert main(["check", str(path), "--output-format", "json", "--select", "KER308"]) == 1
    (item,) = json.loads(capsys.readouterr().out)
    assert item["code"] == "KER308"
    assert "line 7" in item["note"]
    assert main(["check", str(path), "--output-format", "full", "--select", "KER308"]) == 1
    out = capsys.readouterr().out
    assert f"  = note: {item['note']}\n" in out
    # A finding without a note has `null`.
    path.write_text(KERAS2)
    assert main(["check", str(path), "--output-format", "json", *ONLY]) == 1
    found = json.loads(capsys.readouterr().out)
    assert [finding["code"] for finding in found] == ["KER601"]
    assert all(finding["note"] is None for finding in found)


MESSAGE = "`lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`"
TWO = KERAS2 + "opt2 = tf.keras.optimizers.SGD(lr=1)\n"


def _expected_findings(text: str) -> list[tuple[int, int, int, int]]:
    """1-based (line, column, end line, end column) of each `lr=<value>` keyword argument,
    found by reading the text: the finding covers the argument up to its closing bracket."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if "(lr=" in line:
            start = line.index("lr=")
            found.append((number, start + 1, number, line.index(")", start) + 1))
    return found


def test_concise_format(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(TWO)
    assert main(["check", "a.py", "--output-format", "concise", *ONLY]) == 1
    assert capsys.readouterr().out.splitlines()[:2] == [
        f"a.py:{line}:{col}: KER601 [*] {MESSAGE}" for line, col, _, _ in _expected_findings(TWO)
    ]


@pytest.mark.parametrize("severity, level", [(None, "warning"), ("error", "error"), ("hint", "warning")])
def test_github_format_lines(tmp_path, capsys, monkeypatch, severity, level):
    monkeypatch.chdir(tmp_path)
    # A comma and a colon in the name: escaped in the `file` property, not in the message.
    name = "m,1:x.py"
    (tmp_path / name).write_text(TWO)
    if severity:
        (tmp_path / "pyproject.toml").write_text(f'[tool.kerasfix]\nseverity = {{ KER601 = "{severity}" }}\n')
    assert main(["check", name, "--output-format", "github", *ONLY]) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == "".join(
        f"::{level} title=kerasfix (KER601),file=m%2C1%3Ax.py,line={line},col={col},endLine={end_line},endColumn={end_col}"
        f"::m,1:x.py:{line}:{col}: KER601 {MESSAGE}\n"
        for line, col, end_line, end_col in _expected_findings(TWO)
    )
    assert [(2, 32, 2, 39), (3, 32, 3, 36)] == _expected_findings(TWO)


@pytest.mark.parametrize("severity, level", [(None, "warning"), ("error", "error"), ("info", "note"), ("hint", "note")])
def test_sarif_document(tmp_path, capsys, monkeypatch, severity, level):
    from importlib.metadata import version

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(TWO)
    (tmp_path / "clean.py").write_text("import keras\n")
    if severity:
        (tmp_path / "pyproject.toml").write_text(f'[tool.kerasfix]\nseverity = {{ KER601 = "{severity}" }}\n')
    assert main(["check", ".", "--output-format", "sarif", *ONLY]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == "2.1.0"
    assert document["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    [run] = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "kerasfix" and driver["version"] == version("kerasfix")
    # Every rule is described, once; the rules are those `kerasfix rule --all` documents.
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids)) and all(len(i) == 6 and i.startswith("KER") and i[3:].isdigit() for i in ids)
    assert main(["rule", "--all"]) == 0
    headings = [line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("# KER")]
    assert ids == headings
    [lr_rule] = [rule for rule in driver["rules"] if rule["id"] == "KER601"]
    assert lr_rule["name"] == "optimizer-lr-argument"
    assert lr_rule["shortDescription"]["text"] and lr_rule["fullDescription"]["text"]
    assert lr_rule["helpUri"].startswith("https://")
    assert run["results"] == [
        {
            "ruleId": "KER601",
            "level": level,
            "message": {"text": MESSAGE},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "a.py"},
                        "region": {"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col},
                    }
                }
            ],
        }
        for line, col, end_line, end_col in _expected_findings(TWO)
    ]


def test_statistics(tmp_path, capsys):
    path = tmp_path / "a.py"
    path.write_text(KERAS2 + "opt2 = tf.keras.optimizers.SGD(lr=1)\n")
    assert main(["check", str(path), "--statistics", *ONLY]) == 1
    assert capsys.readouterr().out.splitlines()[0] == "2\tKER601\t[*] optimizer-lr-argument"


def test_stdin_with_fix_prints_the_fixed_code(tmp_path):
    result = run("check", "-", "--fix", "--stdin-filename", "model.py", *ONLY, cwd=tmp_path, stdin=KERAS2.encode())
    assert result.stdout.decode() == FIXED
    assert result.returncode == 0


def test_unreadable_file_is_named_and_others_still_checked(tmp_path, capsys):
    (tmp_path / "bad.py").write_bytes(b"x = '\xff\xfe'\nimport tensorflow\n")
    (tmp_path / "a.py").write_text(KERAS2)
    assert main(["check", str(tmp_path), *ONLY, "--jobs", "1"]) == 2
    captured = capsys.readouterr()
    assert "bad.py: not valid UTF-8" in captured.err
    assert "a.py:2:32: KER601" in captured.out


def test_syntax_error_file_is_reported_and_never_written(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3\n")
    before = path.read_bytes()
    assert main(["check", str(path), "--fix"]) == 1
    assert path.read_bytes() == before
    assert "KER001" in capsys.readouterr().out


def test_crlf_and_bom_survive_fix(tmp_path):
    path = tmp_path / "a.py"
    data = ("\ufeff" + KERAS2.replace("\n", "\r\n")).encode("utf-8")
    path.write_bytes(data)
    assert main(["check", str(path), "--fix", *ONLY]) == 0
    assert path.read_bytes() == ("\ufeff" + FIXED.replace("\n", "\r\n")).encode("utf-8")


def test_latin1_declared_encoding_round_trips(tmp_path):
    path = tmp_path / "a.py"
    source = "# -*- coding: latin-1 -*-\n# café\n" + KERAS2
    path.write_bytes(source.encode("latin-1"))
    assert main(["check", str(path), "--fix", *ONLY]) == 0
    assert path.read_bytes() == ("# -*- coding: latin-1 -*-\n# café\n" + FIXED).encode("latin-1")


def test_pyproject_settings_and_bad_keys(tmp_path, capsys):
    (tmp_path / "a.py").write_text(KERAS2)
    (tmp_path / "skipped").mkdir()
    (tmp_path / "skipped" / "b.py").write_text(KERAS2)
    # Without `exclude`, both files have the finding the settings keep (KER101 and KER107,
    # also found by default, are ignored).
    (tmp_path / "pyproject.toml").write_text('[tool.kerasfix]\nselect = ["KER1", "KER6"]\nignore = ["KER10"]\n')
    assert main(["check", str(tmp_path), "--output-format", "concise"]) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    assert sorted(line.split(" ")[:2] for line in captured.out.splitlines() if ": KER" in line) == [
        [f"{tmp_path / 'a.py'}:2:32:", "KER601"], [f"{tmp_path / 'skipped' / 'b.py'}:2:32:", "KER601"]
    ]
    # With it, the folder's file is not checked; the unknown key is named and the rest applies.
    (tmp_path / "pyproject.toml").write_text(
        '[tool.kerasfix]\nselect = ["KER1", "KER6"]\nignore = ["KER10"]\nbogus = 1\nexclude = ["skipped"]\n'
    )
    assert main(["check", str(tmp_path), "--output-format", "concise"]) == 1
    captured = capsys.readouterr()
    assert [line.split(" ")[:2] for line in captured.out.splitlines() if ": KER" in line] == [
        [f"{tmp_path / 'a.py'}:2:32:", "KER601"]
    ]
    assert "invalid setting `bogus`" in captured.err and "unknown key" in captured.err


def test_a_bad_entry_leaves_the_good_ones_of_its_setting(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.kerasfix]\nselect = ["KER601", "KER999"]\nseverity = { KER601 = "hint", KER5 = "loud" }\n'
    )
    (tmp_path / "a.py").write_text(KERAS2)
    assert main(["check", str(tmp_path), "--output-format", "json"]) == 1
    captured = capsys.readouterr()
    findings = json.loads(captured.out)
    assert {f["code"] for f in findings} == {"KER601"}
    assert all(f["severity"] == "hint" for f in findings)
    problems = _settings_problems(tmp_path / "pyproject.toml")
    assert [p.key for p in problems] == ["select", "severity.KER5"]
    assert "KER999" in str(problems[0]) and "'loud'" in str(problems[1])
    assert captured.err == "".join(f"kerasfix: warning: {problem}\n" for problem in problems)


def test_gitignore_and_default_excludes(tmp_path, capsys):
    (tmp_path / ".gitignore").write_text("generated/\n")
    for folder in ("generated", ".venv", "src"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "m.py").write_text(KERAS2)
    assert main(["check", str(tmp_path), "--output-format", "concise", *ONLY]) == 1
    out = capsys.readouterr().out
    assert [line.split(": ")[0] for line in out.splitlines() if "KER601" in line] == [f"{tmp_path / 'src' / 'm.py'}:2:32"]


def test_symlink_loop_terminates(tmp_path, capsys):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(KERAS2)
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "loop")
    assert main(["check", str(tmp_path), "--output-format", "concise", *ONLY]) == 1
    assert capsys.readouterr().out.count("KER601") == 1


def test_parallel_jobs_give_the_same_findings(tmp_path, capsys):
    for i in range(12):
        (tmp_path / f"m{i}.py").write_text(KERAS2)
    assert main(["check", str(tmp_path), "--output-format", "json", "--jobs", "2", *ONLY]) == 1
    parallel = json.loads(capsys.readouterr().out)
    assert main(["check", str(tmp_path), "--output-format", "json", "--jobs", "1", *ONLY]) == 1
    serial = json.loads(capsys.readouterr().out)
    assert parallel == serial and len(serial) == 12


def test_usage_errors_exit_2(capsys):
    assert main(["check", "--select", "NOPE1"]) == 2
    assert "unknown rule code" in capsys.readouterr().err
    assert main(["check", "--output-format", "xml"]) == 2
    assert main(["rule", "KER999"]) == 2


def test_rule_command_prints_docs(capsys):
    assert main(["rule", "KER601"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# KER601 optimizer-lr-argument")
    assert "## Why" in out and "## Fix safety" in out
    assert main(["rule", "--all"]) == 0
    assert "# KER001 syntax-error" in capsys.readouterr().out


def test_missing_path_exits_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.py")]) == 2
    assert "no such file" in capsys.readouterr().err


def _settings_problems(path: Path) -> list:
    """What the settings layer reports for `path`: the command line prints each of them."""
    errors: list = []
    try:
        load_pyproject(path, errors)
    except PyprojectError as error:  # a file that cannot be read may be raised rather than listed
        return [error]
    return errors


@pytest.mark.parametrize(
    "pyproject, named",
    [
        (b"tool = 3  # [tool.kerasfix]\n", ["`tool.kerasfix`"]),
        (b'[tool.kerasfix]\nselect = ["NOPE9"]\ntarget-backends = ["theano"]\n', ["NOPE9", "theano"]),
    ],
    ids=["tool-not-a-table", "unknown-code-and-backend"],
)
def test_bad_pyproject_settings_are_named_and_defaults_used(tmp_path, capsys, pyproject, named):
    (tmp_path / "pyproject.toml").write_bytes(pyproject)
    (tmp_path / "a.py").write_text(KERAS2)
    assert main(["check", str(tmp_path), "--output-format", "concise", "--jobs", "1"]) == 1
    captured = capsys.readouterr()
    problems = _settings_problems(tmp_path / "pyproject.toml")
    assert len(problems) == len(named)
    # Each problem once, as a warning naming the file and the bad value.
    assert captured.err == "".join(f"kerasfix: warning: {problem}\n" for problem in problems)
    for problem, value in zip(problems, named):
        assert str(tmp_path / "pyproject.toml") in str(problem) and value in str(problem)
    # The defaults are used: every rule, so KER601 is among the findings.
    assert f"{tmp_path / 'a.py'}:2:32: KER601" in captured.out


@pytest.mark.parametrize(
    "pyproject, reason",
    [(b'[tool.kerasfix]\nselect = ["KER601"\n', "not valid TOML"), (b"[tool.kerasfix]\n# caf\xe9\n", "not UTF-8")],
    ids=["not-toml", "not-utf8"],
)
def test_unreadable_pyproject_stops_the_check(tmp_path, capsys, pyproject, reason):
    # As in Ruff: exit 2, the file named, nothing checked.
    (tmp_path / "pyproject.toml").write_bytes(pyproject)
    (tmp_path / "a.py").write_text(KERAS2)
    assert main(["check", str(tmp_path), "--output-format", "concise", "--jobs", "1"]) == 2
    [problem] = _settings_problems(tmp_path / "pyproject.toml")
    assert f"cannot read {tmp_path / 'pyproject.toml'}" in str(problem) and reason in str(problem)
    assert capsys.readouterr() == ("", f"kerasfix: error: {problem}\n")
