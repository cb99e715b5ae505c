"""KER502's fix: a `tf.GradientTape` train step written once per backend, the way Keras 3's
guides write custom steps ("Customizing what happens in fit()" with TensorFlow, JAX and
PyTorch), chosen at class level on `keras.backend.backend()`.

- TensorFlow: the step as written.
- JAX: Keras calls `train_step(self, state, data)` and expects `(logs, state)`. The tape's code
  runs inside `keras.StatelessScope` over the variables of `state` (what `stateless_call` does
  for `self(...)`, here also for sub-models such as a VAE's encoder), differentiated by
  `jax.value_and_grad`; `self.optimizer.stateless_apply` updates the variables; the metric
  updates and logs run in a second scope whose metric variables go back in the new state.
  Layers called before the tape (a distiller's teacher, an augmentation) run in a scope of
  their own over `state`. A gradient over one sub-model's variables keeps only their
  gradients: the optimizer skips variables without one, as the tape never gave them one.
- PyTorch: `self.zero_grad()`, the tape's code, `loss.backward()`, then
  `self.optimizer.apply(...)` on the variables' `.grad` under `torch.no_grad()`.

Only the branches of the project's `target-backends` are written; with one backend, the step
alone. The framework of a branch is imported inside its step: a module-level `import jax` would
fail where only TensorFlow is installed.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Sequence

import libcst as cst

from ..engine.context import Context
from ..engine.edits import FixSpec, Replace
from ._common import block_indent, is_docstring
from ._default_step import step_repeats_default, step_resolver
from ._tape_shape import Blocked, TapeStep, read_tape_step

# Branch order: the TensorFlow step first, so that the tape in it is seen as guarded.
_ORDER = ("tensorflow", "jax", "torch")
TITLE = "Write the step for each backend (TensorFlow's tape, JAX's stateless step, PyTorch's backward)"


def tape_step_fix(ctx: Context, function: cst.FunctionDef) -> tuple[FixSpec | None, str | None]:
    """KER502's fix for the step `function`, or None and what blocks it (None when nothing
    needs saying: a step that only repeats the default is KER512's)."""
    backends = [b for b in _ORDER if b in ctx.settings.target_backends]
    if step_repeats_default(function, step_resolver(ctx, function)):
        return None, None
    try:
        step = read_tape_step(ctx, function, whole_model="jax" in backends)
        _check_names(step)
    except Blocked as blocked:
        return None, str(blocked)
    klass = ctx.klass
    if klass is None or not isinstance(klass.body, cst.IndentedBlock):
        return None, "a class written on one line"
    indent = block_indent(ctx, klass.body)
    unit = ctx.module.default_indent
    references = [ctx.reference("keras.backend.backend"), ctx.reference("keras.StatelessScope")]
    if any(ref is None for ref in references):
        # `from tensorflow import keras`: the import rules make it Keras 3 first.
        return None, "`keras` is not Keras 3 here (the fix follows once it is)"
    (backend_call, imports_a), (scope_call, imports_b) = references  # type: ignore[misc]
    at = indent if len(backends) == 1 else indent + unit
    writer = StepWriter(ctx)
    steps = {
        "tensorflow": lambda: as_written(ctx, function, step.tape_import, at),
        "jax": lambda: _jax_step(writer, step, scope_call, at, unit),
        "torch": lambda: _torch_step(writer, step, at, unit),
    }
    text = leading_text(ctx, function, indent) + dispatch_on_backend([(b, steps[b]()) for b in backends], backend_call, indent)
    imports = tuple(dict.fromkeys([*imports_a, *(imports_b if "jax" in backends else ())]))
    return FixSpec.unsafe(TITLE, Replace(function, text), imports=imports), None


# Names the written steps bind around the step's own code.
_OWN_NAMES = frozenset(
    {
        "jax", "torch", "warnings", "state", "scope", "mapping", "variables", "loss_and_updates",
        "trainable_variables", "non_trainable_variables", "optimizer_variables", "metrics_variables",
        "chosen",
    }
)


def variable_names(nodes: Sequence[cst.CSTNode]) -> set[str]:
    """The variables the nodes name: not attribute names (`self.student.trainable_variables`)
    nor keywords (`training=`)."""
    used: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            used.add(node.value)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)
            return False

    for node in nodes:
        node.visit(Names())
    return used


def _check_names(step: TapeStep) -> None:
    used = variable_names((*step.before, *step.tape, *step.between, *step.after, step.logs))
    clash = sorted(used & _OWN_NAMES)
    if clash:
        raise Blocked(f"the name `{clash[0]}`, which the written steps use themselves")


