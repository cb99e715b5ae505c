"""The logs a JAX step returns, and the fix that makes them every metric's result.

A JAX `train_step(self, state, data)` / `test_step(self, state, data)` returns `(logs, state)`:
Keras reads `logs` with `.items()` and, at the end of an epoch or of `evaluate()`, takes the
metrics' results from the metric variables of the returned `state` when the logs have exactly
the metrics' names (`Trainer._get_metrics_result_or_logs`). So true logs are every metric's
result read from those variables, the loss tracker included: what Keras 3.15.1's own JAX step
returns (`JAXTrainer._update_metrics_variables`: the tracker and `compute_metrics` updated in a
`StatelessScope` over `self.metrics_variables`).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from ..engine.context import Context, positional_params
from ..engine.edits import FixSpec, Insert, Replace
from ._common import body_of, is_self_attribute, local_values, small_statements
from ._loss_logs import tracker_update, updates_loss_tracker

# Calls whose result is a dict of logs.
_LOG_DICT_METHODS = frozenset({"compute_metrics", "get_metrics_result"})
# Calls that compute the loss in a step.
_LOSS_METHODS = frozenset({"compute_loss", "stateless_compute_loss"})


@dataclass(frozen=True)
class JaxReturn:
    """What a JAX step's `return` gives back: its logs, its state (None when it returns only
    the logs) and whether they come in the wrong order (`return state, logs`)."""

    logs: cst.BaseExpression | None
    state: cst.BaseExpression | None
    swapped: bool = False


def _is_state(ctx: Context, expr: cst.BaseExpression, function: cst.FunctionDef) -> bool:
    """The step's state: the `state` parameter, or a tuple of the variable lists (3 for
    `test_step`, 4 for `train_step`), written out or assigned to a name."""
    params = positional_params(function)
    if isinstance(expr, cst.Name) and len(params) >= 2 and expr.value == params[1].name.value:
        return True
    if isinstance(expr, cst.Name):
        value = local_values(ctx, function).get(expr.value)
        return value is not None and value is not expr and _is_state_tuple(value)
    return _is_state_tuple(expr)


def _is_state_tuple(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Tuple) and len(expr.elements) in (3, 4) and all(
        isinstance(element, cst.Element) for element in expr.elements
    )


def jax_return(ctx: Context, node: cst.Return, function: cst.FunctionDef) -> JaxReturn:
    value = node.value
    if isinstance(value, cst.Tuple) and len(value.elements) == 2:
        first, second = (element.value for element in value.elements)
        if _is_state(ctx, first, function) and not _is_state(ctx, second, function):
            return JaxReturn(second, first, swapped=True)
        return JaxReturn(first, second)
    return JaxReturn(value, None)


def is_log_dict(ctx: Context, expr: cst.BaseExpression, function: cst.FunctionDef, depth: int = 0) -> bool:
    """Whether `expr` is, by its shape, a dict of logs."""
    if isinstance(expr, (cst.Dict, cst.DictComp)):
        return True
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Name):
            return func.value == "dict" and not ctx.scopes.is_bound("dict")
        return isinstance(func, cst.Attribute) and func.attr.value in _LOG_DICT_METHODS
    if isinstance(expr, cst.Name) and depth < 2:
        value = local_values(ctx, function).get(expr.value)
        return value is not None and is_log_dict(ctx, value, function, depth + 1)
    return False


def _compute_metrics_call(expr: cst.BaseExpression) -> cst.Call | None:
    """A `self.compute_metrics(...)` call inside `expr` (`list(self.compute_metrics(...).values())`)."""
    found: list[cst.Call] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if is_self_attribute(node.func, "compute_metrics"):
                found.append(node)

    expr.visit(Finder())
    return found[0] if found else None


def _loss_name(ctx: Context, function: cst.FunctionDef) -> str | None:
    """The name the step assigns its loss to (`loss = self.compute_loss(...)`)."""
    for name, value in local_values(ctx, function).items():
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
            receiver = value.func.value
            if value.func.attr.value in _LOSS_METHODS and isinstance(receiver, cst.Name) and receiver.value == "self":
                return name
    return None


def _updates_any_metric(function: cst.FunctionDef) -> bool:
    found: list[bool] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("update_state", "stateless_update_state"):
                found.append(True)
            elif is_self_attribute(func, "compute_metrics"):
                found.append(True)

    function.visit(Finder())
    return bool(found)


def _step_names(function: cst.FunctionDef) -> tuple[str, str, str] | None:
    """`x`, `y` and `y_pred` of a step that writes `x, y = data` and
    `y_pred, ... = self.stateless_call(...)`: what Keras' own step gives `compute_metrics`."""
    params = positional_params(function)
    if len(params) < 3:
        return None
    data = params[2].name.value
    pair = prediction = None
    for small in small_statements(body_of(function)):
        if not isinstance(small, cst.Assign) or len(small.targets) != 1:
            continue
        target, value = small.targets[0].target, small.value
        if not isinstance(target, cst.Tuple) or not all(isinstance(e.value, cst.Name) for e in target.elements):
            continue
        names = [e.value.value for e in target.elements]  # type: ignore[attr-defined]
        if isinstance(value, cst.Name) and value.value == data and len(names) == 2:
            pair = pair or (names[0], names[1])
        elif isinstance(value, cst.Call) and is_self_attribute(value.func, "stateless_call"):
            prediction = prediction or names[0]
    if pair is None or prediction is None:
        return None
    return pair[0], pair[1], prediction


