"""KER502's fix for the steps the one-tape rewrite (_tape_step.py) cannot carry: several tapes
and optimizers (a GAN), tapes in a loop (a critic trained several times per step), and tapes
that watch tensors in the methods the step calls (a gradient penalty).

Each tape is rewritten where it stands and the rest of the step is kept as written:

- TensorFlow: the step and its methods as written.
- JAX: the whole step runs in one `keras.StatelessScope` over the variables of `state`, so that
  layers, random seeds, metrics and each optimizer's `apply_gradients` read and record their
  variables there; the new `state` is read back from the scope. Each tape's code becomes a
  function whose loss `jax.value_and_grad` differentiates, in an inner scope over the watched
  values (variables, or the watched tensors as arguments), whose variable updates are kept.
  A second optimizer's variables reach `state` only through `compile()`: there the model is
  given one `keras.optimizers.MultiOptimizer` mapping each optimizer's variables to it (Keras
  3.15), which builds them all; the step still calls each optimizer as written.
- PyTorch: each tape's code runs as written and its gradient is `torch.autograd.grad`; a
  watched tensor is made to require a gradient, a tape inside another's code keeps the graph of
  its gradient (`create_graph`), and the optimizers' updates run under `torch.no_grad()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from ..engine.context import Context, class_methods
from ..engine.edits import FixSpec, Replace
from ..engine.names import statements
from ..engine.walker import calls_in, is_generator, own_yields
from ._common import assigned_values, block_indent, is_docstring, is_self_attribute
from ._tape_shape import (
    Blocked, body_of_suite, check_keras2_trainer, check_step_signature, contains, import_of, names_bound, names_read, opens_tape, tape_name, tape_withs,
)
from ._tape_step import (
    StepWriter, as_written, code_at_zero, dispatch_on_backend, indent_code, leading_text, tape_step_fix, variable_names,
)

# `keras.optimizers.MultiOptimizer` came with Keras 3.15.
MULTI_OPTIMIZER_SINCE = (3, 15, 0)
_ORDER = ("tensorflow", "jax", "torch")
# Names the written code binds in the step or adds to the class.
_STEP_NAMES = frozenset({"step_variables", "step_values", "step_scope", "step_logs", "new_state", "part", "torch"})
_METHODS = ("tape_gradient", "tape_watch")


@dataclass(frozen=True)
class Tape:
    """`with tf.GradientTape() as <name>:` and the statement after it, which takes the gradient."""

    node: cst.With
    name: str
    body: tuple[cst.BaseStatement, ...]  # the tape's code, without its `watch` calls
    watched: tuple[str, ...]  # the tensors given to `<name>.watch(...)`
    gradient: cst.SimpleStatementLine  # the statement holding `<name>.gradient(target, sources)`
    call: cst.Call
    target: str
    sources: cst.BaseExpression
    carried: tuple[str, ...]  # names the tape's code binds that code outside it reads
    single: bool  # the sources are one watched tensor: the gradient is a tensor, not a list
    nested: bool  # the tape runs inside another tape's code: its gradient is differentiated


@dataclass(frozen=True)
class TapedMethod:
    function: cst.FunctionDef
    tapes: tuple[Tape, ...]
    tape_import: str


@dataclass(frozen=True)
class TapedStep:
    step: TapedMethod
    helpers: tuple[TapedMethod, ...]  # the methods the step calls that open tapes
    data: str
    # Each optimizer other than the model's, with the variables it updates (`self.d_optimizer`,
    # `self.discriminator.trainable_weights`): given to `compile()` on JAX.
    optimizers: tuple[tuple[str, cst.BaseExpression], ...]
    compile_call: cst.Call | None


# ----- reading -----------------------------------------------------------------------------------


def read_taped_step(ctx: Context, klass: cst.ClassDef, function: cst.FunctionDef, backends: Sequence[str]) -> TapedStep:
    """The step's tapes, the methods it calls that open tapes, and its optimizers; or `Blocked`
    naming what the rewrite cannot carry."""
    data = check_step_signature(ctx, function)
    methods = class_methods(klass)
    clash = [name for name in _METHODS if name in methods]
    if clash:
        raise Blocked(f"the method `{clash[0]}`, which the written steps add to the class")
    check_keras2_trainer(function)
    step = _taped_method(ctx, function, in_tape=False)
    helpers = tuple(
        _taped_method(ctx, methods[name], in_tape=True) for name in _called_methods(function, methods)
        if tape_withs(ctx, methods[name])
    )
    for helper in helpers:
        if any(not tape.watched for tape in helper.tapes):
            raise Blocked(f"a tape over variables in `{helper.function.name.value}`, which the step calls")
        if helper.function.decorators:
            raise Blocked(f"the decorator `@{_code(ctx, helper.function.decorators[0].decorator)}`")
    _check_step_body(ctx, function, step.tapes)
    optimizers = _optimizers(ctx, function)
    compile_call = None
    if optimizers and "jax" in backends:
        if ctx.settings.keras_version < MULTI_OPTIMIZER_SINCE:
            raise Blocked(
                "optimizers other than the model's: on JAX they need `keras.optimizers.MultiOptimizer`"
                " (Keras 3.15; the project's keras-version is older)"
            )
        compile_call = _compile_call(ctx, methods, optimizers)
    return TapedStep(step, helpers, data, optimizers, compile_call)


def _code(ctx: Context, node: cst.CSTNode) -> str:
    return ctx.module.code_for_node(node).strip()


def _self_method_calls(node: cst.CSTNode) -> list[str]:
    return [call.func.attr.value for call in calls_in(node) if is_self_attribute(call.func)]  # type: ignore[attr-defined]


def _called_methods(function: cst.FunctionDef, methods: dict[str, cst.FunctionDef]) -> list[str]:
    """The class's methods `function` calls through `self`, and those they call, in order."""
    found: list[str] = []
    todo = [function]
    while todo:
        for name in _self_method_calls(todo.pop()):
            if name in methods and name not in found and methods[name] is not function:
                found.append(name)
                todo.append(methods[name])
    return found


