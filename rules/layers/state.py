"""KER401-KER405: how a Keras 3 layer creates, builds and shapes its state."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context, class_methods, has_star_args, positional_args
from ..engine.edits import FixSpec, Insert, Replace, remove_arg, rename_keyword
from ..engine.rule import BACKENDS, Example, Rule
from ..engine.tables import load_toml
from ._initial_values import weight_spec
from ._common import (
    callee_leaf,
    enclosing_method,
    is_self,
    keras_reference,
    param_name,
    self_assignments,
    self_attribute,
)

# Keyword arguments that mean the same for `tf.Variable` and `keras.Variable`.
_SHARED_VARIABLE_KEYWORDS = frozenset({"trainable", "name", "dtype"})


@lru_cache(maxsize=1)
def _add_weight_table() -> dict:
    return load_toml("layers_arguments.toml")["add_weight"]


def _array_like(expr: cst.BaseExpression, ctx: Context) -> bool:
    """A literal number or nested list, or a NumPy call: values `keras.Variable` takes as they are."""
    if isinstance(expr, (cst.Integer, cst.Float)):
        return True
    if isinstance(expr, cst.UnaryOperation):
        return _array_like(expr.expression, ctx)
    if isinstance(expr, (cst.List, cst.Tuple)):
        return all(_array_like(element.value, ctx) for element in expr.elements)
    if isinstance(expr, cst.Call):
        qualified = ctx.qualname(expr.func)
        return qualified is not None and qualified.startswith("numpy.")
    return False


class TfVariableAttribute(Rule):
    """
    ## Why
    Keras 3 layers track `keras.Variable`s (and `add_weight`) only. A `tf.Variable` stored on a
    layer is invisible to it: on TensorFlow the layer silently has no trainable weights (fit
    warns "The model does not have any trainable weights" and nothing learns). PyTorch reads
    the `tf.Variable` as a constant (TensorFlow installed): just as silent, nothing learns. JAX
    cannot trace it: a model using it fails when Keras builds it symbolically or in `fit()`.

    ## Example
    ```python
    def build(self, input_shape):
        self.w = tf.Variable(tf.random.normal([input_shape[-1], self.units], stddev=0.05))
    ```

    ## Use instead
    ```python
    def build(self, input_shape):
        self.w = self.add_weight(
            shape=[input_shape[-1], self.units],
            initializer=keras.initializers.RandomNormal(mean=0.0, stddev=0.05),
        )
    ```
    In `__init__`, `keras.Variable(value)` also works. Not in `build`: on JAX, a subclassed
    model first called inside `fit()` builds its layers in a stateless scope, where
    `keras.Variable(value)` fails with "You are attempting to create a variable while in a
    stateless scope" (checked on Keras 3.15.1); `add_weight` defers the value to its initializer.

    ## Backends
    All: silent on TensorFlow and PyTorch (no trainable weights, no learning), an error on JAX
    (checked on Keras 3.15.1).

    ## Fix safety
    In `__init__`: `keras.Variable`, safe when the initial value is a literal or a NumPy array and
    only `trainable`, `name`, `dtype` (or `initial_value`, renamed `initializer`) are passed;
    unsafe when the value is a TensorFlow expression such as `tf.zeros(...)`, which must be
    migrated too. In `build` and other methods: `self.add_weight` with the shape and initializer
    of a value Keras has an initializer for (`zeros`/`ones`/`fill`/`full` of a shape, `ones(shape)
    * scale`, a number, `tf.random.normal`/`truncated_normal`/`uniform` with their own defaults),
    unsafe because the initializer draws other random numbers and the variable takes the layer's
    dtype; no fix for other values (say the shape by hand). No fix when other `tf.Variable`
    arguments (`validate_shape`, `constraint`, a second positional) are used.

    ## References
    - Catalogue K3-LAY-001; keras-io migration guide, "TensorFlow variables tracking".
    - `keras/src/backend/common/variables.py` (`KerasVariable.__init__`, stateless scope).
    """

    code = "KER401"
    name = "tf-variable-attribute"
    message = "A `tf.Variable` on a Keras 3 layer is not tracked: use `keras.Variable` or `self.add_weight`"
    nodes = (cst.Call,)
    fix = "mixed"
    backends = BACKENDS
    examples = (
        Example(
            "import numpy as np\nimport tensorflow as tf\nimport keras\n\n"
            "class Linear(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        self.w = «tf.Variable»(np.zeros((input_shape[-1], 4)), trainable=True)\n",
            "import numpy as np\nimport tensorflow as tf\nimport keras\n\n"
            "class Linear(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        self.w = self.add_weight(shape=(input_shape[-1], 4), initializer=\"zeros\", trainable=True)\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow import keras\n\n"
            "class Scale(keras.layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.scale = «tf.Variable»(initial_value=[1.0, 1.0], name='scale')\n",
            "import tensorflow as tf\nfrom tensorflow import keras\n\n"
            "class Scale(keras.layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.scale = keras.Variable(initializer=[1.0, 1.0], name='scale')\n",
        ),
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "class Dense(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        self.kernel = «tf.Variable»(\n"
            "            tf.random.normal([input_shape[-1], 8], stddev=0.05), name=\"kernel\"\n"
            "        )\n",
            "import tensorflow as tf\nimport keras\n\n"
            "class Dense(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        self.kernel = self.add_weight(shape=[input_shape[-1], 8], "
            "initializer=keras.initializers.RandomNormal(mean=0.0, stddev=0.05), name=\"kernel\")\n",
            unsafe=True,
        ),
        Example(
            "import numpy as np\nimport tensorflow as tf\nimport keras\n\n"
            "class Gain(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        self.gain = «tf.Variable»(np.ones((input_shape[-1],), dtype=\"float32\") * self.scale)\n",
            "import numpy as np\nimport tensorflow as tf\nimport keras\n\n"
            "class Gain(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        self.gain = self.add_weight(shape=(input_shape[-1],), "
            "initializer=keras.initializers.Constant(self.scale), dtype=\"float32\")\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow.keras import layers\n\n"
            "class Bias(layers.Layer):\n"
            "    def build(self, shape):\n"
            "        self.b = «tf.Variable»(tf.zeros([shape[-1]], dtype=tf.float32))\n",
            "import tensorflow as tf\nfrom tensorflow.keras import layers\n\n"
            "class Bias(layers.Layer):\n"
            "    def build(self, shape):\n"
            "        self.b = self.add_weight(shape=[shape[-1]], initializer=\"zeros\", dtype=\"float32\")\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "class Table(keras.layers.Layer):\n"
            "    def build(self, shape):\n"
            "        self.t = «tf.Variable»(tf.range(shape[-1]))\n",
            None,
        ),
        Example(
            "import tensorflow as tf\n\n"
            "class Gate(tf.keras.Model):\n"
            "    def build(self, shape):\n"
            "        self.g = «tf.Variable»(0.5, validate_shape=False)\n",
            None,
        ),
    )
    valid = (
        "import keras\nclass L(keras.layers.Layer):\n"
        "    def build(self, shape):\n        self.w = keras.Variable([1.0])\n",
        "import tensorflow as tf\nstep = tf.Variable(0, trainable=False)\n",
        "import tensorflow as tf\nclass Plain:\n    def __init__(self):\n        self.v = tf.Variable(0.0)\n",
        "import keras\nclass L(keras.layers.Layer):\n"
        "    def build(self, tf):\n        self.w = tf.Variable([1.0])\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"Variable"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        if callee_leaf(node) != "Variable" or ctx.qualname(node.func) != "tensorflow.Variable":
            return
        klass = ctx.klass
        if klass is None or not ctx.functions or not ctx.is_keras_class(klass):
            return
        parent = ctx.parents[-1]
        if not isinstance(parent, cst.Assign) or not any(self_attribute(t.target) for t in parent.targets):
            return
        ctx.report(node.func, fix=self._fix(node, ctx))

    def _fix(self, node: cst.Call, ctx: Context) -> FixSpec | None:
        if has_star_args(node) or len(positional_args(node)) > 1:
            return None
        edits: list = []
        value = None
        keywords: dict[str, cst.Arg] = {}
        for arg in node.args:
            if arg.keyword is None:
                value = arg.value
            elif arg.keyword.value == "initial_value":
                value = arg.value
                edits.append(rename_keyword(arg, "initializer"))
            elif arg.keyword.value not in _SHARED_VARIABLE_KEYWORDS:
                return None
            else:
                keywords[arg.keyword.value] = arg
        if value is None:
            return None
        owner = ctx.method()
        if owner is not None and owner[1].name.value != "__init__":
            # Built lazily (`build`, or any method that may first run inside `fit()`).
            return self._add_weight_fix(node, value, keywords, owner[1], ctx)
        reference = keras_reference(ctx, "Variable")
        if reference is None:
            return None
        code, imports = reference
        edits.insert(0, Replace(node.func, code))
        return FixSpec.of(_array_like(value, ctx), "Use `keras.Variable`", *edits, imports=imports)

    def _add_weight_fix(
        self,
        node: cst.Call,
        value: cst.BaseExpression,
        keywords: dict[str, cst.Arg],
        method: cst.FunctionDef,
        ctx: Context,
    ) -> FixSpec | None:
        receiver = param_name(method, 0)
        spec = weight_spec(value, ctx)
        if receiver is None or spec is None:
            return None
        arguments = [f"shape={spec.shape}", f"initializer={spec.initializer}"]
        dtype = keywords.get("dtype")
        if dtype is not None:
            arguments.append(f"dtype={ctx.module.code_for_node(dtype.value)}")
        elif spec.dtype is not None:
            arguments.append(f"dtype={spec.dtype}")
        for name in ("name", "trainable"):
            if name in keywords:
                arguments.append(f"{name}={ctx.module.code_for_node(keywords[name].value)}")
        call = f"{receiver}.add_weight({', '.join(arguments)})"
        # Unsafe: the initial values are drawn by a Keras initializer (other random numbers),
        # and the variable takes the layer's dtype unless the value named one.
        return FixSpec.unsafe("Create it with `add_weight`", Replace(node, call), imports=spec.imports)


class StateCreatedInCall(Rule):
    """
    ## Why
    Keras 3 marks a layer as built before its first `call()`, and refuses new state on a built
    layer. Weights, variables and sublayers created in `call()` (often behind
    `if not hasattr(self, "w")`) fail on every backend, eager calls included: "You cannot add
    new elements of state (variables or sub-layers) to a layer that is already built. All
    state must be created in the `__init__()` method or in the `build()` method." In a model
    the error is wrapped in "Could not automatically infer the output shape / dtype of '…'",
    and a `keras.Variable` made while Keras traces the model gets "You are attempting to
    create a variable while in a stateless scope".

    ## Example
    ```python
    def call(self, x):
        if not hasattr(self, "w"):
            self.w = self.add_weight(shape=(x.shape[-1], 4))
        return x @ self.w
    ```

    ## Use instead
    ```python
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 4))

    def call(self, x):
        return x @ self.w
    ```

    ## Backends
    All (checked on JAX, TensorFlow and PyTorch).

    ## Fix safety
    None: moving the creation to `build()` needs the shapes it depends on.

    ## References
    - Catalogue K3-LAY-002; keras-io migration guide, "State-building issues".
    """

    code = "KER402"
    name = "state-created-in-call"
    message = "State created in `call()`: create weights and sublayers in `__init__` or `build()`"
    nodes = (cst.Call,)
    examples = (
        Example(
            "import keras\n\nclass Lazy(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        if not hasattr(self, 'w'):\n"
            "            self.w = «self.add_weight(shape=(x.shape[-1], 4))»\n"
            "        return x @ self.w\n"
        ),
        Example(
            "import tensorflow as tf\n\nclass Head(tf.keras.Model):\n"
            "    def call(self, x):\n"
            "        self.proj = «tf.keras.layers.Dense(4)»\n"
            "        self.v = «tf.Variable(0.0)»\n"
            "        return self.proj(x)\n"
        ),
        Example(
            "from keras import layers\nimport keras\n\nclass Norm(layers.Layer):\n"
            "    def call(self, x):\n"
            "        self.scale = «keras.Variable(1.0)»\n"
            "        return x * self.scale\n"
        ),
    )
    valid = (
        "import keras\nclass L(keras.layers.Layer):\n"
        "    def build(self, shape):\n        self.w = self.add_weight(shape=(shape[-1],))\n"
        "    def call(self, x):\n        y = keras.layers.Dense(2)\n        return x * self.w\n",
        "import keras\nclass Plain:\n    def call(self, x):\n        self.w = self.add_weight(shape=(2,))\n",
        "import keras\nclass L(keras.layers.Layer):\n"
        "    def call(self, x, tf=None):\n        self.cache = tf.Variable(x)\n        return x\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("add_weight", "add_variable") and is_self(func.value):
            if enclosing_method(ctx, "call") is not None:
                ctx.report(node)
            return
        parent = ctx.parents[-1]
        if not isinstance(parent, cst.Assign) or not any(self_attribute(t.target) for t in parent.targets):
            return
        qualified = ctx.qualname(func)
        api = ctx.keras_api(func)
        creates = qualified == "tensorflow.Variable" or (
            api is not None and (api[0] == "Variable" or api[0].startswith("layers."))
        )
        if creates and enclosing_method(ctx, "call") is not None:
            ctx.report(node)


class BuildInputShapeMethods(Rule):
    """
    ## Why
    Keras 2 passed `build()` a `tf.TensorShape`; Keras 3 passes a plain tuple. TensorShape
    methods fail: `AttributeError: 'tuple' object has no attribute 'as_list'`, and
    `input_shape[-1].value` fails because the dimension is already an `int` (or `None`).
    `isinstance(input_shape, tf.TensorShape)` is now always False. The same holds for the
    shape `compute_output_shape()` receives, and for an attribute `build()` sets to its shape
    (`self.input_dims = input_shape`, read later as `self.input_dims.as_list()`).

    ## Example
    ```python
    def build(self, input_shape):
        dims = input_shape.as_list()
        units = input_shape[-1].value
    ```

    ## Use instead
    ```python
    def build(self, input_shape):
        dims = list(input_shape)
        units = input_shape[-1]
    ```

    ## Backends
    All.

    ## Fix safety
    Safe for `.as_list()` -> `list(...)` and for dropping `.value` on the `build()` parameter:
    the result is the same list of dimensions. The `isinstance` check gets no fix: what the
    branch should do depends on the code.

    ## References
    - Catalogue K3-LAY-004.
    """

    code = "KER404"
    name = "build-input-shape-methods"
    message = "`build()` receives a tuple in Keras 3, not a `tf.TensorShape`"
    nodes = (cst.Call, cst.Attribute)
    fix = "safe"
    deprecated = True
    examples = (
        Example(
            "import keras\n\nclass Proj(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        dims = «input_shape.as_list()»\n"
            "        self.w = self.add_weight(shape=(«input_shape[-1].value», 4))\n",
            "import keras\n\nclass Proj(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        dims = list(input_shape)\n"
            "        self.w = self.add_weight(shape=(input_shape[-1], 4))\n",
        ),
        Example(
            "import tensorflow as tf\n\nclass Proj(tf.keras.layers.Layer):\n"
            "    def build(self, shape):\n"
            "        if «isinstance(shape, tf.TensorShape)»:\n"
            "            shape = «shape.as_list()»\n",
            "import tensorflow as tf\n\nclass Proj(tf.keras.layers.Layer):\n"
            "    def build(self, shape):\n"
            "        if isinstance(shape, tf.TensorShape):\n"
            "            shape = list(shape)\n",
        ),
        Example(
            "import keras\n\nclass Head(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        self.build_output_shape = input_shape\n"
            "    def compute_output_shape(self, input_shape):\n"
            "        return «self.build_output_shape.as_list()»[:-1] + [«input_shape[-1].value»]\n",
            "import keras\n\nclass Head(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        self.build_output_shape = input_shape\n"
            "    def compute_output_shape(self, input_shape):\n"
            "        return list(self.build_output_shape)[:-1] + [input_shape[-1]]\n",
        ),
        Example(
            "from tensorflow import keras\n\nclass Base(keras.layers.Layer):\n    pass\n\n"
            "class Child(Base):\n"
            "    def build(self, batch_input_shape):\n"
            "        self.n = «batch_input_shape[1].value» * 2\n",
            "from tensorflow import keras\n\nclass Base(keras.layers.Layer):\n    pass\n\n"
            "class Child(Base):\n"
            "    def build(self, batch_input_shape):\n"
            "        self.n = batch_input_shape[1] * 2\n",
        ),
    )
    valid = (
        "import keras\nclass P(keras.layers.Layer):\n"
        "    def build(self, input_shape):\n        dims = list(input_shape)\n",
        "import tensorflow as tf\ndef shape_of(t):\n    return t.shape.as_list()\n",
        "import keras\nclass P(keras.layers.Layer):\n"
        "    def build(self, input_shape):\n        v = self.table[0].value\n        s = other.as_list()\n",
        # An attribute build() sets to something else.
        "import keras\nclass P(keras.layers.Layer):\n"
        "    def build(self, input_shape):\n        self.spec = make_spec(input_shape)\n"
        "    def call(self, x):\n        return self.spec.as_list()\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"as_list", "isinstance"})

    def attribute_names(self) -> frozenset[str]:
        """The attribute names `visit` acts on (see `engine.gates`)."""
        return frozenset({"value"})

    def visit(self, node: cst.Call | cst.Attribute, ctx: Context) -> None:
        if isinstance(node, cst.Attribute):
            if node.attr.value != "value" or not isinstance(node.value, cst.Subscript):
                return
            if self._shape_param(node.value.value, ctx):
                ctx.report(node, fix=FixSpec.safe("Drop `.value`", Replace(node, node.value)))
            return
        func = node.func
        if isinstance(func, cst.Attribute):
            if func.attr.value == "as_list" and not node.args and self._shape_param(func.value, ctx):
                shape = ctx.module.code_for_node(func.value)
                ctx.report(node, fix=FixSpec.safe("Use `list(...)`", Replace(node, f"list({shape})")))
            return
        if (
            isinstance(func, cst.Name)
            and func.value == "isinstance"
            and len(node.args) == 2
            and self._shape_param(node.args[0].value, ctx)
            and ctx.qualname(node.args[1].value) == "tensorflow.TensorShape"
        ):
            ctx.report(node)

    def _shape_param(self, expr: cst.BaseExpression, ctx: Context) -> bool:
        """A shape Keras 3 gives as a tuple: the shape parameter of `build()` or
        `compute_output_shape()`, or a `self.<attr>` that `build()` sets to it (read in any
        method of the class)."""
        if isinstance(expr, cst.Name):
            found = enclosing_method(ctx, *_SHAPE_METHODS)
            return found is not None and param_name(found[1], 1) == expr.value
        attribute = self_attribute(expr)
        klass = ctx.klass
        if attribute is None or klass is None or not ctx.is_keras_class(klass):
            return False
        return attribute in _shapes_kept(klass)


# The methods Keras 3 passes a shape tuple.
_SHAPE_METHODS = ("build", "compute_output_shape")


def _shapes_kept(klass: cst.ClassDef) -> frozenset[str]:
    """The attributes `build()` sets to its shape parameter (`self.input_dims = input_shape`)."""
    build = class_methods(klass).get("build")
    shape = param_name(build, 1) if build is not None else None
    if shape is None:
        return frozenset()
    return frozenset(
        attribute for attribute, value in self_assignments(build) if isinstance(value, cst.Name) and value.value == shape
    )


class AddWeightSignature(Rule):
    """
    ## Why
    Keras 2 `add_weight(name, shape, dtype, initializer, …)` took the name first. Keras 3 takes
    everything but `shape` as keywords and raises: "`name` must be passed as a keyword
    argument. Received: add_weight('kernel', ...). Use: add_weight(shape=..., name='kernel')"
    (Keras 3.0 gave `TypeError: Layer.add_weight() got multiple values for argument 'shape'`).
    The TensorFlow-only arguments `use_resource`, `partitioner`, `getter`, `caching_device` and
    `synchronization` raise `TypeError: … unexpected keyword argument`.

    ## Example
    ```python
    self.kernel = self.add_weight("kernel", (d, units), initializer="glorot_uniform", use_resource=True)
    ```

    ## Use instead
    ```python
    self.kernel = self.add_weight(name="kernel", shape=(d, units), initializer="glorot_uniform")
    ```

    ## Backends
    All.

    ## Fix safety
    Safe for naming the positional arguments in Keras 2 order (`name`, `shape`, `dtype`,
    `initializer`, `regularizer`, `trainable`, `constraint`) and for dropping `use_resource`
    (TensorFlow 2 variables are always resource variables). Unsafe for dropping `partitioner`,
    `getter`, `caching_device` and `synchronization`, which changed how the variable was
    created or placed.

    ## References
    - Catalogue K3-LAY-005.
    """

    code = "KER405"
    name = "add-weight-signature"
    message = "Keras 3 `add_weight()` takes `name` and the other arguments as keywords only"
    nodes = (cst.Call,)
    fix = "mixed"
    deprecated = True
    examples = (
        Example(
            "import keras\n\nclass Dense(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        self.kernel = self.add_weight(«\"kernel\"», (input_shape[-1], 4), initializer=\"zeros\")\n",
            "import keras\n\nclass Dense(keras.layers.Layer):\n"
            "    def build(self, input_shape):\n"
            "        self.kernel = self.add_weight(name=\"kernel\", shape=(input_shape[-1], 4), initializer=\"zeros\")\n",
        ),
        Example(
            "import tensorflow as tf\n\nclass Emb(tf.keras.layers.Layer):\n"
            "    def build(self, shape):\n"
            "        self.table = self.add_weight(«f'{self.name}_table'», shape=(10, 4), «use_resource=True»)\n",
            "import tensorflow as tf\n\nclass Emb(tf.keras.layers.Layer):\n"
            "    def build(self, shape):\n"
            "        self.table = self.add_weight(name=f'{self.name}_table', shape=(10, 4))\n",
        ),
        Example(
            "from tensorflow.keras import layers\n\nclass Big(layers.Layer):\n"
            "    def build(self, shape):\n"
            "        self.w = self.add_weight(shape=(10, 4), «partitioner=part», «caching_device='/cpu:0'»)\n",
            "from tensorflow.keras import layers\n\nclass Big(layers.Layer):\n"
            "    def build(self, shape):\n"
            "        self.w = self.add_weight(shape=(10, 4))\n",
            unsafe=True,
        ),
    )
    valid = (
        "import keras\nclass D(keras.layers.Layer):\n"
        "    def build(self, s):\n        self.k = self.add_weight(shape=(s[-1], 4), name='kernel')\n",
        "import keras\nclass D(keras.layers.Layer):\n"
        "    def build(self, s):\n        self.k = self.add_weight((s[-1], 4), 'zeros')\n",
        "import keras\nclass Store:\n    def add_weight(self, key, value): ...\nStore().add_weight(1, 2)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"add_weight"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "add_weight":
            return
        positional = positional_args(node)
        if positional and isinstance(positional[0].value, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
            self._name_positionals(node, positional, ctx)
        table = _add_weight_table()
        for arg in node.args:
            if arg.keyword is None:
                continue
            keyword = arg.keyword.value
            if keyword in table["safe_to_drop"]:
                fix = FixSpec.safe(f"Remove `{keyword}`", remove_arg(node, arg))
            elif keyword in table["unsafe_to_drop"]:
                fix = FixSpec.unsafe(f"Remove `{keyword}`", remove_arg(node, arg))
            else:
                continue
            ctx.report_arg(arg, f"`add_weight({keyword}=)` does not exist in Keras 3", fix=fix)

    def _name_positionals(self, node: cst.Call, positional: list[cst.Arg], ctx: Context) -> None:
        order = _add_weight_table()["keras2_order"]
        given = {arg.keyword.value for arg in node.args if arg.keyword is not None}
        fix = None
        if not has_star_args(node) and len(positional) <= len(order) and not given & set(order[: len(positional)]):
            edits = [Insert(arg.value, f"{keyword}=") for arg, keyword in zip(positional, order)]
            fix = FixSpec.safe("Pass the arguments by keyword", *edits)
        ctx.report(positional[0].value, fix=fix)


# Keras layers whose `build()` does not depend on the input shape: building them with any shape
# creates the right weights.
_SHAPE_FREE_LAYERS = frozenset({"layers.Embedding"})
_INDEX_RANGES = frozenset({"keras.ops.arange", "tensorflow.range", "keras.ops.numpy.arange"})


class SublayerOnDerivedTensor(Rule):
    """
    ## Why
    A layer without `build()` gets its sublayers' weights only when `call()` runs on a tensor.
    When something calls its `build()` directly — an outer layer's or model's `build()`,
    `model.build(shape)`, a model restored from its build config — Keras 3 warns "`build()` was
    called on layer …, however the layer does not have a `build()` method implemented and it
    looks like it has unbuilt state", and marks the layer built with no weights. Weights loaded
    then (`load_weights()`) are silently skipped: the sublayer is created later with fresh
    random values. When Keras builds the layer by tracing `call()` and the trace fails, it
    reports "Layer '…' looks like it has unbuilt state, but Keras is not able to trace the
    layer `call()` in order to build it automatically".

    ## Example
    ```python
    class PositionalEmbedding(layers.Layer):
        def call(self, inputs):
            positions = ops.arange(0, ops.shape(inputs)[-1], 1)
            return self.token_emb(inputs) + self.position_emb(positions)
    ```

    ## Use instead
    ```python
        def build(self, input_shape):
            self.token_emb.build(input_shape)
            self.position_emb.build(input_shape)
    ```

    ## Backends
    All (checked on JAX, TensorFlow and PyTorch).

    ## Fix safety
    Unsafe, offered when the sublayer is an `Embedding` created in `__init__` (its weights do not
    depend on the input shape): a `build()` that builds it is added before `call()`. Other
    sublayers need their real input shapes: no fix.

    ## References
    - Catalogue K3-LAY-003; keras-io migration guide, "State-building issues";
      keras-team/keras#18763, #20729.
    """

    code = "KER403"
    name = "sublayer-on-derived-tensor"
    message = "A sublayer called on a tensor made inside `call()`, and no `build()`: Keras 3 may not be able to build it"
    nodes = (cst.Call,)
    fix = "unsafe"
    examples = (
        Example(
            "import keras\nfrom keras import layers, ops\n\n"
            "class PositionalEmbedding(layers.Layer):\n"
            "    def __init__(self, length, dim, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.position_embeddings = layers.Embedding(length, dim)\n\n"
            "    def call(self, inputs):\n"
            "        positions = ops.arange(0, ops.shape(inputs)[1], 1)\n"
            "        return inputs + «self.position_embeddings(positions)»\n",
            "import keras\nfrom keras import layers, ops\n\n"
            "class PositionalEmbedding(layers.Layer):\n"
            "    def __init__(self, length, dim, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.position_embeddings = layers.Embedding(length, dim)\n\n"
            "    def build(self, input_shape):\n"
            "        self.position_embeddings.build(input_shape)\n\n"
            "    def call(self, inputs):\n"
            "        positions = ops.arange(0, ops.shape(inputs)[1], 1)\n"
            "        return inputs + self.position_embeddings(positions)\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\n\n"
            "class Timing(tf.keras.layers.Layer):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.proj = tf.keras.layers.Dense(4)\n"
            "    def call(self, x):\n"
            "        steps = tf.range(tf.shape(x)[1])\n"
            "        return «self.proj(steps)»\n",
            None,
        ),
    )
    valid = (
        "import keras\nfrom keras import layers, ops\nclass P(layers.Layer):\n"
        "    def __init__(self):\n        super().__init__()\n        self.emb = layers.Embedding(10, 4)\n"
        "    def build(self, shape):\n        self.emb.build(shape)\n"
        "    def call(self, x):\n        positions = ops.arange(0, 10, 1)\n        return self.emb(positions)\n",
        "import keras\nfrom keras import layers, ops\nclass P(layers.Layer):\n"
        "    def __init__(self):\n        super().__init__()\n        self.emb = layers.Embedding(10, 4)\n"
        "    def call(self, x):\n        return self.emb(x)\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        attribute = self_attribute(node.func)
        if attribute is None or len(node.args) != 1 or not isinstance(node.args[0].value, cst.Name):
            return
        found = enclosing_method(ctx, "call")
        if found is None:
            return
        klass, method = found
        methods = class_methods(klass)
        if "build" in methods or "build_from_config" in methods:
            return
        if not _made_by_range(method, node.args[0].value.value, ctx):  # type: ignore[attr-defined]
            return
        layer = _sublayer_api(methods.get("__init__"), attribute, ctx)
        if layer is None:
            return
        ctx.report(node, fix=_build_method(method, attribute, ctx) if layer in _SHAPE_FREE_LAYERS else None)


def _made_by_range(method: cst.FunctionDef, name: str, ctx: Context) -> bool:
    body = method.body.body if isinstance(method.body, cst.IndentedBlock) else ()
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if (
                    isinstance(small, cst.Assign)
                    and isinstance(small.value, cst.Call)
                    and any(isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets)
                    and ctx.qualname(small.value.func) in _INDEX_RANGES
                ):
                    return True
    return False


def _sublayer_api(init: cst.FunctionDef | None, attribute: str, ctx: Context) -> str | None:
    if init is None:
        return None
    for name, value in self_assignments(init):
        if name == attribute and isinstance(value, cst.Call):
            api = ctx.keras_api(value.func)
            if api is not None and api[0].startswith("layers."):
                return api[0]
    return None


def _build_method(call: cst.FunctionDef, attribute: str, ctx: Context) -> FixSpec:
    # The blocks around `call` (the class body and any enclosing ones) give its indentation.
    outer = ctx.parents[: next(i for i, p in enumerate(ctx.parents) if p is call)]
    indent = "".join(
        block.indent if block.indent is not None else ctx.module.default_indent
        for block in outer
        if isinstance(block, cst.IndentedBlock)
    )
    inner = indent + ctx.module.default_indent
    text = f"{indent}def build(self, input_shape):\n{inner}self.{attribute}.build(input_shape)\n\n"
    edit = Insert(call.leading_lines[-1], text, after=True) if call.leading_lines else Insert(call, text)
    return FixSpec.unsafe("Add a `build()` that builds the sublayer", edit)
