"""KER803: a Flax NNX state updated from an Orbax restore whose integer keys became strings."""

from __future__ import annotations

import re
import textwrap

import libcst as cst

from ..engine.context import Context, call_keyword, positional_args
from ..engine.edits import FixSpec, Replace
from ..engine.rule import Example, Rule
from ..training._common import local_values, run_cached
from ._nnx_holders import Keys, keys_of, module_values, nnx_api, state_owner

# Flax 0.12.1 made `restore_int_paths` public (0.12.0 had it in `nnx.statelib` only).
_RESTORE_INT_PATHS = "flax.nnx.restore_int_paths"
_SINCE = "Flax 0.12.1"

# The conversion for any Flax, as `kerasfix check` and `kerasfix rule` print it.
_INT_KEYS = """\
def int_keys(tree):
    return {int(k) if isinstance(k, str) and k.isdigit() else k:
            int_keys(v) if isinstance(v, dict) else v for k, v in tree.items()}"""

_NOTE = f"""\
Orbax stores dict keys as strings, so the list and tuple indices in an NNX state
(`layers.0.kernel`, an optimizer's `opt_state.0.mu`) come back as `"0"`. Ways out:
- restore with a target, which keeps the saved key types:
  `checkpointer.restore(path, nnx.state(abstract_model).to_pure_dict())`, where
  `abstract_model = nnx.eval_shape(lambda: Model(...))`;
- on {_SINCE} or newer: `nnx.update(model, nnx.restore_int_paths(restored))`;
- `nnx.replace_by_pure_dict(state, restored)` converts them itself since google/flax#4317
  (Flax 0.10.1);
- on any Flax, convert the keys yourself:
  ```python
{textwrap.indent(_INT_KEYS, "  ")}

  nnx.update(model, int_keys(restored))
  ```"""

# What each update does with the string keys (checked on Flax 0.12.8 / Orbax 0.12.4; older
# releases from the Flax and Orbax issues the docs cite).
_KEY_ERROR = (
    "`nnx.update` raises `KeyError: 'Invalid key: 0'` on them (older Flax skips them silently): "
    "convert the keys back first"
)
_TUPLE_ERROR = (
    "`nnx.update` raises `ValueError: Cannot set key '0' on immutable node of type tuple` on an "
    "optimizer's state (optax states are tuples): convert the keys back first"
)
_REPLACE = (
    "`replace_by_pure_dict` converts them back only since google/flax#4317 (Flax 0.10.1); "
    "older Flax fails ('key in pure_dict not available in state'): convert the keys first there"
)

# Keywords through which a restore gets its target (`StandardCheckpointer.restore(path,
# target)`, `PyTreeCheckpointer.restore(path, item=...)`, `CheckpointManager.restore(step,
# items)`, or `args=ocp.args.StandardRestore(abstract_state)`).
_TARGET_KEYWORDS = frozenset({"target", "item", "items"})


def _imports_orbax(ctx: Context) -> bool:
    return run_cached(
        ctx,
        "imports-orbax",
        lambda: any(value.startswith("orbax") for value in ctx.scopes.module.values()),
    )


def _untargeted_restore(expr: cst.BaseExpression | None) -> bool:
    """`checkpointer.restore(path)` without a target, or an item of it: `mngr.restore(step)["state"]`."""
    while isinstance(expr, cst.Subscript):
        expr = expr.value
    if not (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "restore"
    ):
        return False
    if len(positional_args(expr)) > 1:
        return False
    for arg in expr.args:
        if arg.keyword is None:
            continue
        if arg.keyword.value in _TARGET_KEYWORDS:
            return False
        if arg.keyword.value == "args" and _args_give_a_target(arg.value):
            return False
    return True


def _args_give_a_target(value: cst.BaseExpression) -> bool:
    """`ocp.args.StandardRestore(abstract_state)` (also inside `ocp.args.Composite(...)`) gives
    one; `StandardRestore()` does not. Arguments built elsewhere count as giving one."""
    if not isinstance(value, cst.Call):
        return True
    restores = [c for c in _calls(value) if _callee_name(c).endswith("Restore")]
    return any(positional_args(c) or call_keyword(c, "item") for c in restores)


def _calls(value: cst.Call) -> list[cst.Call]:
    found = [value]
    for arg in value.args:
        if isinstance(arg.value, cst.Call):
            found.extend(_calls(arg.value))
    return found


def _callee_name(call: cst.Call) -> str:
    func = call.func
    return func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""


