"""Re-linting only the edited statements gives exactly what a whole-file lint gives."""

from __future__ import annotations

import random

import pytest

import libcst as cst

from kerasfix.rules import Settings, lint
from kerasfix.rules.engine.incremental import IncrementalLinter

from test_engine import RULES

BASE = '''"""A module."""
import tensorflow as tf
from keras import ops


class Block(tf.keras.layers.Layer):
    def call(self, x):
        return tf.reduce_sum(x)


def loss(y, p):
    total = tf.reduce_sum(y - p)
    return ops.take(total, [0])


def other():
    return tf.reduce_sum(tf.reduce_sum(1))
'''


def full(text: str):
    return lint(text, "m.py", Settings(), rules=RULES)


def same(linter: IncrementalLinter, text: str) -> str:
    got = linter.lint(text)
    assert got == full(text)
    return linter.last_mode


def test_edit_inside_a_function_relints_that_statement_only():
    linter = IncrementalLinter("m.py", Settings(), RULES)
    assert same(linter, BASE) == "full"
    text = BASE.replace("total = tf.reduce_sum(y - p)", "total = tf.reduce_sum(y - p) + 1")
    assert same(linter, text) == "region"
    text = text.replace("    return tf.reduce_sum(tf.reduce_sum(1))\n", "    return 0\n")
    assert same(linter, text) == "region"
    text = text.replace("def other():", "def other():\n    x = tf.reduce_sum(2)\n")
    assert same(linter, text) == "region"


def test_new_statement_at_end_and_comment_in_header():
    linter = IncrementalLinter("m.py", Settings(), RULES)
    same(linter, BASE)
    assert same(linter, BASE + "\nprint(tf.reduce_sum(3))\n") == "region"
    assert same(linter, "# a comment\n" + BASE + "\nprint(tf.reduce_sum(3))\n") == "full"


def test_import_change_falls_back_to_full():
    linter = IncrementalLinter("m.py", Settings(), RULES)
    same(linter, BASE)
    assert same(linter, BASE.replace("from keras import ops\n", "")) == "full"


def test_renaming_a_function_binding_falls_back_to_full():
    linter = IncrementalLinter("m.py", Settings(), RULES)
    same(linter, BASE)
    assert same(linter, BASE.replace("def other():", "def tf():")) == "full"


def test_syntax_error_keeps_other_findings_then_recovers():
    linter = IncrementalLinter("m.py", Settings(), RULES)
    good = linter.lint(BASE)
    broken = BASE.replace("total = tf.reduce_sum(y - p)", "total = tf.reduce_sum(y - p")
    findings = linter.lint(broken)
    codes = [f.code for f in findings]
    assert "KER001" in codes
    # The findings of the untouched class and function are still there, at the same text.
    kept = [broken[f.span.start : f.span.end] for f in findings if f.code != "KER001"]
    assert "tf.reduce_sum(x)" in kept
    assert kept.count("tf.reduce_sum(1)") == 1
    syntax = next(f for f in findings if f.code == "KER001")
    assert 0 <= syntax.span.start <= len(broken)
    assert same(linter, BASE) in ("region", "unchanged")
    assert linter.lint(BASE) == good


def test_crlf_and_bom_text():
    text = "\ufeff" + BASE.replace("\n", "\r\n")
    linter = IncrementalLinter("m.py", Settings(), RULES)
    same(linter, text)
    assert same(linter, text.replace("y - p", "y - p - 1")) == "region"


@pytest.mark.parametrize("prefix", ["", "\ufeff# a header\n\n"])
def test_statement_spans_computed_ahead_or_on_the_first_edit_agree(prefix):
    # A full lint leaves the statements' spans to the first edit, or to `prepare` (which the
    # server's engine runs once the findings are sent): both give the same re-lints.
    text = prefix + BASE
    edited = text.replace("y - p", "y - p - 1").replace("def other():", "def other():\n    pass\n")
    lazy = IncrementalLinter("m.py", Settings(), RULES)
    ahead = IncrementalLinter("m.py", Settings(), RULES)
    for linter in (lazy, ahead):
        assert same(linter, text) == "full"
        assert linter._state.spans is None
    ahead.prepare()
    assert ahead._state.spans is not None
    for linter in (lazy, ahead):
        assert same(linter, edited) == "region"
    assert lazy._state.spans == ahead._state.spans