def _taped_method(ctx: Context, function: cst.FunctionDef, *, in_tape: bool) -> TapedMethod:
    withs = tape_withs(ctx, function)
    places = _tape_places(ctx, function)
    if len(places) != len(withs):
        raise Blocked(f"a tape in `{function.name.value}` not opened by a statement of its own")
    inside = {id(inner) for outer in withs for inner in withs if inner is not outer and contains(outer.body, inner)}
    tapes = tuple(
        _read_tape(ctx, function, block, index, nested=in_tape or id(block[index]) in inside) for block, index in places
    )
    for tape in tapes:
        owned = [(t.node, t.call.func) for t in tapes if t.name == tape.name]
        if any(not any(contains(a, use) or contains(b, use) for a, b in owned) for use in _uses(function, tape.name)):
            raise Blocked(f"`{tape.name}` used for more than its gradient in `{function.name.value}`")
    spelled = withs[0].items[0].item.func  # type: ignore[attr-defined]
    return TapedMethod(function, tapes, import_of(ctx, spelled))


def _tape_places(ctx: Context, function: cst.FunctionDef) -> list[tuple[Sequence[cst.BaseStatement], int]]:
    """(block, index) of each `with` opening a tape among the statements of `function`."""
    found: list[tuple[Sequence[cst.BaseStatement], int]] = []

    def walk(body: Sequence[cst.BaseStatement]) -> None:
        for index, stmt in enumerate(body):
            if isinstance(stmt, cst.With) and opens_tape(ctx, stmt):
                found.append((body, index))
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                continue
            if isinstance(stmt, cst.BaseCompoundStatement):
                for block in _blocks(stmt):
                    walk(block)

    walk(body_of_suite(function.body))
    return found


def _blocks(stmt: cst.BaseCompoundStatement) -> list[Sequence[cst.BaseStatement]]:
    suites: list[cst.BaseSuite] = [stmt.body]
    orelse = getattr(stmt, "orelse", None)
    while orelse is not None:
        suites.append(orelse.body)
        orelse = getattr(orelse, "orelse", None) if isinstance(orelse, cst.If) else None
    suites.extend(handler.body for handler in getattr(stmt, "handlers", ()))
    final = getattr(stmt, "finalbody", None)
    if final is not None:
        suites.append(final.body)
    return [body_of_suite(suite) for suite in suites]


