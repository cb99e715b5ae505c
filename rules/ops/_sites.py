"""Where a TensorFlow op is a portability problem, and where a name holds a KerasTensor.

TensorFlow ops are legitimate in `tf.data` pipelines and TF-only scripts. They stop working on
JAX and PyTorch where Keras runs them as part of the model:

- in the methods of a Keras `Layer` / `Model` subclass (and functions nested in them), except
  a layer that sets `self._convert_input_args = False` (itself or through a base of the
  project): Keras calls it with its inputs as they come, and it runs TensorFlow on every
  backend, as `tf.data` does (Keras's `TextVectorization`, keras-cv's and keras-hub's
  preprocessing layers);
- in a function given to `layers.Lambda` (inline, or named and passed later in the module);
- in a loss or metric: a function with `y_true` and `y_pred` parameters, or one passed by
  keyword to `compile` (`loss=`, `metrics=`, or a model's own `compile(d_loss_fn=...)`).

A finding inside a module-level function that is only later passed to `Lambda` or `compile` is
held back until that call is seen, then reported with the position it was found at.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field

import libcst as cst

from ..engine.context import Context, Pending, keras_api, positional_args
from ..engine.names import chain_name, child_blocks, dotted_name, leaf_name, statements
from ..engine.rule import Rule
from ..engine.tables import load_toml
from ..engine.walker import SOURCE_TEXT, code_children

_LOSS_PARAMETERS = frozenset({"y_true", "y_pred"})

# For the editor's re-lint of some statements (`engine.incremental`): the calls that make a
# module-level function model code for the findings in it, wherever they are ...
MODEL_FUNCTION_WORDS = re.compile(r"\b(?:Lambda|compile)\b")
# ... and, in a text that calls `Input`, the assignments that carry KerasTensors between
# statements.
KERAS_TENSOR_TEXT = re.compile(r"\bInput\b")


@dataclass
class _State:
    # Module-level functions known to run inside a model (passed to Lambda or compile).
    model_functions: set[str] = field(default_factory=set)
    # Findings in other module-level functions, by function name, until we know.
    held: dict[str, list[Pending]] = field(default_factory=dict)
    # Names holding KerasTensors, per scope (function or module).
    keras_tensors: dict[int, frozenset[str]] = field(default_factory=dict)
    # Module-level names bound to TensorFlow / Keras modules or objects (`tf`, `K`, `layers`).
    tf_roots: frozenset[str] | None = None
    keras_roots: frozenset[str] | None = None


_STATES: weakref.WeakKeyDictionary[Context, _State] = weakref.WeakKeyDictionary()


def _state(ctx: Context) -> _State:
    found = _STATES.get(ctx)
    if found is None:
        found = _STATES[ctx] = _State()
        text = ctx.shared.get(SOURCE_TEXT)
        if ctx.partial and (text is None or MODEL_FUNCTION_WORDS.search(text)):
            # Only some statements are walked: the others may pass a walked function to
            # `Lambda` or `compile`, as a whole-file walk would have noted.
            walked = {id(stmt) for stmt in ctx.module.body}
            others = [stmt for stmt in ctx.module_statements if id(stmt) not in walked]
            _note_unwalked(others, ctx, found)
    return found


def _note_unwalked(nodes, ctx: Context, state: _State) -> None:
    todo = list(nodes)
    while todo:
        node = todo.pop()
        if isinstance(node, cst.Call) and leaf_name(node.func) in _CALLBACK_CALLS:
            for expr in _model_function_args(node, ctx):
                if isinstance(expr, cst.Name):
                    state.model_functions.add(expr.value)
        todo.extend(code_children(node))


def _has_loss_parameters(function: cst.FunctionDef) -> bool:
    params = function.params
    names = {p.name.value for p in (*params.posonly_params, *params.params)}
    return _LOSS_PARAMETERS <= names


def _inside_lambda_layer(ctx: Context) -> bool:
    """Whether we are in a `lambda` written as the argument of `layers.Lambda(...)`."""
    parents = ctx.parents
    for index in range(len(parents) - 1, 0, -1):
        node = parents[index]
        if isinstance(node, cst.Lambda):
            holder = parents[index - 2] if index >= 2 else None
            if isinstance(holder, cst.Call) and _is_lambda_layer(holder, ctx):
                return True
        elif isinstance(node, cst.BaseStatement):
            return False
    return False


def _is_lambda_layer(call: cst.Call, ctx: Context) -> bool:
    api = ctx.keras_api(call.func)
    return api is not None and api[0] in ("layers.Lambda", "Lambda", "layers.core.Lambda")


def in_model_code(ctx: Context) -> bool | str:
    """True where TF ops run as part of a Keras model; else the name of the module-level
    function we are in (whose findings wait for a `Lambda(name)` / `compile(loss=name)`), or
    False."""
    if any(ctx.is_keras_class(klass) for klass in ctx.classes) and ctx.functions:
        # A layer that takes its inputs as they come runs TensorFlow on every backend.
        return not ctx.in_layer_keeping_inputs()
    if any(_has_loss_parameters(function) for function in ctx.functions):
        return True
    if _inside_lambda_layer(ctx):
        return True
    if ctx.functions and not ctx.classes:
        outer = ctx.functions[0].name.value
        if outer in _state(ctx).model_functions:
            return True
        return outer
    return False


def report_in_model_code(
    rule: Rule, ctx: Context, node: cst.CSTNode, message: str, fix, note: str | None
) -> None:
    """Report now if we are in model code, or hold the finding for the enclosing function."""
    if tensorflow_backend_module(ctx):
        return
    where = in_model_code(ctx)
    if where is True:
        ctx.report(node, message, fix=fix, note=note)
    elif where:
        held = Pending(rule, node, tuple(ctx.parents), message, fix, note)
        _state(ctx).held.setdefault(where, []).append(held)


_CALLBACK_CALLS = frozenset({"Lambda", "compile"})


def note_model_functions(node: cst.Call, ctx: Context) -> None:
    """At `layers.Lambda(fn)` or `model.compile(loss=fn, metrics=[fn])`: `fn` runs inside the
    model, so its held findings are reported."""
    state = _state(ctx)
    for expr in _model_function_args(node, ctx):
        if isinstance(expr, cst.Name) and expr.value not in state.model_functions:
            state.model_functions.add(expr.value)
            ctx.pending.extend(state.held.pop(expr.value, ()))


def _model_function_args(node: cst.Call, ctx: Context) -> list[cst.BaseExpression]:
    """The functions `layers.Lambda(fn)` or `model.compile(loss=fn, metrics=[fn])` runs inside
    the model."""
    leaf = leaf_name(node.func)
    if leaf not in _CALLBACK_CALLS:
        return []
    names: list[cst.BaseExpression] = []
    if leaf == "Lambda":
        if not _is_lambda_layer(node, ctx):
            return []
        function = positional_args(node)[:1] or [a for a in node.args if a.keyword and a.keyword.value == "function"]
        names.extend(a.value for a in function)
    else:
        # Any keyword: a model's own `compile(d_loss_fn=..., g_loss_fn=...)` keeps its functions
        # for its step as Keras's keeps `loss=` and `metrics=`.
        for arg in node.args:
            if arg.keyword is None:
                continue
            value = arg.value
            if isinstance(value, (cst.List, cst.Tuple)):
                names.extend(e.value for e in value.elements)
            elif isinstance(value, cst.Dict):
                names.extend(e.value for e in value.elements if isinstance(e, cst.DictElement))
            else:
                names.append(value)
    return names


# ----- KerasTensors in functional model construction ----------------------------------------


def _is_input(call: cst.Call, ctx: Context) -> bool:
    api = ctx.keras_api(call.func)
    return api is not None and api[0] in ("Input", "layers.Input", "keras.Input")


def _mentions(expr: cst.BaseExpression, names: set[str]) -> bool:
    """Whether `expr` is a KerasTensor name, or a list/tuple/subscript/arithmetic of them."""
    if isinstance(expr, cst.Name):
        return expr.value in names
    if isinstance(expr, (cst.List, cst.Tuple)):
        return any(_mentions(e.value, names) for e in expr.elements)
    if isinstance(expr, cst.Subscript):
        return _mentions(expr.value, names)
    if isinstance(expr, cst.BinaryOperation):
        return _mentions(expr.left, names) or _mentions(expr.right, names)
    return False


def _produces_keras_tensor(value: cst.BaseExpression, names: set[str], layers: set[str], ctx: Context) -> bool:
    if isinstance(value, cst.Call):
        if _is_input(value, ctx):
            return True
        callee = value.func
        if not any(_mentions(a.value, names) for a in value.args):
            return False
        # A layer called on KerasTensors: `layers.Dense(8)(x)` or `dense(x)`.
        if isinstance(callee, cst.Call):
            api = ctx.keras_api(callee.func)
            return api is not None and api[0].startswith("layers.")
        if isinstance(callee, cst.Name) and callee.value in layers:
            return True
        # An op on KerasTensors gives a KerasTensor (or fails, which another finding reports);
        # other Keras calls (`keras.Model(inputs, outputs)`) do not.
        api = ctx.keras_api(callee)
        if api is not None:
            return api[0].startswith("ops.")
        return (ctx.qualname(callee) or "").startswith("tensorflow.")
    if isinstance(value, cst.BinaryOperation):
        return _produces_keras_tensor(value.left, names, layers, ctx) or _produces_keras_tensor(
            value.right, names, layers, ctx
        )
    if isinstance(value, cst.Subscript):
        return _produces_keras_tensor(value.value, names, layers, ctx)
    return _mentions(value, names)


def _assignments(body, out: list[cst.Assign]) -> None:
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(s for s in stmt.body if isinstance(s, cst.Assign))
        elif isinstance(stmt, (cst.If, cst.With, cst.For, cst.While, cst.Try)):
            for block in child_blocks(stmt):
                _assignments(block, out)


def keras_tensor_names(ctx: Context) -> frozenset[str]:
    """Names the current scope (function or module) binds to KerasTensors: `x = keras.Input(...)`
    and what layers and ops compute from them, read from the scope's own statements."""
    scope = ctx.function or ctx.module
    state = _state(ctx)
    found = state.keras_tensors.get(id(scope))
    if found is not None:
        return found
    assigns: list[cst.Assign] = []
    # The module's own statements are all of the file's, also when only some are re-linted.
    _assignments(scope.body.body if isinstance(scope, cst.FunctionDef) else ctx.module_statements, assigns)
    # Most scopes call no `Input(...)`: they hold no KerasTensor, and need no name resolution.
    if not any(isinstance(a.value, cst.Call) and leaf_name(a.value.func) == "Input" for a in assigns):
        found = state.keras_tensors[id(scope)] = frozenset()
        return found
    names: set[str] = set()
    layers: set[str] = set()
    for assign in assigns:
        targets = [t.target for t in assign.targets]
        value = assign.value
        if isinstance(value, cst.Call):
            api = ctx.keras_api(value.func)
            if api is not None and api[0].startswith("layers.") and api[0] not in ("layers.Input",):
                layers.update(t.value for t in targets if isinstance(t, cst.Name))
                continue
        if _produces_keras_tensor(value, names, layers, ctx):
            names.update(t.value for t in targets if isinstance(t, cst.Name))
    found = state.keras_tensors[id(scope)] = frozenset(names)
    return found


