"""KER501's fix for a Keras 2 `test_step(self, data)` / `predict_step(self, data)`: the same code
written for JAX as a stateless step, the one as written kept for TensorFlow and PyTorch, chosen
at class level on `keras.backend.backend()` (as KER502's fix does for a tape's train step).

Neither step has gradients or an optimizer: on JAX the code runs as written inside
`keras.StatelessScope` over the variables of `state` (what the JAX trainer's own steps do
through `stateless_call`), and the variables it changes (metrics, a random layer's seed state)
are read back into the state returned:

- `test_step(self, state, data)` gets `(trainable, non_trainable, metrics)` variables and
  returns `logs, (trainable, non_trainable, metrics)`;
- `predict_step(self, state, data)` gets `(trainable, non_trainable)` and returns
  `outputs, non_trainable`.
"""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, positional_params
from ..engine.edits import FixSpec, Replace
from ..engine.walker import is_generator
from ._common import block_indent, body_of
from ._default_step import step_repeats_default, step_resolver
from ._loss_logs import untracked_loss_logs
from ._tape_shape import Blocked, check_keras2_trainer, returns_before_end, single_statement
from ._tape_step import StepWriter, dispatch_on_backend, indent_code, leading_text, variable_names

TITLE = "Write the step for JAX (stateless, in a `keras.StatelessScope`) beside the one as written"
# What each step's JAX state holds, in the order Keras passes it.
_STATE = {
    "test_step": ("trainable_variables", "non_trainable_variables", "metrics_variables"),
    "predict_step": ("trainable_variables", "non_trainable_variables"),
}
# The model attributes listing the variables of each part of the state.
_OWN = {
    "trainable_variables": "self.trainable_variables",
    "non_trainable_variables": "self.non_trainable_variables",
    "metrics_variables": "self.metrics_variables",
}
# What the JAX steps change and hand back.
_CHANGED = ("non_trainable_variables", "metrics_variables")
_OWN_NAMES = frozenset({"state", "scope", "mapping", "logs", "outputs", *_OWN})


def stateless_step_fix(ctx: Context, function: cst.FunctionDef) -> tuple[FixSpec | None, str | None]:
    """The fix for `function` (a two-parameter `test_step` / `predict_step`), or None and what
    blocks it."""
    name = function.name.value
    if name not in _STATE:
        return None, None
    if function.decorators:
        return None, "a decorated step"
    body = list(body_of(function))
    last = single_statement(body[-1]) if body else None
    if not isinstance(last, cst.Return) or last.value is None:
        return None, "a step that does not end with `return`"
    if returns_before_end(body[:-1]) or is_generator(function):
        return None, "a `return` before the step's last statement"
    clash = sorted(variable_names(body) & _OWN_NAMES)
    if clash:
        return None, f"the name `{clash[0]}`, which the JAX step uses itself"
    waiting = _waits_for(ctx, function)
    if waiting is not None:
        return None, waiting or None
    klass = ctx.klass
    if klass is None or not isinstance(klass.body, cst.IndentedBlock):
        return None, "a class written on one line"
    references = [ctx.reference("keras.backend.backend"), ctx.reference("keras.StatelessScope")]
    if any(ref is None for ref in references):
        return None, "`keras` is not Keras 3 here (the fix follows once it is)"
    (backend_call, imports_a), (scope_call, imports_b) = references  # type: ignore[misc]
    indent = block_indent(ctx, klass.body)
    unit = ctx.module.default_indent
    backends = ctx.settings.target_backends
    others = [b for b in ("tensorflow", "torch") if b in backends]
    at = indent + unit if others else indent
    jax_step = _jax_step(StepWriter(ctx), function, body[:-1], last.value, scope_call, at, unit)
    steps = [("jax", jax_step)]
    if others:
        steps.append(("others", _as_written(ctx, function, at)))
    text = leading_text(ctx, function, indent) + dispatch_on_backend(steps, backend_call, indent)
    imports = tuple(dict.fromkeys([*imports_a, *imports_b]))
    return FixSpec.unsafe(TITLE, Replace(function, text), imports=imports), None


def _jax_step(
    w: StepWriter, function: cst.FunctionDef, code: list[cst.BaseStatement], value: cst.BaseExpression,
    scope: str, at: str, u: str,
) -> str:
    name = function.name.value
    data = positional_params(function)[1].name.value
    state = _STATE[name]
    result = "logs" if name == "test_step" else "outputs"
    changed = [part for part in state if part in _CHANGED]
    returned = f"({', '.join(state)})" if name == "test_step" else "non_trainable_variables"
    b, b2 = at + u, at + u * 2
    return "".join(
        [
            f"{at}def {name}(self, state, {data}):\n",
            f"{b}{', '.join(state)} = state\n",
            f"{b}# The step's code, run with the variables of `state`.\n",
            f"{b}mapping = [\n",
            *(f"{b2}*zip({_OWN[part]}, {part}),\n" for part in state),
            f"{b}]\n",
            f"{b}with {scope}(state_mapping=mapping) as scope:\n",
            w.statements(code, b2),
            w.line(b2, f"{result} = ", value),
            *(f"{b}{part} = [scope.get_current_value(v) for v in {_OWN[part]}]\n" for part in changed),
            f"{b}return {result}, {returned}\n",
        ]
    )


def _as_written(ctx: Context, function: cst.FunctionDef, at: str) -> str:
    code = ctx.module.code_for_node(function.with_changes(leading_lines=()))
    return indent_code(code if code.endswith("\n") else code + "\n", at)


def _waits_for(ctx: Context, function: cst.FunctionDef) -> str | None:
    """What another rule's fix must change in the step first ("" when that fix deletes it):
    the rewrite copies the step, and the copies would no longer be theirs to fix."""
    if step_repeats_default(function, step_resolver(ctx, function)):
        return ""  # KER512 deletes it
    try:
        check_keras2_trainer(function)
    except Blocked as blocked:
        return str(blocked)
    klass = ctx.klass
    if klass is not None and untracked_loss_logs(ctx, klass, function) is not None:
        return "logs of every metric, the unused loss tracker's included (KER519's fix comes first)"
    return None