def _read_tape(
    ctx: Context, function: cst.FunctionDef, block: Sequence[cst.BaseStatement], index: int, *, nested: bool
) -> Tape:
    node = block[index]
    assert isinstance(node, cst.With)
    where = f"`{function.name.value}`"
    name = tape_name(ctx, node)
    code = list(body_of_suite(node.body))
    watched: list[str] = []
    body: list[cst.BaseStatement] = []
    for stmt in code:
        watch = _watch(stmt, name)
        if watch is not None:
            watched.append(watch)
        else:
            body.append(stmt)
    _check_tape_code(ctx, body, name, where)
    bound = names_bound(body)
    gradient = block[index + 1] if index + 1 < len(block) else None
    call = _gradient_call(gradient, name) if gradient is not None else None
    if call is None:
        raise Blocked(f"a tape in {where} not followed by `{name}.gradient(...)`")
    assert isinstance(gradient, cst.SimpleStatementLine)
    target, sources = call.args[0].value, call.args[1].value
    if not isinstance(target, cst.Name) or target.value not in bound:
        raise Blocked(f"a gradient of `{_code(ctx, target)}`, which is not a name the tape's code assigns")
    single = False
    names = _names_in(sources)
    if watched and names is not None and set(names) <= set(watched):
        single = isinstance(sources, cst.Name)
    elif watched and names is not None and set(names) & set(watched):
        raise Blocked(f"a gradient over `{_code(ctx, sources)}`, some of the tensors the tape watches and more")
    else:
        # A watched tensor the gradient is not taken over changes nothing: its `watch` goes.
        watched = []
    if not watched and variable_names([sources]) & set(bound):
        raise Blocked(f"a gradient over `{_code(ctx, sources)}`, which the tape's code computes")
    outside = _names_read_outside(function, node, call)
    surely = set(_top_level_bound(body))
    maybe = [n for n in bound if n not in surely and n in outside]
    if maybe:
        raise Blocked(f"`{maybe[0]}`, assigned only on some paths of the tape's code and read after it")
    carried = tuple(n for n in bound if n in outside)
    return Tape(node, name, tuple(body), tuple(watched), gradient, call, target.value, sources, carried, single, nested)


def _watch(stmt: cst.BaseStatement, tape: str) -> str | None:
    """`x` for the statement `<tape>.watch(x)`."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)):
        return None
    call = stmt.body[0].value
    if (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Attribute)
        and isinstance(call.func.value, cst.Name)
        and call.func.value.value == tape
        and call.func.attr.value == "watch"
    ):
        if len(call.args) != 1 or not isinstance(call.args[0].value, cst.Name):
            raise Blocked(f"`{tape}.watch` of something other than a name")
        return call.args[0].value.value
    return None


def _check_tape_code(ctx: Context, body: Sequence[cst.BaseStatement], tape: str, where: str) -> None:
    """What a function cannot carry: leaving it early, or a name read before the tape's code
    assigns it (the code becomes a function of its own, where the name would be its local)."""
    if tape in names_read(body):
        raise Blocked(f"`{tape}` used inside its own code in {where}")
    for stmt in statements(body):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Return, cst.Break, cst.Continue, cst.Global, cst.Nonlocal)):
                    raise Blocked(f"`{_code(ctx, small).split()[0]}` inside a tape's code in {where}")
    if any(True for stmt in body for _ in own_yields(stmt)):
        raise Blocked(f"`yield` inside a tape's code in {where}")
    bound_all = set(names_bound(body))
    assigned: set[str] = set()
    for stmt in body:
        read = _reads_before_binding(stmt)
        early = sorted((read & bound_all) - assigned)
        if early:
            raise Blocked(f"`{early[0]}` read under the tape before the tape's code assigns it")
        assigned.update(names_bound([stmt]))


def _reads_before_binding(stmt: cst.BaseStatement) -> set[str]:
    """The variables a statement reads before it binds any: an assignment's value, an augmented
    assignment's target too; for a compound statement, those it reads and does not bind."""
    if isinstance(stmt, cst.SimpleStatementLine):
        read: set[str] = set()
        for small in stmt.body:
            if isinstance(small, cst.Assign):
                read |= variable_names([small.value])
            elif isinstance(small, cst.AnnAssign):
                read |= variable_names([small.value]) if small.value is not None else set()
            else:
                read |= variable_names([small])
        return read
    return variable_names([stmt]) - set(names_bound([stmt]))


def _top_level_bound(body: Sequence[cst.BaseStatement]) -> list[str]:
    """The names the statements themselves assign (not those of nested blocks)."""
    found: list[str] = []
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            found.extend(names_bound([stmt]))
    return found


