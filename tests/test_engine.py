"""The engine alone, with small rules defined here: names, fixes, imports, noqa, bad input."""

from __future__ import annotations

import libcst as cst
import pytest

from kerasfix.rules import Settings, fix, lint
from kerasfix.rules.engine.context import Context
from kerasfix.rules.engine.edits import FixSpec, Replace, append_arg, remove_arg
from kerasfix.rules.engine.rule import Rule


class ReduceSumToOps(Rule):
    """## Why\ntest\n## Fix safety\nsafe"""

    code = "KER990"
    name = "test-reduce-sum"
    message = "tf.reduce_sum"
    nodes = (cst.Call,)

    def visit(self, node: cst.Call, ctx: Context) -> None:
        if ctx.qualname(node.func) != "tensorflow.reduce_sum":
            return
        ref = ctx.reference("keras.ops.sum")
        fix_ = None
        if ref is not None:
            fix_ = FixSpec.safe("use keras.ops.sum", Replace(node.func, ref[0]), imports=ref[1])
        ctx.report(node, fix=fix_)


class DropVerbose(Rule):
    """## Why\ntest\n## Fix safety\nsafe"""

    code = "KER991"
    name = "test-drop-verbose"
    message = "verbose="
    nodes = (cst.Call,)

    def visit(self, node: cst.Call, ctx: Context) -> None:
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "verbose":
                ctx.report_arg(arg, fix=FixSpec.safe("drop", remove_arg(node, arg)))


class AddAxis(Rule):
    """## Why\ntest\n## Fix safety\nsafe"""

    code = "KER992"
    name = "test-add-axis"
    message = "take without axis"
    nodes = (cst.Call,)

    def visit(self, node: cst.Call, ctx: Context) -> None:
        if ctx.qualname(node.func) == "keras.ops.take" and not any(
            a.keyword and a.keyword.value == "axis" for a in node.args
        ):
            ctx.report(node, fix=FixSpec.safe("axis", append_arg(node, "axis=0")))


RULES = (ReduceSumToOps(), DropVerbose(), AddAxis())


def run(source: str, **kwargs):
    return lint(source, "t.py", Settings(), rules=RULES, **kwargs)


def fixed(source: str) -> str:
    result = fix(source, "t.py", Settings(), rules=RULES).source
    assert fix(result, "t.py", Settings(), rules=RULES).source == result
    cst.parse_module(result.lstrip("\ufeff"))
    return result


# ----- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import tensorflow as tf\ny = tf.reduce_sum(x)\n",
        "import tensorflow\ny = tensorflow.reduce_sum(x)\n",
        "from tensorflow import reduce_sum as rs\ny = rs(x)\n",
        "try:\n    import tensorflow as tf\nexcept ImportError:\n    tf = None\ny = tf.reduce_sum(x)\n",
        "def f(x):\n    import tensorflow as T\n    return T.reduce_sum(x)\n",
        "import tensorflow as tf\nclass A:\n    def f(self, x):\n        return [tf.reduce_sum(v) for v in x]\n",
        "if True:\n    import tensorflow as tf\nz = lambda x: tf.reduce_sum(x)\n",
    ],
)
def test_resolves_through_imports(source):
    assert [f.code for f in run(source)] == ["KER990"]


@pytest.mark.parametrize(
    "source",
    [
        "import tensorflow as tf\ndef f(tf):\n    return tf.reduce_sum(x)\n",
        "import tensorflow as tf\ndef f():\n    tf = other()\n    return tf.reduce_sum(x)\n",
        "import tensorflow as tf\ndef f():\n    for tf in things:\n        tf.reduce_sum(x)\n",
        "import tensorflow as tf\nz = lambda tf: tf.reduce_sum(x)\n",
        "import numpy as tf\ny = tf.reduce_sum(x)\n",
        "from . import tensorflow\ny = tensorflow.reduce_sum(x)\n",
        "y = tf.reduce_sum(x)  # tf never imported\n",
        "import tensorflow as tf\ny = tf.reduce_sum(x)  # noqa: KER990\n",
        "import tensorflow as tf\ny = tf.reduce_sum(x)  # noqa\n",
    ],
)
def test_shadowed_unknown_or_suppressed_names_are_quiet(source):
    assert run(source) == []


def test_noqa_for_another_code_does_not_suppress():
    assert [f.code for f in run("import tensorflow as tf\ny = tf.reduce_sum(x)  # noqa: KER100\n")] == ["KER990"]


def test_global_declaration_uses_module_import():
    source = "import tensorflow as tf\ndef f():\n    global tf\n    tf = 1\n    return tf.reduce_sum(x)\n"
    assert len(run(source)) == 1


# ----- fixes and imports ---------------------------------------------------------------------