def on_keras_tensor(call: cst.Call, ctx: Context) -> bool:
    names = keras_tensor_names(ctx)
    if not names:
        return False
    return any(_mentions(arg.value, set(names)) for arg in call.args)


def module_uses_keras(ctx: Context) -> bool:
    """Whether the module imports anything from Keras (under any spelling)."""
    return ctx.imports_keras()


def _roots(ctx: Context) -> _State:
    state = _state(ctx)
    if state.tf_roots is None:
        bound = ctx.scopes.module.items()
        state.tf_roots = frozenset(n for n, q in bound if q == "tensorflow" or q.startswith("tensorflow."))
        state.keras_roots = frozenset(n for n, q in bound if q and keras_api(q) is not None)
    return state


def root_name(func: cst.BaseExpression) -> str | None:
    while isinstance(func, cst.Attribute):
        func = func.value
    return func.value if isinstance(func, cst.Name) else None


def may_be_tf(func: cst.BaseExpression, ctx: Context) -> bool:
    """A cheap first test: whether the callee starts with a module-level TensorFlow name.

    TensorFlow imported inside a function is not seen by the rules that use this test."""
    root = root_name(func)
    return root is not None and root in _roots(ctx).tf_roots  # type: ignore[operator]


def may_be_keras(func: cst.BaseExpression, ctx: Context) -> bool:
    """Like `may_be_tf`, for names bound to Keras (or to TensorFlow, which holds `tf.keras`)."""
    root = root_name(func)
    if root is None:
        return False
    state = _roots(ctx)
    if root in state.keras_roots:  # type: ignore[operator]
        return True
    if root not in state.tf_roots:  # type: ignore[operator]
        return False
    # Through TensorFlow only as `tf.keras.backend.<name>`.
    while isinstance(func, cst.Attribute):
        func = func.value
        if isinstance(func, cst.Attribute) and func.attr.value == "backend":
            return True
    return False