class NnxOrbaxIntegerKeys(Rule):
    """
    ## Why
    The state of a Flax NNX object has integer keys where it holds a sequence: the layers of
    an `nnx.List` or `nnx.Sequential` (`('layers', 0, 'kernel')`), and an optimizer's optax
    state, a tuple (`('opt_state', 0, 'mu', ...)`). Orbax saves dict keys as strings: a pure
    dict restored without a target has `'0'`. What happens next depends on the update
    (Flax 0.12.8, Orbax 0.12.4):
    - `nnx.update(model, restored)` raises `KeyError: 'Invalid key: 0'`; older Flax skips
      those entries silently, leaving the layers as they were;
    - `nnx.update(optimizer, restored)` raises `ValueError: Cannot set key '0' on immutable
      node of type tuple`;
    - `nnx.replace_by_pure_dict(state, restored)` (or `state.replace_by_pure_dict(restored)`)
      converts numeric string keys back to int since google/flax#4317 (Flax 0.10.1); older
      releases fail with `ValueError: key in pure_dict not available in state`.

    Not reported: a restore given a target (its keys keep their saved types), and objects
    whose classes in the same file hold no sequence (only named attributes and `nnx.Dict`s,
    whose keys are strings anyway).

    ## Example
    ```python
    restored = checkpointer.restore(ckpt_dir / "state")
    nnx.update(model, restored)
    ```

    ## Use instead
    On Flax 0.12.1 or newer, convert the keys back with `nnx.restore_int_paths`:
    ```python
    nnx.update(model, nnx.restore_int_paths(restored))
    ```
    On any Flax, convert them yourself:
    ```python
    def int_keys(tree):
        return {int(k) if isinstance(k, str) and k.isdigit() else k:
                int_keys(v) if isinstance(v, dict) else v for k, v in tree.items()}

    nnx.update(model, int_keys(restored))
    ```
    Or restore with a target, which gives the keys their saved types:
    ```python
    abstract_model = nnx.eval_shape(lambda: Model(nnx.Rngs(0)))
    restored = checkpointer.restore(ckpt_dir / "state", nnx.state(abstract_model).to_pure_dict())
    ```

    ## Backends
    JAX (Flax NNX).

    ## Fix safety
    Unsafe: the fix wraps what `nnx.update` gets in `nnx.restore_int_paths(...)`, which Flax
    has only since 0.12.1 (older Flax raises `AttributeError`: use `int_keys` there). No fix
    for `replace_by_pure_dict`, which converts the keys itself on Flax 0.10.1 or newer.

    ## References
    - Catalogue MB-NNX-001; google/flax#4308, #4317, #4858, #4860, #5030; google/orbax#2561.
    """

    code = "KER803"
    name = "nnx-orbax-integer-keys"
    message = "Orbax restores integer state keys (list and tuple indices) as strings"
    nodes = (cst.Call,)
    backends = frozenset({"jax"})
    fix = "unsafe"
    # Findings depend on the classes of the file (what the updated object holds) and on names
    # bound in other statements (the restore, the model): an edit to such a statement re-lints
    # the whole file in an editor.
    cross_statement_words = re.compile(r"\b(?:nnx|flax|Module|restore)\b")
    cross_statement_bindings = re.compile(r"\bnnx\b")
    examples = (
        Example(
            "import orbax.checkpoint as ocp\nfrom flax import nnx\n"
            "def load(model, path):\n"
            "    checkpointer = ocp.StandardCheckpointer()\n"
            "    graphdef, state = nnx.split(model)\n"
            "    restored = checkpointer.restore(path / 'pure_dict')\n"
            "    state.replace_by_pure_dict(«restored»)\n"
            "    return nnx.merge(graphdef, state)\n"
        ),
        Example(
            "from flax import nnx\nimport orbax.checkpoint as ocp\n"
            "def load(model, mngr, step):\n"
            "    nnx.update(model, «mngr.restore(step)['model']»)\n",
            "from flax import nnx\nimport orbax.checkpoint as ocp\n"
            "def load(model, mngr, step):\n"
            "    nnx.update(model, nnx.restore_int_paths(mngr.restore(step)['model']))\n",
            unsafe=True,
        ),
        Example(
            "import flax.nnx as nnx\nfrom orbax import checkpoint\n"
            "def load(model, ckpt):\n"
            "    out = ckpt.restore('ckpt')\n"
            "    params = out['params']\n"
            "    nnx.update(model, «params»)\n",
            "import flax.nnx as nnx\nfrom orbax import checkpoint\n"
            "def load(model, ckpt):\n"
            "    out = ckpt.restore('ckpt')\n"
            "    params = out['params']\n"
            "    nnx.update(model, nnx.restore_int_paths(params))\n",
            unsafe=True,
        ),
        Example(
            "import optax\nimport orbax.checkpoint as ocp\nfrom flax import nnx as fnnx\n"
            "def resume(model, ckpt, path):\n"
            "    opt = fnnx.Optimizer(model, optax.sgd(0.1), wrt=fnnx.Param)\n"
            "    fnnx.update(opt, «ckpt.restore(path)»)\n",
            "import optax\nimport orbax.checkpoint as ocp\nfrom flax import nnx as fnnx\n"
            "def resume(model, ckpt, path):\n"
            "    opt = fnnx.Optimizer(model, optax.sgd(0.1), wrt=fnnx.Param)\n"
            "    fnnx.update(opt, fnnx.restore_int_paths(ckpt.restore(path)))\n",
            unsafe=True,
        ),
    )
    valid = (
        "import orbax.checkpoint as ocp\ndef load(model, nnx, ckpt):\n    nnx.update(model, ckpt.restore(\"x\"))\n",
        "import orbax.checkpoint as ocp\nfrom flax import nnx\n"
        "def load(state, checkpointer, path):\n"
        "    restored = checkpointer.restore(path)\n"
        "    state.replace_by_pure_dict(convert_dict_keys(restored))\n",
        "import orbax.checkpoint as ocp\nfrom flax import nnx\n"
        "def load(state, pure):\n    state.replace_by_pure_dict(pure)\n",
        "from flax import nnx\n"
        "def load(state, repo):\n    state.replace_by_pure_dict(repo.restore('x'))\n",
        "import orbax.checkpoint as ocp\n"
        "def load(cache, ckpt):\n    cache.update(ckpt.restore('x'))\n",
        # A target keeps the saved key types.
        "import orbax.checkpoint as ocp\nfrom flax import nnx\n"
        "def load(model, ckpt, path, abstract):\n    nnx.update(model, ckpt.restore(path, abstract))\n",
        "import orbax.checkpoint as ocp\nfrom flax import nnx\n"
        "def load(model, mngr, abstract):\n"
        "    nnx.update(model, mngr.restore(1, args=ocp.args.StandardRestore(abstract)))\n",
        # String keys only: nothing to convert.
        "import orbax.checkpoint as ocp\nfrom flax import nnx\n"
        "class Heads(nnx.Module):\n"
        "    def __init__(self, rngs):\n"
        "        self.heads = nnx.Dict({'a': nnx.Linear(2, 1, rngs=rngs)})\n"
        "def load(ckpt, path):\n"
        "    model = Heads(nnx.Rngs(0))\n    nnx.update(model, ckpt.restore(path))\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"update", "replace_by_pure_dict"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
        elif isinstance(func, cst.Name):
            method = func.value  # `from flax.nnx import update`
        else:
            return
        if method not in ("update", "replace_by_pure_dict"):
            return
        positional = positional_args(node)
        api = nnx_api(ctx, func)
        if method == "update":
            if len(positional) < 2 or api != "update":
                return
            owner: cst.BaseExpression | None = positional[0].value
            arguments = [arg.value for arg in positional[1:]]
        elif api == "replace_by_pure_dict":
            if len(positional) < 2:
                return
            owner, arguments = state_owner(ctx, positional[0].value), [positional[1].value]
        elif isinstance(func, cst.Attribute) and positional:
            # `state.replace_by_pure_dict(restored)`, the method form.
            owner, arguments = state_owner(ctx, func.value), [positional[0].value]
        else:
            return
        if not _imports_orbax(ctx):
            return
        restored = [arg for arg in arguments if self._from_restore(ctx, arg)]
        if not restored:
            return
        keys = keys_of(ctx, owner) if owner is not None else Keys.UNKNOWN
        if keys is Keys.STRINGS:
            return
        if method == "update":
            consequence = _TUPLE_ERROR if keys is Keys.OPTIMIZER else _KEY_ERROR
        else:
            consequence = _REPLACE
        for argument in restored:
            fix = self._fix(ctx, argument) if method == "update" else None
            ctx.report(argument, f"{self.message}: {consequence}", fix=fix, note=_NOTE)

    def _fix(self, ctx: Context, argument: cst.BaseExpression) -> FixSpec | None:
        reference = ctx.reference(_RESTORE_INT_PATHS)
        if reference is None:
            return None
        name, imports = reference
        code = ctx.module.code_for_node(argument)
        return FixSpec.unsafe(
            f"Convert the keys back with `nnx.restore_int_paths` ({_SINCE} or newer)",
            Replace(argument, f"{name}({code})"),
            imports=imports,
        )

    def _from_restore(self, ctx: Context, expr: cst.BaseExpression) -> bool:
        """Whether `expr` is an untargeted Orbax restore's result (or an item of it), directly or
        through names assigned in the same function."""
        values = local_values(ctx, ctx.function) if ctx.function is not None else module_values(ctx)
        for _ in range(3):
            if _untargeted_restore(expr):
                return True
            while isinstance(expr, cst.Subscript):
                expr = expr.value
            if not isinstance(expr, cst.Name):
                return False
            found = values.get(expr.value)
            if found is None:
                return False
            expr = found
        return False