def test_fix_adds_import_once_after_existing_imports():
    source = '"""Doc."""\nimport numpy as np\nimport tensorflow as tf\n\na = tf.reduce_sum(x)\nb = tf.reduce_sum(tf.reduce_sum(y))\n'
    assert fixed(source) == (
        '"""Doc."""\nimport numpy as np\nimport tensorflow as tf\nimport keras\n\n'
        "a = keras.ops.sum(x)\nb = keras.ops.sum(keras.ops.sum(y))\n"
    )


def test_fix_reuses_existing_binding():
    source = "import tensorflow as tf\nfrom keras import ops\na = tf.reduce_sum(x)\n"
    assert fixed(source) == "import tensorflow as tf\nfrom keras import ops\na = ops.sum(x)\n"


def test_fix_when_keras_name_is_taken_imports_ops():
    source = "import tensorflow as tf\nfrom tensorflow import keras\na = tf.reduce_sum(x)\n"
    assert fixed(source) == (
        "import tensorflow as tf\nfrom tensorflow import keras\nfrom keras import ops\na = ops.sum(x)\n"
    )


def test_fix_in_file_without_imports_inserts_before_first_statement():
    source = "# header comment\n\ndef f():\n    import tensorflow as tf\n    return tf.reduce_sum(x)\n"
    result = fixed(source)
    assert result == "# header comment\n\nimport keras\ndef f():\n    import tensorflow as tf\n    return keras.ops.sum(x)\n"


def test_remove_arg_variants():
    assert fixed("import tensorflow\nf(a, verbose=1)\n") == "import tensorflow\nf(a)\n"
    assert fixed("import tensorflow\nf(verbose=1, a=2)\n") == "import tensorflow\nf(a=2)\n"
    assert fixed("import tensorflow\nf(verbose=1)\n") == "import tensorflow\nf()\n"
    assert fixed("import tensorflow\nf(\n    a,\n    verbose=1,\n)\n") == "import tensorflow\nf(\n    a,\n    )\n"


def test_append_arg_keeps_trailing_comma():
    source = "from keras import ops\nops.take(x, i,)\nops.take(x, i)\n"
    assert fixed(source) == "from keras import ops\nops.take(x, i, axis=0,)\nops.take(x, i, axis=0)\n"


def test_crlf_bom_and_comments_are_kept():
    source = "\ufeffimport tensorflow as tf\r\n# keep me\r\na = tf.reduce_sum(x)  # and me\r\n"
    assert fixed(source) == (
        "\ufeffimport tensorflow as tf\r\nimport keras\r\n# keep me\r\na = keras.ops.sum(x)  # and me\r\n"
    )


def test_positions_count_code_points_after_cjk_and_emoji():
    source = "import tensorflow as tf\ns = '日本🙂'; a = tf.reduce_sum(x)\n"
    (finding,) = run(source)
    assert source[finding.span.start : finding.span.end] == "tf.reduce_sum(x)"
    assert finding.start.line == 1
    assert finding.start.character == len("s = '日本🙂'; a = ")


def test_syntax_error_gives_one_finding_at_python_position():
    (finding,) = run("import tensorflow as tf\ndef f(:\n    pass\n")
    assert finding.code == "KER001"
    assert (finding.start.line, finding.start.character) == (1, 6)
    assert fix("import tensorflow as tf\ndef f(:\n", rules=RULES).source == "import tensorflow as tf\ndef f(:\n"


def test_irrelevant_file_is_not_parsed():
    assert run("def f(:\n") == []  # no keras/tf word: skipped, even though it does not parse


def test_deep_nesting_within_the_limit_is_checked_and_fixed():
    checked = "import tensorflow as tf\nx = " + "(" * 150 + "tf.reduce_sum(y)" + ")" * 150 + "\n"
    (finding,) = run(checked)
    # The call with the parentheses around it (LibCST's node), at its place on line 2.
    assert finding.code == "KER990"
    assert checked[finding.span.start : finding.span.end] == "(" * 150 + "tf.reduce_sum(y)" + ")" * 150
    assert (finding.start.line, finding.start.character) == (1, len("x = "))
    assert fixed(checked) == "import tensorflow as tf\nimport keras\nx = " + "(" * 150 + "keras.ops.sum(y)" + ")" * 150 + "\n"


def test_deep_nesting_past_the_limit_is_refused_at_the_first_bracket_too_deep():
    refused = "import tensorflow as tf\nx = " + "(" * 300 + "tf.reduce_sum(y)" + ")" * 300 + "\n"
    (finding,) = run(refused)
    assert (finding.code, finding.message, finding.fix) == (
        "KER002", "File not checked: brackets nested more than 200 deep", None
    )
    # An empty range at the 201st bracket.
    assert finding.span.start == finding.span.end == refused.index("(") + 200
    assert fix(refused, "t.py", Settings(), rules=RULES).source == refused