# ----- TensorFlow utilities with a plain-Python equivalent -------------------------------------

_TF_USES_KEY = "ops.tensorflow_uses"
_KERAS_THROUGH_TF = ("tensorflow.keras", "tensorflow.python.keras")
# The modules a chain continues with `.keras` to spell one of `_KERAS_THROUGH_TF`.
_KERAS_PARENTS = frozenset({"tensorflow", "tensorflow.python"})


def tf_utilities() -> dict[str, dict]:
    """`rules/data/ops_stdlib.toml`: TensorFlow utilities (`tf.io.gfile.*`, `tf.get_logger`)
    and their standard-library replacements."""
    return load_toml("ops_stdlib.toml")


def is_tf_utility(qualified: str) -> bool:
    return qualified in tf_utilities() or qualified.startswith("tensorflow.io.gfile.")


@dataclass(frozen=True)
class TensorflowUses:
    # Keras spelled through TensorFlow: `from tensorflow import keras`, `tf.keras.Model`.
    keras: bool
    # TensorFlow is there only for file I/O or logging (`tf.io.gfile.exists`, `tf.get_logger`),
    # which Python does without it: no other use (`tf.reduce_sum`, `tf.data`, `tf` itself).
    # Not worked out where `keras` is true: every reader asks about `keras` first.
    only_utilities: bool
    # Names bound to TensorFlow by the module's top-level, unconditional imports.
    unconditional: frozenset[str]


