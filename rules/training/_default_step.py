"""Whether a Keras 2 style `train_step` / `test_step` / `predict_step` only repeats what the
default step of Keras 3 does (`keras/src/backend/*/trainer.py`).

The recogniser accepts a closed set of statement shapes, the spellings of the Keras 2 and Keras 3
guides, and follows the names they bind: the data is unpacked into `x`, `y` (and the sample
weights), `y_pred = self(x, training=...)`, the loss of `compiled_loss` / `compute_loss`, the
gradients of that loss over the trainable variables applied by the optimizer, the compiled
metrics updated, and their results returned. Any other statement (a print, a clipped gradient, an
extra loss, a custom tracker, another training flag) means the step is not the default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import libcst as cst

from ..engine.context import Context, positional_params, string_value
from ..engine.names import function_bindings
from ._common import is_docstring, is_self_attribute

# The `training` flag each default step passes to `self(x, ...)`.
STEP_TRAINING = {"train_step": True, "test_step": False, "predict_step": False}

_TRAINABLE = ("trainable_variables", "trainable_weights")

# Parameters, in order, of the calls a step makes (Keras 2 and Keras 3 spell the first of
# `compiled_loss` and `compiled_metrics.update_state` differently: both are accepted).
_COMPILED_LOSS = ("y", "y_pred", "sample_weight", "regularization_losses")
_COMPUTE_LOSS = ("x", "y", "y_pred", "sample_weight", "training")
_UPDATE_STATE = ("y", "y_pred", "sample_weight")
_COMPUTE_METRICS = ("x", "y", "y_pred", "sample_weight")
_ALIASES = {"y_true": "y"}


class _NotDefault(Exception):
    """The statement being read is not one of the default step's."""


def _require(condition: bool) -> None:
    if not condition:
        raise _NotDefault


def _name(expr: cst.BaseExpression | None) -> str | None:
    return expr.value if isinstance(expr, cst.Name) else None