def test_broken_rule_does_not_stop_others():
    class Broken(Rule):
        code = "KER993"
        name = "broken"
        message = "x"
        nodes = (cst.Call,)

        def visit(self, node, ctx):
            raise ValueError("boom")

    source = "import tensorflow as tf\ntf.reduce_sum(x)\n"
    findings = lint(source, rules=(Broken(), ReduceSumToOps()))
    # The others still report; the broken one is said where it failed, never silently dropped.
    assert [(f.code, f.name, source[f.span.start : f.span.end]) for f in findings] == [
        ("KER003", "rule-failed", "tf.reduce_sum(x)"),
        ("KER990", "test-reduce-sum", "tf.reduce_sum(x)"),
    ]
    assert findings[0].message == (
        "KER993 failed on this code and did not check it (ValueError: boom): a bug in kerasfix, please report it"
    )
    assert findings[0].fix is None
    # A noqa comment silences it like any finding.
    quiet = source.replace("(x)\n", "(x)  # noqa: KER003\n")
    assert [f.code for f in lint(quiet, rules=(Broken(), ReduceSumToOps()))] == ["KER990"]


def test_overlapping_fixes_converge_over_passes():
    source = "import tensorflow as tf\nfrom keras import ops\nops.take(tf.reduce_sum(x), i)\n"
    assert fixed(source) == "import tensorflow as tf\nfrom keras import ops\nops.take(ops.sum(x), i, axis=0)\n"


def test_layout_libcst_does_not_reproduce_never_gets_a_wrong_edit():
    # LibCST drops a backslash continuation that precedes a statement's first token: that
    # statement's text is not the source's, and its call gets no finding rather than one at a
    # wrong place. The calls before and after it are found where they are, and fixed.
    source = (
        "import tensorflow as tf\na = tf.reduce_sum(y)\n"
        "def f():\n    x = 1\n   \\\n return tf.reduce_sum(x)\n"
        "b = tf.reduce_sum(z)\n"
    )
    assert cst.parse_module(source).code != source
    found = run(source)
    assert [(f.span.start, source[f.span.start : f.span.end]) for f in found] == [
        (source.index("tf.reduce_sum(y)"), "tf.reduce_sum(y)"),
        (source.index("tf.reduce_sum(z)"), "tf.reduce_sum(z)"),
    ]
    assert fixed(source) == (
        source.replace("a = tf.reduce_sum(y)", "import keras\na = keras.ops.sum(y)")
        .replace("b = tf.reduce_sum(z)", "b = keras.ops.sum(z)")
    )


def test_a_fix_that_would_break_the_syntax_is_not_applied():
    class Breaking(Rule):
        code = "KER994"
        name = "breaking"
        message = "x"
        nodes = (cst.Call,)

        def visit(self, node, ctx):
            if ctx.qualname(node.func) == "tensorflow.reduce_sum":
                ctx.report(node, fix=FixSpec.safe("break", Replace(node.func, "keras.ops.sum(")))

    source = "import tensorflow as tf\nfrom keras import ops\na = tf.reduce_sum(x)\nb = ops.take(y, i)\n"
    result = fix(source, rules=(Breaking(), AddAxis()))
    assert result.rejected == 1
    assert result.source == "import tensorflow as tf\nfrom keras import ops\na = tf.reduce_sum(x)\nb = ops.take(y, i, axis=0)\n"


def test_findings_carry_the_backends_they_break_on():
    class OnSome(Rule):
        code = "KER994"
        name = "test-on-some"
        message = "x"
        nodes = (cst.Call,)
        backends = frozenset({"jax", "torch"})

        def visit(self, node, ctx):
            # Some calls break on one of the rule's backends only.
            narrowed = frozenset({"torch", "tensorflow"}) if ctx.qualname(node.func) == "tensorflow.one" else None
            ctx.report(node, backends=narrowed)

    findings = lint("import tensorflow as tf\ntf.one()\ntf.two()\n", rules=(OnSome(),))
    # The rule's backends, narrowed to those of the finding (never widened beyond the rule's).
    assert [(f.code, f.backends) for f in findings] == [
        ("KER994", frozenset({"torch"})),
        ("KER994", frozenset({"jax", "torch"})),
    ]


def test_a_removed_api_finding_on_a_string_literal_is_not_deprecated():
    class Removed(Rule):
        code = "KER995"
        name = "test-removed"
        message = "x"
        nodes = (cst.Call,)
        deprecated = True

        def visit(self, node, ctx):
            # One finding on the call, one on the path string it is given.
            ctx.report(node.func)
            ctx.report(node.args[0].value)

    findings = lint('import tensorflow as tf\ntf.save("path")\ntf.save(f"{d}/m")\n', rules=(Removed(),))
    assert [f.deprecated for f in findings] == [True, False, True, False]


def test_calls_in_gives_every_call_in_source_order():
    from kerasfix.rules.engine.walker import calls_in

    tree = cst.parse_module("a(b(c()), d())\nif x:\n    e(f=g())\n")
    assert [cst.Module([]).code_for_node(call.func) for call in calls_in(tree)] == ["a", "b", "c", "d", "e", "g"]