def _self_calls(node: cst.CSTNode) -> list[cst.Call]:
    found: list[cst.Call] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            root = call.func
            while isinstance(root, cst.Attribute):
                root = root.value
            if isinstance(root, cst.Name) and root.value == "self":
                found.append(call)

    node.visit(Finder())
    return found


# ----- text --------------------------------------------------------------------------------------


def indent_code(code: str, prefix: str) -> str:
    """`code`, written by LibCST at column 0, moved to column `prefix`. LibCST writes every line
    relative to the statement's block (continuation lines inside brackets too), so each line
    gets the prefix, except the lines inside a multi-line string: they are its value."""
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        pass
    lines = code.splitlines(keepends=True)
    return "".join(
        line if number in inside or not line.strip() else prefix + line
        for number, line in enumerate(lines, start=1)
    )


class StepWriter:
    """Writes statements and expressions of the step at the columns of the new text."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def statements(self, body: Sequence[cst.CSTNode], at: str) -> str:
        return "".join(indent_code(code_at_zero(self.ctx, stmt), at) for stmt in body)

    def line(self, at: str, head: str, expr: cst.BaseExpression, tail: str = "") -> str:
        """`head`, `expr` (as written in the step) and `tail` on a line at `at`."""
        return indent_code(f"{head}{self.ctx.module.code_for_node(expr)}{tail}\n", at)


def code_at_zero(ctx: Context, node: cst.CSTNode) -> str:
    code = ctx.module.code_for_node(node)
    return code if code.endswith("\n") else code + "\n"


def as_written(ctx: Context, function: cst.FunctionDef, tape_import: str, at: str) -> str:
    """The method as written, importing the tape itself: the module's own TensorFlow import can
    then go (KER107), so that the module loads where TensorFlow is not installed."""
    body = function.body
    assert isinstance(body, cst.IndentedBlock)
    stmts = list(body.body)
    first = 1 if stmts and is_docstring(stmts[0]) else 0
    stmts.insert(first, cst.parse_statement(tape_import))
    changed = function.with_changes(leading_lines=(), body=body.with_changes(body=stmts))
    return indent_code(code_at_zero(ctx, changed), at)


def leading_text(ctx: Context, function: cst.FunctionDef, indent: str) -> str:
    """The blank lines and comments above the method, which its replaced text starts with."""
    whole = code_at_zero(ctx, function)
    bare = code_at_zero(ctx, function.with_changes(leading_lines=()))
    return indent_code(whole[: len(whole) - len(bare)], indent)


def _jax_step(w: StepWriter, step: TapeStep, scope: str, at: str, u: str) -> str:
    """The stateless step, its `def` at column `at`."""
    state = "trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables"
    # What the differentiated function gives back besides the loss: the new non-trainable
    # variables, the metric variables when the tape's code updates a metric (KER504's loss
    # tracker), and the names the code after the tape reads.
    variables = ["non_trainable_variables"]
    metrics = _updates_metrics(step.tape)
    if metrics:
        variables.append("metrics_variables")
    parts = [*variables]
    if step.carried:
        parts.append("(" + ", ".join(step.carried) + ("," if len(step.carried) == 1 else "") + ")")
    aux = parts[0] if len(parts) == 1 else f"({', '.join(parts)})"
    params = ", ".join(["trainable_variables", *variables])
    b, b2, b3 = at + u, at + u * 2, at + u * 3
    imports = [f"{b}import jax\n"] + ([f"{b}import warnings\n"] if step.subset is not None else [])
    mapped = [
        f"{b3}*zip(self.trainable_variables, trainable_variables),\n",
        f"{b3}*zip(self.non_trainable_variables, non_trainable_variables),\n",
    ]
    read = [f"{b2}non_trainable_variables = [scope.get_current_value(v) for v in self.non_trainable_variables]\n"]
    if metrics:
        mapped.append(f"{b3}*zip(self.metrics_variables, metrics_variables),\n")
        read.append(f"{b2}metrics_variables = [scope.get_current_value(v) for v in self.metrics_variables]\n")
    return "".join(
        [
            f"{at}def train_step(self, state, {step.data}):\n",
            *imports,
            "\n",
            f"{b}{state} = state\n",
            _before_tape(w, step, scope, b, u),
            w.statements(step.between, b),
            "\n",
            f"{b}def loss_and_updates({params}):\n",
            f"{b2}# The tape's code, run with the variables JAX differentiates.\n",
            f"{b2}mapping = [\n",
            *mapped,
            f"{b2}]\n",
            f"{b2}with {scope}(state_mapping=mapping) as scope:\n",
            w.statements(step.tape, b3),
            *read,
            f"{b2}return {step.loss}, {aux}\n",
            "\n",
            f"{b}({step.loss}, {aux}), {step.grads} = jax.value_and_grad(\n",
            f"{b2}loss_and_updates, has_aux=True\n",
            f"{b})({params})\n",
            _stateless_apply(w, step, b, u),
            f"{b}# The metric updates and the logs, on the updated variables.\n",
            f"{b}mapping = [\n",
            f"{b2}*zip(self.trainable_variables, trainable_variables),\n",
            f"{b2}*zip(self.non_trainable_variables, non_trainable_variables),\n",
            f"{b2}*zip(self.optimizer.variables, optimizer_variables),\n",
            f"{b2}*zip(self.metrics_variables, metrics_variables),\n",
            f"{b}]\n",
            f"{b}with {scope}(state_mapping=mapping) as scope:\n",
            w.statements(step.after, b2),
            w.line(b2, "logs = ", step.logs),
            f"{b}metrics_variables = [scope.get_current_value(v) for v in self.metrics_variables]\n",
            f"{b}return logs, ({state})\n",
        ]
    )


def _before_tape(w: StepWriter, step: TapeStep, scope: str, b: str, u: str) -> str:
    """The code before the tape; when it calls layers (a teacher, an augmentation), in a scope
    over the variables of `state`, whose non-trainable variables (a random layer's seed state)
    it updates."""
    if not any(_self_calls(stmt) for stmt in step.before):
        return w.statements(step.before, b)
    return "".join(
        [
            f"{b}# The code before the tape, run with the variables of `state`.\n",
            f"{b}mapping = [\n",
            f"{b}{u}*zip(self.trainable_variables, trainable_variables),\n",
            f"{b}{u}*zip(self.non_trainable_variables, non_trainable_variables),\n",
            f"{b}]\n",
            f"{b}with {scope}(state_mapping=mapping) as scope:\n",
            w.statements(step.before, b + u),
            f"{b}non_trainable_variables = [scope.get_current_value(v) for v in self.non_trainable_variables]\n",
        ]
    )


def _stateless_apply(w: StepWriter, step: TapeStep, b: str, u: str) -> str:
    """The optimizer's update; over a sub-model's variables, with the other gradients dropped."""
    apply = [
        "trainable_variables, optimizer_variables = self.optimizer.stateless_apply(\n",
        f"{u}optimizer_variables, {step.grads}, trainable_variables\n",
        ")\n",
    ]
    if step.subset is None:
        return "".join(b + line for line in apply)
    b2 = b + u
    return "".join(
        [
            f"{b}# Only the variables the tape's gradient was over change.\n",
            w.line(b, "chosen = {id(v) for v in ", step.variables, "}"),
            f"{b}{step.grads} = [g if id(v) in chosen else None for v, g in zip(self.trainable_variables, {step.grads})]\n",
            f"{b}with warnings.catch_warnings():\n",
            f"{b2}# Keras warns of the variables without a gradient: here they have none on purpose.\n",
            f'{b2}warnings.filterwarnings("ignore", "Gradients do not exist")\n',
            *(b2 + line for line in apply),
        ]
    )


def _updates_metrics(body: Sequence[cst.CSTNode]) -> bool:
    """Whether the statements update a metric (`.update_state(...)`, `self.compute_metrics`)."""
    found: list[bool] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("update_state", "compute_metrics"):
                found.append(True)

    for stmt in body:
        stmt.visit(Finder())
    return bool(found)


def _torch_step(w: StepWriter, step: TapeStep, at: str, u: str) -> str:
    """The PyTorch step, its `def` at column `at`."""
    b = at + u
    return "".join(
        [
            f"{at}def train_step(self, {step.data}):\n",
            f"{b}import torch\n",
            "\n",
            w.statements(step.before, b),
            w.statements(step.between, b),
            f"{b}self.zero_grad()\n",
            w.statements(step.tape, b),
            f"{b}{step.loss}.backward()\n",
            w.line(b, "variables = list(", step.variables, ")"),
            f"{b}{step.grads} = [v.value.grad for v in variables]\n",
            f"{b}with torch.no_grad():\n",
            f"{b}{u}self.optimizer.apply({step.grads}, variables)\n",
            w.statements(step.after, b),
            w.line(b, "return ", step.logs),
        ]
    )


def dispatch_on_backend(steps: list[tuple[str, str]], backend_call: str, indent: str) -> str:
    """The steps (already at their columns) under `if` / `elif` on the backend, the last one
    under `else`; a single step alone."""
    if len(steps) == 1:
        return steps[0][1]
    parts = []
    for number, (backend, code) in enumerate(steps):
        if number == 0:
            head = f'if {backend_call}() == "{backend}":\n'
        elif number < len(steps) - 1:
            head = f'elif {backend_call}() == "{backend}":\n'
        else:
            head = "else:\n"
        parts.append(indent + head + code)
    return "".join(parts)
