"""The shape of a Keras 2 `train_step` written with `tf.GradientTape`, read for KER502's fix, or
the reason the fix cannot carry it.

The fix (_tape_step.py) writes one step per backend from the parts read here, so each part must
mean the same thing on every backend: one tape whose code computes the loss, one gradient of
that loss over the model's variables or one sub-model's (a distiller's student), one
`self.optimizer.apply_gradients`, then metric updates and the logs returned by the last
statement. Between the tape and the gradient only plain assignments that do not depend on the
tape's code may stand (`trainable_vars = self.student.trainable_variables`). Anything else (a
second optimizer or tape, a gradient penalty, code that reads the tape twice) is named as the
blocker, and the step is left to the fix of several tapes (_tapes.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from ..engine.context import Context, positional_params
from ..engine.names import statements
from ..engine.walker import calls_in
from ._common import body_of, is_self_attribute

# `self.<attr>` spellings of all the model's trainable variables: the JAX step differentiates
# with respect to exactly these (the `state` Keras passes in).
_ALL_TRAINABLE = frozenset({"trainable_variables", "trainable_weights"})
_OPTIMIZER_CALLS = frozenset({"apply_gradients", "minimize", "apply"})


@dataclass(frozen=True)
class TapeStep:
    """A `train_step(self, data)` of the shape the per-backend fix rewrites."""

    function: cst.FunctionDef
    data: str  # the name of the data parameter
    before: Sequence[cst.BaseStatement]  # statements before the tape (unpacking the data)
    tape: Sequence[cst.BaseStatement]  # the tape's body: forward passes and the loss
    tape_block: cst.BaseSuite  # the block holding them
    loss: str  # the name of the loss the gradient is taken of
    grads: str  # the name the gradients are assigned to
    variables: cst.BaseExpression  # what the gradient is taken over
    # The variables' value when only a sub-model's are differentiated (`self.student.
    # trainable_variables`); None for all the model's.
    subset: cst.BaseExpression | None
    between: Sequence[cst.BaseStatement]  # assignments between the tape and the gradient
    after: Sequence[cst.BaseStatement]  # metric updates, between the update and the return
    logs: cst.BaseExpression  # what the step returns
    carried: tuple[str, ...]  # names the tape's code binds that the code after it reads
    tape_import: str  # the import that binds the tape's name as the step spells it


class Blocked(Exception):
    """The step cannot be rewritten; the message names what blocks it."""


def _code(ctx: Context, node: cst.CSTNode) -> str:
    return ctx.module.code_for_node(node).strip()


def _tape_calls(ctx: Context, function: cst.FunctionDef) -> list[cst.Call]:
    found: list[cst.Call] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, (cst.Name, cst.Attribute)) and ctx.qualname(func) == "tensorflow.GradientTape":
                found.append(node)

    function.visit(Finder())
    return found


def tape_withs(ctx: Context, function: cst.FunctionDef) -> list[cst.With]:
    """Every `with` in the step (nested ones too) that opens a tape."""
    found: list[cst.With] = []

    class Finder(cst.CSTVisitor):
        def visit_With(self, node: cst.With) -> None:
            for item in node.items:
                call = item.item
                if isinstance(call, cst.Call) and isinstance(call.func, (cst.Name, cst.Attribute)):
                    if ctx.qualname(call.func) == "tensorflow.GradientTape":
                        found.append(node)

    function.visit(Finder())
    return found


def _optimizer_receivers(ctx: Context, function: cst.FunctionDef) -> list[str]:
    """The distinct receivers of `apply_gradients` / `minimize` / `apply`, in order."""
    found: list[str] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in _OPTIMIZER_CALLS:
                receiver = _code(ctx, func.value)
                if "optimizer" in receiver.lower() or func.attr.value == "apply_gradients":
                    if receiver not in found:
                        found.append(receiver)

    function.visit(Finder())
    return found


def _check_tapes_and_optimizers(ctx: Context, function: cst.FunctionDef) -> None:
    """Blocked by several tapes or optimizers, all of them named (a GAN has both)."""
    blockers: list[str] = []
    withs = tape_withs(ctx, function)
    nested = any(inner is not outer and contains(outer.body, inner) for outer in withs for inner in withs)
    calls = _tape_calls(ctx, function)
    if nested:
        blockers.append("a tape inside a tape (a gradient penalty)")
    elif len(calls) > 1:
        blockers.append(f"{_count(len(calls))} tapes")
    receivers = _optimizer_receivers(ctx, function)
    if len(receivers) > 1:
        blockers.append(f"{_count(len(receivers))} optimizers ({', '.join(f'`{r}`' for r in receivers)})")
    elif receivers and receivers[0] != "self.optimizer":
        blockers.append(f"an optimizer that is not the model's (`{receivers[0]}`)")
    if blockers:
        raise Blocked(" and ".join(blockers))
    if len(withs) != 1:
        raise Blocked("a tape not opened by `with tf.GradientTape() as tape:`")


def check_keras2_trainer(function: cst.FunctionDef) -> None:
    """Keras 2's `self.compiled_loss` / `self.compiled_metrics`: KER504 rewrites them first (with
    the `loss` tracker update), and the steps copy its result."""
    found: list[str] = []

    class Finder(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            if is_self_attribute(node) and node.attr.value in ("compiled_loss", "compiled_metrics"):
                if f"`self.{node.attr.value}`" not in found:
                    found.append(f"`self.{node.attr.value}`")

    function.visit(Finder())
    if found:
        raise Blocked(f"Keras 2's {' and '.join(found)} (KER504's fix comes first)")


def _count(number: int) -> str:
    return {2: "two", 3: "three", 4: "four"}.get(number, str(number))


def contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    """Whether `inner` (this very node) is `outer` or below it."""
    found: list[bool] = []

    class Finder(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if node is inner:
                found.append(True)
            return not found

    outer.visit(Finder())
    return bool(found)


def names_bound(body: Sequence[cst.CSTNode]) -> list[str]:
    """Names assigned by the statements (targets of `=`, `+=`, `for`, `with ... as`), in order."""
    found: list[str] = []

    def add(target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            if target.value not in found:
                found.append(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                add(element.value)

    for stmt in statements(body):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        add(target.target)
                elif isinstance(small, (cst.AugAssign, cst.AnnAssign)):
                    add(small.target)
        elif isinstance(stmt, cst.For):
            add(stmt.target)
    return found


def names_read(nodes: Sequence[cst.CSTNode]) -> set[str]:
    found: set[str] = set()

    class Finder(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.add(node.value)

    for node in nodes:
        node.visit(Finder())
    return found


def single_statement(stmt: cst.CSTNode) -> cst.BaseSmallStatement | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        return stmt.body[0]
    return None


def _gradient(ctx: Context, stmt: cst.CSTNode, tape: str) -> tuple[str, str, cst.BaseExpression]:
    """`grads = tape.gradient(loss, variables)`: (grads, loss, variables)."""
    small = single_statement(stmt)
    call = small.value if isinstance(small, cst.Assign) and len(small.targets) == 1 else None
    if (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Attribute)
        and isinstance(call.func.value, cst.Name)
        and call.func.value.value == tape
        and call.func.attr.value == "gradient"
        and len(call.args) == 2
        and all(arg.keyword is None and not arg.star for arg in call.args)
        and isinstance(small.targets[0].target, cst.Name)  # type: ignore[union-attr]
    ):
        loss = call.args[0].value
        if not isinstance(loss, cst.Name):
            raise Blocked(f"a gradient of an expression (`{_code(ctx, loss)}`) rather than of a name")
        return small.targets[0].target.value, loss.value, call.args[1].value  # type: ignore[union-attr]
    # The statement's own first line: LibCST keeps the comment lines above it in the node.
    shown = _code(ctx, stmt.with_changes(leading_lines=())) if hasattr(stmt, "leading_lines") else _code(ctx, stmt)
    raise Blocked(f"code between the tape and its gradient (`{shown.splitlines()[0]}`)")


def _apply(ctx: Context, stmt: cst.CSTNode, grads: str, variables: cst.BaseExpression) -> None:
    """`self.optimizer.apply_gradients(zip(grads, variables))`."""
    small = single_statement(stmt)
    call = small.value if isinstance(small, cst.Expr) else None
    if (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Attribute)
        and call.func.attr.value == "apply_gradients"
        and is_self_attribute(call.func.value, "optimizer")
        and len(call.args) == 1
    ):
        pairs = call.args[0].value
        if (
            isinstance(pairs, cst.Call)
            and isinstance(pairs.func, cst.Name)
            and pairs.func.value == "zip"
            and len(pairs.args) == 2
            and isinstance(pairs.args[0].value, cst.Name)
            and pairs.args[0].value.value == grads
            and pairs.args[1].value.deep_equals(variables)
        ):
            return
        raise Blocked(f"gradients applied as `{_code(ctx, pairs)}`, not `zip({grads}, <the tape's variables>)`")
    raise Blocked(f"code between the gradient and its update (`{_code(ctx, stmt).splitlines()[0]}`)")


def tape_name(ctx: Context, node: cst.With) -> str:
    if len(node.items) != 1 or node.asynchronous is not None:
        raise Blocked("a `with` that opens more than the tape")
    target = node.items[0].asname
    if target is None or not isinstance(target.name, cst.Name):
        raise Blocked("a tape without a name (`with tf.GradientTape() as tape:`)")
    call = node.items[0].item
    if isinstance(call, cst.Call) and call.args:
        raise Blocked(f"a tape with options (`{_code(ctx, call)}`)")
    return target.name.value


def check_step_signature(ctx: Context, function: cst.FunctionDef) -> str:
    """The name of the data parameter of `train_step(self, data)`, or `Blocked`: another step,
    a decorator, another signature."""
    if function.name.value != "train_step":
        raise Blocked(f"a tape in `{function.name.value}` (only `train_step` is rewritten)")
    if function.decorators:
        raise Blocked(f"the decorator `@{_code(ctx, function.decorators[0].decorator)}`")
    params = positional_params(function)
    if len(params) != 2 or function.params.star_arg is not cst.MaybeSentinel.DEFAULT or function.params.star_kwarg:
        raise Blocked("a signature other than `train_step(self, data)`")
    return params[1].name.value


def read_tape_step(ctx: Context, function: cst.FunctionDef, *, whole_model: bool) -> TapeStep:
    """The parts of `function`, or `Blocked` naming what the rewrite cannot carry. `whole_model`:
    the gradient must be over all the model's trainable variables (the JAX step)."""
    data = check_step_signature(ctx, function)
    _check_tapes_and_optimizers(ctx, function)
    check_keras2_trainer(function)
    body = list(body_of(function))
    index = next((i for i, stmt in enumerate(body) if isinstance(stmt, cst.With) and opens_tape(ctx, stmt)), None)
    if index is None:
        raise Blocked("a tape inside a block (`if`, `for`, ...) of the step")
    tape_with = body[index]
    assert isinstance(tape_with, cst.With)
    tape = tape_name(ctx, tape_with)
    tape_body = list(body_of_suite(tape_with.body))
    between = _setup_statements(body[index + 1 :], set(names_bound(tape_body)) | {tape}, names_read(tape_body))
    at = index + 1 + len(between)
    if at + 2 > len(body):
        raise Blocked("no `apply_gradients` after the tape")
    grads, loss, variables = _gradient(ctx, body[at], tape)
    subset = _variables_subset(variables, between)
    if whole_model and subset is not None and not _sub_model_variables(subset):
        raise Blocked(f"a gradient over only some variables (`{_code(ctx, variables)}`)")
    _apply(ctx, body[at + 1], grads, variables)
    last = single_statement(body[-1])
    if not isinstance(last, cst.Return) or last.value is None or len(body) < at + 3:
        raise Blocked("a step that does not end with `return <logs>`")
    after = body[at + 2 : -1]
    if returns_before_end(body[:-1]):
        raise Blocked("a `return` before the step's last statement")
    if tape in names_read([*body[:index], *tape_body, *after, last]):
        raise Blocked(f"`{tape}` used for more than the one gradient")
    bound = names_bound(tape_body)
    if loss not in bound:
        raise Blocked(f"a loss (`{loss}`) not computed under the tape")
    read_later = names_read([*after, last])
    carried = tuple(name for name in bound if name in read_later and name != loss)
    spelled = tape_with.items[0].item.func  # type: ignore[attr-defined]
    return TapeStep(
        function, data, body[:index], tape_body, tape_with.body, loss, grads, variables, subset, between,
        after, last.value, carried, import_of(ctx, spelled),
    )


