"""The walker's gates (`engine/gates.py`) only save work: linting with them gives exactly the
findings of linting without them, on every rule's examples and valid code, the example programs
and callees spelled through import aliases."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from kerasfix.rules import Settings, all_rules, lint
from kerasfix.rules.engine import walker
from kerasfix.rules.engine.context import Context
from kerasfix.rules.engine.gates import AttributeGates, CallGates, alias_names, for_text, gate, gates_for
from kerasfix.rules.engine.lint import dispatch_table, enabled_rules

ROOT = Path(__file__).parent
PROGRAMS = sorted((ROOT / "programs").rglob("*.py"))

# Callees and attributes that reach a gated rule only through an alias or an unusual layout.
ALIASED = {
    "lambda-alias": (
        "import keras\nfrom keras.layers import Lambda as L\n"
        "model = keras.Sequential([L(lambda x: x * 2)])\nmodel.save('m.keras')\n"
    ),
    "batchnorm-alias-in-function": (
        "def build():\n    from tensorflow.keras.layers import BatchNormalization as BN\n"
        "    return BN(renorm=True, fused=True)\n"
    ),
    "tape-alias": (
        "import keras\nfrom tensorflow import GradientTape as Tape\n\n"
        "class M(keras.Model):\n    def train_step(self, data):\n        x, y = data\n"
        "        with Tape() as tape:\n            loss = self.compiled_loss(y, self(x))\n"
        "        grads = tape.gradient(loss, self.trainable_variables)\n"
        "        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))\n"
        "        return {'loss': loss}\n"
    ),
    "input-alias-comment": (
        "from keras import (  # the model's input\n    Input as  # a comment after `as`\n    In,\n)\n"
        "x = In((None,), dtype='string', ragged=True)\n"
    ),
    "seed-alias": "from tensorflow.random import set_seed as seed\nimport keras\nseed(1)\nkeras.layers.Dense(3)\n",
    "optimizer-keywords": (
        "from tensorflow.keras.optimizers import Adam as A\nopt = A(lr=0.1, decay=0.01)\n"
        "print(opt.lr, opt.iterations)\n"
    ),
}


def _sources() -> list[pytest.param]:
    found = []
    for rule in all_rules():
        for i, example in enumerate(rule.examples):
            found.append(pytest.param(example.source, id=f"{rule.code}-example-{i}"))
        for i, snippet in enumerate(rule.valid):
            found.append(pytest.param(snippet, id=f"{rule.code}-valid-{i}"))
    for path in PROGRAMS:
        found.append(pytest.param(path.read_text(encoding="utf-8"), id=str(path.relative_to(ROOT))))
    for name, source in ALIASED.items():
        found.append(pytest.param(source, id=name))
    return found


def _findings(source: str, path: str) -> list[tuple]:
    found = []
    for settings in (Settings(), Settings(keras_version=(3, 0, 0))):
        for f in lint(source, path, settings):
            fix = None if f.fix is None else (f.fix.title, tuple((e.start, e.end, e.content) for e in f.fix.edits))
            found.append((f.code, f.span.start, f.span.end, f.message, fix))
    return found


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("gates")
    (root / "pyproject.toml").write_text("")
    return root


@pytest.mark.parametrize("source", _sources())
def test_gated_walk_finds_what_the_ungated_walk_finds(source, project, monkeypatch):
    path = str(project / "module.py")
    gated = _findings(source, path)
    monkeypatch.setattr(walker, "gates_for", lambda kind, rules: None)
    monkeypatch.setattr(walker, "for_text", lambda dispatch, ctx: dispatch)
    assert _findings(source, path) == gated


def test_aliased_callees_reach_their_rules(project):
    """The gates let an aliased callee through: these findings exist only because of it."""
    path = str(project / "module.py")
    codes = {name: {f.code for f in lint(source, path)} for name, source in ALIASED.items()}
    assert "KER307" in codes["lambda-alias"]
    assert "KER410" in codes["batchnorm-alias-in-function"]
    assert "KER502" in codes["tape-alias"]
    assert {"KER415", "KER419"} <= codes["input-alias-comment"]
    assert "KER702" in codes["seed-alias"]
    assert {"KER601", "KER602", "KER520"} <= codes["optimizer-keywords"]


def test_alias_names_are_every_name_as_binds():
    module = cst.parse_module("x = 1\n")
    ctx = Context(module, Settings(), None)
    ctx.shared[walker.SOURCE_TEXT] = (
        "import numpy as np\nfrom a import (b as  # why\n  c, d as\n e)\nimport f \\\n  as g\n"
        "with open(p) as fh:\n    pass\nclass Base: pass\nalias = 1\n"
    )
    assert alias_names(ctx) == {"np", "c", "e", "g", "fh"}
    ctx.shared.clear()
    assert alias_names(ctx) is None  # no text at hand: every bare-name callee is looked up


def test_walk_without_the_text_looks_every_name_up():
    """A walk whose context lacks the file's text (no alias list) still reaches the alias."""
    source = ALIASED["lambda-alias"]
    module = cst.parse_module(source)
    settings = Settings(select=("KER307",))
    ctx = Context(module, settings, None)
    walker.walk(module, ctx, dispatch_table(enabled_rules(settings)))
    assert [p.rule.code for p in ctx.pending] == ["KER307"]


def test_every_gate_is_a_set_of_names():
    for rule in all_rules():
        for method in ("call_leaves", "call_keywords", "attribute_names", "attribute_words", "import_roots"):
            words = gate(rule, method)
            if words is None:
                continue
            assert words, f"{rule.code}.{method}() lets nothing through"
            assert all(isinstance(w, str) and w.isidentifier() for w in words), (rule.code, method)


def test_most_calls_and_attributes_reach_few_rules():
    """The gates are used: of the rules called on calls and attributes, most are gated."""
    table = dispatch_table(enabled_rules(Settings()))
    calls = gates_for(CallGates, table[cst.Call])
    attributes = gates_for(AttributeGates, table[cst.Attribute])
    assert calls is not None and attributes is not None
    assert len(calls.ungated) < len(table[cst.Call]) / 3
    assert len(attributes.ungated) == 0


def test_a_text_gate_leaves_its_rule_out_of_the_walk():
    settings = Settings()
    table = dispatch_table(enabled_rules(settings))
    module = cst.parse_module("x = 1\n")
    ctx = Context(module, settings, None)
    ctx.shared[walker.SOURCE_TEXT] = "import keras\nx = keras.ops.ones(3)\n"
    kept = {rule.code for rules in for_text(table, ctx).values() for rule in rules}
    assert "KER301" not in kept and "KER523" not in kept  # no saving call, no BCE
    assert "KER201" in kept
    ctx.shared[walker.SOURCE_TEXT] = "import keras\nm.save('d')\nkeras.losses.BinaryCrossentropy()\nnp.random.uniform()\n"
    kept = {rule.code for rules in for_text(table, ctx).values() for rule in rules}
    assert {"KER301", "KER523"} <= kept
    ctx.shared.clear()
    assert for_text(table, ctx) is table  # without the text, nothing is left out


def test_imported_leaf_is_the_name_a_callee_was_imported_as():
    source = "from keras.layers import Dense as D\nimport keras\nD(1)\nkeras.layers.Dense(1)\nlocal(1)\nf()(1)\n"
    module = cst.parse_module(source)
    ctx = Context(module, Settings(), None)
    calls = [stmt.body[0].value for stmt in module.body[2:]]
    assert [ctx.imported_leaf(call.func) for call in calls] == ["Dense", "Dense", "local", None]
