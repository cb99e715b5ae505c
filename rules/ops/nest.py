"""KER223: `tf.nest` in Keras code, where `keras.tree` does the same on every backend."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.edits import FixSpec, Replace
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ._base import PORTABILITY_BACKENDS
from ._sites import MODEL_FUNCTION_WORDS, in_model_code, may_be_tf, module_uses_keras
from ._table import nest_safety, normalize_tf

_PREFIX = "tensorflow.nest."


def _through_nest(holder: cst.BaseExpression, ctx: Context) -> bool:
    """A cheap first test on `holder` in `holder.flatten`: `tf.nest`, or a name bound to it."""
    if isinstance(holder, cst.Attribute):
        return holder.attr.value == "nest"
    if isinstance(holder, cst.Name):
        return (ctx.scopes.module.get(holder.value) or "").endswith(".nest")
    return False


class TfNestToKerasTree(Rule):
    """
    ## Why
    `tf.nest` needs TensorFlow installed. `keras.tree` has the same structure utilities on every
    backend: `flatten`, `map_structure`, `pack_sequence_as`, `is_nested`,
    `assert_same_structure`, `map_structure_up_to`, `flatten_with_path`. Dict keys are
    flattened in sorted order, as in `tf.nest` (`keras.tree.flatten({"b": 1, "a": 2}) == [2,
    1]`).

    Scope: modules that import Keras, and Keras model code (see KER201).

    ## Example
    ```python
    flat = tf.nest.flatten(outputs)
    ```

    ## Use instead
    ```python
    flat = keras.tree.flatten(outputs)
    ```

    ## Backends
    JAX and PyTorch, where TensorFlow need not be installed. On the TensorFlow backend `tf.nest`
    works and gives the same structures as `keras.tree` (checked on Keras 3.15.1).

    ## Fix safety
    Safe for `flatten`, `map_structure` and `pack_sequence_as`; unsafe for the structure checks
    and `map_structure_up_to` / `flatten_with_path`, whose corner cases (type checks, path
    format) differ. Keywords such as `expand_composites=` have no counterpart: no fix, nor for
    the other `tf.nest` functions.

    ## References
    - Catalogue K3-IMP-006 (46 paired `nest.flatten` -> `tree.flatten` substitutions in one
      released project).
    """

    # A module-level function is model code once given to `Lambda(fn)` or `compile(loss=fn)`.
    cross_statement_words = MODEL_FUNCTION_WORDS
    code = "KER223"
    name = "tf-nest-to-keras-tree"
    message = "`tf.nest` needs TensorFlow: use `keras.tree`"
    nodes = (cst.Call,)
    fix = "mixed"
    backends = PORTABILITY_BACKENDS
    examples = (
        Example(
            "import keras\nimport tensorflow as tf\n\nflat = «tf.nest.flatten»(outputs)\n",
            "import keras\nimport tensorflow as tf\n\nflat = keras.tree.flatten(outputs)\n",
        ),
        Example(
            "from tensorflow import nest\nfrom tensorflow.keras import layers\n\n"
            "class Stack(layers.Layer):\n"
            "    def call(self, xs):\n"
            "        return «nest.map_structure»(lambda t: t * 2, xs)\n",
            "from tensorflow import nest\nfrom tensorflow.keras import layers\nimport keras\n\n"
            "class Stack(layers.Layer):\n"
            "    def call(self, xs):\n"
            "        return keras.tree.map_structure(lambda t: t * 2, xs)\n",
        ),
        Example(
            "import keras\nimport tensorflow as tf\n\n«tf.nest.assert_same_structure»(a, b)\n",
            "import keras\nimport tensorflow as tf\n\nkeras.tree.assert_same_structure(a, b)\n",
            unsafe=True,
        ),
        Example(
            "import keras\nimport tensorflow as tf\n\n"
            "flat = «tf.nest.flatten»(x, expand_composites=True)\n"
            "y = «tf.nest.map_structure_with_paths»(f, x)\n",
            None,
        ),
    )
    valid = (
        # A TensorFlow-only module: tf.nest is fine there.
        "import tensorflow as tf\n\nflat = tf.nest.flatten(x)\n",
        "import keras\n\nflat = keras.tree.flatten(x)\n",
        "import keras\n\ndef f(tf):\n    return tf.nest.flatten(x)\n",
        "import keras\nimport dm_tree as nest\n\nflat = nest.flatten(x)\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or not _through_nest(func.value, ctx) or not may_be_tf(func, ctx):
            return
        qualified = normalize_tf(ctx.qualname(func))
        if qualified is None or not qualified.startswith(_PREFIX):
            return
        if not (module_uses_keras(ctx) or in_model_code(ctx) is True):
            return
        leaf = qualified[len(_PREFIX):]
        safe = nest_safety().get(leaf)
        fix = None
        if safe is not None and not any(a.keyword for a in node.args) and not any(a.star == "**" for a in node.args):
            found = ctx.reference(f"keras.tree.{leaf}")
            if found is not None:
                text, imports = found
                fix = FixSpec.of(safe, f"Use `keras.tree.{leaf}`", Replace(func, text), imports=imports)
        message = f"`{dotted_name(func)}` needs TensorFlow: use `keras.tree.{leaf}`" if safe is not None else self.message
        ctx.report(func, message, fix=fix)