def _gradient_call(stmt: cst.BaseStatement, tape: str) -> cst.Call | None:
    """`<tape>.gradient(target, sources)`, the one such call of a simple statement."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    found: list[cst.Call] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value == tape
                and func.attr.value == "gradient"
            ):
                found.append(call)

    stmt.visit(Finder())
    if len(found) != 1:
        return None
    call = found[0]
    if len(call.args) != 2 or any(arg.keyword is not None or arg.star for arg in call.args):
        raise Blocked(f"`{tape}.gradient` with other arguments than a target and sources")
    return call


def _names_in(sources: cst.BaseExpression) -> list[str] | None:
    """The names of `x` or `[x, y]` (a tuple too); None for any other expression."""
    if isinstance(sources, cst.Name):
        return [sources.value]
    if isinstance(sources, (cst.List, cst.Tuple)) and all(isinstance(e.value, cst.Name) for e in sources.elements):
        return [e.value.value for e in sources.elements]  # type: ignore[union-attr]
    return None


def _uses(function: cst.FunctionDef, name: str) -> list[cst.Name]:
    found: list[cst.Name] = []

    class Finder(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            if node.value == name:
                found.append(node)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

    function.body.visit(Finder())
    return found


def _names_read_outside(function: cst.FunctionDef, tape: cst.With, call: cst.Call) -> set[str]:
    """The names `function` reads outside the tape's `with` and its gradient's target."""
    found: set[str] = set()
    skip = (tape, call.args[0])

    class Finder(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if any(node is s for s in skip):
                return False
            if isinstance(node, cst.Name):
                found.add(node.value)
            if isinstance(node, cst.Attribute):
                node.value.visit(self)  # not the attribute's own name
                return False
            if isinstance(node, cst.Arg):
                node.value.visit(self)  # not a keyword
                return False
            return True

    function.body.visit(Finder())
    return found


def _check_step_body(ctx: Context, function: cst.FunctionDef, tapes: Sequence[Tape]) -> None:
    body = list(body_of_suite(function.body))
    last = body[-1] if body else None
    if not (
        isinstance(last, cst.SimpleStatementLine)
        and len(last.body) == 1
        and isinstance(last.body[0], cst.Return)
        and last.body[0].value is not None
    ):
        raise Blocked("a step that does not end with `return <logs>`")
    for stmt in statements(body[:-1]):
        if isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(s, cst.Return) for s in stmt.body):
            raise Blocked("a `return` before the step's last statement")
    if is_generator(function):
        raise Blocked("a step that yields")
    used = variable_names(body)
    clash = sorted(used & _STEP_NAMES)
    if clash:
        raise Blocked(f"the name `{clash[0]}`, which the written steps use themselves")
    for tape in tapes:
        if f"{tape.name}_gradients" in used:
            raise Blocked(f"the name `{tape.name}_gradients`, which the written steps use themselves")


def _optimizers(ctx: Context, function: cst.FunctionDef) -> tuple[tuple[str, cst.BaseExpression], ...]:
    """The optimizers other than `self.optimizer` the step updates with, each with its variables."""
    found: dict[str, cst.BaseExpression] = {}
    own = False
    for call in _optimizer_calls(function.body):
        receiver = call.func.value  # type: ignore[attr-defined]
        shown = _code(ctx, receiver)
        if not is_self_attribute(receiver):
            raise Blocked(f"an optimizer that is not an attribute of the model (`{shown}`)")
        attr = receiver.attr.value  # type: ignore[attr-defined]
        if call.func.attr.value == "minimize":  # type: ignore[attr-defined]
            raise Blocked(f"`{shown}.minimize(...)`")
        if attr == "optimizer":
            own = True
            continue
        variables = _updated_variables(call)
        if variables is None or not _self_expression(variables):
            raise Blocked(f"`{shown}` given variables the model does not name as its attributes")
        if attr in found and not found[attr].deep_equals(variables):
            raise Blocked(f"`{shown}` updating different variables in one step")
        found[attr] = variables
    if own and found:
        raise Blocked("the model's own optimizer beside others")
    return tuple(found.items())


def _is_optimizer_call(call: cst.Call) -> bool:
    """`<x>.apply_gradients(...)`, or `.apply(...)` / `.minimize(...)` on a receiver whose name
    says optimizer (`self.d_optimizer.apply(...)`)."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    receiver = func.value
    named = receiver.attr.value if isinstance(receiver, cst.Attribute) else getattr(receiver, "value", "")
    return func.attr.value == "apply_gradients" or (
        func.attr.value in ("apply", "minimize") and "optimizer" in str(named).lower()
    )


def _optimizer_calls(node: cst.CSTNode) -> list[cst.Call]:
    return [call for call in calls_in(node) if _is_optimizer_call(call)]


def _updated_variables(call: cst.Call) -> cst.BaseExpression | None:
    """`S` of `apply_gradients(zip(grads, S))` or `apply(grads, S)`."""
    method = call.func.attr.value  # type: ignore[attr-defined]
    if method == "apply_gradients" and len(call.args) == 1:
        pairs = call.args[0].value
        if isinstance(pairs, cst.Call) and isinstance(pairs.func, cst.Name) and pairs.func.value == "zip":
            if len(pairs.args) == 2:
                return pairs.args[1].value
        return None
    if method == "apply" and len(call.args) == 2:
        return call.args[1].value
    return None


