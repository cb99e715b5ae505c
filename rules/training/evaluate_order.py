"""KER522: `evaluate()`'s list of a multi-output model unpacked in `compile()`'s metric order."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_argument, call_keyword, has_star_args, string_value
from ..engine.edits import FixSpec, Insert, Replace
from ..engine.names import dotted_name
from ..engine.provenance import assigned_value
from ..engine.rule import Example, Rule
from ._common import block_indent, insert_after_statement


def _metric_name(expr: cst.BaseExpression) -> str | None:
    """The name Keras logs a metric under, where the code spells it: a string, a function's
    name, or a metric object's `name=`."""
    text = string_value(expr)
    if text is not None:
        return text
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Call):
        named = call_keyword(expr, "name")
        return string_value(named.value) if named is not None else None
    return None


def _metrics_of_outputs(metrics: cst.BaseExpression) -> list[tuple[str | None, list[str | None]]] | None:
    """Each output of `compile(metrics={"out": [...], ...})` with the names Keras logs its
    metrics under, in the order given (None where the code does not show one)."""
    if not isinstance(metrics, cst.Dict):
        return None
    found: list[tuple[str | None, list[str | None]]] = []
    for element in metrics.elements:
        if not isinstance(element, cst.DictElement):
            return None
        values = element.value.elements if isinstance(element.value, (cst.List, cst.Tuple)) else None
        items = [value.value if isinstance(value, cst.Element) else value for value in values or (element.value,)]
        found.append((string_value(element.key), [_metric_name(item) for item in items]))  # type: ignore[arg-type]
    return found


def _per_output_metrics(metrics: cst.BaseExpression) -> list[str | None] | None:
    """The log names of the per-output metrics in the order given (None for a name the code
    does not show); None unless two or more are given."""
    outputs = _metrics_of_outputs(metrics)
    if outputs is None:
        return None
    names = [
        f"{output}_{metric}" if output is not None and metric is not None else None
        for output, metrics_of_output in outputs
        for metric in metrics_of_output
    ]
    return names if len(names) >= 2 else None


def _compile_metrics(ctx: Context, receiver: str) -> cst.BaseExpression | None:
    """`metrics=` of the one `<receiver>.compile(...)` of the file."""
    found: list[cst.Call] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value == "compile" and dotted_name(func.value) == receiver:
                found.append(node)

    ctx.module.visit(Finder())
    if len(found) != 1:
        return None
    metrics = call_keyword(found[0], "metrics")
    return metrics.value if metrics is not None else None


