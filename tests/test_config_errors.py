"""A bad `[tool.kerasfix]`: what is reported, in which words, and what happens next.

A bad entry of a list or table (a code that is no rule's code or prefix in `select`, `ignore`,
`extend-select`, `per-file-ignores` or `severity`) is named by its position and dropped: the
other entries apply. A bad setting is ignored as a whole. A pyproject.toml that is not TOML
stops `kerasfix check` with exit status 2 and names the file, line and column, as Ruff does;
the command line's `--select KER999` is an error, as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kerasfix.rules.engine.settings import PyprojectError, Severity, load_pyproject
from kerasfix.server.cli import main

SOURCE = (
    "import keras\n"
    'model.save("model.h5")\n'
    "opt = keras.optimizers.SGD(learning_rate=0.01, decay=1e-6)\n"
    "opt2 = keras.optimizers.Adam(lr=1e-3)\n"
)
KER315 = "a.py:2:12: KER315 [-] `.h5` is the legacy whole-model format in Keras 3: save to `.keras`"
KER602 = (
    "a.py:3:48: KER602 [-] `decay=` is ignored by Keras 3 optimizers: use a"
    " `keras.optimizers.schedules.InverseTimeDecay` learning rate"
)
KER601 = "a.py:4:30: KER601 [*] `lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`"

BAD_ENTRIES = """\
[tool.kerasfix]
select = ["KER6", "KER999", "nope"]
extend-select = ["KER88"]
ignore = "KER602, KER77"

[tool.kerasfix.per-file-ignores]
"other.py" = ["KER999", "KER3"]
tests = ["KER77"]

[tool.kerasfix.severity]
KER999 = "error"
KER6 = "hint"
KER60 = "loud"
"""


def bad_entry_warnings(path: Path) -> list[str]:
    """What each bad entry of BAD_ENTRIES is reported as."""
    where = f"invalid setting `{{}}` in {path}: "
    return [
        where.format("select") + '`select[1]` = "KER999" is not a rule code or prefix'
        " (no rule's code starts with KER999): that entry is ignored",
        where.format("select") + '`select[2]` = "nope" is not a rule code or prefix'
        " (an unknown rule code: codes look like KER201, prefixes like KER2): that entry is ignored",
        where.format("extend-select") + '`extend-select[0]` = "KER88" is not a rule code or prefix'
        " (no rule's code starts with KER88): that entry is ignored,"
        " and `extend-select` has no other, so it is ignored as a whole",
        where.format("ignore") + '"KER77" in `ignore` is not a rule code or prefix'
        " (no rule's code starts with KER77): that entry is ignored",
        where.format('per-file-ignores."other.py"') + '`per-file-ignores."other.py"[0]` = "KER999" is not'
        " a rule code or prefix (no rule's code starts with KER999): that entry is ignored",
        where.format("per-file-ignores.tests") + '`per-file-ignores.tests[0]` = "KER77" is not a rule code'
        " or prefix (no rule's code starts with KER77): that entry is ignored,"
        " and `per-file-ignores.tests` has no other, so it is ignored as a whole",
        where.format("severity.KER999") + '"KER999" is not a rule code or prefix'
        " (no rule's code starts with KER999): that entry is ignored",
        where.format("severity.KER60") + "'loud' is not one of error, warning, info, hint: that entry is ignored",
    ]


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def check(capsys, *args: str) -> tuple[int, list[str], str]:
    """Exit code, finding lines (concise output) and stderr of `kerasfix check .`."""
    code = main(["check", ".", "--output-format", "concise", "--jobs", "1", *args])
    captured = capsys.readouterr()
    return code, [line for line in captured.out.splitlines() if ": KER" in line], captured.err


# ----- the settings layer: what is collected, and what is kept -------------------------------


def test_each_bad_entry_is_named_and_only_it_is_dropped(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(BAD_ENTRIES, encoding="utf-8")
    errors: list = []
    settings = load_pyproject(path, errors)
    assert [str(e) for e in errors] == bad_entry_warnings(path)
    assert settings.select == ("KER6",)
    assert settings.extend_select == ()
    assert settings.ignore == ("KER602",)
    assert settings.per_file_ignores == (("other.py", ("KER3",)),)
    assert settings.severity == (("KER6", Severity.HINT),)


def test_without_an_error_list_the_first_problem_is_raised(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.kerasfix]\nselect = ["KER6", "KER999"]\n', encoding="utf-8")
    with pytest.raises(Exception) as raised:
        load_pyproject(path)
    assert str(raised.value) == f"invalid setting `select` in {path}: no rule has the code(s) KER999"


@pytest.mark.parametrize(
    "raw, line, column, reason",
    [
        (b'[tool.kerasfix]\nselect = ["KER601"\n', 3, 1, "not valid TOML: Unclosed array"),
        (b"[tool.kerasfix\nselect = []\n", 1, 15, "not valid TOML: Expected ']' at the end of a table declaration"),
        # At the end of a text without a final newline: the line and column after its last character.
        (b'[tool.kerasfix]\nselect = ["KER601"', 2, 19, "not valid TOML: Unclosed array"),
        (b"[tool.kerasfix]\n# caf\xe9\n", 2, 6, "not UTF-8 (byte 0xe9)"),
    ],
    ids=["unclosed-array", "unclosed-header", "at-end", "latin-1"],
)
def test_an_unreadable_pyproject_names_its_line_and_column(tmp_path, raw, line, column, reason):
    path = tmp_path / "pyproject.toml"
    path.write_bytes(raw)
    errors: list = []
    load_pyproject(path, errors)
    [error] = errors
    assert isinstance(error, PyprojectError)
    assert (error.path, error.line, error.column) == (path, line, column)
    assert str(error) == f"invalid setting `tool.kerasfix`: cannot read {path}, line {line}, column {column}: {reason}"
    with pytest.raises(PyprojectError) as raised:
        load_pyproject(path)
    assert str(raised.value) == str(error)


# ----- the command line ----------------------------------------------------------------------


def test_cli_warns_of_each_bad_entry_and_applies_the_rest(root, capsys):
    (root / "pyproject.toml").write_text(BAD_ENTRIES, encoding="utf-8")
    code, lines, err = check(capsys)
    # select = KER6 with KER602 ignored: only KER601 is left.
    assert (code, lines) == (1, [KER601])
    path = root / "pyproject.toml"
    assert err.splitlines() == [f"kerasfix: warning: {warning}" for warning in bad_entry_warnings(path)]


def test_cli_select_of_an_unknown_code_is_an_error(root, capsys):
    assert check(capsys, "--select", "KER999") == (
        2, [], "kerasfix: error: invalid setting `select` in the command line: no rule has the code(s) KER999\n"
    )


def test_cli_stops_on_a_pyproject_that_is_not_toml(root, capsys):
    (root / "pyproject.toml").write_text('[tool.kerasfix]\nselect = ["KER601"\n', encoding="utf-8")
    path = root / "pyproject.toml"
    assert check(capsys) == (
        2,
        [],
        f"kerasfix: error: invalid setting `tool.kerasfix`: cannot read {path}, line 3, column 1:"
        " not valid TOML: Unclosed array\n",
    )


def test_cli_reads_a_good_pyproject_without_a_word(root, capsys):
    (root / "pyproject.toml").write_text('[tool.kerasfix]\nselect = ["KER3", "KER601"]\n', encoding="utf-8")
    assert check(capsys) == (1, [KER315, KER601], "")
