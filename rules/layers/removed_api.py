"""KER406, KER407: Layer and Model methods and attributes that Keras 3 removed."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context, call_keyword, class_methods
from ..engine.edits import FixSpec, Replace, remove_arg
from ..engine.provenance import LAYER, MODEL, TENSOR, fact_of, provenance
from ..engine.rule import BACKENDS, Example, Rule
from ..engine.settings import parse_version
from ..engine.tables import load_toml
from ._common import all_param_names, is_self


@lru_cache(maxsize=1)
def _table() -> dict:
    return load_toml("layers_removed_api.toml")


def _receiver_word(expr: cst.BaseExpression) -> str | None:
    """A receiver's name, for a receiver provenance knows nothing about."""
    if isinstance(expr, cst.Attribute):
        return expr.attr.value.lower()
    if isinstance(expr, cst.Name) and expr.value != "self":
        return expr.value.lower()
    return None


def _own_attribute(ctx: Context, receiver: cst.BaseExpression, attr: str) -> bool:
    """`self.<attr>` where the class defines or assigns `attr` itself: the user's, not Keras's."""
    klass = ctx.klass
    if klass is None or not isinstance(receiver, cst.Name) or receiver.value != "self":
        return False
    return attr in class_methods(klass) or provenance(ctx).assigns_self_attribute(klass, attr)


# Where a backend tensor lacks `get_shape()`: TensorFlow's tensors still have it.
_NOT_TENSORFLOW = frozenset({"jax", "torch"})


def _in_keras_method(ctx: Context) -> bool:
    """Inside a method of a Keras Layer or Model class (functions nested in it count), where the
    tensors are the backend's own."""
    return bool(ctx.functions) and any(ctx.is_keras_class(klass) for klass in ctx.classes)


def _tensor_backends(ctx: Context, expr: cst.BaseExpression) -> frozenset[str] | None:
    """The backends on which `expr.get_shape()` fails, or None where it does not.

    A tensor from Keras (`keras.Input(...)`, a layer or model called on something, a
    `keras.ops` call, `model.output`) is a `KerasTensor` outside a Keras class's methods, which
    lacks `get_shape()` on every backend; inside them it is the backend's tensor, which has it
    on TensorFlow alone. A receiver provenance knows nothing about (a parameter of `call()`) is
    the backend's tensor in a Keras class's methods, and TensorFlow code elsewhere (a
    `tf.data` map function, a TensorFlow-only helper). A value shown to be something else
    (`tf.convert_to_tensor(x)`, a NumPy array) keeps its `get_shape()`, or is not a tensor."""
    in_method = _in_keras_method(ctx)
    fact = fact_of(ctx, expr)
    if fact.kind == TENSOR:
        return _NOT_TENSORFLOW if in_method else BACKENDS
    if fact.known or not in_method:
        return None
    return _NOT_TENSORFLOW


def _receiver_matches(ctx: Context, expr: cst.BaseExpression, kind: str | list[str], attr: str) -> bool:
    """Whether the receiver is a `kind` ("layer" or "model", or a list of both; "any" takes
    every receiver).

    A receiver shown to be a layer (`keras.layers.Dense(4)`, `model.layers[0]`,
    `model.get_layer(...)`, `self` in a Layer subclass) or a model (`keras.Sequential()`,
    `load_model(...)`, `self` in a Model subclass) matches its kind whatever its name, and
    never the other kind; one shown to be anything else never matches. A receiver provenance
    knows nothing about matches when its name contains the kind's word (`encoder_layer`,
    `model`)."""
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    if "any" in kinds:
        return True
    if _own_attribute(ctx, expr, attr):
        return False
    fact = fact_of(ctx, expr)
    if fact.known:
        return fact.kind in kinds
    word = _receiver_word(expr)
    return word is not None and any(k in word for k in kinds)


def _entry_backends(entry: dict) -> frozenset[str] | None:
    backends = entry.get("backends")
    return frozenset(backends) if backends is not None else None


def _entry_applies(entry: dict, ctx: Context) -> bool:
    """An entry with `before` is missing only from the Keras versions older than it."""
    before = entry.get("before")
    return before is None or ctx.settings.keras_version < parse_version(before)


_DYNAMIC_MESSAGE = (
    "`dynamic=` is not a Keras 3 layer argument (\"Unrecognized keyword arguments\"): every layer "
    "runs eagerly or traced as the backend decides; for eager debugging use `compile(run_eagerly=True)`"
)