class EvaluateMetricOrder(Rule):
    """
    ## Why
    Keras 2's `evaluate()` returned a multi-output model's metrics output by output, in the
    order `compile(metrics={...})` gave them. Keras 3 (from 3.5, when it brought the per-output
    losses back) returns the total loss, the per-output losses, then the metrics sorted by their
    log names (`department_accuracy` before `priority_relative_error`): unpacking the list into
    names in the old order silently gives those names other metrics' values.

    ## Example
    ```python
    model.compile(..., metrics={"priority": [relative_error], "department": ["accuracy"]})
    loss, p_loss, d_loss, p_error, d_acc = model.evaluate(x, y)
    ```

    ## Use instead
    ```python
    results = model.evaluate(x, y, return_dict=True)
    p_error, d_acc = results["priority_relative_error"], results["department_accuracy"]
    ```

    ## Backends
    All. Checked on Keras 3.15.1 (the two-output program of the migration corpus, TensorFlow,
    JAX and PyTorch).

    ## Fix safety
    Unsafe: the fix calls `evaluate(..., return_dict=True)` and unpacks the names from the dict
    by the log names Keras 2's list had in that place: the total loss, each output's loss, then
    each output's metrics, outputs in the model's order. It is offered where the file shows
    every log name (metric strings, functions, `name=`) and the model's outputs
    (`keras.Model(inputs, [a, b])`, each output a layer called with its `name=`), and the names
    unpacked are as many as those logs.

    Reported where the file compiles the model once with a dict of per-output metrics whose log
    names, where the code shows them, are not already in sorted order, and unpacks
    `evaluate()`'s list (without `return_dict=True`) into as many names as it returns. Keras
    before 3.5 returns no per-output losses: KER508 reports these unpackings there.

    ## References
    - Keras 3.15.1 `keras/src/trainers/trainer.py` (`_flatten_metrics_in_order`).
    """

    code = "KER522"
    name = "evaluate-metric-order"
    message = (
        "Keras 3 returns these per-output metrics sorted by name ({order}), not in `compile()`'s"
        " order: the names unpacked here get other metrics' values; use `evaluate(..., return_dict=True)`"
    )
    nodes = (cst.Assign,)
    fix = "unsafe"
    # The finding and its fix read the module's `compile()` and how it builds the model.
    whole_file = True
    # Keras 3.5 brought back the per-output losses; before it KER508 is about these unpackings.
    introduced_in = "3.5.0"
    examples = (
        Example(
            "import keras\n"
            "inputs = keras.Input((4,))\n"
            "p_out = keras.layers.Dense(1, name='priority')(inputs)\n"
            "d_out = keras.layers.Dense(1, name='department')(inputs)\n"
            "model = keras.Model(inputs, [p_out, d_out])\n"
            "model.compile('sgd', loss='mse', metrics={'priority': ['mae'], 'department': ['accuracy']})\n"
            "«loss, p_loss, d_loss, p_mae, d_acc» = model.evaluate(x, y, verbose=0)\n",
            "import keras\n"
            "inputs = keras.Input((4,))\n"
            "p_out = keras.layers.Dense(1, name='priority')(inputs)\n"
            "d_out = keras.layers.Dense(1, name='department')(inputs)\n"
            "model = keras.Model(inputs, [p_out, d_out])\n"
            "model.compile('sgd', loss='mse', metrics={'priority': ['mae'], 'department': ['accuracy']})\n"
            "results = model.evaluate(x, y, verbose=0, return_dict=True)\n"
            "loss, p_loss, d_loss, p_mae, d_acc = (\n"
            '    results["loss"],\n'
            '    results["priority_loss"],\n'
            '    results["department_loss"],\n'
            '    results["priority_mae"],\n'
            '    results["department_accuracy"],\n'
            ")\n",
            unsafe=True,
        ),
        # The model's outputs are not shown: no fix.
        Example(
            "from tensorflow import keras\n"
            "model.compile('sgd', loss={'priority': 'mse', 'department': 'bce'},\n"
            "              metrics={'priority': ['mae'], 'department': ['accuracy']})\n"
            "«loss, p_loss, d_loss, p_mae, d_acc» = model.evaluate(x, y, verbose=0)\n"
        ),
        Example(
            "import keras\n"
            "net.compile('adam', loss=['mse', 'mse'], metrics={'b': ['mae'], 'a': [keras.metrics.MeanSquaredError(name='mse')]})\n"
            "scores = net.evaluate(x, y)\n"
            "«total, loss_b, loss_a, mae_b, mse_a» = scores\n"
        ),
    )
    valid = (
        # Already in sorted order.
        "import keras\nmodel.compile('sgd', metrics={'a': ['mae'], 'b': ['accuracy']})\n"
        "loss, la, lb, a_mae, b_acc = model.evaluate(x, y)\n",
        "import keras\nmodel.compile('sgd', metrics={'p': ['mae'], 'd': ['accuracy']})\n"
        "res = model.evaluate(x, y, return_dict=True)\n",
        # One metric: nothing to reorder.
        "import keras\nmodel.compile('sgd', metrics={'p': ['mae']})\nloss, lp, mae = model.evaluate(x, y)\n",
        # Only the total loss taken.
        "import keras\nmodel.compile('sgd', metrics={'p': ['mae'], 'd': ['accuracy']})\nloss, *rest = model.evaluate(x, y)\n",
    )

    def visit(self, node: cst.Assign, ctx: Context) -> None:
        if len(node.targets) != 1:
            return
        target = node.targets[0].target
        if not isinstance(target, (cst.Tuple, cst.List)):
            return
        names = [element for element in target.elements if not isinstance(element, cst.StarredElement)]
        value = node.value
        if isinstance(value, cst.Name):
            value = assigned_value(ctx, value)  # `scores = model.evaluate(...)`
        if not (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "evaluate"
            and not has_star_args(value)
        ):
            return
        flag = call_keyword(value, "return_dict")
        if flag is not None and not (isinstance(flag.value, cst.Name) and flag.value.value == "False"):
            return
        receiver = dotted_name(value.func.value)
        metrics = _compile_metrics(ctx, receiver) if receiver else None
        order = _per_output_metrics(metrics) if metrics is not None else None
        if order is None or len(names) < len(order) + 1:
            return
        if None not in order and order == sorted(order):  # type: ignore[type-var]
            return
        shown = ", ".join(f"`{name}`" for name in sorted(n for n in order if n is not None))
        fix = None
        if value is node.value and len(names) == len(target.elements):
            fix = _read_by_name(ctx, node, value, receiver, metrics, len(names))  # type: ignore[arg-type]
        ctx.report(target, self.message.format(order=shown), fix=fix)


