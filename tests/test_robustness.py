"""Bad input for the engine and the CLI: clear messages, no crash, no file written wrongly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kerasfix.rules import Settings, all_rules, apply_fixes, fix, lint
from kerasfix.server.cli import Outcome, _process, main
from corpora import fetch as fetch_corpus

EXAMPLES = Path(__file__).parent / "examples"
KERAS2 = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"


def _parses(text: str) -> bool:
    try:
        cst.parse_module(text.lstrip("\ufeff"))
    except Exception:  # noqa: BLE001 - any parser failure means "does not parse"
        return False
    return True


# ----- bad input through the CLI -------------------------------------------------------------

_FIXED_LINE = "opt = tf.keras.optimizers.Adam(learning_rate=1e-3)"
_FIXED_NOTE = "Found 1 error (1 fixed, 0 remaining).\n"
_NOT_UTF8 = "not valid {} (byte {}: {}); declare the encoding with a `# -*- coding: ... -*-` line"


class Fixed:
    """`--fix` rewrites the file to exactly `expected` (exit 0, nothing on stderr)."""

    def __init__(self, expected: bytes) -> None:
        self.expected = expected


class Unchanged:
    """The file is not written; exit `code`; `finding` (`{path}` filled in) is the first line
    printed, or `stdout` the whole output."""

    def __init__(self, code: int, finding: str | None = None, stdout: str | None = None) -> None:
        self.code, self.finding, self.stdout = code, finding, stdout


class Unreadable:
    """The file cannot be decoded: exit 2, exactly this message on stderr, the file untouched."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


# Each input with the result written out by hand: the bytes `--fix` must leave (BOM, line
# endings, tabs, the declared encoding and every other byte kept; only `lr=` renamed).
BAD_INPUTS: dict[str, tuple[bytes, object]] = {
    "bom": (
        b"\xef\xbb\xbfimport tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n",
        Fixed(b"\xef\xbb\xbfimport tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n"),
    ),
    "crlf": (
        b"import tensorflow as tf\r\nopt = tf.keras.optimizers.Adam(lr=1e-3)\r\n",
        Fixed(b"import tensorflow as tf\r\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\r\n"),
    ),
    "bom-crlf": (
        b"\xef\xbb\xbfimport tensorflow as tf\r\nopt = tf.keras.optimizers.Adam(lr=1e-3)\r\n",
        Fixed(b"\xef\xbb\xbfimport tensorflow as tf\r\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\r\n"),
    ),
    "mixed-endings": (
        b"import tensorflow as tf\r\nx = 1\ropt = tf.keras.optimizers.Adam(lr=1e-3)\n",
        Fixed(b"import tensorflow as tf\r\nx = 1\ropt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n"),
    ),
    "tabs": (
        b"import tensorflow as tf\nif True:\n\topt = tf.keras.optimizers.Adam(lr=1e-3)\n",
        Fixed(b"import tensorflow as tf\nif True:\n\topt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n"),
    ),
    "no-final-newline": (
        b"import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)",
        Fixed(b"import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)"),
    ),
    "cjk": (
        "import tensorflow as tf\n名前 = '日本語'\nopt = tf.keras.optimizers.Adam(lr=1e-3)  # 学習率\n".encode("utf-8"),
        Fixed("import tensorflow as tf\n名前 = '日本語'\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)  # 学習率\n".encode("utf-8")),
    ),
    "emoji": (
        "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(name='🙂🙂', lr=1e-3)\n".encode("utf-8"),
        Fixed("import tensorflow as tf\nopt = tf.keras.optimizers.Adam(name='🙂🙂', learning_rate=1e-3)\n".encode("utf-8")),
    ),
    "shift-jis-declared": (
        "# -*- coding: shift_jis -*-\nimport tensorflow as tf\n# 学習率\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n".encode("shift_jis"),
        # 学習率 in Shift JIS, byte for byte.
        Fixed(b"# -*- coding: shift_jis -*-\nimport tensorflow as tf\n# \x8aw\x8fK\x97\xa6\n"
              b"opt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n"),
    ),
    "latin-1-declared": (
        b"# -*- coding: latin-1 -*-\nimport tensorflow as tf\n# caf\xe9\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n",
        Fixed(b"# -*- coding: latin-1 -*-\nimport tensorflow as tf\n# caf\xe9\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n"),
    ),
    "long-line": (
        b"import tensorflow as tf\nx = '" + b"a" * 100_000 + b"'\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n",
        Fixed(b"import tensorflow as tf\nx = '" + b"a" * 100_000 + b"'\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n"),
    ),
    "nul-byte": (
        b"import tensorflow as tf\nx = 1\x00\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n",
        # The NUL byte itself: line 2, column 6.
        Unchanged(1, finding="{path}:2:6: KER001 SyntaxError: tokenizer error: '\\0' is not a valid character in this position"),
    ),
    "deep-nesting": (
        b"import tensorflow as tf\nx = " + b"(" * 500 + b"tf.keras.optimizers.Adam(lr=1e-3)" + b")" * 500 + b"\n",
        # The 201st bracket, after `x = ` and 200 brackets, is column 205.
        Unchanged(1, finding="{path}:2:205: KER002 File not checked: brackets nested more than 200 deep"),
    ),
    "deep-calls": (
        b"import tensorflow as tf\nx = " + b"f(" * 500 + b"tf.keras.optimizers.Adam(lr=1e-3)" + b")" * 500 + b"\n",
        # The 201st `(`: after `x = ` and 200 `f(`, then its own `f`.
        Unchanged(1, finding="{path}:2:406: KER002 File not checked: brackets nested more than 200 deep"),
    ),
    "empty": (b"", Unchanged(0, stdout="All checks passed!\n")),
    "only-comments": (b"# tensorflow keras\n# nothing else\n", Unchanged(0, stdout="All checks passed!\n")),
    "latin-1-undeclared": (
        b"import tensorflow as tf\n# caf\xe9\n",
        # `import tensorflow as tf\n# caf` is 29 bytes: the 30th is byte 29.
        Unreadable(_NOT_UTF8.format("UTF-8", 29, r"b'\xe9'")),
    ),
    "utf-16-undeclared": (
        "import tensorflow as tf\n".encode("utf-16"),
        Unreadable(_NOT_UTF8.format("UTF-8", 0, r"b'\xff'")),
    ),
    "ascii-declared-not-ascii": (
        b"# -*- coding: ascii -*-\nimport tensorflow as tf\n# caf\xe9\n",
        Unreadable(_NOT_UTF8.format("ASCII", 53, r"b'\xe9'")),
    ),
    "unknown-encoding": (
        b"# -*- coding: klingon -*-\nimport tensorflow as tf\n",
        Unreadable("unknown encoding: klingon"),
    ),
}