def test_random_edits_match_full_lint():
    """Random typing and deleting; an edit that breaks the syntax is usually undone at once, as
    when a person finishes typing a bracket, so most versions parse and re-lint by region."""
    rng = random.Random(1234)
    linter = IncrementalLinter("m.py", Settings(), RULES)
    text = last_good = BASE
    linter.lint(text)
    pieces = ["x", " ", "\n", "tf.reduce_sum(a)", "(", ")", "#", ":", "    ", "ops.take(q, i)\n", "y = 1\n", '"""', "\\\n"]
    modes = []
    for _ in range(400):
        position = rng.randrange(len(text) + 1)
        if rng.random() < 0.6:
            text = text[:position] + rng.choice(pieces) + text[position:]
        else:
            text = text[:position] + text[position + rng.randrange(1, 4):]
        got = linter.lint(text)
        modes.append(linter.last_mode)
        expected = full(text)
        # Text that does not parse (KER001), or that LibCST cannot parse although Python can
        # (KER002: a line holding only a backslash continuation), gets the same finding.
        unchecked = {f.code for f in expected} & {"KER001", "KER002"}
        if unchecked:
            assert unchecked <= {f.code for f in got}
            assert all(0 <= f.span.start <= f.span.end <= len(text) for f in got)
            if rng.random() < 0.8:
                text = last_good
            continue
        last_good = text
        if cst.parse_module(text).code != text:
            # LibCST does not reproduce this layout; the whole-file lint then drops findings
            # it cannot place, which the region lint may still place: both are right.
            continue
        assert got == expected, linter.last_mode
    assert modes.count("region") > 50, modes


def test_a_region_sees_module_level_values_assigned_in_other_statements():
    # `m2` is a model from its assignment two statements up; the edited statement alone says
    # nothing of it. The region's rules read the other statements from the earlier parse.
    before = "import keras\nm2 = keras.Sequential([keras.layers.Dense(2)])\nx = 1\nm2.reset_states()\n"
    after = before.replace("m2.reset_states()", "m2.reset_states(  )")
    linter = IncrementalLinter("a.py", Settings())
    linter.lint(before)
    findings = linter.lint(after)
    assert linter.last_mode == "region"
    assert [f.code for f in findings] == ["KER406"]
    assert findings == lint(after, "a.py", Settings())


def test_a_region_sees_that_a_module_level_value_is_not_a_model():
    # Named like a model, shown to be an image: a region must not fall back to the name.
    before = "import PIL.Image\nimport keras\nmodel = PIL.Image.new('RGB', (2, 2))\nx = 1\nmodel.reset_states()\n"
    after = before.replace("model.reset_states()", "model.reset_states(  )")
    linter = IncrementalLinter("a.py", Settings())
    linter.lint(before)
    findings = linter.lint(after)
    assert linter.last_mode == "region"
    assert findings == lint(after, "a.py", Settings()) == []


def test_whole_file_findings_survive_an_edit_to_their_statement_and_follow_other_statements():
    # KER301 on `PATH = "exported"` holds because another statement saves a model to it.
    before = 'import keras\nPATH = "exported"\nmodel = keras.Sequential()\nx = 1\nmodel.save(PATH)\n'
    linter = IncrementalLinter("a.py", Settings())
    assert linter.lint(before) == lint(before, "a.py", Settings())
    assert [f.code for f in linter.lint(before)] == ["KER301", "KER301"]
    for after in (
        before.replace("model.save(PATH)", "model.save(PATH)  # edited"),
        before.replace("x = 1", "x = 2"),
        before.replace("model.save(PATH)\n", "print(PATH)\n"),  # no save left: no KER301
        before,
    ):
        findings = linter.lint(after)
        assert findings == lint(after, "a.py", Settings())
    assert [f.code for f in lint(before.replace("model.save(PATH)\n", "print(PATH)\n"), "a.py", Settings())] == []