def _self_expression(expr: cst.BaseExpression) -> bool:
    """`self.a.b...`: read the same in `compile()` as in the step."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return isinstance(expr, cst.Name) and expr.value == "self"


def _compile_call(
    ctx: Context, methods: dict[str, cst.FunctionDef], optimizers: Sequence[tuple[str, cst.BaseExpression]]
) -> cst.Call:
    """The `super().compile(...)` of the class's `compile()` override, which the JAX fix gives
    the optimizers; `Blocked` when there is none or it already passes an optimizer."""
    compile_method = methods.get("compile")
    shown = ", ".join(f"`self.{attr}`" for attr, _ in optimizers)
    if compile_method is None:
        raise Blocked(f"{shown} not set in a `compile()` override (JAX needs them given to Keras's `compile()`)")
    calls: list[cst.Call] = []
    for stmt in body_of_suite(compile_method.body):
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr):
            call = stmt.body[0].value
            if (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "compile"
                and isinstance(call.func.value, cst.Call)
                and isinstance(call.func.value.func, cst.Name)
                and call.func.value.func.value == "super"
            ):
                calls.append(call)
    if len(calls) != 1:
        raise Blocked("a `compile()` override without one `super().compile(...)` statement")
    call = calls[0]
    if any(arg.star for arg in call.args):
        raise Blocked("`super().compile(...)` given `*args` or `**kwargs`, which may pass Keras an optimizer already")
    if any(arg.keyword is None or arg.keyword.value == "optimizer" for arg in call.args):
        raise Blocked("a `compile()` override that already passes Keras an optimizer")
    assigned = assigned_values(body_of_suite(compile_method.body), self_attributes=True)
    missing = [attr for attr, _ in optimizers if f"self.{attr}" not in assigned]
    if missing:
        raise Blocked(f"`self.{missing[0]}` not set in `compile()`")
    return call


# ----- writing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Names:
    backend: str  # `keras.backend.backend`
    scope: str  # `keras.StatelessScope`
    variable: str  # `keras.Variable`
    multi: str  # `keras.optimizers.MultiOptimizer`


def taped_step_edits(
    ctx: Context, klass: cst.ClassDef, taped: TapedStep, backends: Sequence[str], names: _Names
) -> list[tuple[cst.CSTNode, str]]:
    """(node, new text) for the step, each method it calls that opens a tape, and `compile()`."""
    if not isinstance(klass.body, cst.IndentedBlock):
        raise Blocked("a class written on one line")
    indent = block_indent(ctx, klass.body)
    unit = ctx.module.default_indent
    at = indent if len(backends) == 1 else indent + unit
    w = StepWriter(ctx)
    edits: list[tuple[cst.CSTNode, str]] = []
    for method in (taped.step, *taped.helpers):
        is_step = method is taped.step
        writers = {
            "tensorflow": lambda m=method: as_written(ctx, m.function, m.tape_import, at),
            "jax": lambda m=method, s=is_step: _jax_method(ctx, w, taped, m, s, names, at, unit),
            "torch": lambda m=method, s=is_step: _torch_method(ctx, w, taped, m, s, names, at, unit),
        }
        text = dispatch_on_backend([(b, writers[b]()) for b in backends], f"{names.backend}", indent)
        edits.append((method.function, leading_text(ctx, method.function, indent) + text))
    if taped.compile_call is not None:
        edits.append((taped.compile_call, _compile_text(ctx, klass, taped, backends, names)))
    return edits


def _jax_method(
    ctx: Context, w: StepWriter, taped: TapedStep, method: TapedMethod, is_step: bool, names: _Names, at: str, u: str
) -> str:
    function = method.function.with_changes(leading_lines=(), decorators=())
    rewritten = function.visit(_JaxTapes(method.tapes))
    assert isinstance(rewritten, cst.FunctionDef)
    if not is_step:
        return indent_code(code_at_zero(ctx, rewritten), at)
    b, b2 = at + u, at + u * 2
    body = list(body_of_suite(rewritten.body))
    docstring = [body.pop(0)] if body and is_docstring(body[0]) else []
    last = body[-1]
    assert isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[0], cst.Return)
    logs = last.body[0].value
    assert logs is not None
    body[-1] = last.with_changes(body=[cst.Assign([cst.AssignTarget(cst.Name("step_logs"))], logs)])
    text = "".join(
        [
            f"{at}def train_step(self, state, {taped.data}):\n",
            w.statements(docstring, b),
            f"{b}# The step runs in a scope over the variables of `state`; the new state is read back from it.\n",
            f"{b}step_variables = [\n",
            f"{b2}*self.trainable_variables,\n",
            f"{b2}*self.non_trainable_variables,\n",
            f"{b2}*self.optimizer.variables,\n",
            f"{b2}*self.metrics_variables,\n",
            f"{b}]\n",
            f"{b}step_values = [value for part in state for value in part]\n",
            f"{b}with {names.scope}(state_mapping=list(zip(step_variables, step_values))) as step_scope:\n",
            w.statements(body, b2),
            f"{b}step_values = [step_scope.get_current_value(v) for v in step_variables]\n",
            f"{b}new_state = []\n",
            f"{b}for part in state:\n",
            f"{b2}new_state.append(step_values[: len(part)])\n",
            f"{b2}step_values = step_values[len(part) :]\n",
            f"{b}return step_logs, tuple(new_state)\n",
        ]
    )
    return text + "\n" + _jax_helper(names, at, u)


def _jax_helper(names: _Names, at: str, u: str) -> str:
    b, b2, b3 = at + u, at + u * 2, at + u * 3
    return "".join(
        [
            f"{at}def tape_gradient(self, tape_code, watched):\n",
            f'{b}"""A `tf.GradientTape` on JAX: the gradient of the loss `tape_code` returns (summed, as a\n',
            f"{b}tape sums it) over `watched`: variables, whose values the code reads in a scope, or tensors,\n",
            f"{b}which it takes as arguments. The code's own variable updates (a seed, a metric) are kept.\n",
            f'{b}"""\n',
            f"{b}import jax\n",
            "\n",
            f"{b}variables = [*self.trainable_variables, *self.non_trainable_variables, *self.metrics_variables]\n",
            f"{b}is_variable = [isinstance(w, {names.variable}) for w in watched]\n",
            "\n",
            f"{b}def run(values):\n",
            f"{b2}mapping = [(v, v.value) for v in variables]\n",
            f"{b2}mapping += [(w, value) for w, value, var in zip(watched, values, is_variable) if var]\n",
            f"{b2}with {names.scope}(state_mapping=mapping) as scope:\n",
            f"{b3}target, bound = tape_code(*[value for value, var in zip(values, is_variable) if not var])\n",
            f"{b2}return jax.numpy.sum(target), (bound, [scope.get_current_value(v) for v in variables])\n",
            "\n",
            f"{b}start = [w.value if var else w for w, var in zip(watched, is_variable)]\n",
            f"{b}(_, (bound, updated)), grads = jax.value_and_grad(run, has_aux=True)(start)\n",
            f"{b}for variable, value in zip(variables, updated):\n",
            f"{b2}variable.assign(value)\n",
            f"{b}return bound, grads\n",
        ]
    )