def _read_by_name(
    ctx: Context, node: cst.Assign, call: cst.Call, receiver: str, metrics: cst.BaseExpression, count: int
) -> FixSpec | None:
    """`evaluate(..., return_dict=True)` into a dict, and the names unpacked from it by the
    log names of Keras 2's order: the total loss, each output's loss, then each output's
    metrics, outputs in the model's order. None unless the file shows every log name and the
    model's outputs."""
    outputs = _output_names(ctx, receiver)
    per_output = _metrics_by_output(metrics)
    if outputs is None or per_output is None or not set(per_output) <= set(outputs) or not call.args:
        return None
    logs = ["loss", *(f"{output}_loss" for output in outputs)] if len(outputs) > 1 else ["loss"]
    for output in outputs:
        logs.extend(f"{output}_{metric}" for metric in per_output.get(output, ()))
    statement = ctx.parents[-1] if ctx.parents else None
    if len(logs) != count or not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    results = next(n for n in ("results", "evaluation", "evaluate_logs") if not ctx.scopes.is_bound(n))
    block = ctx.parents[-2] if len(ctx.parents) > 1 else None
    indent = block_indent(ctx, block) if isinstance(block, cst.IndentedBlock) else ""
    values = [f'{results}["{log}"]' for log in logs]
    unpacked = f"({', '.join(values)})"
    if len(unpacked) > 80:
        unpacked = "(\n" + "".join(f"{indent}    {v},\n" for v in values) + f"{indent})"
    target = ctx.module.code_for_node(node.targets[0].target)
    edits = [
        Replace(node.targets[0].target, results),
        Insert(call.args[-1].value, ", return_dict=True", after=True),
        insert_after_statement(statement, f"{target} = {unpacked}", indent),
    ]
    flag = call_keyword(call, "return_dict")
    if flag is not None:
        edits[1] = Replace(flag.value, "True")
    return FixSpec.unsafe("Read the values by their log names from `evaluate(..., return_dict=True)`", *edits)


def _output_names(ctx: Context, receiver: str) -> list[str] | None:
    """The names of the model's outputs in order, from `keras.Model(inputs, [a, b])` where each
    output is a layer called with its `name=`."""
    model = assigned_value(ctx, cst.Name(receiver)) if "." not in receiver else None
    api = ctx.keras_api(model.func) if isinstance(model, cst.Call) and isinstance(model.func, (cst.Name, cst.Attribute)) else None
    if api is None or api[0] not in ("Model", "models.Model"):
        return None
    outputs = call_argument(model, 1, ("outputs",))  # type: ignore[arg-type]
    if outputs is None or not isinstance(outputs.value, (cst.List, cst.Tuple)):
        return None
    names: list[str] = []
    for element in outputs.value.elements:
        value = element.value
        if isinstance(value, cst.Name):
            value = assigned_value(ctx, value)
        layer = value.func if isinstance(value, cst.Call) else None
        named = call_keyword(layer, "name") if isinstance(layer, cst.Call) else None
        name = string_value(named.value) if named is not None else None
        if name is None:
            return None
        names.append(name)
    return names


def _metrics_by_output(metrics: cst.BaseExpression) -> dict[str, list[str]] | None:
    """Each output's metric log names; None unless the code shows every one."""
    outputs = _metrics_of_outputs(metrics)
    if outputs is None or any(output is None or None in names for output, names in outputs):
        return None
    return dict(outputs)  # type: ignore[arg-type]