def tensorflow_uses(ctx: Context) -> TensorflowUses:
    """What the module uses TensorFlow for, read once per module (imports are not uses)."""
    found = ctx.shared.get(_TF_USES_KEY)
    if found is not None:
        return found
    bindings = ctx.scopes.module
    keras = any(q.startswith(_KERAS_THROUGH_TF) for q in bindings.values() if q)
    utilities = other = 0
    unconditional: set[str] = set()
    # The whole file's top-level statements, also while an editor re-lints only some of them.
    whole = ctx.whole_statements
    if not whole:
        # Only some statements are here, and not the imports: take every TensorFlow name as
        # imported unconditionally, and the uses of the other statements as unknown (so "only
        # utilities" is not claimed).
        unconditional.update(_roots(ctx).tf_roots)  # type: ignore[arg-type]
        other = 1
    else:
        for stmt in ctx.module_statements:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        unconditional.update(_tf_bound(small, ctx))
    tf_roots = _roots(ctx).tf_roots
    if tf_roots and whole and not keras:
        # A use spells Keras only through a name bound to `tensorflow` or `tensorflow.python`
        # (`tf.keras.Model`): one bound to `tensorflow.keras...` made `keras` true above, and
        # any other (`tensorflow.compat.v2`) never qualifies to `tensorflow.keras`. Without such
        # a name, the search ends at the first use that is not a utility: the answers are known.
        keras_roots = any(bindings.get(name) in _KERAS_PARENTS for name in tf_roots)
        # A name or a chain is a TensorFlow use exactly when its root name is one of the
        # module's TensorFlow names: that cheap test comes first, the qualified name after.
        todo: list[cst.CSTNode] = list(ctx.module_statements)
        while todo:
            node = todo.pop()
            kind = type(node)
            if kind is cst.Import or kind is cst.ImportFrom:
                continue
            if kind is cst.Attribute or kind is cst.Name:
                root = node
                while type(root) is cst.Attribute:
                    root = root.value  # type: ignore[attr-defined]
                if type(root) is cst.Name and root.value in tf_roots:  # type: ignore[attr-defined]
                    qualified = _module_qualname(node, ctx)  # type: ignore[arg-type]
                    assert qualified is not None
                    if qualified.startswith(_KERAS_THROUGH_TF):
                        keras = True
                        break
                    if is_tf_utility(qualified):
                        utilities += 1
                    else:
                        other += 1
                        if not keras_roots:
                            break
                    continue
                if kind is cst.Name:
                    continue
            todo.extend(code_children(node))
    only_utilities = not keras and utilities > 0 and other == 0
    found = ctx.shared[_TF_USES_KEY] = TensorflowUses(keras, only_utilities, frozenset(unconditional))
    return found