def _accepts_dynamic(klass: cst.ClassDef, ctx: Context, depth: int = 0) -> bool:
    """Whether the class or a base class of this module takes `dynamic` in its `__init__`
    itself (then it is that class's argument, not Keras's)."""
    init = class_methods(klass).get("__init__")
    if init is not None and "dynamic" in all_param_names(init):
        return True
    if depth > 8:
        return False
    classes = ctx.module_classes()
    for base in klass.bases:
        if isinstance(base.value, cst.Name) and base.value.value in classes:
            if _accepts_dynamic(classes[base.value.value], ctx, depth + 1):
                return True
    return False


class RemovedLayerApi(Rule):
    """
    ## Why
    Keras 3 removed the graph-era Layer and Model API. Each use fails with `AttributeError`, or
    for `add_metric` with `NotImplementedError: Layer add_metric() method is deprecated. Add your
    metric in Model.compile(metrics=[...])`. `dynamic=` (any value, `False` too) raises
    "Unrecognized keyword arguments passed to Dense: {'dynamic': True}", in a layer's
    constructor and in a custom layer's `super().__init__(dynamic=True, **kwargs)` alike, and
    layers and models have no `dynamic` attribute (Keras 3.0.5 and 3.15.1). `layer.metrics`
    is missing from Keras 3.0 to 3.2 (`AttributeError: 'Dense' object has no attribute
    'metrics'`; models always had it): reported only when `keras-version` is older than 3.3.
    The message of each finding names the replacement. Two exceptions hold on TensorFlow:
    - `get_shape()`: a Keras 3 `KerasTensor` (`keras.Input(...)`, a functional model's tensors)
      lacks it on every backend, but the tensors a layer's methods get are TensorFlow tensors
      there and still have it, while JAX and PyTorch fail ("DynamicJaxprTracer has no attribute
      get_shape"). It is reported on a tensor from Keras, and on a value of unknown origin
      inside a Keras class's methods; not on a value shown to be something else
      (`tf.convert_to_tensor(x).get_shape()`), nor on unknown values of TensorFlow code outside
      Keras classes (a `tf.data` map function).
    - `Model.distribute_strategy`: the TensorFlow trainer still has it.

    ## Example
    ```python
    self.add_metric(acc, name="acc")
    shape = model.layers[1].output_shape
    n = x.get_shape()[-1]
    ```

    ## Use instead
    ```python
    self.acc_tracker = keras.metrics.Mean(name="acc")   # in __init__, then update_state(acc)
    shape = model.layers[1].output.shape
    n = x.shape[-1]
    ```

    ## Backends
    All (checked on JAX, TensorFlow and PyTorch); `get_shape()` inside a Keras class's methods
    and `Model.distribute_strategy` break only on JAX and PyTorch, so they are not reported in
    code that runs on TensorFlow alone (behind a backend guard, or with `target-backends`).

    ## Fix safety
    - `x.get_shape()` -> `x.shape`: safe, the same shape for TensorFlow tensors and the only
      spelling for a Keras 3 `KerasTensor`.
    - `layer.output_shape` -> `layer.output.shape`: unsafe, right only for a layer of a
      functional model (a layer used in several places has several outputs).
    - `dynamic=False` / `dynamic=None` is removed: safe, it was Keras 2's default. `dynamic=True`
      has no fix: without it the layer is traced, which its `call()` may not support.
    - Everything else: none, the replacement depends on the code.

    ## References
    - Catalogue K3-LAY-006 (hasattr checks on Keras 3.15.1); keras-io migration guide;
      voxelmorph#617.
    """

    code = "KER406"
    name = "removed-layer-api"
    message = "This Layer/Model API was removed in Keras 3"
    nodes = (cst.Call, cst.Attribute, cst.FunctionDef)
    fix = "mixed"
    deprecated = True
    examples = (
        Example(
            "import keras\n\nclass Acc(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        «self.add_metric»(keras.ops.mean(x), name='mean')\n"
            "        return x\n",
            None,
        ),
        Example(
            "import tensorflow as tf\nx = tf.keras.Input((4,))\nn = «x.get_shape()»[-1]\n",
            "import tensorflow as tf\nx = tf.keras.Input((4,))\nn = x.shape[-1]\n",
        ),
        Example(
            "import keras\n\nclass Flat(keras.layers.Layer):\n"
            "    def call(self, inputs):\n"
            "        n = «inputs.get_shape()»[-1]\n"
            "        return keras.ops.reshape(inputs, (-1, n))\n",
            "import keras\n\nclass Flat(keras.layers.Layer):\n"
            "    def call(self, inputs):\n"
            "        n = inputs.shape[-1]\n"
            "        return keras.ops.reshape(inputs, (-1, n))\n",
        ),
        Example(
            "from tensorflow import keras\n"
            "shape = «model.layers[1].output_shape»\n"
            "shape_in = «model.get_layer('enc').input_shape»\n",
            "from tensorflow import keras\n"
            "shape = model.layers[1].output.shape\n"
            "shape_in = model.get_layer('enc').input.shape\n",
            unsafe=True,
        ),
        Example(
            "from tensorflow.keras import layers\n"
            "d = layers.Dense(4, «dynamic=True»)\n"
            "«model.reset_states»()\n"
            "ups = «encoder_layer.updates»\n",
            None,
        ),
        Example(
            "import keras\n\nclass Spec(keras.layers.Layer):\n"
            "    def «compute_output_signature»(self, input_signature):\n"
            "        return input_signature\n",
            None,
        ),
        Example(
            "import keras\nm2 = keras.Sequential()\n«m2.reset_states»()\n"
            "d = keras.layers.Dense(4)\nshape = «d.output_shape»\n",
            "import keras\nm2 = keras.Sequential()\nm2.reset_states()\n"
            "d = keras.layers.Dense(4)\nshape = d.output.shape\n",
            unsafe=True,
        ),
        Example(
            "import keras\nd = keras.layers.Dense(4, «dynamic=False»)\n"
            "e = keras.layers.Dense(4, activation='relu', «dynamic=None»)\n",
            "import keras\nd = keras.layers.Dense(4)\ne = keras.layers.Dense(4, activation='relu')\n",
        ),
        Example(
            "from keras import layers\n\nclass Gate(layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(«dynamic=True», **kwargs)\n\n"
            "    def call(self, x):\n"
            "        return x if «self.dynamic» else -x\n\n"
            "gate = Gate(«dynamic=True»)\nprint(«gate.dynamic»)\n",
            None,
        ),
        Example(
            "import tensorflow as tf\n\nclass Block(tf.keras.layers.Layer):\n"
            "    def __init__(self, units, **kwargs):\n"
            "        tf.keras.layers.Layer.__init__(self, «dynamic=False», **kwargs)\n"
            "        self.units = units\n",
            "import tensorflow as tf\n\nclass Block(tf.keras.layers.Layer):\n"
            "    def __init__(self, units, **kwargs):\n"
            "        tf.keras.layers.Layer.__init__(self, **kwargs)\n"
            "        self.units = units\n",
        ),
        # Keras 3.0 to 3.2 (examples are linted for Keras 3.0).
        Example(
            "import keras\ndense = keras.layers.Dense(4)\ntrackers = «dense.metrics»\n"
            "for layer in model.layers:\n    print(«layer.metrics»)\n"
            "model = keras.Sequential([dense])\nprint(model.metrics)\n",
            None,
        ),
    )
    valid = (
        "import keras\nmodel = keras.Sequential()\nprint(model.output_shape, model.input_shape)\n",
        "import keras\nlstm = keras.layers.LSTM(4, stateful=True)\nlstm.reset_states()\n",
        "import keras\nclass L(keras.layers.Layer):\n    def __init__(self, input_shape):\n"
        "        super().__init__()\n        self.input_shape = input_shape\n",
        # A class of the module that takes `dynamic` itself.
        "import keras\nclass Gate(keras.layers.Layer):\n    def __init__(self, dynamic=False, **kwargs):\n"
        "        super().__init__(**kwargs)\n        self.dynamic = dynamic\n"
        "    def call(self, x):\n        return x if self.dynamic else -x\n"
        "class Child(Gate):\n    def __init__(self, **kwargs):\n        super().__init__(dynamic=True, **kwargs)\n"
        "g = Gate(dynamic=True)\nc = Child(dynamic=False)\n",
        "import argparse\nimport keras\nargs = argparse.ArgumentParser().parse_args()\nprint(args.dynamic)\n"
        "run(dynamic=True)\n",
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n        return {m.name: m.result() for m in self.metrics}\n",
        "import keras\nclass L(keras.layers.Layer):\n    @property\n    def metrics(self):\n        return [self.tracker]\n"
        "    def call(self, x):\n        return x if self.metrics else x\n",
        "import keras\nclass Plain:\n    def compute_output_signature(self, s):\n        return s\n",
        "import keras\nmodel_layer = keras.Model(inp, out)\nprint(model_layer.output_shape)\n",
        "import keras\nlayer_sizes = {'a': 64}\nlayer_sizes.updates\n",
        # TensorFlow tensors keep get_shape(): a tf op's result, and TensorFlow code outside a
        # Keras class (a tf.data map function).
        "import keras\nimport tensorflow as tf\n\ndef count(points):\n"
        "    points = tf.convert_to_tensor(points)\n    return points.get_shape().as_list()[0]\n",
        "import tensorflow as tf\n\ndef parse(image, label):\n"
        "    return tf.reshape(image, [-1]), label.get_shape()\n",
        "import keras\nimport tensorflow as tf\n\nclass L(keras.layers.Layer):\n    def call(self, x):\n"
        "        return tf.zeros(tf.convert_to_tensor(x).get_shape())\n",
        # Only the TensorFlow backend runs this, and its trainer has distribute_strategy.
        "import keras\n\nclass Saver(keras.callbacks.Callback):\n"
        "    def on_epoch_end(self, epoch, logs=None):\n"
        "        if keras.config.backend() != 'tensorflow':\n            return\n"
        "        print(self.model.distribute_strategy)\n",
        "import keras\nclass Head(keras.layers.Layer):\n    def build(self, shape):\n        self.input_shape_ = shape\n"
        "        self.output_shape = shape\n    def call(self, x):\n        return x if self.output_shape else x\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(_table()["methods"].keys())

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"dynamic"})

    def attribute_names(self) -> frozenset[str]:
        """The attribute names `visit` acts on (see `engine.gates`)."""
        return frozenset(_table()["attributes"].keys())

    def visit(self, node: cst.Call | cst.Attribute | cst.FunctionDef, ctx: Context) -> None:
        if isinstance(node, cst.FunctionDef):
            entry = _table()["definitions"].get(node.name.value)
            klass = ctx.klass
            if entry is not None and klass is not None and ctx.is_keras_class(klass):
                ctx.report(node.name, entry["message"])
            return
        if isinstance(node, cst.Call):
            self._visit_call(node, ctx)
            return
        entry = _table()["attributes"].get(node.attr.value)
        if entry is None or not _entry_applies(entry, ctx):
            return
        parent = ctx.parents[-1]
        if isinstance(parent, cst.AssignTarget) or (isinstance(parent, cst.Call) and parent.func is node):
            return
        if not _receiver_matches(ctx, node.value, entry["receiver"], node.attr.value):
            return
        fix = None
        if entry.get("fix") == "tensor-shape":
            tensor = "output" if node.attr.value == "output_shape" else "input"
            fix = FixSpec.unsafe(f"Use `.{tensor}.shape`", Replace(node.attr, f"{tensor}.shape"))
        ctx.report(node, entry["message"], fix=fix, backends=_entry_backends(entry))

    def _visit_call(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            self._dynamic(node, ctx)
            return
        entry = _table()["methods"].get(func.attr.value)
        if entry is None:
            self._dynamic(node, ctx)
            return
        if entry["receiver"] == "tensor":
            backends = _tensor_backends(ctx, func.value)
            if backends is None or node.args:
                return
            fix = None
            if entry.get("fix") == "shape":
                fix = FixSpec.safe("Use `.shape`", Replace(func.attr, "shape", end=node))
            ctx.report(node, entry["message"], fix=fix, backends=backends)
            return
        if not _receiver_matches(ctx, func.value, entry["receiver"], func.attr.value):
            return
        ctx.report(func, entry["message"], backends=_entry_backends(entry))

    def _dynamic(self, node: cst.Call, ctx: Context) -> None:
        arg = call_keyword(node, "dynamic")
        if arg is None or not self._takes_keras_kwargs(node, ctx):
            return
        fix = None
        if isinstance(arg.value, cst.Name) and arg.value.value in ("False", "None"):
            # Keras 2's default: the layer behaves the same without it.
            fix = FixSpec.safe("Remove `dynamic=`", remove_arg(node, arg))
        ctx.report_arg(arg, _DYNAMIC_MESSAGE, fix=fix)

    @staticmethod
    def _takes_keras_kwargs(node: cst.Call, ctx: Context) -> bool:
        """Whether the call's keyword arguments reach Keras's `Layer.__init__`: a Keras layer
        or `Sequential` built (`layers.Dense(4, ...)`), `super().__init__(...)` in a Keras
        class, `keras.layers.Layer.__init__(self, ...)`, or a Layer or Model class of this
        module built (`Gate(...)`); not when that class (or a base class of this module)
        takes `dynamic` itself."""
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "__init__":
            holder = func.value
            if isinstance(holder, cst.Call) and isinstance(holder.func, cst.Name) and holder.func.value == "super":
                klass = ctx.klass
                return (
                    klass is not None
                    and ctx.in_method("__init__") is klass
                    and ctx.is_keras_class(klass)
                    and not _accepts_dynamic(klass, ctx)
                )
            api = ctx.keras_api(holder)
            return api is not None and (api[0].startswith("layers.") or api[0] in ("Layer", "Model", "models.Model"))
        api = ctx.keras_api(func)
        if api is not None:
            return api[0].startswith("layers.") or api[0] in ("Sequential", "models.Sequential")
        if isinstance(func, cst.Name) and ctx.qualname(func) is None:
            klass = ctx.module_classes().get(func.value)
            return (
                klass is not None
                and ctx.is_keras_class(klass)
                and fact_of(ctx, node).kind in (LAYER, MODEL)
                and not _accepts_dynamic(klass, ctx)
            )
        return False


def _in_method_called_by_call(ctx: Context) -> bool:
    """Inside a method of a Keras class other than `__init__`: `call()`, `build()`, or a helper
    that `call()` calls (`self.add_loss` there receives the step's tensors, which is all Keras 3
    checks)."""
    klass = ctx.klass
    if klass is None or not ctx.functions or not ctx.is_keras_class(klass):
        return False
    method = next((f for f in ctx.functions if class_methods(klass).get(f.name.value) is f), None)
    return method is not None and method.name.value != "__init__"


class SymbolicAddLoss(Rule):
    """
    ## Why
    Keras 2 let a functional model take a loss built from its symbolic tensors:
    `model.add_loss(ops.mean(outputs))`. Keras 3 accepts `add_loss()` only inside a layer's or
    model's `call()` (or `build()`): a functional model raises `NotImplementedError` with an
    empty message, and a layer given a non-tensor raises "`add_loss()` can only be called from
    inside `build()` or `call()`, on a tensor input". What Keras 3 checks is the tensor: a
    layer's own methods that `call()` runs (`self.add_loss(...)` in a helper it calls) are
    fine, and not reported; `self.add_loss` in `__init__` and `add_loss` on a model or layer
    from outside it are.

    ## Example
    ```python
    model = keras.Model(inputs, outputs)
    model.add_loss(keras.ops.mean(outputs))
    ```

    ## Use instead
    ```python
    class ActivityLoss(keras.layers.Layer):
        def call(self, x):
            self.add_loss(keras.ops.mean(x))
            return x

    outputs = ActivityLoss()(outputs)
    ```
    or override `compute_loss()` in a `Model` subclass.

    ## Backends
    All.

    ## Fix safety
    None: the loss must move into a layer's `call()`.

    ## References
    - Catalogue K3-LAY-007; keras-io migration guide, "Removed features"; keras-team/keras#18472.
    """

    code = "KER407"
    name = "symbolic-add-loss"
    message = "`add_loss()` outside `call()` fails in Keras 3: add the loss inside a layer's `call()`"
    nodes = (cst.Call,)
    deprecated = True
    examples = (
        Example(
            "import keras\nmodel = keras.Model(inp, out)\n«model.add_loss»(keras.ops.mean(out))\n"
        ),
        Example(
            "import tensorflow as tf\n\ndef build(inputs):\n"
            "    model = tf.keras.Model(inputs, outputs)\n"
            "    «model.add_loss»(tf.reduce_mean(model.output))\n"
            "    return model\n"
        ),
        Example(
            "from tensorflow import keras\n\nclass Head(keras.Model):\n"
            "    def __init__(self):\n        super().__init__()\n"
            "        «self.add_loss»(0.0)\n"
        ),
    )
    valid = (
        "import keras\nclass L(keras.layers.Layer):\n"
        "    def call(self, x):\n        self.add_loss(keras.ops.mean(x))\n        return x\n",
        "import keras\nclass L(keras.layers.Layer):\n"
        "    def add_loss(self, loss):\n        super().add_loss(loss * 2)\n",
        "import keras\nclass M(keras.Model):\n"
        "    def call(self, x):\n        loss = self.add_loss\n        return x\n",
        # A helper that call() runs: the loss is a tensor of the step.
        "import keras\nclass Pool(keras.layers.Layer):\n"
        "    def call(self, x):\n        return self.select(x)\n"
        "    def select(self, x):\n        self.add_loss(keras.ops.mean(x))\n        return x\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"add_loss"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "add_loss" or not node.args:
            return
        receiver = func.value
        if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Name) and receiver.func.value == "super":
            return
        if is_self(func.value) and _in_method_called_by_call(ctx):
            return
        if is_self(func.value) and (ctx.klass is None or not ctx.is_keras_class(ctx.klass)):
            return
        fact = fact_of(ctx, receiver)
        if fact.known and fact.kind not in (MODEL, LAYER):
            return  # another library's `add_loss` (a trainer, a loss registry)
        ctx.report(func)