def _torch_method(
    ctx: Context, w: StepWriter, taped: TapedStep, method: TapedMethod, is_step: bool, names: _Names, at: str, u: str
) -> str:
    function = method.function.with_changes(leading_lines=(), decorators=())
    rewritten = function.visit(_TorchTapes(method.tapes, is_step))
    assert isinstance(rewritten, cst.FunctionDef)
    text = indent_code(code_at_zero(ctx, rewritten), at)
    if not is_step:
        return text
    watches = any(tape.watched for m in (taped.step, *taped.helpers) for tape in m.tapes)
    return text + "\n" + _torch_helpers(names, at, u, watches)


def _torch_helpers(names: _Names, at: str, u: str, watches: bool) -> str:
    b = at + u
    lines = [
        f"{at}def tape_gradient(self, target, watched, create_graph=False):\n",
        f'{b}"""`tape.gradient(target, watched)` on PyTorch, over variables or tensors; `create_graph`\n',
        f'{b}when the gradient is itself differentiated (a gradient penalty)."""\n',
        f"{b}import torch\n",
        "\n",
        f"{b}inputs = [w.value if isinstance(w, {names.variable}) else w for w in watched]\n",
        f"{b}grads = torch.autograd.grad(\n",
        f"{b}{u}target, inputs, torch.ones_like(target), create_graph=create_graph, allow_unused=True\n",
        f"{b})\n",
        f"{b}return list(grads)\n",
    ]
    if watches:
        lines += [
            "\n",
            f"{at}def tape_watch(self, tensor):\n",
            f'{b}"""`tape.watch(tensor)` on PyTorch: the tensor, requiring a gradient."""\n',
            f"{b}return tensor if tensor.requires_grad else tensor.detach().requires_grad_(True)\n",
        ]
    return "".join(lines)


def _tuple(names: Sequence[str]) -> str:
    return "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"


class _TapeBlocks(cst.CSTTransformer):
    """Replaces each tape's `with` and the statement after it by what `replace` writes."""

    def __init__(self, tapes: Sequence[Tape]) -> None:
        self.tapes = {id(tape.node): tape for tape in tapes}
        self.gradients = {id(tape.gradient) for tape in tapes}

    def replace(self, tape: Tape, updated_with: cst.With, updated_gradient: cst.BaseStatement) -> list[cst.BaseStatement]:
        raise NotImplementedError

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if not any(id(stmt) in self.tapes for stmt in original.body):
            return updated
        body: list[cst.BaseStatement] = []
        skip = False
        for number, (before, after) in enumerate(zip(original.body, updated.body)):
            if skip:
                skip = False
                continue
            tape = self.tapes.get(id(before))
            if tape is None:
                body.append(after)
                continue
            written = self.replace(tape, after, updated.body[number + 1])  # type: ignore[arg-type]
            if number == 0 and not after.leading_lines:
                # The first statement of its block: no blank line above it.
                written[0] = written[0].with_changes(leading_lines=())
            body.extend(written)
            skip = True
        return updated.with_changes(body=body)