def _is_literal(expr: cst.BaseExpression | None, value: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == value


def _self_call(expr: cst.BaseExpression, *path: str) -> cst.Call | None:
    """The call when `expr` is `self.<path[0]>.<path[1]>...(...)`."""
    if not isinstance(expr, cst.Call):
        return None
    func: cst.BaseExpression = expr.func
    for part in reversed(path):
        if not isinstance(func, cst.Attribute) or func.attr.value != part:
            return None
        func = func.value
    return expr if _is_literal(func, "self") else None


def _bind(call: cst.Call, params: Sequence[str]) -> dict[str, cst.BaseExpression]:
    """The call's arguments by parameter name; positional ones in the order of `params`."""
    bound: dict[str, cst.BaseExpression] = {}
    position = 0
    for arg in call.args:
        _require(not arg.star)
        if arg.keyword is None:
            _require(position < len(params))
            key = params[position]
            position += 1
        else:
            key = _ALIASES.get(arg.keyword.value, arg.keyword.value)
            _require(key in params and key not in bound)
        bound[key] = arg.value
    return bound


@dataclass
class _Reading:
    """What the statements read so far have bound, and which parts of the step they did."""

    step: str
    data: str
    resolve: Callable[[cst.BaseExpression], str | None]
    x: str | None = None
    y: str | None = None
    # The name holding the sample weights, when the step unpacks them.
    sample_weight: str | None = None
    y_pred: str | None = None
    loss: str | None = None
    tape: str | None = None
    grads: str | None = None
    logs: str | None = None
    variables: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)
    bound: set[str] = field(default_factory=set)
    in_tape: bool = False

    @property
    def training(self) -> bool:
        return STEP_TRAINING[self.step]

    # ----- names ---------------------------------------------------------------------------

    def bind(self, *names: str) -> None:
        for name in names:
            # Each name is bound once: a rebinding (`x = x * 2`) is work the default does not do.
            _require(name not in self.bound and name not in (self.data, "self"))
            self.bound.add(name)

    def uses(self, expr: cst.BaseExpression | None, name: str | None) -> bool:
        return name is not None and _name(expr) == name

    def sample_weight_matches(self, expr: cst.BaseExpression | None) -> bool:
        if self.sample_weight is None:
            return expr is None or _is_literal(expr, "None")
        return self.uses(expr, self.sample_weight)

    def x_matches(self, expr: cst.BaseExpression | None) -> bool:
        """`x` is unused by the default `compute_loss` / `compute_metrics`: absent, None or x."""
        return expr is None or _is_literal(expr, "None") or self.uses(expr, self.x)

    def trainable(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Attribute) and is_self_attribute(expr):
            return expr.attr.value in _TRAINABLE
        return _name(expr) in self.variables

    # ----- statements ----------------------------------------------------------------------

    def block(self, body: Sequence[cst.CSTNode], top: bool) -> None:
        for index, stmt in enumerate(body):
            if top and index == 0 and is_docstring(stmt):
                continue
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    last = top and index == len(body) - 1 and small is stmt.body[-1]
                    self.small(small, last)
            elif isinstance(stmt, cst.With):
                self.tape_block(stmt)
            elif isinstance(stmt, cst.If):
                self.guide_unpack(stmt)
            elif isinstance(stmt, cst.For):
                self.metrics_loop(stmt)
            else:
                raise _NotDefault

    def small(self, small: cst.BaseSmallStatement, last: bool) -> None:
        if isinstance(small, cst.Return):
            _require(last and small.value is not None)
            self.returned(small.value)  # type: ignore[arg-type]
            return
        _require("returned" not in self.done)
        if isinstance(small, cst.Assign):
            _require(len(small.targets) == 1)
            self.assigned(small.targets[0].target, small.value)
        elif isinstance(small, cst.Expr):
            self.called(small.value)
        else:
            raise _NotDefault

    def assigned(self, target: cst.BaseAssignTargetExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Tuple):
            self.unpacked(target, value)
            return
        name = _name(target)
        _require(name is not None)
        assert name is not None
        if self.forward(value):
            self.bind(name)
            self.y_pred = name
        elif self.loss_call(value):
            self.bind(name)
            self.loss = name
        elif self.gradients(value):
            self.bind(name)
            self.grads = name
        elif isinstance(value, cst.Attribute) and self.trainable(value):
            self.bind(name)
            self.variables.add(name)
        elif self.metrics_result(value):
            self.bind(name)
            self.logs = name
        elif self.step == "predict_step" and self.uses(value, self.data) and "unpack" not in self.done:
            # `x = data`: the default unpacks a tuple first; for a bare input both call `self(x)`.
            self.bind(name)
            self.x = name
            self.done.add("unpack")
        else:
            raise _NotDefault

    def unpacked(self, target: cst.Tuple, value: cst.BaseExpression) -> None:
        """`x, y = data`, `x, y, sample_weight = data` or `= unpack_x_y_sample_weight(data)`."""
        _require("unpack" not in self.done)
        names = [_name(e.value) for e in target.elements]
        _require(all(names) and len(names) in (2, 3))
        if isinstance(value, cst.Call):
            qualified = self.resolve(value.func) or ""
            _require(
                qualified.endswith(".unpack_x_y_sample_weight")
                and qualified.startswith(("keras.", "tensorflow.", "keras_core."))
                and len(value.args) == 1
                and not value.args[0].star
                and value.args[0].keyword is None
                and self.uses(value.args[0].value, self.data)
                and len(names) == 3
            )
        else:
            _require(self.uses(value, self.data))
        if self.step == "predict_step":
            # The default predicts on `x` alone; labels and weights go unused.
            _require(names[1:] == ["_"] * (len(names) - 1) and isinstance(value, cst.Call))
            self.bind(names[0])  # type: ignore[arg-type]
            self.x = names[0]
        else:
            _require("_" not in names)
            self.bind(*names)  # type: ignore[arg-type]
            self.x, self.y = names[0], names[1]
            self.sample_weight = names[2] if len(names) == 3 else None
        self.done.add("unpack")

    def guide_unpack(self, stmt: cst.If) -> None:
        """The guides' `if len(data) == 3: x, y, sample_weight = data` /
        `else: sample_weight = None; x, y = data`."""
        _require("unpack" not in self.done and self.step != "predict_step")
        test = stmt.test
        _require(
            isinstance(test, cst.Comparison)
            and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, cst.Equal)
            and isinstance(test.comparisons[0].comparator, cst.Integer)
            and test.comparisons[0].comparator.value == "3"
            and isinstance(test.left, cst.Call)
            and _is_literal(test.left.func, "len")
            and len(test.left.args) == 1
            and self.uses(test.left.args[0].value, self.data)
        )
        orelse = stmt.orelse
        _require(isinstance(orelse, cst.Else))
        three = _simple_statements(stmt.body)
        two = _simple_statements(orelse.body)  # type: ignore[union-attr]
        _require(len(three) == 1 and len(two) == 2)
        three_target = _assign(three[0])
        _require(three_target is not None and self.uses(three_target[1], self.data))
        three_names = _tuple_names(three_target[0])  # type: ignore[index]
        _require(three_names is not None and len(three_names) == 3)
        assert three_names is not None
        pair = none_name = None
        for small in two:
            assigned = _assign(small)
            _require(assigned is not None)
            target, value = assigned  # type: ignore[misc]
            if _is_literal(value, "None"):
                none_name = _name(target)
            elif self.uses(value, self.data):
                pair = _tuple_names(target)
        _require(none_name == three_names[2] and pair == three_names[:2])
        self.bind(*three_names)
        self.x, self.y, self.sample_weight = three_names
        self.done.add("unpack")

    def tape_block(self, stmt: cst.With) -> None:
        """`with tf.GradientTape() as tape:` around the forward pass and the loss."""
        _require(self.step == "train_step" and self.tape is None and len(stmt.items) == 1)
        item = stmt.items[0]
        call = item.item
        _require(
            isinstance(call, cst.Call)
            and not call.args
            and self.resolve(call.func) == "tensorflow.GradientTape"
            and item.asname is not None
        )
        tape = _name(item.asname.name)  # type: ignore[union-attr, arg-type]
        _require(tape is not None)
        self.bind(tape)  # type: ignore[arg-type]
        self.tape = tape
        self.in_tape = True
        self.block(_block(stmt.body), top=False)
        self.in_tape = False
        _require({"forward", "loss"} <= self.done)

    def metrics_loop(self, stmt: cst.For) -> None:
        """The Keras 3 guide's `for metric in self.metrics:` that gives the loss to the `loss`
        tracker and `y, y_pred` to every other metric; or the loop that only updates the `loss`
        tracker (what the default step does before `compute_metrics`, and what KER504's fix
        writes for Keras 2's `compiled_loss`)."""
        metric = _name(stmt.target)  # type: ignore[arg-type]
        _require(
            metric is not None
            and stmt.orelse is None
            and is_self_attribute(stmt.iter, "metrics")
            and "metrics" not in self.done
            and "tracker" not in self.done
        )
        body = _block(stmt.body)
        _require(len(body) == 1 and isinstance(body[0], cst.If))
        branch = body[0]
        assert isinstance(branch, cst.If)
        test = branch.test
        _require(
            isinstance(test, cst.Comparison)
            and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, cst.Equal)
            and string_value(test.comparisons[0].comparator) == "loss"
            and isinstance(test.left, cst.Attribute)
            and _is_literal(test.left.value, metric)  # type: ignore[arg-type]
            and test.left.attr.value == "name"
            and (branch.orelse is None or isinstance(branch.orelse, cst.Else))
        )
        loss_update = _simple_statements(branch.body)
        _require(len(loss_update) == 1)
        loss_call = _update_call(loss_update[0], metric)  # type: ignore[arg-type]
        _require(loss_call is not None and 1 <= len(loss_call.args) <= 2)
        assert loss_call is not None
        value = loss_call.args[0]
        _require(value.keyword is None and not value.star)
        # The loss tracker's value: the step's loss, or (a test step's bare Keras 2
        # `compiled_loss`, fixed) the loss computed right there.
        _require(self.uses(value.value, self.loss) or (self.step == "test_step" and self.loss_call(value.value)))
        if len(loss_call.args) == 2:
            _require(self.batch_size_weight(loss_call.args[1]))
        self.done.add("tracker")
        if branch.orelse is None:
            return
        other_update = _simple_statements(branch.orelse.body)  # type: ignore[union-attr]
        _require(len(other_update) == 1)
        other_call = _update_call(other_update[0], metric)  # type: ignore[arg-type]
        _require(other_call is not None)
        self.metric_arguments(_bind(other_call, _UPDATE_STATE))  # type: ignore[arg-type]
        self.done.add("metrics")

    def batch_size_weight(self, arg: cst.Arg) -> bool:
        """`sample_weight=ops.shape(y)[0]`: each batch weighted by its size, as the default
        step weights the loss tracker."""
        value = arg.value
        if arg.keyword is None or arg.keyword.value != "sample_weight" or not isinstance(value, cst.Subscript):
            return False
        if len(value.slice) != 1 or not isinstance(value.slice[0].slice, cst.Index):
            return False
        index = value.slice[0].slice.value
        shape = value.value
        return (
            isinstance(index, cst.Integer)
            and index.value == "0"
            and isinstance(shape, cst.Call)
            and (self.resolve(shape.func) or "").endswith("ops.shape")
            and len(shape.args) == 1
            and self.uses(shape.args[0].value, self.y)
        )

    # ----- expressions ---------------------------------------------------------------------

    def forward(self, value: cst.BaseExpression) -> bool:
        """`self(x, training=<the step's flag>)`."""
        if not (isinstance(value, cst.Call) and _is_literal(value.func, "self")):
            return False
        _require("unpack" in self.done or self.step == "predict_step")
        _require("forward" not in self.done and (self.in_tape or self.step != "train_step"))
        _require(len(value.args) == 2 and not any(a.star for a in value.args))
        first, flag = value.args
        source = self.x if self.x is not None else self.data
        _require(first.keyword is None and self.uses(first.value, source))
        _require(flag.keyword is not None and flag.keyword.value == "training")
        _require(_is_literal(flag.value, "True" if self.training else "False"))
        self.done.add("forward")
        return True

    def loss_call(self, value: cst.BaseExpression) -> bool:
        """`self.compiled_loss(y, y_pred[, sample_weight][, regularization_losses=self.losses])`
        or `self.compute_loss(x, y, y_pred[, sample_weight])`; Keras 3's `compute_loss` adds
        `self.losses` itself, which the shim `compiled_loss` calls."""
        compiled = _self_call(value, "compiled_loss")
        computed = _self_call(value, "compute_loss")
        if compiled is None and computed is None:
            return False
        _require(self.step != "predict_step" and "forward" in self.done and "loss" not in self.done)
        if self.step == "train_step":
            _require(self.in_tape)
        if compiled is not None:
            args = _bind(compiled, _COMPILED_LOSS)
            regularization = args.get("regularization_losses")
            _require(regularization is None or is_self_attribute(regularization, "losses"))
        else:
            args = _bind(computed, _COMPUTE_LOSS)  # type: ignore[arg-type]
            _require(self.x_matches(args.get("x")))
            flag = args.get("training")
            _require(flag is None or _is_literal(flag, "True" if self.training else "False"))
        _require(self.uses(args.get("y"), self.y) and self.uses(args.get("y_pred"), self.y_pred))
        _require(self.sample_weight_matches(args.get("sample_weight")))
        self.done.add("loss")
        return True

    def gradients(self, value: cst.BaseExpression) -> bool:
        """`tape.gradient(loss, self.trainable_variables)`."""
        if not (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "gradient"
            and self.tape is not None
            and _is_literal(value.func.value, self.tape)
        ):
            return False
        _require(not self.in_tape and self.grads is None and len(value.args) == 2)
        loss, variables = value.args
        _require(loss.keyword is None and variables.keyword is None)
        _require(self.uses(loss.value, self.loss) and self.trainable(variables.value))
        return True

    def called(self, value: cst.BaseExpression) -> None:
        if self.loss_call(value):
            # A bare `self.compiled_loss(...)`: Keras 2 updated the loss tracker with it; in a
            # train step the loss must reach the gradients.
            _require(self.step == "test_step")
            return
        apply = _self_call(value, "optimizer", "apply_gradients")
        if apply is not None:
            self.applied_zip(apply)
            return
        apply = _self_call(value, "optimizer", "apply")
        if apply is not None:
            args = _bind(apply, ("grads", "trainable_variables"))
            _require(self.uses(args.get("grads"), self.grads))
            _require("trainable_variables" in args and self.trainable(args["trainable_variables"]))
            self.updated()
            return
        minimize = _self_call(value, "optimizer", "minimize")
        if minimize is not None:
            # Keras 2's own default step: `self.optimizer.minimize(loss, vars, tape=tape)`.
            args = _bind(minimize, ("loss", "var_list", "grad_loss", "name", "tape"))
            _require(set(args) == {"loss", "var_list", "tape"} and self.tape is not None)
            _require(self.uses(args["loss"], self.loss) and self.trainable(args["var_list"]))
            _require(self.uses(args["tape"], self.tape) and not self.in_tape)
            self.updated()
            return
        update = _self_call(value, "compiled_metrics", "update_state")
        if update is not None:
            self.metric_arguments(_bind(update, _UPDATE_STATE))
            self.done.add("metrics")
            return
        if self.metrics_result(value):
            return
        validate = _self_call(value, "_validate_target_and_loss")
        # Keras 2's default step checked its targets; Keras 3 has no such method.
        _require(validate is not None and self.step == "train_step" and "loss" in self.done)

    def applied_zip(self, call: cst.Call) -> None:
        """`self.optimizer.apply_gradients(zip(grads, self.trainable_variables))`."""
        _require(len(call.args) == 1 and call.args[0].keyword in (None,) and not call.args[0].star)
        pairs = call.args[0].value
        _require(
            isinstance(pairs, cst.Call)
            and _is_literal(pairs.func, "zip")
            and self.resolve(pairs.func) is None
            and len(pairs.args) == 2
            and all(a.keyword is None and not a.star for a in pairs.args)
        )
        grads, variables = pairs.args  # type: ignore[union-attr]
        _require(self.uses(grads.value, self.grads) and self.trainable(variables.value))
        self.updated()

    def updated(self) -> None:
        _require(self.step == "train_step" and "update" not in self.done and "loss" in self.done)
        self.done.add("update")

    def metric_arguments(self, args: dict[str, cst.BaseExpression]) -> None:
        _require(self.step != "predict_step" and "metrics" not in self.done)
        _require(self.uses(args.get("y"), self.y) and self.uses(args.get("y_pred"), self.y_pred))
        _require(self.sample_weight_matches(args.get("sample_weight")))

    def metrics_result(self, value: cst.BaseExpression) -> bool:
        """`self.compute_metrics(x, y, y_pred, sample_weight)` (updates the compiled metrics and
        returns every metric's result) or `self.get_metrics_result()`."""
        compute = _self_call(value, "compute_metrics")
        if compute is not None:
            args = _bind(compute, _COMPUTE_METRICS)
            _require(self.x_matches(args.get("x")) and "x" in args)
            self.metric_arguments(args)
            self.done.add("metrics")
            return True
        results = _self_call(value, "get_metrics_result")
        if results is not None:
            _require(not results.args and "metrics" in self.done)
            return True
        return False

    def returned(self, value: cst.BaseExpression) -> None:
        if self.step == "predict_step":
            _require(self.uses(value, self.y_pred) or self.forward(value))
        else:
            _require(
                self.uses(value, self.logs)
                or self.metrics_result(value)
                or _all_metric_results(value)
            )
            _require("metrics" in self.done)
        self.done.add("returned")


