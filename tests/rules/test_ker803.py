"""KER803 on training and serving code: which Orbax restores it reports, what it says, its fix,
and what `kerasfix check` and `kerasfix rule` print."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kerasfix.rules import Settings, fix, lint, rule_by_code

ONLY = Settings(select=("KER803",))

KEY_ERROR = (
    "Orbax restores integer state keys (list and tuple indices) as strings: `nnx.update` raises "
    "`KeyError: 'Invalid key: 0'` on them (older Flax skips them silently): convert the keys back first"
)
TUPLE_ERROR = (
    "Orbax restores integer state keys (list and tuple indices) as strings: `nnx.update` raises "
    "`ValueError: Cannot set key '0' on immutable node of type tuple` on an optimizer's state "
    "(optax states are tuples): convert the keys back first"
)
REPLACE = (
    "Orbax restores integer state keys (list and tuple indices) as strings: `replace_by_pure_dict` "
    "converts them back only since google/flax#4317 (Flax 0.10.1); older Flax fails ('key in "
    "pure_dict not available in state'): convert the keys first there"
)

# A training script that resumes an encoder (blocks in an nnx.List) and its optimizer.
RESUME = '''\
import optax
import orbax.checkpoint as ocp
from flax import nnx


class Encoder(nnx.Module):
    def __init__(self, dim, depth, *, rngs):
        self.blocks = nnx.List([nnx.Linear(dim, dim, rngs=rngs) for _ in range(depth)])
        self.norm = nnx.LayerNorm(dim, rngs=rngs)


def resume(ckpt_dir, step):
    encoder = Encoder(16, 4, rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(encoder, optax.adamw(3e-4), wrt=nnx.Param)
    mngr = ocp.CheckpointManager(ckpt_dir)
    saved = mngr.restore(step)
    nnx.update(encoder, saved["model"])
    nnx.update(optimizer, saved["optimizer"])
    return encoder, optimizer
'''

RESUME_FIXED = RESUME.replace(
    'nnx.update(encoder, saved["model"])', 'nnx.update(encoder, nnx.restore_int_paths(saved["model"]))'
).replace(
    'nnx.update(optimizer, saved["optimizer"])',
    'nnx.update(optimizer, nnx.restore_int_paths(saved["optimizer"]))',
)


def found(source: str) -> list[tuple[int, str, str]]:
    return [(f.start.line + 1, source[f.span.start : f.span.end], f.message) for f in lint(source, "train.py", ONLY)]


def test_model_and_optimizer_each_say_what_fails():
    assert found(RESUME) == [
        (17, 'saved["model"]', KEY_ERROR),
        (18, 'saved["optimizer"]', TUPLE_ERROR),
    ]


def test_unsafe_fix_converts_the_keys_with_restore_int_paths():
    [model, optimizer] = lint(RESUME, "train.py", ONLY)
    assert model.fix.title == "Convert the keys back with `nnx.restore_int_paths` (Flax 0.12.1 or newer)"
    assert not model.fix.is_safe and not optimizer.fix.is_safe
    assert fix(RESUME, "train.py", ONLY).source == RESUME
    assert fix(RESUME, "train.py", ONLY, unsafe=True).source == RESUME_FIXED
    assert lint(RESUME_FIXED, "train.py", ONLY) == []


@pytest.mark.parametrize(
    "imports, spelled",
    [
        ("import flax.nnx as nnx", "nnx"),
        ("from flax import nnx as fnnx", "fnnx"),
        ("import flax", "flax.nnx"),
    ],
)
def test_any_spelling_of_flax_nnx(imports, spelled):
    source = RESUME.replace("from flax import nnx", imports).replace("nnx.", f"{spelled}.")
    assert [(line, text) for line, text, _ in found(source)] == [(17, 'saved["model"]'), (18, 'saved["optimizer"]')]
    assert f"{spelled}.update(encoder, {spelled}.restore_int_paths(saved[\"model\"]))" in fix(
        source, "train.py", ONLY, unsafe=True
    ).source


def test_functions_imported_from_nnx():
    source = (
        "import orbax.checkpoint as ocp\n"
        "from flax.nnx import update\n\n\n"
        "def load(model, checkpointer, path):\n"
        "    update(model, checkpointer.restore(path))\n"
    )
    assert found(source) == [(6, "checkpointer.restore(path)", KEY_ERROR)]
    assert fix(source, "load.py", ONLY, unsafe=True).source == source.replace(
        "from flax.nnx import update\n", "from flax.nnx import update\nimport flax\n"
    ).replace("update(model, checkpointer.restore(path))", "update(model, flax.nnx.restore_int_paths(checkpointer.restore(path)))")


# Serving code: an abstract model's state restored, with or without a target.
SERVE = '''\
import orbax.checkpoint as ocp
from flax import nnx


class Tagger(nnx.Module):
    def __init__(self, vocab, rngs):
        self.embed = nnx.Embed(vocab, 32, rngs=rngs)
        self.layers = nnx.Sequential(nnx.Linear(32, 32, rngs=rngs), nnx.Linear(32, 9, rngs=rngs))


def load_tagger(path):
    abstract = nnx.eval_shape(lambda: Tagger(30000, nnx.Rngs(0)))
    graphdef, abstract_state = nnx.split(abstract)
    checkpointer = ocp.StandardCheckpointer()
    weights = checkpointer.restore(path)
    nnx.replace_by_pure_dict(abstract_state, weights)
    return nnx.merge(graphdef, abstract_state)
'''


def test_replace_by_pure_dict_function_form_is_a_portability_warning_without_fix():
    [finding] = lint(SERVE, "serve.py", ONLY)
    assert (SERVE[finding.span.start : finding.span.end], finding.message) == ("weights", REPLACE)
    assert finding.fix is None


@pytest.mark.parametrize(
    "restore",
    [
        "checkpointer.restore(path, abstract_state.to_pure_dict())",
        "checkpointer.restore(path, target=nnx.to_pure_dict(abstract_state))",
        "ocp.PyTreeCheckpointer().restore(path, item=nnx.to_pure_dict(abstract_state))",
        "ocp.CheckpointManager(path).restore(1, args=ocp.args.StandardRestore(nnx.to_pure_dict(abstract_state)))",
        "ocp.CheckpointManager(path).restore(1, args=ocp.args.Composite("
        "params=ocp.args.StandardRestore(nnx.to_pure_dict(abstract_state))))['params']",
    ],
)
def test_a_restore_given_a_target_is_not_reported(restore):
    source = SERVE.replace("checkpointer.restore(path)", restore)
    assert lint(source, "serve.py", ONLY) == []


def test_a_restore_args_without_a_target_is_reported():
    source = SERVE.replace(
        "checkpointer.restore(path)", "ocp.CheckpointManager(path).restore(1, args=ocp.args.StandardRestore())"
    )
    assert [f.message for f in lint(source, "serve.py", ONLY)] == [REPLACE]


# A model with named heads in an nnx.Dict: every key of its state is a string.
HEADS = '''\
import orbax.checkpoint as ocp
from flax import nnx


class MultiTask(nnx.Module):
    def __init__(self, features, tasks, rngs):
        self.trunk = nnx.Linear(features, 64, rngs=rngs)
        self.heads = nnx.Dict({task: nnx.Linear(64, 1, rngs=rngs) for task in tasks})
        self.dropout = nnx.Dropout(0.1, rngs=rngs)
        self.features = features


def restore(path):
    model = MultiTask(8, ("price", "volume"), nnx.Rngs(0))
    nnx.update(model, ocp.StandardCheckpointer().restore(path))
    return model
'''


def test_string_keyed_nnx_dict_is_not_reported():
    assert lint(HEADS, "heads.py", ONLY) == []


@pytest.mark.parametrize(
    "load",
    [
        "    _, state = nnx.split(model)\n    state.replace_by_pure_dict(ocp.StandardCheckpointer().restore(path))\n",
        "    nnx.replace_by_pure_dict(nnx.state(model), ocp.StandardCheckpointer().restore(path))\n",
    ],
)
def test_string_keyed_state_replaced_from_a_restore_is_not_reported(load):
    abstract = "    model = nnx.eval_shape(lambda: MultiTask(8, ('price',), nnx.Rngs(0)))\n"
    source = HEADS.split("def restore(path):")[0] + "def restore(path):\n" + abstract + load
    assert lint(source, "heads.py", ONLY) == []
    with_blocks = source.replace("self.features = features", "self.blocks = nnx.List([])")
    assert [f.message for f in lint(with_blocks, "heads.py", ONLY)] == [REPLACE]


@pytest.mark.parametrize(
    "heads",
    [
        "nnx.Dict({task: nnx.List([nnx.Linear(64, 1, rngs=rngs)]) for task in tasks})",
        "nnx.Dict(price=nnx.Sequential(nnx.Linear(64, 1, rngs=rngs)))",
        "[nnx.Linear(64, 1, rngs=rngs) for task in tasks]",
        "Towers(rngs)",
    ],
)
def test_integer_keys_anywhere_in_the_model_are_reported(heads):
    towers = "\n\nclass Towers(nnx.Module):\n    def __init__(self, rngs):\n        self.towers = nnx.List([])\n"
    source = HEADS.replace("nnx.Dict({task: nnx.Linear(64, 1, rngs=rngs) for task in tasks})", heads).replace(
        "\n\n\ndef restore", towers + "\n\ndef restore"
    )
    assert found(source) == [(19, "ocp.StandardCheckpointer().restore(path)", KEY_ERROR)]


def test_a_list_built_before_it_becomes_an_attribute_is_reported():
    source = HEADS.replace(
        "self.features = features",
        "towers = [nnx.Linear(64, 64, rngs=rngs) for _ in range(2)]\n        self.towers = towers",
    )
    assert found(source) == [(16, "ocp.StandardCheckpointer().restore(path)", KEY_ERROR)]


def test_models_this_file_does_not_show_are_reported():
    source = HEADS.replace("self.trunk = nnx.Linear(features, 64, rngs=rngs)", "self.trunk = Backbone(features)")
    assert found(source) == [(15, "ocp.StandardCheckpointer().restore(path)", KEY_ERROR)]


def _kerasfix(*args: str, cwd) -> subprocess.CompletedProcess:
    home = cwd / "home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "kerasfix.server", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


INT_KEYS = '''\
def int_keys(tree):
    return {int(k) if isinstance(k, str) and k.isdigit() else k:
            int_keys(v) if isinstance(v, dict) else v for k, v in tree.items()}

nnx.update(model, int_keys(restored))'''


def test_check_prints_the_key_conversion_and_diff_shows_the_fix(tmp_path):
    (tmp_path / "train.py").write_text(RESUME)
    checked = _kerasfix("check", "train.py", "--select", "KER803", cwd=tmp_path)
    assert checked.returncode == 1, checked.stderr
    note = checked.stdout.split("  = note: ")[1].split("  = help: ")[0]
    assert note == (
        "Orbax stores dict keys as strings, so the list and tuple indices in an NNX state\n"
        "(`layers.0.kernel`, an optimizer's `opt_state.0.mu`) come back as `\"0\"`. Ways out:\n"
        "- restore with a target, which keeps the saved key types:\n"
        "  `checkpointer.restore(path, nnx.state(abstract_model).to_pure_dict())`, where\n"
        "  `abstract_model = nnx.eval_shape(lambda: Model(...))`;\n"
        "- on Flax 0.12.1 or newer: `nnx.update(model, nnx.restore_int_paths(restored))`;\n"
        "- `nnx.replace_by_pure_dict(state, restored)` converts them itself since google/flax#4317\n"
        "  (Flax 0.10.1);\n"
        "- on any Flax, convert the keys yourself:\n"
        "  ```python\n"
        + "".join(f"  {line}\n" if line else "\n" for line in INT_KEYS.splitlines())
        + "  ```\n"
    )
    diff = _kerasfix("check", "train.py", "--select", "KER803", "--diff", "--unsafe-fixes", cwd=tmp_path)
    assert diff.stdout == (
        "--- a/train.py\n+++ b/train.py\n@@ -14,6 +14,6 @@\n"
        "     optimizer = nnx.Optimizer(encoder, optax.adamw(3e-4), wrt=nnx.Param)\n"
        "     mngr = ocp.CheckpointManager(ckpt_dir)\n"
        "     saved = mngr.restore(step)\n"
        '-    nnx.update(encoder, saved["model"])\n'
        '-    nnx.update(optimizer, saved["optimizer"])\n'
        '+    nnx.update(encoder, nnx.restore_int_paths(saved["model"]))\n'
        '+    nnx.update(optimizer, nnx.restore_int_paths(saved["optimizer"]))\n'
        "     return encoder, optimizer\n"
    )
    assert (tmp_path / "train.py").read_text() == RESUME


def test_rule_docs_show_the_code_to_write(tmp_path):
    shown = _kerasfix("rule", "KER803", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == rule_by_code("KER803").docs()
    use_instead = shown.stdout.split("## Use instead\n")[1].split("\n## Backends")[0]
    assert use_instead == (
        "On Flax 0.12.1 or newer, convert the keys back with `nnx.restore_int_paths`:\n"
        "```python\nnnx.update(model, nnx.restore_int_paths(restored))\n```\n"
        "On any Flax, convert them yourself:\n"
        f"```python\n{INT_KEYS}\n```\n"
        "Or restore with a target, which gives the keys their saved types:\n"
        "```python\n"
        "abstract_model = nnx.eval_shape(lambda: Model(nnx.Rngs(0)))\n"
        'restored = checkpointer.restore(ckpt_dir / "state", nnx.state(abstract_model).to_pure_dict())\n'
        "```\n"
    )


def test_an_editor_edit_to_the_model_class_updates_the_finding_in_another_statement():
    from kerasfix.rules.engine.incremental import IncrementalLinter

    linter = IncrementalLinter("heads.py", ONLY)
    assert linter.lint(HEADS) == []
    listed = HEADS.replace("nnx.Dict({task: nnx.Linear(64, 1, rngs=rngs) for task in tasks})", "nnx.List([])")
    assert [f.message for f in linter.lint(listed)] == [KEY_ERROR]
    assert linter.lint(listed) == lint(listed, "heads.py", ONLY)
    assert linter.lint(HEADS) == []


def test_annotated_parameters_and_module_level_scripts():
    annotated = (
        "import orbax.checkpoint as ocp\nfrom flax import nnx\n\n\n"
        "def resume(optimizer: nnx.Optimizer, checkpointer, path):\n"
        "    nnx.update(optimizer, checkpointer.restore(path))\n"
    )
    assert found(annotated) == [(6, "checkpointer.restore(path)", TUPLE_ERROR)]
    typed_heads = HEADS.replace("def restore(path):\n    model = MultiTask(8, (\"price\", \"volume\"), nnx.Rngs(0))\n",
                                "def restore(model: MultiTask, path):\n")
    assert "model: MultiTask" in typed_heads and lint(typed_heads, "heads.py", ONLY) == []
    script = RESUME.split("def resume(ckpt_dir, step):\n")[0] + "\n".join(
        line.removeprefix("    ") for line in RESUME.split("def resume(ckpt_dir, step):\n")[1].splitlines()[:-1]
    ).replace("ckpt_dir)", "'ckpt')").replace("restore(step)", "restore(3)") + "\n"
    assert [(text, message) for _, text, message in found(script)] == [
        ('saved["model"]', KEY_ERROR),
        ('saved["optimizer"]', TUPLE_ERROR),
    ]


def test_a_module_level_model_updated_in_a_function():
    source = HEADS.replace(
        "def restore(path):\n    model = MultiTask(8, (\"price\", \"volume\"), nnx.Rngs(0))\n",
        "model = MultiTask(8, (\"price\", \"volume\"), nnx.Rngs(0))\n\n\ndef restore(path):\n",
    )
    assert "\nmodel = MultiTask" in source and lint(source, "heads.py", ONLY) == []
    listed = source.replace("nnx.Dict({task: nnx.Linear(64, 1, rngs=rngs) for task in tasks})", "nnx.List([])")
    assert [f.message for f in lint(listed, "heads.py", ONLY)] == [KEY_ERROR]


def test_an_editor_edit_to_a_script_line_sees_the_names_of_the_other_lines():
    from kerasfix.rules.engine.incremental import IncrementalLinter

    script = HEADS.split("def restore(path):")[0] + (
        "model = MultiTask(8, ('price',), nnx.Rngs(0))\n"
        "graphdef, state = nnx.split(model)\n"
        "restored = ocp.StandardCheckpointer().restore('heads')\n"
        "state.replace_by_pure_dict(restored)\n"
    )
    linter = IncrementalLinter("heads.py", ONLY)
    assert linter.lint(script) == []
    edited = script.replace("state.replace_by_pure_dict(restored)\n", "state.replace_by_pure_dict(restored)  # load\n")
    assert linter.lint(edited) == lint(edited, "heads.py", ONLY) == []
    assert linter.last_mode == "region"
