"""KER514: TensorFlow ops XLA cannot compile, in a layer that `jit_compile="auto"` compiles."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context, class_methods
from ..engine.edits import FixSpec
from ..engine.rule import Example, Rule
from ..engine.tables import load_toml
from ._common import add_to_init, class_attributes, super_init_call


@lru_cache(maxsize=1)
def _xla_ops() -> tuple[frozenset[str], tuple[str, ...]]:
    ops = load_toml("training_xla.toml")["ops"]
    return frozenset(o for o in ops if not o.endswith(".")), tuple(o for o in ops if o.endswith("."))


def not_xla_compilable(qualified: str | None) -> bool:
    if not qualified or not qualified.startswith("tensorflow."):
        return False
    exact, prefixes = _xla_ops()
    return qualified in exact or qualified.startswith(prefixes)


class XlaIncompatibleOpInLayer(Rule):
    """
    ## Why
    `compile(jit_compile="auto")`, the Keras 3 default, compiles the train, test and predict
    functions with XLA whenever every layer says it `supports_jit`: always on JAX, and on
    TensorFlow when a GPU (any non-CPU device) is present and no `tf.distribute` strategy is
    used; on a CPU-only machine TensorFlow runs without XLA unless `jit_compile=True` is given.
    String, I/O, ragged and Python-callback ops, and ops whose output shape depends on the data,
    cannot be compiled: `InvalidArgumentError: ... Detected unsupported operations when trying
    to compile graph ... on XLA_CPU_JIT: AsString`.

    ## Example
    ```python
    class Tokenize(keras.layers.Layer):
        def call(self, x):
            return tf.strings.split(x)
    ```

    ## Use instead
    ```python
    class Tokenize(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_jit = False  # the whole model then runs without XLA

        def call(self, x):
            return tf.strings.split(x)
    ```
    or `model.compile(..., jit_compile=False)`.

    ## Backends
    TensorFlow (on JAX these ops fail for other reasons, see the ops rules).

    ## Fix safety
    Unsafe: `self.supports_jit = False` turns XLA off for every model that uses the layer, which
    changes speed, not results.

    ## References
    - Catalogue K3-TRN-014; `Trainer._resolve_auto_jit_compile`, `model_supports_jit`
      (`keras/src/trainers/trainer.py`).
    """

    code = "KER514"
    name = "xla-incompatible-op-in-layer"
    message = (
        "XLA cannot compile `{op}`, and Keras 3 compiles with XLA by default on a GPU: "
        "set `self.supports_jit = False` in this layer"
    )
    nodes = (cst.Call,)
    fix = "unsafe"
    backends = frozenset({"tensorflow"})
    examples = (
        Example(
            "import tensorflow as tf\n"
            "class Tok(tf.keras.layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "    def call(self, x):\n"
            "        return «tf.strings.split»(x)\n",
            "import tensorflow as tf\n"
            "class Tok(tf.keras.layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.supports_jit = False\n"
            "    def call(self, x):\n"
            "        return tf.strings.split(x)\n",
            unsafe=True,
        ),
        Example(
            "import keras\nimport tensorflow as tf\n"
            "class Hook(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        return «tf.py_function»(f, [x], tf.float32)\n",
            "import keras\nimport tensorflow as tf\n"
            "class Hook(keras.layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.supports_jit = False\n"
            "\n"
            "    def call(self, x):\n"
            "        return tf.py_function(f, [x], tf.float32)\n",
            unsafe=True,
        ),
        Example(
            "from tensorflow import boolean_mask\nfrom keras import layers\n"
            "class Keep(layers.Layer):\n"
            "    def __init__(self, units):\n"
            "        self.units = units\n"
            "    def call(self, x):\n"
            "        return «boolean_mask»(x, x > 0)\n",
            None,
        ),
    )
    valid = (
        "import tensorflow as tf\n"
        "class Tok(tf.keras.layers.Layer):\n"
        "    def __init__(self, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.supports_jit = False\n"
        "    def call(self, x):\n"
        "        return tf.strings.split(x)\n",
        "import tensorflow as tf\ndef load(path):\n    return tf.io.read_file(path)\n",
        "import keras\nclass L(keras.layers.Layer):\n    def call(self, x, tf):\n        return tf.strings.split(x)\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, (cst.Attribute, cst.Name)) or not ctx.classes:
            return
        # Only a `call()` method reports: a test of names before resolving the callee.
        if not any(function.name.value == "call" for function in ctx.functions):
            return
        qualified = ctx.qualname(func)
        if not not_xla_compilable(qualified):
            return
        klass = ctx.in_method("call")
        if klass is None or not ctx.is_keras_class(klass) or ctx.keeps_inputs(klass):
            return
        flag = class_attributes(ctx, klass).get("supports_jit")
        if isinstance(flag, cst.Name) and flag.value == "False":
            return
        message = self.message.format(op=qualified.replace("tensorflow.", "tf.", 1))  # type: ignore[union-attr]
        init = class_methods(klass).get("__init__")
        edits = None
        if init is None or super_init_call(init) is not None:
            # Layer.__init__ sets `supports_jit = True`: the flag must come after that call.
            edits = add_to_init(ctx, klass, "self.supports_jit = False")
        fix = FixSpec.unsafe("Set `self.supports_jit = False`", *edits) if edits else None
        ctx.report(func, message, fix=fix)