def test_a_moved_fix_that_starts_before_its_finding_moves_with_it():
    # The fix removes `, dynamic=None` from the comma on, before the finding's range.
    before = "import keras\nd = keras.layers.Dense(4)\ne = keras.layers.Dense(4, activation='relu', dynamic=None)\n"
    after = before.replace("Dense(4)\n", "Dense(4)  # edited\n")
    linter = IncrementalLinter("a.py", Settings())
    linter.lint(before)
    findings = linter.lint(after)
    assert linter.last_mode == "region"
    assert [f.code for f in findings] == ["KER406"]
    assert findings == lint(after, "a.py", Settings())


def test_rules_that_read_the_text_see_it_in_a_whole_file_lint_too():
    # KER540 asks whether the text names Keras at all: this one does not.
    text = "from tensorflow import data as tf_data\nds = tf_data.Dataset.range(3)\n"
    settings = Settings(select=("ALL",))
    assert IncrementalLinter("a.py", settings).lint(text) == lint(text, "a.py", settings) == []


ALL = Settings(select=("ALL",), keras_version=(3, 0, 0))
_SQUASH = (
    "import tensorflow as tf\nimport keras\n\ndef squash(t):\n"
    "    return tf.nn.sigmoid_cross_entropy_with_logits(labels=t, logits=t)\n\n"
    "layer = keras.layers.Lambda(squash)\n"
)
_TENSOR = "import keras\nimport tensorflow as tf\n\nx = keras.Input((2, 2, 1))\nprint(tf.squeeze(x))\n"
_MAP = (
    "import tensorflow as tf\nimport keras\n\nencoder = keras.Sequential([keras.layers.Dense(8)])\n\n"
    "def embed(x):\n    return encoder(x)\n\n"
    "ds = tf.data.Dataset.from_tensor_slices(features)\nds.batch(32).map(embed)\n"
)
_PICKLED = (
    "import pickle\nimport keras\nclass Scale(keras.layers.Layer):\n"
    "    def __init__(self, factor: float = 2.0):\n        super().__init__()\n"
    "pickle.dump(model, out)\n"
)
_NAMED = (
    "from tensorflow.keras import layers\n"
    'x = layers.Conv2D(8, 3, name="stem/conv")(x)\nprint(model.get_layer("stem/conv"))\n'
)
_ADDED = (
    "from tensorflow import keras\nmodel = keras.Sequential()\n"
    "model.add(keras.layers.LSTM(8, batch_input_shape=(4, 10, 2)))\n"
    "model.add(keras.layers.Dense(1, input_dim=8))\n"
)
_DATA = "import keras\nimport tensorflow as tf\nds = tf.data.Dataset.range(2)\nval = tf.data.Dataset.range(3)\n"

# (text, a statement's old text, its new text, how the edit is re-linted, a code). An edit
# re-linted whole changes the code's findings in another statement; an edit re-linted alone
# keeps the code's finding in the edited line, which depends on another statement that the
# region's rules read. Each edit stays on its lines, so findings are compared by line.
CROSS_STATEMENT_EDITS = [
    (_SQUASH, "Lambda(squash)", "Lambda(abs)", "full", "KER201"),  # squash is no model code
    (_SQUASH, "logits=t)\n", "logits=t)  # edited\n", "region", "KER201"),
    (_TENSOR, "keras.Input((2, 2, 1))", "tf.zeros((2, 2, 1))", "full", "KER222"),  # no KerasTensor
    (_TENSOR, "squeeze(x))", "squeeze(x))  # edited", "region", "KER222"),
    (_MAP, "map(embed)", "map(str)", "full", "KER226"),  # embed is no map function
    (_MAP, "return encoder(x)", "return encoder(x)  # edited", "region", "KER226"),
    (_PICKLED, "pickle.dump(model, out)", "print(model, out)", "full", "KER309"),  # nothing saved
    (_NAMED, 'get_layer("stem/conv")', 'get_layer("stem_conv")', "full", "KER313"),  # used once
    (_NAMED, "(x)\n", "(x)  # edited\n", "region", "KER313"),
    (_ADDED, "model.add(keras.layers.LSTM", "print(keras.layers.LSTM", "full", "KER413"),  # Dense first
    (_DATA, "ds = tf.data.Dataset.range(2)", "ds = range(2)", "full", "KER540"),  # val's is the first
]


