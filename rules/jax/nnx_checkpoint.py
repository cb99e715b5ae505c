"""KER803: a Flax NNX state updated from an Orbax restore whose integer keys became strings."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.rule import Example, Rule
from ..training._common import local_values, run_cached

_NOTE = """\
Orbax stores dict keys as strings, so the list indices in an NNX state (`layers.0.kernel`)
come back as `"0"`. Ways out:
- `state.replace_by_pure_dict(restored)` converts numeric string keys back to int since
  google/flax#4317 (`nnx.update` does not);
- convert the keys yourself before the update, e.g.
  ```python
  def int_keys(tree):
      return {int(k) if isinstance(k, str) and k.isdigit() else k:
              int_keys(v) if isinstance(v, dict) else v for k, v in tree.items()}
  nnx.update(model, int_keys(restored))
  ```
  (`nnx.statelib.restore_int_paths` does this but is private);
- restore with a target, which keeps the saved key types: `checkpointer.restore(path,
  abstract_state)` (or `abstract_state.to_pure_dict()` for a saved pure dict)."""


# What each update does with the string keys (checked on Flax 0.12.8 / Orbax 0.12.4; older
# releases from the Flax and Orbax issues the docs cite).
_CONSEQUENCES = {
    "replace_by_pure_dict": (
        "`replace_by_pure_dict` converts them back only since google/flax#4317 (October 2024); "
        "older Flax fails ('key in pure_dict not available in state'): convert the keys first there"
    ),
    "update": (
        "`nnx.update` raises `KeyError: 'Invalid key: 0'` on them (older Flax skips them silently): "
        "convert the keys back first"
    ),
}


def _imports_orbax(ctx: Context) -> bool:
    return run_cached(
        ctx,
        "imports-orbax",
        lambda: any(value.startswith("orbax") for value in ctx.scopes.module.values()),
    )


def _is_restore(expr: cst.BaseExpression | None) -> bool:
    """`checkpointer.restore(...)`, or an item of it: `mngr.restore(step)["state"]`."""
    while isinstance(expr, cst.Subscript):
        expr = expr.value
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "restore"
    )


class NnxOrbaxIntegerKeys(Rule):
    """
    ## Why
    A Flax NNX module that keeps submodules in a list (`nnx.List`, or a plain list in older
    Flax) has integer keys in its state (`('layers', 0, 'bias')`). Orbax saves dict keys as
    strings: a pure dict restored without a target has `'0'`. What happens next depends on
    the update:
    - `nnx.update(model, restored)` raises `KeyError: 'Invalid key: 0'` (Flax 0.12.8, Orbax
      0.12.4); older releases skip those entries silently, leaving the layers as they were;
    - `state.replace_by_pure_dict(restored)` converts numeric string keys back to int since
      google/flax#4317 (October 2024; it works on Flax 0.12.8); older releases fail with
      `ValueError: key in pure_dict not available in state: ('layers', '0', 'bias')`.

    ## Example
    ```python
    restored = checkpointer.restore(ckpt_dir / "state")
    nnx.update(model, restored)
    ```

    ## Use instead
    Convert the keys before the update:
    ```python
    nnx.update(model, int_keys(restored))
    ```
    or restore with a target, which gives the keys their saved types
    (`checkpointer.restore(path, abstract_state)`), or, on Flax with google/flax#4317, use
    `state.replace_by_pure_dict(restored)`.

    ## Backends
    JAX (Flax NNX).

    ## Fix safety
    No fix: which option fits depends on the Flax version and the checkpoint layout.

    ## References
    - Catalogue MB-NNX-001; google/flax#4308, #4317, #4858, #4860, #5030; google/orbax#2561.
    """

    code = "KER803"
    name = "nnx-orbax-integer-keys"
    message = "Orbax restores integer state keys (list indices) as strings: {consequence}"
    nodes = (cst.Call,)
    backends = frozenset({"jax"})
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
            "    nnx.update(model, «mngr.restore(step)['model']»)\n"
        ),
        Example(
            "import flax.nnx as nnx\nfrom orbax import checkpoint\n"
            "def load(model, ckpt):\n"
            "    out = ckpt.restore('ckpt')\n"
            "    params = out['params']\n"
            "    nnx.update(model, «params»)\n"
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
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        positional = [a for a in node.args if a.keyword is None]
        if method == "replace_by_pure_dict":
            if not positional:
                return
            argument = positional[0].value
        elif method == "update":
            if len(positional) < 2 or ctx.qualname(func) != "flax.nnx.update":
                return
            argument = positional[1].value
        else:
            return
        if not _imports_orbax(ctx) or not self._from_restore(ctx, argument):
            return
        ctx.report(argument, self.message.format(consequence=_CONSEQUENCES[method]), note=_NOTE)

    def _from_restore(self, ctx: Context, expr: cst.BaseExpression) -> bool:
        """Whether `expr` is an Orbax restore's result (or an item of it), directly or through
        names assigned in the same function."""
        values = local_values(ctx, ctx.function)
        for _ in range(3):
            if _is_restore(expr):
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
