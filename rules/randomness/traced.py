"""KER703, KER704, KER705: random numbers inside code Keras traces and compiles."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, has_star_args
from ..engine.edits import FixSpec, Replace, append_arg
from ..engine.rule import Example, Rule
from ..training._common import class_attributes, is_self_attribute, traced_class
from ._seed import int_literal, keras_signatures, seed_source


def _keras_random(node: cst.Call, ctx: Context) -> tuple[str, cst.Arg | None] | None:
    """(`normal`, the seed argument) for a `keras.random.normal(...)` call."""
    func = node.func
    leaf = ctx.imported_leaf(func)
    params = keras_signatures().get(leaf)  # type: ignore[arg-type]
    if params is None or not ctx.functions:
        return None
    api = ctx.keras_api(func)
    if api is None or api[0] != f"random.{leaf}":
        return None
    seed_index = params.index("seed")
    positional = 0
    for arg in node.args:
        if arg.keyword is None and not arg.star:
            if positional == seed_index:
                return leaf, arg  # type: ignore[return-value]
            positional += 1
        elif arg.keyword is not None and arg.keyword.value == "seed":
            return leaf, arg  # type: ignore[return-value]
    return leaf, None  # type: ignore[return-value]


class UnseededRandomInTracedCode(Rule):
    """
    ## Why
    A `keras.random` op without a seed draws from Keras's global seed generator, whose state
    JAX cannot update from inside a traced function: `call()` and the step methods fail under
    `fit`, `predict` or `jax.jit` with `ValueError: [JAX RNG] When tracing a JAX function, you
    should only use seeded random ops, e.g. provide a SeedGenerator instance as the seed`.

    ## Example
    ```python
    def call(self, x):
        return x + keras.random.normal(ops.shape(x))
    ```

    ## Use instead
    ```python
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator()

    def call(self, x):
        return x + keras.random.normal(ops.shape(x), seed=self.seed_generator)
    ```

    ## Backends
    JAX.

    ## Fix safety
    Unsafe: it adds a generator to the layer's `__init__` (a new tracked state variable in
    saved weights), and the numbers differ from the global generator's.

    ## References
    - Catalogue MB-RNG-002; `keras/src/random/seed_generator.py`.
    """

    code = "KER703"
    name = "unseeded-random-in-traced-code"
    message = "Unseeded `keras.random.{op}` fails when JAX traces this method: pass `seed=self.seed_generator`"
    nodes = (cst.Call,)
    fix = "unsafe"
    backends = frozenset({"jax"})
    examples = (
        Example(
            "import keras\nfrom keras import ops\n"
            "class Noise(keras.layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "    def call(self, x):\n"
            "        return x + «keras.random.normal»(ops.shape(x))\n",
            "import keras\nfrom keras import ops\n"
            "class Noise(keras.layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.seed_generator = keras.random.SeedGenerator()\n"
            "    def call(self, x):\n"
            "        return x + keras.random.normal(ops.shape(x), seed=self.seed_generator)\n",
            unsafe=True,
        ),
        Example(
            "from keras import Model, random\n"
            "class M(Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.rng = random.SeedGenerator(0)\n"
            "    def train_step(self, state, data):\n"
            "        mask = «random.uniform»((2,)) > 0.5\n"
            "        return {}, state\n",
            "from keras import Model, random\n"
            "class M(Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.rng = random.SeedGenerator(0)\n"
            "    def train_step(self, state, data):\n"
            "        mask = random.uniform((2,), seed=self.rng) > 0.5\n"
            "        return {}, state\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\n"
            "class Noise(tf.keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        return x * «tf.keras.random.uniform»(tf.shape(x))\n",
            "import tensorflow as tf\n"
            "import keras\n"
            "class Noise(tf.keras.layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.seed_generator = keras.random.SeedGenerator()\n"
            "\n"
            "    def call(self, x):\n"
            "        return x * tf.keras.random.uniform(tf.shape(x), seed=self.seed_generator)\n",
            unsafe=True,
        ),
    )
    valid = (
        "import keras\nclass Noise(keras.layers.Layer):\n    def call(self, x, keras):\n        return keras.random.normal((2,))\n",
        "import keras\nclass Noise(keras.layers.Layer):\n    def call(self, x):\n"
        "        return keras.random.normal((2,), seed=self.seed_generator)\n",
        "import keras\nclass Noise(keras.layers.Layer):\n    def call(self, x):\n"
        "        return keras.random.normal((2,), 0.0, 1.0, None, self.gen)\n",
        "import keras\nnoise = keras.random.normal((2,))\n",
        "import keras\nclass Noise(keras.layers.Layer):\n    def build(self, shape):\n"
        "        self.w0 = keras.random.normal(shape)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(keras_signatures().keys())

    def visit(self, node: cst.Call, ctx: Context) -> None:
        found = _keras_random(node, ctx)
        if found is None or found[1] is not None or has_star_args(node):
            return
        klass = traced_class(ctx)
        if klass is None:
            return
        op = found[0]
        source = seed_source(ctx, klass)
        fix = None
        if source is not None:
            fix = FixSpec.unsafe(
                "Pass a SeedGenerator",
                append_arg(node, f"seed={source.expression}"),
                *source.edits,
                imports=source.imports,
            )
        ctx.report(node.func, self.message.format(op=op), fix=fix)


class IntSeedInTracedCode(Rule):
    """
    ## Why
    `keras.random` ops are stateless: the same int seed gives the same numbers every time.
    Inside `call()` or a step, `seed=42` (or a Python int attribute the layer increments) is
    frozen into the traced function, so every batch gets identical "random" noise, silently.
    PyTorch runs `call()` eagerly, but the int seed draws the same numbers there too. That
    differs from TensorFlow's stateful `tf.random.normal(seed=42)`.

    ## Example
    ```python
    def call(self, x):
        return keras.random.dropout(x, 0.5, seed=1337)
    ```

    ## Use instead
    ```python
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, x):
        return keras.random.dropout(x, 0.5, seed=self.seed_generator)
    ```

    ## Backends
    All (the same dropout mask on every `predict` checked on JAX and PyTorch, Keras 3.15.1).

    ## Fix safety
    Unsafe: the numbers change (they now vary per call, reproducibly from the same seed) and
    the layer gains a generator in `__init__`. An int attribute as seed gets no fix.

    ## References
    - Catalogue MB-RNG-002.
    """

    code = "KER704"
    name = "int-seed-in-traced-code"
    message = "An int seed gives the same numbers on every call of traced code: seed from a `keras.random.SeedGenerator`"
    nodes = (cst.Call,)
    fix = "unsafe"
    examples = (
        Example(
            "from keras import layers, random\n"
            "class Drop(layers.Layer):\n"
            "    def call(self, x):\n"
            "        return random.dropout(x, 0.5, seed=«1337»)\n",
            "from keras import layers, random\n"
            "class Drop(layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.seed_generator = random.SeedGenerator(1337)\n"
            "\n"
            "    def call(self, x):\n"
            "        return random.dropout(x, 0.5, seed=self.seed_generator)\n",
            unsafe=True,
        ),
        Example(
            "import keras\n"
            "class Drop(keras.layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.counter = 0\n"
            "    def call(self, x):\n"
            "        self.counter += 1\n"
            "        return keras.random.dropout(x, 0.5, seed=«self.counter»)\n",
            None,
        ),
    )
    valid = (
        "import keras\nclass Noise(keras.layers.Layer):\n    def call(self, x, keras):\n        return keras.random.normal((2,), seed=1)\n",
        "import keras\nclass D(keras.layers.Layer):\n    def call(self, x):\n"
        "        return keras.random.dropout(x, 0.5, seed=self.seed_generator)\n",
        "import keras\nx = keras.random.normal((2,), seed=42)\n",
        "import keras\nclass D(keras.layers.Layer):\n    def build(self, shape):\n"
        "        self.w0 = keras.random.normal(shape, seed=42)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(keras_signatures().keys())

    def visit(self, node: cst.Call, ctx: Context) -> None:
        found = _keras_random(node, ctx)
        if found is None or found[1] is None:
            return
        seed_arg = found[1]
        value = seed_arg.value
        literal = int_literal(value)
        if literal is None and not (
            is_self_attribute(value)
            and (klass := ctx.klass) is not None
            and int_literal(class_attributes(ctx, klass).get(value.attr.value, cst.Name("None"))) is not None  # type: ignore[union-attr]
        ):
            return
        klass = traced_class(ctx)
        if klass is None:
            return
        fix = None
        if literal is not None:
            source = seed_source(ctx, klass, literal)
            if source is not None:
                fix = FixSpec.unsafe(
                    "Seed from a SeedGenerator",
                    Replace(value, source.expression),
                    *source.edits,
                    imports=source.imports,
                )
        ctx.report(value, fix=fix)


class NumpyRandomInTracedCode(Rule):
    """
    ## Why
    `np.random.*` (and Python's `random`) run once, while Keras traces `call()` or a step; the
    numbers are then constants of the compiled function: every batch of `fit` or `predict` gets
    the same noise, silently (verified on JAX and TensorFlow, where two `predict` calls return
    identical outputs). PyTorch runs `call()` eagerly and draws new numbers each time.

    ## Example
    ```python
    def call(self, x):
        return x + np.random.normal(0, 0.1, size=x.shape)
    ```

    ## Use instead
    ```python
    def call(self, x):
        return x + keras.random.normal(ops.shape(x), stddev=0.1, seed=self.seed_generator)
    ```
    with `self.seed_generator = keras.random.SeedGenerator()` in `__init__`.

    ## Backends
    JAX and TensorFlow (PyTorch does not trace `call()`).

    ## Fix safety
    No fix: NumPy's parameters (`loc`, `scale`, `size`) do not map one to one.

    ## References
    - Catalogue MB-RNG-002.
    """

    code = "KER705"
    name = "numpy-random-in-traced-code"
    message = "`{op}` runs once while Keras traces this method: the noise is frozen; use `keras.random` with a SeedGenerator"
    nodes = (cst.Call,)
    backends = frozenset({"jax", "tensorflow"})
    examples = (
        Example(
            "import keras\nimport numpy as np\n"
            "class Noise(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        return x + «np.random.normal»(0, 0.1, size=(2,))\n"
        ),
        Example(
            "import random\nimport tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def train_step(self, data):\n"
            "        if «random.random»() < 0.5:\n"
            "            pass\n"
            "        return {}\n"
        ),
    )
    valid = (
        "import keras\nimport numpy as np\nx = np.random.normal(size=3)\n",
        "import keras\nimport numpy as np\nclass L(keras.layers.Layer):\n    def build(self, shape):\n"
        "        self.init = np.random.normal(size=shape)\n",
        "import keras\nclass L(keras.layers.Layer):\n    def call(self, x, np):\n        return np.random.normal()\n",
    )

    def applies_to(self, text: str) -> bool:
        """Whether the file names a random module (see `engine.gates`)."""
        return "random" in text

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or not ctx.functions:
            return
        qualified = ctx.qualname(func)
        if not qualified or not qualified.startswith(("numpy.random.", "random.")):
            return
        if traced_class(ctx) is None:
            return
        ctx.report(func, self.message.format(op=qualified.replace("numpy.", "np.", 1)))
