"""The `loss` log of a custom step: whether the step updates the loss tracker, and the code that
updates it the way Keras 3 does.

`compile()` always creates a `Mean(name="loss")` tracker and the epoch logs are the results of
`self.metrics` (`Trainer._get_metrics_result_or_logs`), so a step that never updates that
tracker logs `loss: 0.0` while the model trains. Keras 2's `compiled_loss(...)` updated it.
"""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, string_value
from ._common import class_attributes, constructed_api, is_self_attribute, run_cached

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
