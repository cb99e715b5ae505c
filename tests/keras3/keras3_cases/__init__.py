"""Executable cases: a rule's "before" program, its documented failure under real Keras 3, and
what its kerasfix-fixed version must do. One module per rule family; each has `CASES`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from keras3_harness import Result

Check = Callable[[Result], None]


@dataclass(frozen=True)
class Case:
    """`before` fails in every env of `envs` as `before_check` says; kerasfix's own fix of it
    (`unsafe` fixes too when set) runs there and passes `fixed_check`. With `reference`, the
    fixed program's `RESULT` must equal that of `before` run in the `reference` env (where the
    Keras 2 code still works, e.g. TensorFlow) within `tolerance`."""

    rule: str
    title: str
    before: str
    before_check: Check
    envs: tuple[str, ...] = ("jax", "tensorflow")
    fixed_check: Check | None = None
    unsafe: bool = False
    reference: str | None = None
    # What runs in the `reference` env when `before` cannot (e.g. a name only `tf.keras` has).
    reference_program: str | None = None
    tolerance: float = 1e-5
    keras_version: tuple[int, int, int] | None = None
    # Set when real Keras contradicts the rule: the test is xfail(strict=True) with this reason,
    # so the fix in the rule flips it.
    before_wrong: str | None = None
    fix_wrong: str | None = None
    files: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.title}"


def raises(kind: str, text: str) -> Check:
    def check(result: Result) -> None:
        assert result.error == kind and text in result.message, (
            f"expected {kind}: ...{text}...\n{result.describe()}"
        )

    return check


def raises_one_of(*expected: tuple[str, str]) -> Check:
    """Like `raises`, for a failure Keras reports from more than one place (which one is hit
    first can vary from run to run)."""

    def check(result: Result) -> None:
        assert any(result.error == kind and text in result.message for kind, text in expected), (
            f"expected one of {expected}\n{result.describe()}"
        )

    return check


def warns(text: str) -> Check:
    """Runs to the end, but says `text` (a Python warning or a Keras log line)."""

    def check(result: Result) -> None:
        assert result.ok, result.describe()
        said = "\n".join(result.warnings) + result.stdout + result.stderr
        assert text in said, f"expected the warning {text!r}\n{said[-3000:]}"

    return check


def result_shows(what: str, predicate: Callable[[object], bool]) -> Check:
    """Runs to the end, and its `RESULT` shows the documented misbehaviour `what`."""

    def check(result: Result) -> None:
        assert result.ok, result.describe()
        assert predicate(result.result), f"expected {what}, RESULT = {result.result!r}"

    return check


def runs(result: Result) -> None:
    assert result.ok, result.describe()


def close(a: object, b: object, tolerance: float) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], tolerance) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y, tolerance) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)
    return a == b