def test_the_expected_results_are_what_they_say():
    # The hand-written expectations agree with a plain rename in the original bytes.
    for name, (data, expected) in BAD_INPUTS.items():
        if isinstance(expected, Fixed):
            assert expected.expected == data.replace(b"(lr=", b"(learning_rate=").replace(b", lr=", b", learning_rate="), name
    assert BAD_INPUTS["latin-1-undeclared"][0].index(b"\xe9") == 29
    assert BAD_INPUTS["ascii-declared-not-ascii"][0].index(b"\xe9") == 53


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_through_the_cli(tmp_path, capsys, name):
    path = tmp_path / f"{name}.py"
    data, expected = BAD_INPUTS[name]
    path.write_bytes(data)
    code = main(["check", str(path), "--fix", "--select", "KER601"])
    captured = capsys.readouterr()
    after = path.read_bytes()
    if isinstance(expected, Fixed):
        assert (code, captured.err) == (0, "")
        assert captured.out == _FIXED_NOTE
        assert after == expected.expected
        # Checking the fixed file again finds nothing and writes nothing.
        assert main(["check", str(path), "--fix", "--select", "KER601"]) == 0
        assert capsys.readouterr().out == "All checks passed!\n"
        assert path.read_bytes() == expected.expected
    elif isinstance(expected, Unchanged):
        assert (code, captured.err) == (expected.code, "")
        assert after == data
        if expected.stdout is not None:
            assert captured.out == expected.stdout
        if expected.finding is not None:
            assert captured.out.splitlines()[0] == expected.finding.format(path=path)
            assert captured.out.endswith("Found 1 error (0 fixed, 1 remaining).\n" + (
                "1 file was not parsed and left unchanged.\n" if "KER001" in expected.finding else ""
            ))
    else:
        assert code == 2
        assert captured.err == f"kerasfix: error: {path}: {expected.problem}\n"
        assert captured.out == "No errors found; 1 file could not be checked (the errors above say why).\n"
        assert after == data