def _module_qualname(expr: cst.BaseExpression, ctx: Context) -> str | None:
    """The qualified name through the module's own imports (a local that shadows one is not
    seen: this reads the whole module from wherever the walker is, and must not fill the
    position-dependent cache of `Context.qualname`)."""
    return chain_name(expr, ctx.scopes.module.get)


def _tf_bound(node: cst.Import | cst.ImportFrom, ctx: Context) -> list[str]:
    names = []
    if isinstance(node.names, cst.ImportStar):
        return names
    for alias in node.names:
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            bound = alias.asname.name.value
        else:
            bound = (dotted_name(alias.name) or "").split(".")[0]
        qualified = ctx.scopes.module.get(bound)
        if qualified and (qualified == "tensorflow" or qualified.startswith("tensorflow.")):
            names.append(bound)
    return names


_TF_BACKEND_KEY = "ops.tensorflow_backend_module"
_TF_BACKEND_MODULES = ("keras.src.backend.tensorflow", "keras_core.src.backend.tensorflow")


def tensorflow_backend_module(ctx: Context) -> bool:
    """Whether the module builds on Keras's own TensorFlow backend (`from
    keras.src.backend.tensorflow import *`): code that runs only with that backend, where
    TensorFlow ops are the point."""
    found = ctx.shared.get(_TF_BACKEND_KEY)
    if found is not None:
        return found
    found = False
    for stmt in statements(ctx.module_statements):
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                names = [dotted_name(small.module) or ""]
            elif isinstance(small, cst.Import):
                names = [dotted_name(a.name) or "" for a in small.names]
            else:
                continue
            if any(n == m or n.startswith(m + ".") for n in names for m in _TF_BACKEND_MODULES):
                found = True
    ctx.shared[_TF_BACKEND_KEY] = found
    return found
