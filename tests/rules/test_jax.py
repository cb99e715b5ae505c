"""JAX rules (KER8xx): the Flax NNX / Orbax restore scenario and what counts as traced code."""

from __future__ import annotations

from kerasfix.rules import Settings, lint

JAX = Settings(select=("KER8",), keras_version=(3, 0, 0))

# An NNX model restored from a pure dict that Orbax saved: list indices come back as strings.
NNX_RESTORE = '''\
from pathlib import Path

import orbax.checkpoint as ocp
from flax import nnx


class MLP(nnx.Module):
    def __init__(self, rngs):
        self.layers = [nnx.Linear(4, 4, rngs=rngs) for _ in range(3)]


def restore(ckpt_dir: Path):
    checkpointer = ocp.StandardCheckpointer()
    abstract_model = nnx.eval_shape(lambda: MLP(nnx.Rngs(0)))
    graphdef, abstract_state = nnx.split(abstract_model)
    restored_pure_dict = checkpointer.restore(ckpt_dir / "pure_dict")
    abstract_state.replace_by_pure_dict(restored_pure_dict)
    return nnx.merge(graphdef, abstract_state)
'''


def test_replace_by_pure_dict_fed_by_an_orbax_restore_is_explained():
    findings = lint(NNX_RESTORE, "restore.py", JAX)
    assert [f.code for f in findings] == ["KER803"]
    finding = findings[0]
    assert NNX_RESTORE[finding.span.start : finding.span.end] == "restored_pure_dict"
    assert finding.fix is None
    assert "flax#4317" in finding.note and "isdigit" in finding.note


def test_each_update_path_says_what_it_does_with_string_keys():
    """Flax 0.12.8: `replace_by_pure_dict` converts the keys back, `nnx.update` raises KeyError."""
    [replace] = lint(NNX_RESTORE, "restore.py", JAX)
    assert "converts them back only since google/flax#4317" in replace.message
    updated = NNX_RESTORE.replace(
        "    abstract_state.replace_by_pure_dict(restored_pure_dict)\n    return nnx.merge(graphdef, abstract_state)",
        "    nnx.update(abstract_model, restored_pure_dict)\n    return abstract_model",
    )
    [update] = lint(updated, "restore.py", JAX)
    assert update.code == "KER803"
    assert "`nnx.update` raises `KeyError: 'Invalid key: 0'`" in update.message


def test_keys_converted_before_the_update_are_not_reported():
    converted = NNX_RESTORE.replace(
        "replace_by_pure_dict(restored_pure_dict)", "replace_by_pure_dict(convert_dict_keys(restored_pure_dict))"
    )
    assert lint(converted, "restore.py", JAX) == []


def test_only_jax_projects_see_it():
    assert lint(NNX_RESTORE, "restore.py", Settings(select=("KER8",), target_backends=frozenset({"torch"}))) == []


def test_partial_jit_counts_as_traced_and_plain_functions_do_not():
    source = (
        "import functools\nimport jax\nimport jax.numpy as jnp\n"
        "@functools.partial(jax.jit, static_argnums=1)\n"
        "def positive(x, n):\n"
        "    return x[x > 0].sum() + x.item()\n"
        "def host(x):\n"
        "    return x[x > 0].sum() + x.item()\n"
    )
    found = [(f.code, f.start.line) for f in lint(source, "f.py", JAX)]
    assert found == [("KER802", 5), ("KER801", 5)]