def _replace_call(stmt: cst.BaseStatement, call: cst.Call, new: cst.BaseExpression) -> cst.BaseStatement:
    class Swap(cst.CSTTransformer):
        def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
            return new if original.deep_equals(call) else updated

    result = stmt.visit(Swap())
    assert isinstance(result, cst.BaseStatement)
    return result


class _JaxTapes(_TapeBlocks):
    def replace(self, tape: Tape, updated_with: cst.With, updated_gradient: cst.BaseStatement) -> list[cst.BaseStatement]:
        code = [s for s in body_of_suite(updated_with.body) if _watch(s, tape.name) is None]
        returned = cst.parse_statement(f"return {tape.target}, {_tuple(tape.carried)}\n")
        params = ", ".join(tape.watched)
        define = cst.parse_statement(f"def {tape.name}({params}):\n    pass\n")
        assert isinstance(define, cst.FunctionDef)
        define = define.with_changes(
            body=cst.IndentedBlock(body=[*code, returned]),
            leading_lines=[*updated_with.leading_lines] or [cst.EmptyLine(indent=False)],
        )
        sources = cst.List([cst.Element(tape.sources)]) if tape.single else tape.sources
        carried = _tuple(tape.carried) if tape.carried else "_"
        plain = _plain_gradient(updated_gradient, tape)
        if plain is not None and not tape.single:
            result = plain
            rest: list[cst.BaseStatement] = []
        else:
            result = f"{tape.name}_gradients"
            value: cst.BaseExpression = cst.Name(result)
            if tape.single:
                value = cst.Subscript(value, [cst.SubscriptElement(cst.Index(cst.Integer("0")))])
            rest = [_replace_call(updated_gradient, tape.call, value)]
        assign = cst.parse_statement(f"{carried}, {result} = self.tape_gradient({tape.name}, _)\n")
        assign = _replace_last_arg(assign, sources)
        # The gradient's own comments stay above the line that now takes it.
        leading = list(updated_gradient.leading_lines)
        if not (leading and not leading[0].comment):
            leading.insert(0, cst.EmptyLine(indent=False))
        assign = assign.with_changes(leading_lines=leading)
        if rest:
            rest[0] = rest[0].with_changes(leading_lines=())
        return [define, assign, *rest]


def _plain_gradient(stmt: cst.BaseStatement, tape: Tape) -> str | None:
    """`grads` when the statement is `grads = <tape>.gradient(...)`."""
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
    if (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and small.value.deep_equals(tape.call)
    ):
        return small.targets[0].target.value
    return None


def _replace_last_arg(stmt: cst.BaseStatement, value: cst.BaseExpression) -> cst.BaseStatement:
    assert isinstance(stmt, cst.SimpleStatementLine)
    small = stmt.body[0]
    assert isinstance(small, cst.Assign) and isinstance(small.value, cst.Call)
    args = list(small.value.args)
    args[-1] = args[-1].with_changes(value=value)
    return stmt.with_changes(body=[small.with_changes(value=small.value.with_changes(args=args))])


class _TorchTapes(_TapeBlocks):
    def __init__(self, tapes: Sequence[Tape], is_step: bool) -> None:
        super().__init__(tapes)
        self.is_step = is_step

    def replace(self, tape: Tape, updated_with: cst.With, updated_gradient: cst.BaseStatement) -> list[cst.BaseStatement]:
        code: list[cst.BaseStatement] = []
        for stmt in body_of_suite(updated_with.body):
            watched = _watch(stmt, tape.name)
            if watched is None:
                code.append(stmt)
            elif watched in tape.watched:
                code.append(cst.parse_statement(f"{watched} = self.tape_watch({watched})\n"))
        if code:
            code[0] = code[0].with_changes(leading_lines=[*updated_with.leading_lines, *code[0].leading_lines])
        sources = cst.List([cst.Element(tape.sources)]) if tape.single else tape.sources
        graph = ", create_graph=True" if tape.nested else ""
        call = cst.parse_expression(f"self.tape_gradient({tape.target}, _{graph})")
        assert isinstance(call, cst.Call)
        args = list(call.args)
        args[1] = args[1].with_changes(value=sources)
        value: cst.BaseExpression = call.with_changes(args=args)
        if tape.single:
            value = cst.Subscript(value, [cst.SubscriptElement(cst.Index(cst.Integer("0")))])
        return [*code, _replace_call(updated_gradient, tape.call, value)]

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.BaseStatement:
        """An optimizer's update, under `torch.no_grad()` as Keras's own PyTorch step runs it."""
        if not self.is_step or not _optimizer_calls(original):
            return updated
        wrapper = cst.parse_statement("with torch.no_grad():\n    pass\n")
        assert isinstance(wrapper, cst.With)
        return wrapper.with_changes(
            body=cst.IndentedBlock(body=[updated.with_changes(leading_lines=())]),
            leading_lines=updated.leading_lines,
        )

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        if not self.is_step or not isinstance(updated.body, cst.IndentedBlock):
            return updated
        body = list(updated.body.body)
        first = 1 if body and is_docstring(body[0]) else 0
        body.insert(first, cst.parse_statement("import torch\n"))
        return updated.with_changes(body=updated.body.with_changes(body=body))


