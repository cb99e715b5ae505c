"""The settings README.md documents under "Configuration", each through `kerasfix check` in a
project with a pyproject.toml: `per-file-ignores`, `extend-select`, `extend-exclude`, "ALL",
and `severity`, where the longest matching prefix wins whatever the table's order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kerasfix.server.cli import main

SOURCE = (
    "import keras\n"
    "model = keras.Sequential()\n"
    'model.save_weights("weights.h5")\n'
    'model.save("model.h5")\n'
    "opt = keras.optimizers.SGD(learning_rate=0.01, decay=1e-6)\n"
    "opt2 = keras.optimizers.Adam(lr=1e-3)\n"
)
LINES = SOURCE.splitlines()


def _at(line: int, token: str) -> tuple[int, int]:
    """1-based row and column of `token` on 1-based `line`, found in the text itself."""
    return line, LINES[line - 1].index(token) + 1


# What each rule reports on SOURCE: where, its fix marker, its message, its default severity.
FINDINGS = {
    "KER304": (_at(3, '"weights.h5"'), "[-]", "Keras 3 weights files must end in `.weights.h5`", "warning"),
    "KER315": (_at(4, '"model.h5"'), "[-]", "`.h5` is the legacy whole-model format in Keras 3: save to `.keras`", "info"),
    "KER602": (
        _at(5, "decay="), "[-]",
        "`decay=` is ignored by Keras 3 optimizers: use a `keras.optimizers.schedules.InverseTimeDecay` learning rate",
        "warning",
    ),
    "KER601": (_at(6, "lr="), "[*]", "`lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`", "warning"),
}
EVERY = ["KER304", "KER315", "KER602", "KER601"]  # in the order of the file


def expected(path: str, codes: list[str]) -> list[str]:
    lines = []
    for code in codes:
        (row, column), marker, message, _ = FINDINGS[code]
        lines.append(f"{path}:{row}:{column}: {code} {marker} {message}")
    return lines


def project(root: Path, pyproject: str | None, files: list[str]) -> None:
    if pyproject is not None:
        (root / "pyproject.toml").write_text("[tool.kerasfix]\n" + pyproject, encoding="utf-8")
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(SOURCE, encoding="utf-8")


def check(capsys, *args: str) -> tuple[int, list[str], str]:
    """Exit code, finding lines (concise output) and stderr of `kerasfix check .`."""
    code = main(["check", ".", "--output-format", "concise", "--jobs", "1", *args])
    captured = capsys.readouterr()
    return code, [line for line in captured.out.splitlines() if ": KER" in line], captured.err


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_table_matches_the_default_run(root, capsys):
    project(root, None, ["a.py"])
    assert check(capsys) == (1, expected("a.py", EVERY), "")


# ----- per-file-ignores ----------------------------------------------------------------------


def test_per_file_ignores(root, capsys):
    files = ["src/model.py", "tests/test_model.py", "scripts/legacy.py", "scripts/tool.py", "old/a.py"]
    project(root, None, files)
    # Without the setting every file has every finding.
    code, lines, err = check(capsys)
    assert (code, err) == (1, "")
    assert sorted(lines) == sorted(line for name in files for line in expected(name, EVERY))
    project(
        root,
        'per-file-ignores = { "tests/*" = ["KER3"], "legacy.py" = ["ALL"], "old" = ["KER601", "KER602"],'
        ' "scripts/*.py" = ["KER315"] }\n',
        [],
    )
    code, lines, err = check(capsys)
    assert (code, err) == (1, "")
    assert sorted(lines) == sorted(
        expected("src/model.py", EVERY)
        # A prefix ignores the family; the rest of the file's findings stay.
        + expected("tests/test_model.py", ["KER602", "KER601"])
        # A pattern without `/` names the file anywhere; "ALL" ignores every code. It is also
        # matched by `scripts/*.py`: the codes of every matching pattern are ignored.
        # A folder's name covers everything below it.
        + expected("old/a.py", ["KER304", "KER315"])
        + expected("scripts/tool.py", ["KER304", "KER602", "KER601"])
    )


# ----- extend-select and "ALL" ---------------------------------------------------------------


@pytest.mark.parametrize(
    "pyproject, args, codes",
    [
        ('select = ["KER3"]\n', [], ["KER304", "KER315"]),
        ('select = ["KER3"]\nextend-select = ["KER601"]\n', [], ["KER304", "KER315", "KER601"]),
        # The command line's --extend-select adds to the pyproject's select and extend-select.
        ('select = ["KER3"]\nextend-select = ["KER601"]\n', ["--extend-select", "KER602"], EVERY),
        # `ignore` removes from what extend-select added.
        ('select = ["KER304"]\nextend-select = ["KER6"]\nignore = ["KER601"]\n', [], ["KER304", "KER602"]),
        ('select = ["ALL"]\n', [], EVERY),
        ('select = ["ALL"]\nignore = ["KER3"]\n', [], ["KER602", "KER601"]),
        ('select = ["KER6"]\nextend-select = ["ALL"]\nignore = ["KER602"]\n', [], ["KER304", "KER315", "KER601"]),
        # The longest matching prefix decides between select and ignore: "ALL" is the shortest.
        ('select = ["KER3", "KER601"]\nignore = ["ALL"]\n', [], ["KER304", "KER315", "KER601"]),
        ('select = ["ALL"]\nignore = ["KER", "KER304"]\nextend-select = ["KER3"]\n', [], ["KER315"]),
    ],
    ids=["select", "extend-select", "cli-extend-select", "ignore-after-extend", "all", "all-ignore",
         "extend-select-all", "ignore-all-shorter", "longest-prefix"],
)
def test_select_extend_select_and_all(root, capsys, pyproject, args, codes):
    project(root, pyproject, ["a.py"])
    code, lines, err = check(capsys, *args)
    assert (code, lines, err) == (1, expected("a.py", codes), "")


# ----- exclude and extend-exclude ------------------------------------------------------------


def test_extend_exclude_adds_to_exclude(root, capsys):
    files = ["generated/m.py", "legacy/old.py", "legacy/keep.py", "src/m.py", "src/legacy/deep.py"]
    project(root, None, files)
    code, lines, _ = check(capsys)
    assert {line.split(":")[0] for line in lines} == set(files)
    # `exclude` alone.
    project(root, 'exclude = ["generated"]\n', [])
    code, lines, _ = check(capsys)
    assert {line.split(":")[0] for line in lines} == set(files) - {"generated/m.py"}
    # `extend-exclude` adds to `exclude` rather than replacing it.
    project(root, 'exclude = ["generated"]\nextend-exclude = ["legacy/old.py", "src/legacy"]\n', [])
    code, lines, err = check(capsys)
    assert (code, err) == (1, "")
    assert sorted(lines) == sorted(expected("legacy/keep.py", EVERY) + expected("src/m.py", EVERY))


def test_extend_exclude_alone(root, capsys):
    project(root, 'extend-exclude = ["*_pb2.py"]\n', ["model.py", "proto/model_pb2.py"])
    code, lines, err = check(capsys)
    assert (code, lines, err) == (1, expected("model.py", EVERY), "")


# ----- severity: the longest matching prefix wins --------------------------------------------


def severities(capsys) -> dict[str, str]:
    code = main(["check", ".", "--output-format", "json", "--jobs", "1"])
    captured = capsys.readouterr()
    assert (code, captured.err) == (1, "")
    found = json.loads(captured.out)
    assert [f["code"] for f in found] == EVERY
    return {f["code"]: f["severity"] for f in found}


def test_default_severities(root, capsys):
    project(root, None, ["a.py"])
    assert severities(capsys) == {code: FINDINGS[code][3] for code in EVERY}


@pytest.mark.parametrize(
    "table",
    [
        '{ KER = "error", KER3 = "hint", KER304 = "info" }',
        '{ KER304 = "info", KER3 = "hint", KER = "error" }',
        '{ KER3 = "hint", KER304 = "info", KER = "error" }',
    ],
    ids=["shortest-first", "longest-first", "mixed"],
)
def test_the_longest_severity_prefix_wins_in_any_order(root, capsys, table):
    project(root, f"severity = {table}\n", ["a.py"])
    assert severities(capsys) == {"KER304": "info", "KER315": "hint", "KER602": "error", "KER601": "error"}


def test_severity_for_some_codes_leaves_the_others_at_their_default(root, capsys):
    project(root, 'severity = { KER60 = "hint", KER601 = "error" }\n', ["a.py"])
    assert severities(capsys) == {"KER304": "warning", "KER315": "info", "KER602": "hint", "KER601": "error"}