def _setup_statements(
    rest: Sequence[cst.BaseStatement], tape_names: set[str], tape_reads: set[str]
) -> list[cst.BaseStatement]:
    """The plain assignments right after the tape that neither call anything, nor read what the
    tape's code binds, nor bind what it reads (`trainable_vars = self.student.trainable_variables`):
    each backend's step can run them before the forward pass."""
    found: list[cst.BaseStatement] = []
    for stmt in rest:
        small = single_statement(stmt)
        if not (
            isinstance(small, cst.Assign)
            and all(isinstance(target.target, cst.Name) for target in small.targets)
            and not any(True for _ in calls_in(small.value))
            and not (names_read([small.value]) & tape_names)
            and not ({target.target.value for target in small.targets} & (tape_names | tape_reads))  # type: ignore[attr-defined]
        ):
            break
        found.append(stmt)
    return found


def _variables_subset(variables: cst.BaseExpression, between: Sequence[cst.BaseStatement]) -> cst.BaseExpression | None:
    """What `variables` holds when it is not all the model's variables (a name assigned between
    the tape and the gradient is read through); None when it is all of them."""
    value = variables
    if isinstance(variables, cst.Name):
        for stmt in reversed(between):
            small = single_statement(stmt)
            assert isinstance(small, cst.Assign)
            if any(target.target.value == variables.value for target in small.targets):  # type: ignore[attr-defined]
                value = small.value
                break
    if is_self_attribute(value) and value.attr.value in _ALL_TRAINABLE:  # type: ignore[attr-defined]
        return None
    return value


