"""Logs stay true (KER503, KER504, KER505) under the real Keras 3.15.1: each custom step of
loss_log_programs.py logs wrong (or crashes) as written, and after `--fix --unsafe-fixes` its
History and `evaluate()` equal those of the same model trained with Keras' own steps; what the
fix leaves broken is still reported."""

from __future__ import annotations

import pytest

from keras3_cases import close
from keras3_harness import RUNNER, Result
from kerasfix.rules import Settings, fix, lint
from loss_log_programs import PROGRAMS, Program

# float32 sums in a different order (a jitted custom step against Keras' own).
TOLERANCE = 1e-4


def fixed_source(program: Program) -> str:
    return fix(program.source, "program.py", Settings(), unsafe=True).source


def _logs(result: Result, program: Program, model: str) -> dict:
    logs = result.result[model]  # type: ignore[index]
    if program.compared is None:
        return logs
    return {part: {key: logs[part][key] for key in program.compared} for part in logs}


def _true(result: Result, program: Program) -> bool:
    return close(_logs(result, program, "custom"), _logs(result, program, "builtin"), TOLERANCE)


def _runs(phase: str):
    for program in PROGRAMS:
        source = program.source if phase == "before" else fixed_source(program)
        mark = pytest.mark.keras3(runs=[(program.env, source, {})], rule="KER503", env=program.env, phase=phase)
        yield pytest.param(program, marks=[mark], id=f"{program.name}-{program.env}")


@pytest.mark.parametrize("program", list(_runs("before")))
def test_logs_are_wrong_as_written(program: Program):
    result = RUNNER.run(program.env, program.source)
    if program.before_error is not None:
        kind, text = program.before_error
        assert result.error == kind and text in result.message, result.describe()
        return
    assert result.ok, result.describe()
    custom = result.result["custom"]  # type: ignore[index]
    builtin = result.result["builtin"]  # type: ignore[index]
    assert builtin["history"]["loss"][-1] > 1.0, builtin  # the model's real loss
    if program.before_logs == "no-loss":
        assert "loss" not in custom["evaluate"] and "mae" in custom["evaluate"], custom
    elif program.before_logs == "zero-loss":
        assert custom["history"]["loss"] == [0.0, 0.0, 0.0], custom
    else:
        assert program.before_logs == "wrong-loss"
        assert not close(custom["history"]["loss"], builtin["history"]["loss"], 0.5), (custom, builtin)
    # What the fix is for: these logs are not Keras' own.
    assert not _true(result, program)


@pytest.mark.parametrize("program", list(_runs("fixed")))
def test_fixed_logs_equal_keras_own(program: Program):
    fixed = fixed_source(program)
    assert program.fixed_marker in fixed, fixed
    result = RUNNER.run(program.env, fixed)
    assert result.ok, f"{fixed}\n{result.describe()}"
    custom, builtin = _logs(result, program, "custom"), _logs(result, program, "builtin")
    assert custom["evaluate"]["loss"] > 0.0, custom
    assert close(custom, builtin, TOLERANCE), f"{fixed}\ncustom  {custom}\nbuiltin {builtin}"


@pytest.mark.parametrize("program", [pytest.param(p, id=p.name) for p in PROGRAMS])
def test_what_the_fix_leaves_is_still_reported(program: Program):
    fixed = fixed_source(program)
    assert fix(fixed, "program.py", Settings(), unsafe=True).source == fixed
    remaining = sorted(f.code for f in lint(fixed, "program.py", Settings()))
    assert remaining == sorted(program.remaining), remaining
