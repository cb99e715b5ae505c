"""KER540: `tf.data` and TensorFlow-backed preprocessing layers in code meant for JAX or PyTorch."""

from __future__ import annotations

import re

import libcst as cst

from ..engine.context import Context, keras_api
from ..engine.model import Severity
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ..engine.walker import SOURCE_TEXT
from ..ops._sites import root_name, tensorflow_uses
from ._common import run_cached

_TF_LAYER_NAMES = ("TextVectorization", "StringLookup")
_TF_LAYERS = frozenset(f"layers.{name}" for name in _TF_LAYER_NAMES)
_TF_DATA = "tensorflow.data"
# Reported once per file: a use in one statement decides whether one in another is reported.
_USES = re.compile(r"\bdata\b|TextVectorization|StringLookup")


class TensorflowDataPipeline(Rule):
    """
    ## Why
    `fit()` accepts `tf.data.Dataset`s on every backend, and `TextVectorization` / `StringLookup`
    work on every backend too, but all of them run TensorFlow: a JAX or PyTorch project that
    uses them must install TensorFlow and pays its import time and memory. That is a fine
    choice (the keras.io examples keep `from tensorflow import data as tf_data`); this note makes
    it a conscious one. It is reported once per file, and not where TensorFlow is imported
    optionally (`try: import tensorflow as tf` / `except ImportError: tf = None`): code that
    takes a `tf.data.Dataset` when TensorFlow is there does not depend on it.

    ## Example
    ```python
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    model.fit(ds)
    ```

    ## Use instead
    For TensorFlow-free code, a `keras.utils.PyDataset`, a Python generator, NumPy arrays or a
    PyTorch `DataLoader`.

    ## Backends
    JAX and PyTorch.

    ## Fix safety
    No fix: this is information.

    ## References
    - Catalogue MB-DATA-001.
    """

    # Once per file, and only in a file that imports Keras or spells `.keras`.
    cross_statement_words = _USES
    cross_statement_presence = re.compile(r"\.keras")
    code = "KER540"
    name = "tensorflow-data-pipeline"
    message = "`{what}` makes TensorFlow a runtime dependency of this JAX/PyTorch code (allowed; `keras.utils.PyDataset` avoids it)"
    nodes = (cst.Attribute, cst.ImportFrom)
    severity = Severity.INFO
    backends = frozenset({"jax", "torch"})
    examples = (
        Example(
            "import keras\nimport tensorflow as tf\n"
            "ds = «tf.data».Dataset.from_tensor_slices(x).batch(32)\n"
            "val = tf.data.Dataset.range(3)\n"
        ),
        Example("import keras\nfrom tensorflow import «data as tf_data»\nds = tf_data.Dataset.range(10)\n"),
        Example("import keras\nvectorize = «keras.layers.TextVectorization»(max_tokens=100)\n"),
        Example("from keras.layers import «StringLookup»\nlookup = StringLookup()\n"),
    )
    valid = (
        "import keras\nclass Rows(keras.utils.PyDataset):\n    pass\n",
        "import tensorflow as tf\ndef f(tf):\n    return tf.data\n",
        "import keras\nfrom sklearn import datasets\ndata = datasets.load_iris().data\n",
        # TensorFlow imported optionally: datasets are taken when it is there.
        "import keras\ntry:\n    import tensorflow as tf\nexcept ImportError:\n    tf = None\n\n"
        "def unpack(x):\n    if tf and isinstance(x, tf.data.Dataset):\n        return list(x)\n    return x\n",
        "import keras\ntry:\n    from tensorflow import data as tf_data\nexcept ImportError:\n    tf_data = None\n",
        # TensorFlow code without Keras.
        "import tensorflow as tf\n\ndef records(pattern):\n    return tf.data.TFRecordDataset(tf.io.gfile.glob(pattern))\n",
    )

    def _first(self, ctx: Context, kind: str) -> bool:
        seen: set[str] = run_cached(ctx, "tensorflow-data", set)
        if kind in seen:
            return False
        seen.add(kind)
        return True

    def attribute_names(self) -> frozenset[str]:
        """The attribute names `visit` acts on (see `engine.gates`)."""
        return frozenset({"data", *_TF_LAYER_NAMES})

    def visit(self, node: cst.Attribute | cst.ImportFrom, ctx: Context) -> None:
        if not _keras_module(ctx):
            return  # TensorFlow code without Keras: not the JAX / PyTorch code this is about
        if isinstance(node, cst.ImportFrom):
            self._visit_import(node, ctx)
            return
        attr = node.attr.value
        if attr == "data":
            if ctx.qualname(node) == _TF_DATA and _required(root_name(node), ctx) and self._first(ctx, "data"):
                ctx.report(node, self.message.format(what="tf.data"))
        elif attr in _TF_LAYER_NAMES:
            api = ctx.keras_api(node)
            if api is not None and api[0] in _TF_LAYERS and self._first(ctx, attr):
                ctx.report(node, self.message.format(what=attr))

    def _visit_import(self, node: cst.ImportFrom, ctx: Context) -> None:
        if node.relative or isinstance(node.names, cst.ImportStar) or node.module is None:
            return
        module = dotted_name(node.module)
        if module is None or not (module == "tensorflow" or module.endswith("layers")):
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            # The alias without its trailing comma: `data as tf_data`.
            end = alias.asname.name if alias.asname is not None else alias.name
            local = dotted_name(alias.asname.name) if alias.asname is not None else name
            if module == "tensorflow" and name == "data" and _required(local, ctx) and self._first(ctx, "data"):
                ctx.report(alias.name, self.message.format(what="tf.data"), end=end)
            elif name in ("TextVectorization", "StringLookup"):
                api = keras_api(f"{module}.{name}")
                if api is not None and api[0] in _TF_LAYERS and self._first(ctx, name):
                    ctx.report(alias.name, self.message.format(what=name), end=end)


_KERAS_MODULE = "training.tf_data.keras_module"


def _required(name: str | None, ctx: Context) -> bool:
    """Whether the name `tf.data` is reached through is bound by an unconditional top-level
    import: TensorFlow imported under `try` / `if` is optional (`try: import tensorflow as tf`
    / `except ImportError: tf = None`), and code that uses `tf.data` only when it is there (`if
    tf and isinstance(x, tf.data.Dataset)`) makes it no dependency."""
    return name is not None and name in tensorflow_uses(ctx).unconditional


def _keras_module(ctx: Context) -> bool:
    """Whether the module imports Keras (any spelling) or spells `tf.keras` (once per lint)."""
    found = ctx.shared.get(_KERAS_MODULE)
    if found is None:
        text = ctx.shared.get(SOURCE_TEXT)
        found = ctx.shared[_KERAS_MODULE] = ctx.imports_keras() or text is None or ".keras" in text
    return found