def logs_fix(
    ctx: Context,
    node: cst.Return,
    function: cst.FunctionDef,
    klass: cst.ClassDef,
    parts: JaxReturn,
    line: cst.SimpleStatementLine,
    indent: str,
    loss: cst.BaseExpression | None,
) -> FixSpec | None:
    """The return rewritten as `return logs, state` with `logs` every metric's result, read in a
    `StatelessScope` over the state's metric variables; when the step does not update the loss
    tracker, the scope updates it with `loss` (or the step's `compute_loss(...)` result) and the
    returned state carries the new metric variables. `loss` is the returned tensor when the step
    has no `compute_loss(...)` result of its own. None when the loss is unknown."""
    module = ctx.module
    step = module.default_indent
    state = parts.state
    params = positional_params(function)
    state_code = module.code_for_node(state) if state is not None else params[1].name.value
    reference = ctx.reference("keras.StatelessScope")
    if reference is None:
        return None
    scope_class, imports = reference
    if isinstance(state, cst.Tuple):
        last = state.elements[-1].value
        metrics_variables = module.code_for_node(last)
    elif state is None or isinstance(state, (cst.Name, cst.Attribute)):
        metrics_variables = f"{state_code}[-1]"
    else:
        metrics_variables = f"({state_code})[-1]"
    compute = _compute_metrics_call(parts.logs) if parts.logs is not None else None
    update_loss = not updates_loss_tracker(ctx, klass, function)
    loss_code = None
    if update_loss:
        loss_code = _loss_name(ctx, function)
        if loss_code is None and loss is not None:
            loss_code = module.code_for_node(loss)
        if loss_code is None:
            return None
    metrics_call = None
    if compute is None and not _updates_any_metric(function):
        # The step updates no metric: the compiled ones are updated as Keras' own step does,
        # or they would show their reset value.
        names = _step_names(function)
        if names is not None:
            metrics_call = "self.compute_metrics({}, {}, {})".format(*names)
    stateful = update_loss or compute is not None or metrics_call is not None
    inner = indent + step
    lines = [
        f"with {scope_class}(state_mapping=list(zip(self.metrics_variables, {metrics_variables})))"
        + (" as scope:" if stateful else ":")
    ]
    if loss_code is not None:
        lines.append(inner + tracker_update(loss_code, inner, step))
    logs = module.code_for_node(compute) if compute is not None else metrics_call or "self.get_metrics_result()"
    lines.append(f"{inner}logs = {logs}")
    if stateful:
        new_variables = "[scope.get_current_value(v) for v in self.metrics_variables]"
        if isinstance(state, cst.Tuple):
            head = ", ".join(module.code_for_node(e.value) for e in state.elements[:-1])
            new_state = f"({head}, {new_variables})"
        else:
            new_state = f"(*{state_code}[:-1], {new_variables})"
    else:
        new_state = state_code
    text = "\n".join(lines)
    edits: list[Insert | Replace] = [Insert(line.body[0], f"{text}\n{indent}")]
    value = node.value
    if value is None:
        edits.append(Replace(node, f"return logs, {new_state}"))
    else:
        edits.append(Replace(value, f"logs, {new_state}"))
    return FixSpec.unsafe("Return every metric's result as the logs, and the state", *edits, imports=imports)
