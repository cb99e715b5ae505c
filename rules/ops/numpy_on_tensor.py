"""KER227: NumPy reading a layer's or model's output tensor directly."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.edits import FixSpec, Replace
from ..engine.provenance import TENSOR, fact_of
from ..engine.rule import Example, Rule


class NumpyOnModelOutput(Rule):
    """
    ## Why
    Calling a model or layer directly (`model(x)`, not `model.predict(x)`) returns the
    backend's tensor. TensorFlow's has `.numpy()` and NumPy reads it; JAX's arrays have no
    `.numpy()` ("'ArrayImpl' object has no attribute 'numpy'"), and PyTorch's output carries
    gradients, so `.numpy()`, `np.array(out)` and `np.argmax(out)` fail with "Can't call
    numpy() on Tensor that requires grad". `keras.ops.convert_to_numpy` works on every
    backend.

    The same holds for the tensors a layer computes as its state: a `Normalization` layer's
    `mean` and `variance` after `adapt()` are backend tensors, not Variables.

    ## Example
    ```python
    probs = model(x).numpy()
    label = np.argmax(model(x), axis=-1)
    ```

    ## Use instead
    ```python
    probs = keras.ops.convert_to_numpy(model(x))
    label = np.argmax(keras.ops.convert_to_numpy(model(x)), axis=-1)
    ```

    ## Backends
    JAX (`.numpy()`) and PyTorch (checked on Keras 3.15.1).

    ## Fix safety
    Safe: `keras.ops.convert_to_numpy` gives the same array TensorFlow's `.numpy()` gave, and
    the values of the detached PyTorch tensor. Inside a layer's or model's own methods the
    tensors are traced and have no value at all: that is KER801's finding.

    ## References
    - `keras/src/backend/torch/core.py` `convert_to_numpy` (detaches and moves to the CPU).
    """

    code = "KER227"
    name = "numpy-on-model-output"
    message = "This is the backend's tensor (a model's or layer's output or computed state): `{what}` fails on {where}; use `keras.ops.convert_to_numpy`"
    nodes = (cst.Call,)
    fix = "safe"
    backends = frozenset({"jax", "torch"})
    examples = (
        Example(
            "import keras\nimport numpy as np\n\n"
            "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n"
            "probs = «model(x).numpy()»\n"
            "label = «np.argmax»(model(x), axis=-1)\n",
            "import keras\nimport numpy as np\n\n"
            "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n"
            "probs = keras.ops.convert_to_numpy(model(x))\n"
            "label = np.argmax(keras.ops.convert_to_numpy(model(x)), axis=-1)\n",
        ),
        Example(
            "import keras\n\n"
            "normalizer = keras.layers.Normalization()\n"
            "normalizer.adapt(features)\n"
            "mean = «normalizer.mean.numpy()».tolist()\n",
            "import keras\n\n"
            "normalizer = keras.layers.Normalization()\n"
            "normalizer.adapt(features)\n"
            "mean = keras.ops.convert_to_numpy(normalizer.mean).tolist()\n",
        ),
        Example(
            "import numpy as np\nfrom tensorflow import keras\n\n"
            "encoder = keras.models.load_model('enc.keras')\n"
            "codes = encoder(batch)\n"
            "np.save('codes.npy', «np.array»(codes))\n",
            "import numpy as np\nfrom tensorflow import keras\nfrom keras import ops\n\n"
            "encoder = keras.models.load_model('enc.keras')\n"
            "codes = encoder(batch)\n"
            "np.save('codes.npy', np.array(ops.convert_to_numpy(codes)))\n",
        ),
    )
    valid = (
        # A Variable has `.numpy()` on every backend.
        "import keras\nlayer = keras.layers.Dense(2)\nlayer.build((None, 3))\nw = layer.kernel.numpy()\n",
        "import keras\nimport numpy as np\nmodel = keras.Sequential([keras.layers.Dense(2)])\n"
        "label = np.argmax(model.predict(x), axis=-1)\nprobs = keras.ops.convert_to_numpy(model(x))\n",
        "import numpy as np\nlabel = np.argmax(scores(x))\nvalues = table.numpy()\n",
        # Traced code: KER801's.
        "import keras\nimport numpy as np\n\nclass Head(keras.layers.Layer):\n"
        "    def call(self, x):\n        return np.tanh(self.inner(x))\n",
    )

    def applies_to(self, text: str) -> bool:
        """Whether the file names `.numpy()` or NumPy (see `engine.gates`)."""
        return "numpy" in text

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if type(func) is not cst.Attribute:
            return
        # The cheap tests first: most calls are neither `.numpy()` nor a NumPy function.
        is_method = func.attr.value == "numpy" and not node.args
        if not is_method and not _numpy_root(func, ctx):
            return
        if ctx.functions and any(ctx.is_keras_class(klass) for klass in ctx.classes):
            return
        if is_method:
            fact = fact_of(ctx, func.value)
            if fact.kind == TENSOR:
                where = "JAX and PyTorch" if fact.from_weights else "JAX"
                reference = ctx.reference("keras.ops.convert_to_numpy")
                fix = None
                if reference is not None:
                    value = ctx.module.code_for_node(func.value)
                    fix = FixSpec.safe(
                        "Use `keras.ops.convert_to_numpy`", Replace(node, f"{reference[0]}({value})"), imports=reference[1]
                    )
                ctx.report(node, self.message.format(what=".numpy()", where=where), fix=fix)
            return
        qualified = ctx.qualname(func)
        if not qualified or not qualified.startswith("numpy.") or not node.args or node.args[0].keyword is not None:
            return
        first = node.args[0].value
        fact = fact_of(ctx, first)
        if fact.kind != TENSOR or not fact.from_weights:
            return
        reference = ctx.reference("keras.ops.convert_to_numpy")
        fix = None
        if reference is not None:
            value = ctx.module.code_for_node(first)
            fix = FixSpec.safe("Use `keras.ops.convert_to_numpy`", Replace(first, f"{reference[0]}({value})"), imports=reference[1])
        spelled = ctx.module.code_for_node(func)
        ctx.report(func, self.message.format(what=f"{spelled}(...)", where="PyTorch"), fix=fix, backends=frozenset({"torch"}))


def _numpy_root(func: cst.Attribute, ctx: Context) -> bool:
    """Whether the callee's chain starts at a module-level name bound to NumPy (`np.argmax`)."""
    root = func.value
    while type(root) is cst.Attribute:
        root = root.value  # type: ignore[attr-defined]
    if type(root) is not cst.Name:
        return False
    bound = ctx.scopes.module.get(root.value)  # type: ignore[attr-defined]
    return bool(bound) and (bound == "numpy" or bound.startswith("numpy."))
