"""KER502's fix under the real Keras 3.15.1: each Keras 2 `tf.GradientTape` step of
tape_step_programs.py runs on TensorFlow as written and fails on JAX and PyTorch; after
`--fix --unsafe-fixes` (KER107's fix then takes the module's TensorFlow import away) it runs on
TensorFlow, JAX (no TensorFlow installed) and PyTorch, and its History and predictions equal the
original's on TensorFlow (the History of the fixed program on TensorFlow where the original logs
a wrong `loss`); the re-lint reports nothing."""

from __future__ import annotations

import pytest

from keras3_cases import close
from keras3_harness import RUNNER
from kerasfix.rules import Settings, lint
from tape_step_programs import PROGRAMS, Program, fixed_source, imports_tensorflow_only_in_its_step, tape_rules

# float32 sums in another order on each backend (the steps run the same operations).
TOLERANCE = 1e-5
FIXED_ENVS = ("tensorflow", "jax", "torch")


def _runnable(program: Program) -> str:
    return fixed_source(program.source)


def _params(envs: tuple[str, ...], fixed: bool):
    for program in PROGRAMS:
        source = _runnable(program) if fixed else program.source
        for env in envs:
            runs = [(env, source, {}), ("tensorflow", program.source, {})]
            if fixed:
                runs.append(("tensorflow", source, {}))
            mark = pytest.mark.keras3(runs=runs, rule="KER502", env=env, phase="fixed" if fixed else "before")
            yield pytest.param(program, env, marks=[mark], id=f"{program.name}-{env}")


@pytest.mark.parametrize(("program", "env"), list(_params(("tf-jax", "tf-torch"), fixed=False)))
def test_original_fails_off_tensorflow(program: Program, env: str):
    reference = RUNNER.run("tensorflow", program.source)
    assert reference.ok, reference.describe()
    result = RUNNER.run(env, program.source)
    kind, text = program.jax_error if env == "tf-jax" else program.torch_error
    assert result.error == kind and text in result.message, result.describe()


@pytest.mark.parametrize(("program", "env"), list(_params(FIXED_ENVS, fixed=True)))
def test_fixed_step_computes_the_same(program: Program, env: str):
    source = _runnable(program)
    result = RUNNER.run(env, source)
    assert result.ok, f"{source}\n{result.describe()}"
    original = RUNNER.run("tensorflow", program.source)
    assert original.ok, original.describe()
    got, want = result.result, dict(original.result)  # type: ignore[arg-type]
    assert sorted(got["history"]) == sorted(program.logs), got  # type: ignore[index]
    if program.falling:
        # The model trains: the loss goes down.
        losses = got["history"][program.falling]  # type: ignore[index]
        assert losses[-1] < losses[0] > 0.0, losses
    if not program.true_history:
        fixed_on_tensorflow = RUNNER.run("tensorflow", source)
        assert fixed_on_tensorflow.ok, fixed_on_tensorflow.describe()
        # The original's `loss` is not the loss (what KER504 is about).
        true_history = fixed_on_tensorflow.result["history"]  # type: ignore[index]
        assert not close(want["history"]["loss"], true_history["loss"], 0.1), (want, true_history)
        want["history"] = true_history
    assert close(got, want, TOLERANCE), f"{source}\nfixed    {got}\noriginal {want}"


@pytest.mark.parametrize("program", [pytest.param(p, id=p.name) for p in PROGRAMS])
def test_what_the_fix_leaves_is_still_reported(program: Program):
    fixed = fixed_source(program.source)
    assert fixed_source(fixed) == fixed
    assert imports_tensorflow_only_in_its_step(fixed), fixed
    assert lint(fixed, "program.py", Settings(), rules=tape_rules()) == []
