"""KER226: Keras model code inside a `tf.data` map function."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import libcst as cst

from ..engine.context import Context
from ..engine.provenance import DATASET, LAYER, MODEL, Where, fact_of
from ..engine.rule import Example, Rule
from ..engine.tables import load_toml
from ..engine.walker import SOURCE_TEXT, code_children

# Dataset methods whose function argument tf.data traces into a TensorFlow graph.
_MAP_METHODS = frozenset({"map", "filter", "flat_map", "interleave"})
# A file that calls none of them has nothing to check.
_MAY_MAP = re.compile(r"\.(?:map|filter|flat_map|interleave)\s*\(")
_SHARED_KEY = "ops.tf_data_map"


@lru_cache(maxsize=1)
def _table() -> tuple[frozenset[str], frozenset[str]]:
    table = load_toml("tf_data_map.toml")
    return frozenset(table["layers"]), frozenset(table["failing_preprocess"])


@dataclass
class _MapFunctions:
    """The functions this module gives a dataset's `map()` (or `filter()` ...)."""

    lambdas: set[int] = field(default_factory=set)
    names: set[str] = field(default_factory=set)


def _map_functions(ctx: Context) -> _MapFunctions:
    found = ctx.shared.get(_SHARED_KEY)
    if found is not None:
        return found
    found = ctx.shared[_SHARED_KEY] = _MapFunctions()
    text = ctx.shared.get(SOURCE_TEXT)
    if text is not None and not _MAY_MAP.search(text):
        return found
    # All the file's statements: a function re-linted alone may be given to `map` in another.
    for stmt in ctx.module_statements:
        _search(ctx, stmt, (), None, found)
    return found


def _search(
    ctx: Context,
    node: cst.CSTNode,
    functions: tuple[cst.FunctionDef, ...],
    klass: cst.ClassDef | None,
    found: _MapFunctions,
) -> None:
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _MAP_METHODS and node.args:
            target = node.args[0].value
            if isinstance(target, (cst.Lambda, cst.Name)) and fact_of(ctx, func.value, Where(functions, klass)).kind == DATASET:
                if isinstance(target, cst.Lambda):
                    found.lambdas.add(id(target))
                else:
                    found.names.add(target.value)
    if isinstance(node, cst.FunctionDef):
        functions = (*functions, node)
    elif isinstance(node, cst.ClassDef):
        klass = node
    for child in code_children(node):
        _search(ctx, child, functions, klass, found)