def _by_line(findings, code):
    return [
        (f.span.start_pos.line, f.message, f.note, f.fix and (f.fix.applicability, [e.content for e in f.fix.edits]))
        for f in findings
        if f.code == code
    ]


@pytest.fixture
def alone(tmp_path):
    """A file in a project of its own: whether the project saves models is up to the file."""
    (tmp_path / "pyproject.toml").write_text("")
    return str(tmp_path / "a.py")


@pytest.mark.parametrize("text, old, new, mode, code", CROSS_STATEMENT_EDITS)
def test_an_edit_that_changes_findings_of_other_statements(text, old, new, mode, code, alone):
    edited = text.replace(old, new)
    line = text[: text.index(old)].count("\n")
    before, after = lint(text, alone, ALL), lint(edited, alone, ALL)
    linter = IncrementalLinter(alone, ALL)
    assert linter.lint(text) == before
    assert linter.lint(edited) == after
    assert linter.last_mode == mode
    assert linter.lint(text) == before
    if mode == "full":
        outside = lambda findings: [f for f in _by_line(findings, code) if f[0] != line]  # noqa: E731
        assert outside(before) != outside(after)
    else:
        assert any(f[0] == line for f in _by_line(after, code))


def test_a_region_sees_the_saving_call_of_another_statement_and_its_line(alone):
    # Whether `Scale` reaches a save (KER308, KER309) depends on every statement of the file; the
    # note gives the line of the first save, before or after the class.
    after_class = _PICKLED
    before_class = "# header\n\n" + _PICKLED.replace("pickle.dump(model, out)\n", "").replace(
        "import keras\n", "import keras\n\npickle.dump(model, out)  # line 6\n\n"
    )
    for text, line in ((after_class, 6), (before_class, 6)):
        linter = IncrementalLinter(alone, ALL)
        assert linter.lint(text) == lint(text, alone, ALL)
        edited = text.replace("super().__init__()", "super().__init__()  # edited")
        findings = linter.lint(edited)
        assert linter.last_mode == "region"
        assert findings == lint(edited, alone, ALL)
        notes = {f.note for f in findings if f.code in ("KER308", "KER309")}
        assert notes == {f"This file saves or loads models (line {line}, `pickle.dump(...)`)."}, notes


_SCALE = "import keras\nclass Scale(keras.layers.Layer):\n    def __init__(self, f):\n        super().__init__()\n"


@pytest.mark.parametrize(
    "text, line",
    [
        ("# header\n\n# more\nmodel.save('m.keras')\n" + _SCALE, 4),  # the first statement, after a header
        ("\ufeff# header\r\n\r\nmodel.save('m.keras')\r\n" + _SCALE.replace("\n", "\r\n"), 3),
        (_SCALE + "if True:\n\n    x = 1\n    model.save('m.keras')\n", 8),  # nested
        (_SCALE + "\n\n\nmodel.save('m.keras')  # c\n\n\n", 8),  # the last statement, before a footer
    ],
)
def test_a_region_tells_the_line_of_a_save_in_another_statement(text, line, alone):
    # Only the saving rules: the whole-file rules would re-lint every edit of a text that saves.
    settings = Settings(select=("KER307", "KER308", "KER309", "KER310"))
    linter = IncrementalLinter(alone, settings)
    assert linter.lint(text) == lint(text, alone, settings)
    for old, new in (("super().__init__()", "super().__init__()  # e"), ("(self, f)", "(self, g)")):
        text = text.replace(old, new)
        findings = linter.lint(text)
        assert linter.last_mode == "region"
        assert findings == lint(text, alone, settings)
        assert {f.note for f in findings if f.code == "KER309"} == {
            f"This file saves or loads models (line {line}, `.save(...)`)."
        }