# Text that LibCST's parser would take minutes on (its time grows with the square of an
# expression's depth) or crash on (its native parser overflows the C stack at ~1,250 nested
# brackets): refused up front with one clear finding where the depth runs over (KER002: the
# file is not checked, which is not a syntax error).
PATHOLOGICAL = {
    "chain-100k": ("x = " + "+".join(["1"] * 50_000) + "\n", "an expression nested more than 1000 levels deep", 1),
    "attribute-chain": ("x = a" + ".b" * 50_000 + "\n", "an expression nested more than 1000 levels deep", 1),
    "call-chain": ("x = f" + "()" * 50_000 + "\n", "an expression nested more than 1000 levels deep", 1),
    "unary-chain": ("x = " + "-" * 100_000 + "1\n", "an expression nested more than 1000 levels deep", 1),
    "brackets-2000": ("x = " + "(" * 2000 + "1" + ")" * 2000 + "\n", "brackets nested more than 200 deep", 1),
    "unclosed-brackets": ("x = " + "[" * 5000 + "\n", "brackets nested more than 200 deep", 1),
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_code_is_refused_with_a_clear_finding(tmp_path, name):
    body, why, line = PATHOLOGICAL[name]
    data = ("import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n" + body).encode()
    path = tmp_path / f"{name}.py"
    path.write_bytes(data)
    # A subprocess: were the parser reached, a crash would kill it rather than this test run.
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", str(path), "--fix", "--output-format", "concise"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1, result.stderr
    [finding] = result.stdout.splitlines()[:1]
    assert f"{path}:{line + 2}:" in finding and f"KER002 File not checked: {why}" in finding
    assert path.read_bytes() == data


def test_the_depth_limits_are_not_reached_by_real_code():
    from kerasfix.rules.engine.syntax import check_parsable

    only = Settings.from_mapping({"select": ["KER601"]})
    for seed in SEEDS:
        check_parsable(seed)
    # At the limits themselves the code is still checked.
    at_limit = "import tensorflow as tf\nx = " + "(" * 199 + "tf.keras.optimizers.Adam(lr=1e-3)" + ")" * 199 + "\n"
    assert [f.code for f in lint(at_limit, "a.py", only)] == ["KER601"]
    chain = "import tensorflow as tf\nx = " + "+".join(["1"] * 900) + "\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
    assert [f.code for f in lint(chain, "a.py", only)] == ["KER601"]
    # Brackets and operators inside strings and comments do not count.
    quoted = "import tensorflow as tf\nx = '" + "(" * 2000 + "'  # " + "+" * 2000 + "\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
    assert [f.code for f in lint(quoted, "a.py", only)] == ["KER601"]
    # A long flat list (a table of numbers) is not deep.
    table = "import tensorflow as tf\nw = [" + ", ".join(["-1.5"] * 20_000) + "]\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
    assert [f.code for f in lint(table, "a.py", only)] == ["KER601"]


def test_lone_surrogate_gives_one_finding_in_lint_and_fix():
    text = "import tensorflow as tf\nname = '\ud800'\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
    [finding] = lint(text, "a.py")
    assert finding.code == "KER001" and "lone surrogate (U+D800)" in finding.message
    assert finding.span.start_pos.line == 1
    assert fix(text, "a.py").source == text


def test_ten_megabytes_of_code_are_not_checked(tmp_path):
    # LibCST would need about 7 GB for it: the file is named as not checked, quickly.
    block = (
        "class Layer{i}(tf.keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        return tf.reduce_sum(x) + {i}\n\n"
        "opt{i} = tf.keras.optimizers.Adam(lr=1e-3)\n\n"
    )
    text = "import tensorflow as tf\n\n" + "".join(block.format(i=i) for i in range(70_000))
    assert len(text) > 10_000_000
    path = tmp_path / "huge.py"
    path.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", str(path), "--select", "KER601", "--output-format", "concise"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert f"{path}:1:1: KER002 File not checked: it is {len(text):,} characters long, over the limit of 1,000,000 (`max-file-size`)" in result.stdout


def test_file_that_vanishes_during_the_run_is_named(tmp_path):
    path = tmp_path / "gone.py"
    path.write_text(KERAS2)
    path.unlink()
    outcome: Outcome = _process(str(path), Settings(), "check", False)
    assert outcome.error is not None and "removed during the run" in outcome.error


def test_fifo_and_broken_symlink_are_not_read(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.py")
    os.symlink(tmp_path / "missing.py", tmp_path / "dangling.py")
    (tmp_path / "real.py").write_text(KERAS2)
    assert main(["check", str(tmp_path), "--select", "KER601", "--output-format", "concise"]) == 2
    captured = capsys.readouterr()
    assert "dangling.py: a broken symbolic link" in captured.err
    assert "real.py:2:32: KER601" in captured.out
    assert main(["check", str(tmp_path / "pipe.py")]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_directory_without_permission_is_named(tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    (tmp_path / "ok.py").write_text(KERAS2)
    real_scandir = os.scandir

    def scandir(path):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["check", str(tmp_path), "--select", "KER601", "--jobs", "1"]) == 2
    assert "locked: permission denied" in capsys.readouterr().err


def test_checking_never_runs_the_code(tmp_path):
    marker = tmp_path / "side-effect"
    code = (
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
        "import tensorflow as tf\n"
        "opt = tf.keras.optimizers.Adam(lr=1e-3)\n"
    )
    (tmp_path / "evil.py").write_text(code)
    (tmp_path / "pyproject.toml").write_text('[tool.kerasfix]\nselect = ["KER601"]\n')
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", str(tmp_path), "--fix", "--unsafe-fixes"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not marker.exists()


# ----- fuzzing the engine --------------------------------------------------------------------

# Real Keras 2 code: the shipped programs, every rule's own examples, and slices of a real
# project (the spektral corpus, tests/corpora.py).
SEEDS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.py"))] + [
    # (KER002's example is nested too deeply to check, on purpose.)
    example.source for rule in all_rules() for example in rule.examples if rule.code != "KER002"
] + [
    KERAS2,
    "import tensorflow as tf\nfrom tensorflow import keras\n\nclass L(keras.layers.Layer):\n"
    "    def __init__(self, units):\n        super().__init__()\n        self.units = units\n"
    "    def call(self, x):\n        return tf.where(x > 0, tf.reduce_sum(x), tf.gather(x, [0]))\n",
]


# The corpus is fetched by the test command's setup step; without it this module says so
# rather than fuzzing other inputs than on every other machine.
for _path in sorted(fetch_corpus("spektral").rglob("*.py"))[:40]:
    SEEDS.append(_path.read_text(encoding="utf-8", errors="replace")[:6000])

# The normal run tries a few dozen inputs; the long run (not part of the suite) many more:
#   KERASFIX_FUZZ_EXAMPLES=20000 python3 -m pytest tests/test_robustness.py -k fuzzed
FUZZ_EXAMPLES = int(os.environ.get("KERASFIX_FUZZ_EXAMPLES", "60"))


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "truncate"]))
        at = draw(st.integers(0, len(text)))
        if kind == "insert":
            piece = draw(st.sampled_from(["(", ")", ":", "\n", "    ", "tf.", "keras.", "lr=", "#", '"', "x", "日本🙂", "\r\n", "\t"]))
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        else:
            text = text[:at]
    return text


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fuzzed_edits(text):
    findings = lint(text, "fuzz.py")
    for finding in findings:
        assert 0 <= finding.span.start <= finding.span.end <= len(text)
        if finding.fix is not None:
            edits = finding.fix.edits
            assert all(0 <= e.start <= e.end <= len(text) for e in edits)
            alone, applied = apply_fixes(text, [finding.fix])
            if applied:
                # The fix touches only its own ranges.
                first, last = min(e.start for e in edits), max(e.end for e in edits)
                assert alone[:first] == text[:first]
                assert alone[len(alone) - (len(text) - last):] == text[last:]
    if _parses(text):
        once = fix(text, "fuzz.py", unsafe=True).source
        assert _parses(once)
        assert fix(once, "fuzz.py", unsafe=True).source == once
