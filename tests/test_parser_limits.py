"""No input crashes or stalls the parser, and a file that cannot be checked safely says so.

LibCST's native parser overflows the C stack (a crash, not an exception) on deeply nested code
and takes quadratic time and memory on some long chains; `rules/engine/syntax.py` refuses such text
before the parser sees it, and the engine reports it as KER002 (not a syntax error). The
command line also survives a worker process that dies anyway: the other files are reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kerasfix.rules import Settings, fix, lint
from kerasfix.rules.engine.incremental import IncrementalLinter

KERAS2 = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
MARKER = "CRASH_THE_PARSER_HERE"


# ----- a worker process that dies ------------------------------------------------------------

# Loaded by every Python process started with it on PYTHONPATH (workers are forked from the
# command's process, so they have it too): the parser aborts the process on marked text.
SITECUSTOMIZE = f"""
import os
import libcst

_parse_module = libcst.parse_module


def parse_module(source, *args, **kwargs):
    if {MARKER!r} in source:
        os.abort()
    return _parse_module(source, *args, **kwargs)


libcst.parse_module = parse_module
"""


def _project_with_a_crashing_file(tmp_path: Path, good_files: int) -> tuple[Path, list[Path], Path]:
    project = tmp_path / "project"
    project.mkdir()
    good = []
    for index in range(good_files):
        path = project / f"model_{index:02}.py"
        path.write_text(KERAS2)
        good.append(path)
    crashing = project / "model_05_crash.py"
    crashing.write_text(KERAS2 + f"# {MARKER}\n")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return project, good, site


def _check_with_fault_injection(project: Path, site: Path, *flags: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", str(project), "--select", "KER601",
         "--output-format", "concise", *flags],
        capture_output=True, text=True, timeout=300, env=env,
    )


def _assert_only_the_crashing_file_is_lost(result, good: list[Path], crashing: Path) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "BrokenProcessPool" not in result.stderr
    for path in good:
        assert f"{path}:2:32: KER601" in result.stdout, result.stdout
    assert str(crashing) not in result.stdout
    [line] = [line for line in result.stderr.splitlines() if str(crashing) in line]
    assert "died on this file" in line and "it was not checked" in line


def test_a_worker_that_dies_loses_only_its_own_file_with_parallel_jobs(tmp_path):
    project, good, site = _project_with_a_crashing_file(tmp_path, good_files=20)
    result = _check_with_fault_injection(project, site, "--jobs", "2")
    _assert_only_the_crashing_file_is_lost(result, good, project / "model_05_crash.py")


def test_a_worker_that_dies_loses_only_its_own_file_with_one_job(tmp_path):
    project, good, site = _project_with_a_crashing_file(tmp_path, good_files=4)
    result = _check_with_fault_injection(project, site, "--jobs", "1")
    _assert_only_the_crashing_file_is_lost(result, good, project / "model_05_crash.py")


def test_two_crashing_files_are_both_named(tmp_path):
    project, good, site = _project_with_a_crashing_file(tmp_path, good_files=12)
    second = project / "model_09_crash.py"
    second.write_text(KERAS2 + f"# {MARKER}\n")
    result = _check_with_fault_injection(project, site, "--jobs", "2")
    assert result.returncode == 2, result.stderr
    for path in good:
        assert f"{path}:2:32: KER601" in result.stdout
    for crashing in (project / "model_05_crash.py", second):
        assert f"{crashing}: the checker's process died on this file" in result.stderr


# ----- each construct that nests: refused just past its limit, checked well under it ---------

HEAD = "import tensorflow as tf\n"
ADAM = "tf.keras.optimizers.Adam(lr=1e-3)"
ONLY = Settings.from_mapping({"select": ["KER601"]})
# The limits, as the docs of KER002 state them.
DEPTH = 1000  # expression depth
BRACKETS = 200
ADJACENT_STRINGS = 1000
FSTRINGS = 100
ELIF_BRANCHES = 1000
FILE_SIZE = 1_000_000
TOO_DEEP = "an expression nested more than 1000 levels deep"


def _chain(operator: str, terms: int) -> str:
    return f" {operator} ".join(["a"] * terms)


def _nested(opening: str, closing: str, levels: int, inner: str = "a") -> str:
    return opening * levels + inner + closing * levels


def _fstring(levels: int, inner: str = "a") -> str:
    for _ in range(levels):
        inner = 'f"{' + inner + '}"'
    return inner


def _elif_chain(branches: int, last: str = "pass") -> str:
    chain = "if a:\n    pass\n" + "".join(f"elif a == {i}:\n    pass\n" for i in range(branches))
    return chain + f"else:\n    {last}\n"


# name -> (the statement just past the limit, the piece of its message, a long but normal
# statement with a KER601 finding in it)
CONSTRUCTS = {
    "and": (
        "x = " + _chain("and", DEPTH // 2 + 2), TOO_DEEP,
        "x = " + " and ".join([f"flag_{i}" for i in range(100)] + [ADAM]),
    ),
    "or": (
        "x = " + _chain("or", DEPTH // 2 + 2), TOO_DEEP,
        "x = " + " or ".join([f"flag_{i}" for i in range(100)] + [ADAM]),
    ),
    "comparison-and-not": (
        "x = " + _chain("not in", DEPTH + 2), TOO_DEEP,
        "x = " + " < ".join([f"bound_{i}" for i in range(200)] + [ADAM]),
    ),
    "plus": (
        "x = " + "+".join(["1"] * (DEPTH + 2)), TOO_DEEP,
        "x = " + " + ".join([f"w_{i} * v_{i}" for i in range(150)] + [ADAM]),
    ),
    "power": (
        "x = " + _chain("**", DEPTH + 2), TOO_DEEP,
        "x = " + " ** ".join(["2"] * 50 + [ADAM]),
    ),
    "shift": (
        "x = " + _chain("<<", DEPTH + 2), TOO_DEEP,
        "x = " + " | ".join([f"1 << {i}" for i in range(100)] + [ADAM]),
    ),
    "minus-prefix": ("x = " + "-" * (DEPTH + 1) + "1", TOO_DEEP, "x = - - -" + ADAM),
    "invert-prefix": ("x = " + "~" * (DEPTH + 1) + "1", TOO_DEEP, "x = ~~" + ADAM),
    "not-prefix": ("x = " + "not " * (DEPTH + 1) + "a", TOO_DEEP, "x = not not " + ADAM),
    "parentheses": (
        "x = " + _nested("(", ")", BRACKETS + 1), "brackets nested more than 200 deep",
        "x = " + _nested("(", ")", 40, ADAM),
    ),
    "lists": (
        "x = " + _nested("[", "]", BRACKETS + 1), "brackets nested more than 200 deep",
        "x = " + _nested("[", "]", 40, ADAM),
    ),
    "dicts": (
        "x = " + _nested("{'k': ", "}", BRACKETS + 1), "brackets nested more than 200 deep",
        "x = " + _nested("{'k': ", "}", 40, ADAM),
    ),
    "calls": (
        "x = " + _nested("f(", ")", BRACKETS + 1), "brackets nested more than 200 deep",
        "x = " + _nested("f(", ")", 40, ADAM),
    ),
    "subscripts": (
        "x = " + _nested("a[", "]", BRACKETS + 1), "brackets nested more than 200 deep",
        "x = " + _nested("a[", "]", 40, ADAM),
    ),
    "attribute-chain": (
        "x = a" + ".b" * (DEPTH + 1), TOO_DEEP,
        "x = " + ADAM + ".attribute" * 300,
    ),
    "call-chain": (
        "x = f" + "()" * (DEPTH // 2 + 1), TOO_DEEP,
        "x = " + ADAM + "()" * 100,
    ),
    "subscript-chain": (
        "x = a" + "[0]" * (DEPTH // 2 + 1), TOO_DEEP,
        "x = " + ADAM + "[0]" * 100,
    ),
    "lambda": (
        "x = " + "lambda: " * (DEPTH // 4 + 1) + "a", TOO_DEEP,
        "x = " + "lambda: " * 10 + ADAM,
    ),
    "conditional": (
        "x = " + "a if b else " * (DEPTH // 2 + 1) + "a", TOO_DEEP,
        "x = " + "".join(f"w_{i} if c_{i} else " for i in range(100)) + ADAM,
    ),
    "await": (
        "async def f():\n    x = " + "await (" * (BRACKETS + 1) + "a" + ")" * (BRACKETS + 1),
        "brackets nested more than 200 deep",
        "async def f():\n    x = await (await " + ADAM + ")",
    ),
    "adjacent-strings": (
        "x = " + " ".join(["'a'"] * (ADJACENT_STRINGS + 1)), "more than 1000 string literals in a row",
        "x = (" + " ".join(["'a'"] * 300) + ", " + ADAM + ")",
    ),
    "adjacent-strings-over-lines": (
        "x = (\n" + "".join(f"    'a'  # line {i}\n" for i in range(ADJACENT_STRINGS + 1)) + ")",
        "more than 1000 string literals in a row",
        "x = (\n" + "".join(f"    'a'  # line {i}\n" for i in range(300)) + ", " + ADAM + ")",
    ),
    "nested-f-strings": (
        "x = " + _fstring(FSTRINGS + 4), "f-strings nested more than 100 deep",
        "x = " + _fstring(6, ADAM),
    ),
    "elif-chain": (
        _elif_chain(ELIF_BRANCHES + 1), "an `if` statement with more than 1000 `elif` branches",
        _elif_chain(300, "opt = " + ADAM),
    ),
}


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
def test_a_construct_past_its_limit_is_not_checked_and_a_long_normal_one_is(name):
    too_deep, why, normal = CONSTRUCTS[name]
    text = HEAD + too_deep + "\nopt = " + ADAM + "\n"
    [finding] = lint(text, "deep.py", ONLY)
    assert finding.code == "KER002" and finding.name == "file-not-checked"
    assert finding.message == f"File not checked: {why}"
    assert fix(text, "deep.py", ONLY).source == text
    normal_text = HEAD + normal + "\n"
    assert [f.code for f in lint(normal_text, "normal.py", ONLY)] == ["KER601"]


def test_valid_python_that_libcst_rejects_is_not_called_a_syntax_error():
    # 5,000 joined literals and a line continuation alone on a line: Python reads both.
    strings = HEAD + "x = " + " ".join(["'a'"] * 5000) + "\n"
    continuation = HEAD + "class Model:\n  \\\n  def f(self):\n    return " + ADAM + "\n"
    for text in (strings, continuation):
        compile(text, "valid.py", "exec")
        [finding] = lint(text, "valid.py", ONLY)
        assert finding.code == "KER002", finding.message
    [finding] = lint(continuation, "valid.py", ONLY)
    assert finding.message.startswith("File not checked: Python accepts it but LibCST's parser does not (")
    # What Python rejects too is a syntax error.
    [finding] = lint(HEAD + "opt = " + ADAM + "\ndef f(:\n", "broken.py", ONLY)
    assert finding.code == "KER001" and finding.message == "SyntaxError: invalid syntax"


# ----- size and memory -------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_not_parsed(monkeypatch):
    def must_not_parse(*args, **kwargs):
        raise AssertionError("the parser was called")

    monkeypatch.setattr("libcst.parse_module", must_not_parse)
    text = HEAD + "opt = " + ADAM + "\n" + "x = 1\n" * (FILE_SIZE // 6)
    assert len(text) > FILE_SIZE
    [finding] = lint(text, "huge.py", ONLY)
    assert finding.code == "KER002"
    assert finding.message == (
        f"File not checked: it is {len(text):,} characters long, over the limit of 1,000,000 (`max-file-size`)"
    )
    assert fix(text, "huge.py", ONLY).source == text


def test_the_size_limit_is_a_setting(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kerasfix]\nselect = ["KER601"]\nmax-file-size = 200\n')
    small = tmp_path / "small.py"
    small.write_text(HEAD + "opt = " + ADAM + "\n")
    large = tmp_path / "large.py"
    large.write_text(HEAD + "opt = " + ADAM + "\n" + "x = 1\n" * 40)
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", str(tmp_path), "--output-format", "concise", "--fix"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1, result.stderr
    size = len(large.read_text())
    assert f"{large}:1:1: KER002 File not checked: it is {size} characters long, over the limit of 200" in result.stdout
    assert "(lr=" not in small.read_text() and "(lr=" in large.read_text()


@pytest.mark.parametrize("error", [MemoryError, RecursionError])
def test_running_out_of_memory_or_stack_while_parsing_is_a_finding(monkeypatch, error):
    def exhausted(*args, **kwargs):
        raise error()

    monkeypatch.setattr("libcst.parse_module", exhausted)
    [finding] = lint(HEAD + "opt = " + ADAM + "\n", "a.py", ONLY)
    assert finding.code == "KER002"
    expected = "memory ran out while parsing it" if error is MemoryError else "it is nested too deeply for parsing it"
    assert expected in finding.message


@pytest.mark.parametrize("error", [MemoryError, RecursionError])
def test_running_out_of_memory_or_stack_while_checking_is_a_finding(monkeypatch, error):
    def exhausted(*args, **kwargs):
        raise error()

    monkeypatch.setattr("kerasfix.rules.engine.lint.walk", exhausted)
    monkeypatch.setattr("kerasfix.rules.engine.incremental.walk", exhausted)
    text = HEAD + "opt = " + ADAM + "\n"
    [finding] = lint(text, "a.py", ONLY)
    assert finding.code == "KER002" and "checking it" in finding.message
    [finding] = IncrementalLinter("a.py", ONLY).lint(text)
    assert finding.code == "KER002" and "checking it" in finding.message


# ----- the editor's incremental linter ---------------------------------------------------------

GOOD = HEAD + "\n\ndef build():\n    return 1\n\n\nopt = " + ADAM + "\n"


def test_the_incremental_linter_refuses_a_whole_text_past_a_limit():
    linter = IncrementalLinter("a.py", ONLY)
    [finding] = linter.lint(GOOD + "x = " + _chain("and", DEPTH) + "\n")
    assert finding.code == "KER002"


def test_the_incremental_linter_refuses_an_edited_statement_past_a_limit():
    linter = IncrementalLinter("a.py", ONLY)
    assert [f.code for f in linter.lint(GOOD)] == ["KER601"]
    assert [f.code for f in linter.lint(GOOD.replace("return 1", "return 2"))] == ["KER601"]
    assert linter.last_mode == "region"
    deep = GOOD.replace("return 1", "return " + _chain("or", DEPTH))
    [finding] = linter.lint(deep)
    assert finding.code == "KER002" and "1000 levels deep" in finding.message
    # Back to normal code, everything is checked again.
    assert [f.code for f in linter.lint(GOOD)] == ["KER601"]


def test_the_incremental_linter_refuses_a_text_edited_past_the_size_limit():
    settings = Settings.from_mapping({"select": ["KER601"], "max-file-size": len(GOOD) + 100})
    linter = IncrementalLinter("a.py", settings)
    assert [f.code for f in linter.lint(GOOD)] == ["KER601"]
    # Each edit re-parses one small statement; the text as a whole is what is too large.
    grown = GOOD.replace("return 1", "return " + " + ".join(["1"] * 60))
    [finding] = linter.lint(grown)
    assert finding.code == "KER002" and "over the limit of" in finding.message


# ----- the command line on text at the size that crashed the parser ----------------------------

CRASHED_BEFORE = {
    "and-chain": "x = " + _chain("and", 7500),
    "or-chain": "x = " + _chain("or", 7500),
    "elif-chain": _elif_chain(8400),
    "nested-f-strings": "x = " + _fstring(1200),
}


@pytest.mark.parametrize("name", sorted(CRASHED_BEFORE))
def test_text_that_crashed_the_parser_gives_a_clean_exit(tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_text(HEAD + CRASHED_BEFORE[name] + "\n")
    # A subprocess: were the parser reached, the crash would kill it rather than this test run.
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", str(path), "--output-format", "concise", "--jobs", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, (result.returncode, result.stderr)
    [line] = [line for line in result.stdout.splitlines() if str(path) in line]
    assert "KER002 File not checked:" in line


def test_the_rule_is_documented(capsys):
    from kerasfix.server.cli import main

    assert main(["rule", "KER002"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# KER002 file-not-checked")
    assert "## Why" in out and "## Fix safety" in out


@pytest.mark.parametrize(
    "string",
    [
        '"""a "quoted" ""word"" \\""" ' + "(" * 300 + '"""',
        "'''" + "(" * 300 + " it''s\\''' '''",
        '"\\"' + "(" * 300 + '"',
        "'\\\\' + '" + "(" * 300 + "'",
        'r"""' + "[" * 300 + '\\\\"""',
    ],
)
def test_brackets_inside_strings_do_not_count(string):
    """The scan skips a string whole (escapes, quotes inside triple quotes, a closing run of
    quotes): its brackets are no nesting."""
    text = HEAD + "x = " + string + "\nopt = " + ADAM + "\n"
    compile(text, "strings.py", "exec")
    assert [f.code for f in lint(text, "strings.py", ONLY)] == ["KER601"]
