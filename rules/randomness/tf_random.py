"""KER701, KER702: TensorFlow's stateful random ops and global seed in Keras 3 code."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, has_star_args
from ..engine.edits import FixSpec, Insert, Replace, append_arg
from ..engine.rule import Example, Rule
from ..engine.walker import code_children
from ..training._common import body_of
from ._draws import seeded_code_draws
from ._seed import int_literal, keras_signatures, seed_source, seeding_functions, tensorflow_ops

_LEAVES = frozenset(name.rsplit(".", 1)[-1] for name in tensorflow_ops())


def class_method(ctx: Context) -> tuple[cst.ClassDef, cst.FunctionDef] | None:
    """The Keras class and its method that enclose the current node (nested defs count)."""
    klass = ctx.klass
    if klass is None or not ctx.functions:
        return None
    body = body_of(klass)
    for function in ctx.functions:
        if any(stmt is function for stmt in body):
            # A layer that takes its inputs as they come runs TensorFlow on every backend.
            return (klass, function) if ctx.is_keras_class(klass) and not ctx.keeps_inputs(klass) else None
    return None


class TfRandomInLayer(Rule):
    """
    ## Why
    `tf.random.normal` and friends are TensorFlow ops with hidden global state. In a Keras 3
    layer they tie the model to TensorFlow: on JAX they fail inside the jitted step; on PyTorch
    `predict` still runs (TensorFlow reads the tensor through NumPy), but `fit` fails with
    "Can't call numpy() on Tensor that requires grad" once the layer's input needs gradients.
    The way to get fresh yet reproducible numbers on every backend is a
    `keras.random.SeedGenerator` the layer owns: `keras.random` ops are stateless and draw the
    next seed from it on each call, also inside a jitted function.

    ## Example
    ```python
    class Noise(keras.layers.Layer):
        def call(self, x):
            return x + tf.random.normal(tf.shape(x), stddev=0.1)
    ```

    ## Use instead
    ```python
    class Noise(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator()

        def call(self, x):
            return x + keras.random.normal(ops.shape(x), stddev=0.1, seed=self.seed_generator)
    ```

    ## Backends
    JAX (the op cannot run inside a jitted step) and PyTorch (it breaks `fit`). On the
    TensorFlow backend the op works: fresh noise on every call, the same after
    `keras.utils.set_random_seed`. Checked on Keras 3.15.1.

    ## Fix safety
    Unsafe: the random streams differ from TensorFlow's even with the same seed, an int `seed=`
    becomes the generator's seed, and `tf.random.categorical` returns int64 where
    `keras.random.categorical` returns int32. No fix when the call passes `name=`, a non-literal
    seed, or an integer `dtype` to `uniform` (use `keras.random.randint`), or inside `__init__`.

    ## References
    - Catalogue MB-RNG-001; keras.io migration guide, "RNG-using layers".
    """

    code = "KER701"
    name = "tf-random-in-layer"
    message = "`{op}` is a stateful TensorFlow op: use `keras.random.{new}(..., seed=self.seed_generator)`"
    nodes = (cst.Call,)
    fix = "unsafe"
    backends = frozenset({"jax", "torch"})
    examples = (
        Example(
            "import keras\nimport tensorflow as tf\n"
            "class Noise(keras.layers.Layer):\n"
            "    def __init__(self, rate, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.rate = rate\n"
            "    def call(self, x):\n"
            "        return x + «tf.random.normal»(tf.shape(x), stddev=self.rate)\n",
            "import keras\nimport tensorflow as tf\n"
            "class Noise(keras.layers.Layer):\n"
            "    def __init__(self, rate, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.seed_generator = keras.random.SeedGenerator()\n"
            "        self.rate = rate\n"
            "    def call(self, x):\n"
            "        return x + keras.random.normal(tf.shape(x), stddev=self.rate, seed=self.seed_generator)\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\n"
            "class Aug(tf.keras.layers.Layer):\n"
            '    """Shuffles."""\n'
            "    def call(self, x):\n"
            "        return «tf.random.shuffle»(x, 7)\n",
            "import tensorflow as tf\n"
            "import keras\n"
            "class Aug(tf.keras.layers.Layer):\n"
            '    """Shuffles."""\n'
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.seed_generator = keras.random.SeedGenerator(7)\n"
            "\n"
            "    def call(self, x):\n"
            "        return keras.random.shuffle(x, seed=self.seed_generator)\n",
            unsafe=True,
        ),
        Example(
            "from tensorflow import random as tfr\nfrom keras import layers, random\n"
            "class Drop(layers.Layer):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.gen = random.SeedGenerator(3)\n"
            "    def call(self, x):\n"
            "        return x * «tfr.uniform»((4,), 0.0, 1.0, seed=5)\n",
            "from tensorflow import random as tfr\nfrom keras import layers, random\n"
            "class Drop(layers.Layer):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.gen = random.SeedGenerator(3)\n"
            "    def call(self, x):\n"
            "        return x * random.uniform((4,), 0.0, 1.0, seed=self.gen)\n",
            unsafe=True,
        ),
        Example(
            "from tensorflow import keras\nimport tensorflow as tf\n"
            "class M(keras.Model):\n"
            "    def sample(self, n):\n"
            "        return «tf.random.uniform»((n,), maxval=10, dtype=tf.int32, name='u')\n",
            None,
        ),
    )
    valid = (
        "import tensorflow as tf\nnoise = tf.random.normal((3,))\n",
        "import keras\nclass Noise(keras.layers.Layer):\n    def call(self, x, tf):\n"
        "        return tf.random.normal((3,))\n",
        "import keras\nimport numpy as np\nclass Noise(keras.layers.Layer):\n    def call(self, x):\n"
        "        return x + keras.random.normal((3,), seed=self.seed_generator)\n",
        "import tensorflow as tf\nclass Sampler:\n    def call(self):\n        return tf.random.normal((3,))\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(_LEAVES)

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if ctx.imported_leaf(func) not in _LEAVES or not ctx.functions:
            return
        qualified = ctx.qualname(func)
        entry = tensorflow_ops().get(qualified) if qualified else None
        if entry is None:
            return
        found = class_method(ctx)
        if found is None:
            return
        klass, method = found
        new = entry["keras"]
        message = self.message.format(op=qualified.replace("tensorflow.", "tf.", 1), new=new)  # type: ignore[union-attr]
        fix = None if method.name.value == "__init__" else self._fix(node, entry, klass, ctx)
        ctx.report(func, message, fix=fix)

    def _fix(self, node: cst.Call, entry: dict, klass: cst.ClassDef, ctx: Context) -> FixSpec | None:
        if has_star_args(node):
            return None
        new = entry["keras"]
        params: list[str] = entry["params"]
        keras_params = keras_signatures()[new]
        renames: dict[str, str] = entry.get("renames", {})
        edits: list[Replace | Insert] = []
        seed_arg: cst.Arg | None = None
        dtype: cst.BaseExpression | None = None
        by_keyword = False
        positional = [a for a in node.args if a.keyword is None]
        if len(positional) > len(params):
            return None
        for index, arg in enumerate(positional):
            name = renames.get(params[index], params[index])
            if name == "seed":
                seed_arg = arg
                by_keyword = True
                continue
            if name not in keras_params:
                return None
            if name == "dtype":
                dtype = arg.value
            if by_keyword or keras_params.index(name) != index:
                # Positions differ from here on: pass this and later arguments by keyword.
                by_keyword = True
                edits.append(Insert(arg, f"{name}="))
        for arg in node.args:
            if arg.keyword is None:
                continue
            keyword = arg.keyword.value
            name = renames.get(keyword, keyword)
            if name == "seed":
                seed_arg = arg
                continue
            if name not in keras_params:
                return None
            if name == "dtype":
                dtype = arg.value
            if name != keyword:
                edits.append(Replace(arg.keyword, name))
        if new == "uniform" and dtype is not None and "int" in ctx.module.code_for_node(dtype):
            return None
        seed = ""
        if seed_arg is not None:
            literal = int_literal(seed_arg.value)
            if literal is None:
                return None
            seed = literal
        source = seed_source(ctx, klass, seed)
        reference = ctx.reference(f"keras.random.{new}")
        if source is None or reference is None:
            return None
        callee, imports = reference
        edits.insert(0, Replace(node.func, callee))
        if seed_arg is None:
            edits.append(append_arg(node, f"seed={source.expression}"))
        elif seed_arg.keyword is None:
            edits.append(Replace(seed_arg.value, f"seed={source.expression}"))
        else:
            edits.append(Replace(seed_arg.value, source.expression))
        return FixSpec.unsafe(
            f"Use `keras.random.{new}` with a SeedGenerator",
            *edits,
            *source.edits,
            imports=tuple(dict.fromkeys((*imports, *source.imports))),
        )


class TfSetSeed(Rule):
    """
    ## Why
    `tf.random.set_seed(n)` seeds TensorFlow's own ops only. Keras 3 initializers and
    `keras.random` ops without a seed draw from Keras's global seed generator, which it does not
    seed, on every backend, TensorFlow included: two layers built after the same
    `tf.random.set_seed(42)` get different weights. `keras.utils.set_random_seed(n)` seeds
    Python's `random`, NumPy, the backend and Keras's generator (and TensorFlow when it is
    installed). Code that also seeds Python's `random` in the same function (or module) seeds
    Keras's initializers already, since Keras 3 draws its default seeds from it (checked on
    Keras 3.15.1): there the finding is for PyTorch alone, whose dropout draws from torch's own
    generator.

    The seed is reported where the code it seeds makes Keras objects that draw random numbers:
    layers, initializers, `keras.random` ops, models, the project's Keras classes, followed
    through the functions it calls (`setUp` seeds the whole test class; a helper that only
    seeds, or a fixture, seeds its callers). A test that only draws TensorFlow's own random
    numbers (`tf.random.uniform`) or NumPy's is seeded as it meant to be.

    ## Example
    ```python
    tf.random.set_seed(42)
    ```

    ## Use instead
    ```python
    keras.utils.set_random_seed(42)
    ```

    ## Backends
    All.

    ## Fix safety
    Safe: the same seed, applied to every source of randomness Keras uses.

    ## References
    - Catalogue MB-RNG-001.
    """

    code = "KER702"
    name = "tf-set-seed"
    message = "`{op}` does not seed Keras 3's random generator: use `keras.utils.set_random_seed`"
    nodes = (cst.Call,)
    fix = "safe"
    # Whether the seed matters depends on the functions and methods the seeded code calls.
    whole_file = True
    examples = (
        Example(
            "import tensorflow as tf\n«tf.random.set_seed»(42)\n",
            "import tensorflow as tf\nimport keras\nkeras.utils.set_random_seed(42)\n",
        ),
        Example(
            "import tensorflow.compat.v1 as tf1\nfrom keras import utils\n«tf1.set_random_seed»(seed=1)\n",
            "import tensorflow.compat.v1 as tf1\nfrom keras import utils\nutils.set_random_seed(seed=1)\n",
        ),
        Example(
            "from tensorflow.random import set_seed\nimport keras\ndef setup():\n    «set_seed»(0)\n",
            "from tensorflow.random import set_seed\nimport keras\ndef setup():\n    keras.utils.set_random_seed(0)\n",
        ),
        Example(
            "from tensorflow.random import set_seed as seed_all\nimport keras\ndef setup():\n    «seed_all»(0)\n",
            "from tensorflow.random import set_seed as seed_all\nimport keras\ndef setup():\n    keras.utils.set_random_seed(0)\n",
        ),
        Example(
            "import keras\nimport tensorflow as tf\n"
            "class DenseTest(tf.test.TestCase):\n"
            "    def setUp(self):\n"
            "        super().setUp()\n"
            "        «tf.random.set_seed»(0)\n"
            "    def test_shape(self):\n"
            "        layer = self._layer()\n"
            "        self.assertEqual(layer(tf.ones((2, 3))).shape, (2, 4))\n"
            "    def _layer(self):\n"
            "        return keras.layers.Dense(4)\n",
            "import keras\nimport tensorflow as tf\n"
            "class DenseTest(tf.test.TestCase):\n"
            "    def setUp(self):\n"
            "        super().setUp()\n"
            "        keras.utils.set_random_seed(0)\n"
            "    def test_shape(self):\n"
            "        layer = self._layer()\n"
            "        self.assertEqual(layer(tf.ones((2, 3))).shape, (2, 4))\n"
            "    def _layer(self):\n"
            "        return keras.layers.Dense(4)\n",
        ),
        Example(
            "import keras\nimport tensorflow as tf\n"
            "def build():\n    return keras.Sequential([keras.layers.Dense(1)])\n"
            "def main():\n    «tf.random.set_seed»(7)\n    model = build()\n    model.compile(loss='mse')\n",
            "import keras\nimport tensorflow as tf\n"
            "def build():\n    return keras.Sequential([keras.layers.Dense(1)])\n"
            "def main():\n    keras.utils.set_random_seed(7)\n    model = build()\n    model.compile(loss='mse')\n",
        ),
    )
    valid = (
        "import keras\nkeras.utils.set_random_seed(42)\n",
        # The seeded tests draw TensorFlow's own random numbers only, which the seed does seed.
        "import tensorflow as tf\n"
        "def random_boxes(n):\n    return tf.random.uniform((n, 4))\n"
        "class NmsTest(tf.test.TestCase):\n"
        "    def setUp(self):\n        super().setUp()\n        tf.random.set_seed(42)\n"
        "    def test_count(self):\n        boxes = random_boxes(8)\n"
        "        inputs = tf.keras.Input(shape=(4,))\n"
        "        self.assertAllEqual(tf.shape(boxes), (8, 4))\n",
        "import numpy as np\nimport tensorflow as tf\n"
        "def test_scale():\n    rng = np.random.RandomState(0)\n    tf.random.set_seed(1)\n"
        "    logits = tf.linalg.diag(rng.randn(3))\n    assert logits.shape == (3, 3)\n",
        "import tensorflow as tf\ndef f(tf):\n    tf.random.set_seed(1)\n",
        "import torch\nimport tensorflow\ntorch.random.set_seed(1)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"set_seed", "set_random_seed"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if ctx.imported_leaf(func) not in ("set_seed", "set_random_seed"):
            return
        qualified = ctx.qualname(func)
        if qualified not in seeding_functions() or not seeded_code_draws(ctx):
            return
        message = self.message.format(op=qualified.replace("tensorflow.", "tf.", 1))  # type: ignore[union-attr]
        backends = note = None
        if _seeds_python_random(ctx):
            # Keras 3 draws its default seeds from Python's `random`, seeded here too: only
            # PyTorch's own generator (dropout, `torch` random ops) is left unseeded.
            backends = frozenset({"torch"})
            note = (
                "Python's `random` is seeded here too, which seeds Keras's initializers on every "
                "backend; PyTorch's dropout still draws from torch's own generator."
            )
        reference = ctx.reference("keras.utils.set_random_seed")
        fix = None
        if reference is not None:
            code, imports = reference
            fix = FixSpec.safe("Use `keras.utils.set_random_seed`", Replace(func, code), imports=imports)
        ctx.report(func, message, fix=fix, note=note, backends=backends)


_PYTHON_SEEDING = frozenset({"random.seed", "random.setstate"})


def _seeds_python_random(ctx: Context) -> bool:
    """Whether the enclosing function (or the module, at top level) also seeds Python's
    `random`: Keras 3 takes its unseeded initializers' and layers' seeds from it, so the code
    seeds Keras as `keras.utils.set_random_seed` would (NumPy apart)."""
    scope: cst.CSTNode = ctx.function or ctx.module
    todo: list[cst.CSTNode] = [scope]
    while todo:
        node = todo.pop()
        if isinstance(node, cst.Call) and ctx.qualname(node.func) in _PYTHON_SEEDING:
            return True
        if node is not scope and isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            continue
        todo.extend(code_children(node))
    return False