class KerasCodeInDatasetMap(Rule):
    """
    ## Why
    `tf.data` traces the function given to `map()` into a TensorFlow graph, so the values it
    gets are symbolic TensorFlow tensors on every Keras backend. On JAX and PyTorch, Keras
    computes with the backend's own arrays: a layer such as `Dense`, a model, a `keras.ops`
    call or `keras.applications.resnet50.preprocess_input` there fails with
    "NotImplementedError: Cannot convert a symbolic tf.Tensor (args_0:0) to a numpy array".
    The preprocessing layers made for `tf.data` (`Rescaling`, `Resizing`, the random
    augmentation layers, `Normalization`, `TextVectorization`, `StringLookup` ...) switch to
    TensorFlow there and work on every backend, as does the `preprocess_input` of the
    applications whose mode is plain arithmetic (MobileNet, EfficientNet, Inception ...).

    ## Example
    ```python
    ds = ds.map(lambda x, y: (keras.applications.resnet50.preprocess_input(x), y))
    ds = ds.map(lambda x, y: (encoder(x), y))   # encoder = keras.Sequential([...])
    ```

    ## Use instead
    ```python
    # TensorFlow ops in the pipeline, or the model code in the model:
    inputs = keras.Input((224, 224, 3))
    x = keras.layers.Lambda(keras.applications.resnet50.preprocess_input)(inputs)
    ```

    ## Backends
    JAX and PyTorch (checked on Keras 3.15.1 with TensorFlow installed); on TensorFlow the
    pipeline runs.

    ## Fix safety
    No fix: the code moves into the model, or becomes TensorFlow ops.

    ## References
    - Keras 3 `keras/src/layers/preprocessing/data_layer.py` (the layers that switch backends
      inside tf.data).
    """

    # The functions given to a dataset's `map` and the datasets may be in other statements.
    cross_statement_words = _MAY_MAP
    cross_statement_bindings = _MAY_MAP
    code = "KER226"
    name = "keras-code-in-dataset-map"
    message = "A tf.data map function gets TensorFlow tensors: on JAX and PyTorch this Keras call fails there; move it into the model"
    nodes = (cst.Call,)
    backends = frozenset({"jax", "torch"})
    examples = (
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "ds = tf.data.Dataset.from_tensor_slices((images, labels))\n"
            "ds = ds.map(lambda x, y: («keras.applications.resnet50.preprocess_input(x)», y))\n"
        ),
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "encoder = keras.Sequential([keras.layers.Dense(8)])\n"
            "dense = keras.layers.Dense(4)\n\n"
            "def embed(x):\n"
            "    x = «keras.ops.cast(x, 'float32')»\n"
            "    return «encoder(x)», «dense(x)»\n\n"
            "ds = tf.data.Dataset.from_tensor_slices(features).batch(32).map(embed)\n"
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow import keras\n\n"
            "ds = tf.keras.utils.image_dataset_from_directory('data')\n"
            "ds = ds.map(lambda x, y: («keras.layers.Dense(3)(x)», y))\n"
        ),
    )
    valid = (
        # Layers made for tf.data, and arithmetic preprocessing.
        "import tensorflow as tf\nimport keras\n\n"
        "rescale = keras.layers.Rescaling(1 / 255)\nlookup = keras.layers.StringLookup(vocabulary=['a'])\n"
        "ds = tf.data.Dataset.from_tensor_slices((images, labels))\n"
        "ds = ds.map(lambda x, y: (rescale(keras.layers.RandomFlip()(x)), y))\n"
        "ds = ds.map(lambda x, y: (keras.applications.mobilenet_v2.preprocess_input(x), lookup(y)))\n",
        # Not a dataset's map.
        "import keras\nencoder = keras.layers.Dense(4)\nout = list(map(lambda x: encoder(x), batches))\n"
        "pool.map(lambda x: keras.ops.sum(x), chunks)\n",
        # TensorFlow ops in the map function, Keras outside it.
        "import tensorflow as tf\nimport keras\n\n"
        "def scale(x, y):\n    return tf.cast(x, tf.float32) / 255.0, y\n\n"
        "ds = tf.data.Dataset.from_tensor_slices((images, labels)).map(scale)\n"
        "model = keras.Sequential([keras.layers.Dense(2)])\nmodel.fit(ds)\n",
    )

    def applies_to(self, text: str) -> bool:
        """Whether the file calls a dataset's `map()` or a method like it (see `engine.gates`)."""
        return _MAY_MAP.search(text) is not None

    def visit(self, node: cst.Call, ctx: Context) -> None:
        targets = _map_functions(ctx)
        if not targets.lambdas and not targets.names:
            return
        if not self._in_map_function(ctx, targets):
            return
        func = node.func
        api = ctx.keras_api(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if api is not None:
            name = api[0]
            if name.startswith(("ops.", "random.")) and name.rsplit(".", 1)[-1][:1].islower():
                ctx.report(node)
            elif name.startswith("applications.") and name.endswith(".preprocess_input"):
                module = name.split(".")[1]
                if module in _table()[1]:
                    ctx.report(node)
            return
        if isinstance(func, cst.Call):
            built = ctx.keras_api(func.func) if isinstance(func.func, (cst.Name, cst.Attribute)) else None
            if built is not None and self._not_for_datasets(built[0]):
                ctx.report(node)
            return
        if isinstance(func, (cst.Name, cst.Attribute)):
            fact = fact_of(ctx, func)
            if fact.kind == MODEL or (fact.kind == LAYER and fact.api is not None and self._not_for_datasets(fact.api)):
                ctx.report(node)

    @staticmethod
    def _in_map_function(ctx: Context, targets: _MapFunctions) -> bool:
        if any(function.name.value in targets.names for function in ctx.functions):
            return True
        return any(isinstance(parent, cst.Lambda) and id(parent) in targets.lambdas for parent in ctx.parents)

    @staticmethod
    def _not_for_datasets(api: str) -> bool:
        """A Keras layer class that fails inside tf.data on JAX and PyTorch."""
        if not api.startswith("layers."):
            return False
        leaf = api.rsplit(".", 1)[-1]
        return leaf[:1].isupper() and leaf not in _table()[0] and leaf not in ("Input", "InputLayer")