def _block(body: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    _require(isinstance(body, cst.IndentedBlock))
    return body.body  # type: ignore[union-attr]


def _simple_statements(body: cst.BaseSuite) -> list[cst.BaseSmallStatement]:
    found: list[cst.BaseSmallStatement] = []
    for stmt in _block(body):
        _require(isinstance(stmt, cst.SimpleStatementLine))
        found.extend(stmt.body)  # type: ignore[union-attr]
    return found


def _assign(small: cst.BaseSmallStatement) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        return small.targets[0].target, small.value
    return None


def _tuple_names(target: cst.BaseExpression) -> list[str] | None:
    if not isinstance(target, cst.Tuple):
        return None
    names = [_name(e.value) for e in target.elements]
    return names if all(names) else None  # type: ignore[return-value]


def _update_call(small: cst.BaseSmallStatement, metric: str) -> cst.Call | None:
    """`metric.update_state(...)` as a statement."""
    if not isinstance(small, cst.Expr) or not isinstance(small.value, cst.Call):
        return None
    call = small.value
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "update_state":
        return call if _is_literal(func.value, metric) else None
    return None


def _all_metric_results(value: cst.BaseExpression) -> bool:
    """`{m.name: m.result() for m in self.metrics}`."""
    if not isinstance(value, cst.DictComp):
        return False
    loop = value.for_in
    metric = _name(loop.target)  # type: ignore[arg-type]
    key, result = value.key, value.value
    return (
        metric is not None
        and loop.inner_for_in is None
        and not loop.ifs
        and not loop.asynchronous
        and is_self_attribute(loop.iter, "metrics")
        and isinstance(key, cst.Attribute)
        and _is_literal(key.value, metric)
        and key.attr.value == "name"
        and isinstance(result, cst.Call)
        and not result.args
        and isinstance(result.func, cst.Attribute)
        and result.func.attr.value == "result"
        and _is_literal(result.func.value, metric)
    )


_REQUIRED = {
    "train_step": {"unpack", "forward", "loss", "update", "metrics", "returned"},
    "test_step": {"unpack", "forward", "loss", "metrics", "returned"},
    "predict_step": {"forward", "returned"},
}


def step_repeats_default(
    function: cst.FunctionDef, resolve: Callable[[cst.BaseExpression], str | None]
) -> bool:
    """Whether `function`, a step method of a Keras model, does what the default step does and
    nothing else. `resolve` gives the qualified name of a callee in the step's scope."""
    step = function.name.value
    params = function.params
    positional = positional_params(function)
    if (
        step not in STEP_TRAINING
        or function.decorators
        or function.asynchronous is not None
        or len(positional) != 2
        or _name(positional[0].name) != "self"
        or any(p.default is not None for p in positional)
        or params.star_arg is not cst.MaybeSentinel.DEFAULT
        or params.kwonly_params
        or params.star_kwarg is not None
    ):
        return False
    reading = _Reading(step, positional[1].name.value, resolve)
    try:
        reading.block(_block(function.body), top=True)
    except _NotDefault:
        return False
    return _REQUIRED[step] <= reading.done


def step_resolver(ctx: Context, function: cst.FunctionDef) -> Callable[[cst.BaseExpression], str | None]:
    """Qualified names as seen inside `function`: its own parameters and locals shadow imports."""
    local = function_bindings(function)

    def resolve(expr: cst.BaseExpression) -> str | None:
        root = expr
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name) and root.value in local:
            bound = local[root.value]
            if not bound:
                return None
            suffix = ctx.module.code_for_node(expr)[len(root.value):]
            return bound + suffix
        return ctx.qualname(expr)

    return resolve