def _sub_model_variables(value: cst.BaseExpression) -> bool:
    """`self.<sub-model>.trainable_variables` (or `trainable_weights`)."""
    return (
        isinstance(value, cst.Attribute)
        and value.attr.value in _ALL_TRAINABLE
        and isinstance(value.value, cst.Attribute)
        and is_self_attribute(value.value)
    )


def import_of(ctx: Context, spelled: cst.BaseExpression) -> str:
    """`import tensorflow as tf` for `tf.GradientTape`, `from tensorflow import GradientTape as
    Tape` for `Tape`: the statement that binds the name the step spells the tape with."""
    root = spelled
    while isinstance(root, cst.Attribute):
        root = root.value
    assert isinstance(root, cst.Name)
    local = root.value
    qualified = ctx.qualname(root)
    if not qualified:
        raise Blocked(f"a tape spelled through `{local}`, whose import cannot be read")
    module, _, name = qualified.rpartition(".")
    alias = "" if local == (name or qualified) else f" as {local}"
    if not module:
        return f"import {qualified}{alias}\n"
    return f"from {module} import {name}{alias}\n"


def body_of_suite(suite: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    """The statements of an indented block; none for a one-line body."""
    return suite.body if isinstance(suite, cst.IndentedBlock) else ()


def opens_tape(ctx: Context, stmt: cst.With) -> bool:
    return any(
        isinstance(item.item, cst.Call)
        and isinstance(item.item.func, (cst.Name, cst.Attribute))
        and ctx.qualname(item.item.func) == "tensorflow.GradientTape"
        for item in stmt.items
    )


def returns_before_end(body: Sequence[cst.CSTNode]) -> bool:
    for stmt in statements(body):
        if isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(s, cst.Return) for s in stmt.body):
            return True
    return False
