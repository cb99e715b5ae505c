"""The `loss` log of a custom step: whether the step updates the loss tracker, and the code that
updates it the way Keras 3 does.

`compile()` always creates a `Mean(name="loss")` tracker and the epoch logs are the results of
`self.metrics` (`Trainer._get_metrics_result_or_logs`), so a step that never updates that
tracker logs `loss: 0.0` while the model trains. Keras 2's `compiled_loss(...)` updated it.
"""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, string_value
from ._common import body_of, class_attributes, constructed_api, is_self_attribute, run_cached

_UPDATES = frozenset({"update_state", "stateless_update_state"})


class _Updates(cst.CSTVisitor):
    """The receivers of `.update_state(...)` calls, and the loop variables of `for m in
    self.metrics` loops, in one function."""

    def __init__(self) -> None:
        self.receivers: list[cst.BaseExpression] = []
        self.metric_loop_names: set[str] = set()

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.target, cst.Name) and is_self_attribute(node.iter, "metrics"):
            self.metric_loop_names.add(node.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _UPDATES:
            self.receivers.append(func.value)


def _is_loss_tracker(ctx: Context, klass: cst.ClassDef, receiver: cst.BaseExpression, loops: set[str]) -> bool:
    if isinstance(receiver, cst.Name):
        # The Keras 3 guide's loop: `for metric in self.metrics: if metric.name == "loss": ...`.
        return receiver.value in loops
    if not is_self_attribute(receiver):
        return False
    name = receiver.attr.value  # type: ignore[attr-defined]
    if name == "_loss_tracker":
        return True
    value = class_attributes(ctx, klass).get(name)
    if not isinstance(value, cst.Call) or constructed_api(ctx, value) not in ("metrics.Mean",):
        return False
    for arg in value.args:
        if arg.keyword is not None and arg.keyword.value == "name":
            return string_value(arg.value) == "loss"
    return False


def updates_loss_tracker(ctx: Context, klass: cst.ClassDef, function: cst.FunctionDef) -> bool:
    """Whether `function` updates the metric named "loss": Keras' own tracker (through a loop
    over `self.metrics` or `self._loss_tracker`) or a `Mean(name="loss")` of the class."""

    def compute() -> bool:
        updates = _Updates()
        function.visit(updates)
        return any(
            _is_loss_tracker(ctx, klass, receiver, updates.metric_loop_names) for receiver in updates.receivers
        )

    return run_cached(ctx, ("updates-loss-tracker", id(function)), compute)


def tracker_update_parts(indent: str, step: str, weight: str | None = None) -> tuple[str, str]:
    """The Keras 3 guide's update of the loss tracker, as the text before and after the loss
    value (lines after the first one indented by `indent`). `weight` is the batch size: Keras
    weights each batch's loss by it, so the epoch's `loss` is the mean over samples, as Keras 2's
    `compiled_loss` made it."""
    before = (
        "for metric in self.metrics:\n"
        f'{indent}{step}if metric.name == "loss":\n'
        f"{indent}{step}{step}metric.update_state("
    )
    return before, ")" if weight is None else f", sample_weight={weight})"


def tracker_update(value: str, indent: str, step: str, weight: str | None = None) -> str:
    before, after = tracker_update_parts(indent, step, weight)
    return f"{before}{value}{after}"


# Calls that give the step a loss Keras' tracker may get (KER504 and KER505 deal with those).
_LOSS_CALLS = frozenset({"compute_loss", "compiled_loss"})


def _names_loss(function: cst.FunctionDef, comprehension: cst.DictComp) -> bool:
    """Whether the step writes a `"loss"` entry or computes a loss Keras knows of: then the
    tracker's 0.0 does not reach the logs unchanged, or other rules are about it."""
    found = False

    class Finder(cst.CSTVisitor):
        def visit_DictComp(self, node: cst.DictComp) -> bool:
            return node is not comprehension

        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            nonlocal found
            found = found or string_value(node) == "loss"

        def visit_Attribute(self, node: cst.Attribute) -> None:
            nonlocal found
            found = found or node.attr.value in _LOSS_CALLS

    function.visit(Finder())
    return found


def _strings(expr: cst.CSTNode) -> set[str]:
    found: set[str] = set()

    class Finder(cst.CSTVisitor):
        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            value = string_value(node)
            if value is not None:
                found.add(value)

    expr.visit(Finder())
    return found


def metrics_comprehension(node: cst.DictComp) -> str | None:
    """The loop variable of `{m.name: m.result() for m in self.metrics}` (with no filter that
    names the loss), else None."""
    loop = node.for_in
    if loop.inner_for_in is not None or not isinstance(loop.target, cst.Name):
        return None
    if not is_self_attribute(loop.iter, "metrics"):
        return None
    name = loop.target.value
    if any("loss" in _strings(condition.test) for condition in loop.ifs):
        return None  # it already picks which metrics to log
    key = node.key
    if not (isinstance(key, cst.Attribute) and isinstance(key.value, cst.Name) and key.value.value == name
            and key.attr.value == "name"):
        return None
    return name


def logs_untracked_loss(
    ctx: Context, klass: cst.ClassDef, step: cst.FunctionDef, comprehension: cst.DictComp
) -> bool:
    """Whether `comprehension` (a `metrics_comprehension` in `step`) logs the loss tracker that
    the step never updates: `loss: 0.0` (KER519). Not when the class lists its own metrics, or
    the step names a loss or updates the tracker."""
    if any(isinstance(stmt, cst.FunctionDef) and stmt.name.value == "metrics" for stmt in body_of(klass)):
        return False
    return not (_names_loss(step, comprehension) or updates_loss_tracker(ctx, klass, step))


def untracked_loss_logs(ctx: Context, klass: cst.ClassDef, step: cst.FunctionDef) -> cst.DictComp | None:
    """The first comprehension of `step` that `logs_untracked_loss` says logs `loss: 0.0`."""
    found: list[cst.DictComp] = []

    class Finder(cst.CSTVisitor):
        def visit_DictComp(self, node: cst.DictComp) -> None:
            if metrics_comprehension(node) is not None:
                found.append(node)

    step.visit(Finder())
    return next((node for node in found if logs_untracked_loss(ctx, klass, step, node)), None)