def _compile_text(ctx: Context, klass: cst.ClassDef, taped: TapedStep, backends: Sequence[str], names: _Names) -> str:
    """`super().compile(...)` given one `MultiOptimizer` mapping each optimizer's variables to it,
    on JAX only (on TensorFlow an optimizer built this way fails when training ends)."""
    call = taped.compile_call
    assert call is not None and isinstance(klass.body, cst.IndentedBlock)
    compile_method = class_methods(klass)["compile"]
    u = ctx.module.default_indent
    body = compile_method.body
    at = block_indent(ctx, klass.body) + (body.indent if isinstance(body, cst.IndentedBlock) and body.indent else u)
    *firsts, (last, _) = taped.optimizers
    lines = [f"lambda variable: self.{firsts[0][0] if firsts else last}"]
    for number, (attr, variables) in enumerate(firsts):
        if number:
            lines.append(f"else self.{attr}")
        lines.append(f"if any(variable is v for v in {_code(ctx, variables)})")
    if firsts:
        lines.append(f"else self.{last}")
    b, b2, b3 = at + u, at + u * 2, at + u * 3
    text = [f"{_code(ctx, call.func)}(\n", f"{b}optimizer={names.multi}(\n", *(f"{b3 if len(backends) > 1 else b2}{line}\n" for line in lines)]
    if len(backends) > 1:
        text = [text[0], f"{b}optimizer=(\n", f"{b2}{names.multi}(\n", *text[2:]]
        text += [f"{b2})\n", f'{b2}if {names.backend}() == "jax"\n', f'{b2}else "rmsprop"\n', f"{b}),\n"]
    else:
        text += [f"{b}),\n"]
    text += [f"{b}{_code(ctx, arg).rstrip(',')},\n" for arg in call.args]
    return "".join(text) + f"{at})"


TITLE = "Write the step for each backend (TensorFlow's tapes, JAX's stateless step, PyTorch's autograd)"


def taped_step_fix(ctx: Context, function: cst.FunctionDef, backends: Sequence[str]) -> tuple[FixSpec | None, str]:
    """KER502's fix for a step of several tapes, or None and what blocks it."""
    klass = ctx.klass
    if klass is None:
        return None, "a step outside a class"
    found = [ctx.reference(name) for name in (
        "keras.backend.backend", "keras.StatelessScope", "keras.Variable", "keras.optimizers.MultiOptimizer")]
    if any(ref is None for ref in found):
        return None, "`keras` is not Keras 3 here (the fix follows once it is)"
    try:
        taped = read_taped_step(ctx, klass, function, backends)
        names = _Names(*(ref[0] for ref in found))  # type: ignore[index]
        edits = taped_step_edits(ctx, klass, taped, backends, names)
    except Blocked as blocked:
        return None, str(blocked)
    needed = {"keras.backend.backend"} if len(backends) > 1 else set()
    if "jax" in backends:
        needed |= {"keras.StatelessScope", "keras.Variable"}
        if taped.compile_call is not None:
            needed |= {"keras.optimizers.MultiOptimizer"}
    if "torch" in backends:
        needed |= {"keras.Variable"}
    imports = [line for name, ref in zip(("keras.backend.backend", "keras.StatelessScope", "keras.Variable",
                                          "keras.optimizers.MultiOptimizer"), found) if name in needed
               for line in ref[1]]  # type: ignore[index]
    return FixSpec.unsafe(TITLE, *(Replace(node, text) for node, text in edits), imports=tuple(dict.fromkeys(imports))), ""


def report_tape_step(ctx: Context, node: cst.Call, function: cst.FunctionDef, message: str) -> None:
    """KER502's finding on the tape `node` of `function`: with the one-tape fix, else with the fix
    of several tapes, else with the message naming what blocks that one."""
    fix, blocker = tape_step_fix(ctx, function)
    if fix is None and blocker is not None:
        backends = [b for b in _ORDER if b in ctx.settings.target_backends]
        fix, blocker = taped_step_fix(ctx, function, backends)
    ctx.report(node, message if not blocker else f"{message}; no fix: {blocker}", fix=fix)
