"""KER803's quiet cases and its hand-written conversion, run under the real Flax NNX / Orbax of
the "nnx" venv: what fails without them, and that the code kerasfix leaves alone (or prints)
restores the saved state."""

from __future__ import annotations

import pytest

from keras3_harness import RUNNER
from kerasfix.rules import Settings, lint, rule_by_code

# A training run resumed from pure dicts: a model with blocks in an nnx.List and its optimizer.
# `{restore_model}` / `{restore_optimizer}` restore them; `{helpers}` defines what those use.
RESUME = '''
from pathlib import Path

import jax
import jax.numpy as jnp
import optax
import orbax.checkpoint as ocp
from flax import nnx

{helpers}


class Blocks(nnx.Module):
    def __init__(self, rngs):
        self.blocks = nnx.List([nnx.Linear(3, 3, rngs=rngs) for _ in range(2)])
        self.out = nnx.Linear(3, 1, rngs=rngs)

    def __call__(self, x):
        for block in self.blocks:
            x = nnx.relu(block(x))
        return self.out(x)


@nnx.jit
def train_step(model, optimizer, x, y):
    def loss_fn(model):
        return ((model(x) - y) ** 2).mean()

    optimizer.update(model, nnx.grad(loss_fn)(model))


def leaves_equal(a, b):
    return all(bool((p == q).all()) for p, q in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


x = jnp.linspace(-1.0, 1.0, 12).reshape(4, 3)
y = jnp.sum(x, axis=1, keepdims=True)
model = Blocks(nnx.Rngs(0))
optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
for _ in range(2):
    train_step(model, optimizer, x, y)

ckpt_dir = Path.cwd() / "ckpt"  # the run's working folder, removed after it
checkpointer = ocp.StandardCheckpointer()
checkpointer.save(ckpt_dir / "model", nnx.state(model).to_pure_dict())
checkpointer.save(ckpt_dir / "optimizer", nnx.state(optimizer).to_pure_dict())
checkpointer.wait_until_finished()

resumed_model = Blocks(nnx.Rngs(1))
resumed = nnx.Optimizer(resumed_model, optax.adam(1e-2), wrt=nnx.Param)
nnx.update(resumed_model, {restore_model})
nnx.update(resumed, {restore_optimizer})
RESULT = [
    leaves_equal(nnx.state(model).to_pure_dict(), nnx.state(resumed_model).to_pure_dict()),
    leaves_equal(nnx.state(optimizer).to_pure_dict(), nnx.state(resumed).to_pure_dict()),
    int(resumed.step[...]),
]
'''

UNTARGETED = {
    "restore_model": 'checkpointer.restore(ckpt_dir / "model")',
    "restore_optimizer": 'checkpointer.restore(ckpt_dir / "optimizer")',
}
# The rule's own recommendation: the fresh objects' pure dicts as targets keep the integer keys.
TARGETED = {
    "restore_model": 'checkpointer.restore(ckpt_dir / "model", nnx.state(resumed_model).to_pure_dict())',
    "restore_optimizer": 'checkpointer.restore(ckpt_dir / "optimizer", target=nnx.state(resumed).to_pure_dict())',
}


def _int_keys_from_docs() -> str:
    """The conversion `kerasfix rule KER803` shows for any Flax, as printed."""
    docs = rule_by_code("KER803").docs()
    block = docs.split("On any Flax, convert them yourself:\n```python\n")[1].split("```")[0]
    return block.split("\n\nnnx.update")[0]


CONVERTED = {
    "helpers": _int_keys_from_docs(),
    "restore_model": 'int_keys(checkpointer.restore(ckpt_dir / "model"))',
    "restore_optimizer": 'int_keys(checkpointer.restore(ckpt_dir / "optimizer"))',
}


def program(parts: dict[str, str]) -> str:
    source = RESUME
    for key, text in {"helpers": "", **parts}.items():
        source = source.replace("{" + key + "}", text)
    return source


def ker803(source: str) -> list[str]:
    return [f.message for f in lint(source, "resume.py", Settings()) if f.code == "KER803"]


# (env, source, files) of every run, started as soon as the tests are collected.
BEFORE = program(UNTARGETED)
RUNS = [("nnx", program(parts), {}) for parts in (UNTARGETED, TARGETED, CONVERTED)]


@pytest.mark.keras3(runs=RUNS[:1], rule="KER803", env="nnx", phase="program")
def test_untargeted_restores_fail_and_are_reported():
    assert len(ker803(BEFORE)) == 2
    result = RUNNER.run("nnx", BEFORE)
    assert (result.error, result.message) == ("KeyError", "'Invalid key: 0'"), result.describe()


@pytest.mark.keras3(runs=RUNS[1:2], rule="KER803", env="nnx", phase="program")
def test_restores_given_a_target_run_and_are_not_reported():
    source = program(TARGETED)
    assert ker803(source) == []
    result = RUNNER.run("nnx", source)
    assert result.ok, result.describe()
    assert result.result == [True, True, 2]


@pytest.mark.keras3(runs=RUNS[2:], rule="KER803", env="nnx", phase="program")
def test_the_printed_conversion_restores_model_and_optimizer():
    source = program(CONVERTED)
    assert ker803(source) == []
    result = RUNNER.run("nnx", source)
    assert result.ok, result.describe()
    assert result.result == [True, True, 2]


# Named heads in an nnx.Dict: the restored string keys are the state's own keys.
HEADS = '''
from pathlib import Path

import jax
import orbax.checkpoint as ocp
from flax import nnx


class MultiTask(nnx.Module):
    def __init__(self, rngs):
        self.trunk = nnx.Linear(3, 4, rngs=rngs)
        self.heads = nnx.Dict({task: nnx.Linear(4, 1, rngs=rngs) for task in ("price", "volume")})


model = MultiTask(nnx.Rngs(0))
checkpointer = ocp.StandardCheckpointer()
checkpointer.save(Path.cwd() / "heads", nnx.state(model).to_pure_dict())
checkpointer.wait_until_finished()

restored_model = MultiTask(nnx.Rngs(1))
nnx.update(restored_model, checkpointer.restore(Path.cwd() / "heads"))
saved, restored = nnx.state(model).to_pure_dict(), nnx.state(restored_model).to_pure_dict()
RESULT = [sorted(restored["heads"]), all(bool((p == q).all()) for p, q in zip(jax.tree.leaves(saved), jax.tree.leaves(restored)))]
'''


@pytest.mark.keras3(runs=[("nnx", HEADS, {})], rule="KER803", env="nnx", phase="program")
def test_string_keyed_nnx_dict_restores_without_conversion_and_is_not_reported():
    assert ker803(HEADS) == []
    result = RUNNER.run("nnx", HEADS)
    assert result.ok, result.describe()
    assert result.result == [["price", "volume"], True]
