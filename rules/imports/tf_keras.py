"""KER101: Keras reached through TensorFlow (`tf.keras`, `tensorflow.keras`)."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, string_value
from ..engine.edits import FixSpec, Replace
from ..engine.names import dotted_name, name_nodes
from ..engine.rule import BACKENDS, Example, Rule
from ._common import chain_words, exists, full_name, is_module, module_api, owner, shim_alternatives

# Modules whose `keras` attribute is the Keras 2 API (or, with TF >= 2.16, its compat shim).
TF_MODULES = frozenset({"tensorflow", "tensorflow.compat.v1", "tensorflow.compat.v2"})
TF_KERAS = frozenset(f"{module}.keras" for module in TF_MODULES)


_VERSION_NAMES = frozenset({"version", "__version__"})


def _reads_only_version(scope: cst.CSTNode, name: str) -> bool:
    """Whether every use of `name` in `scope` (its imports apart) reads the version:
    `keras.version()`, `keras.__version__`, `hasattr(keras, "version")`, `getattr(keras,
    "__version__", ...)`; and there is one. Nested functions and classes count as uses: they
    may use the name however they like."""
    uses = 0
    todo: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(scope, ())]
    while todo:
        node, above = todo.pop()
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            continue
        if isinstance(node, cst.Name) and node.value == name:
            uses += 1
            if not _version_read(node, above):
                return False
            continue
        if node is not scope and isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            if any(isinstance(n, cst.Name) and n.value == name for n in name_nodes(node)):
                return False
            continue
        todo.extend((child, (*above[-2:], node)) for child in node.children)
    return uses > 0


def _version_read(name: cst.Name, above: tuple[cst.CSTNode, ...]) -> bool:
    parent = above[-1] if above else None
    if isinstance(parent, cst.Attribute) and parent.value is name:
        return parent.attr.value in _VERSION_NAMES
    if isinstance(parent, cst.Arg) and len(above) >= 2 and isinstance(above[-2], cst.Call):
        call = above[-2]
        if isinstance(call.func, cst.Name) and call.func.value in ("hasattr", "getattr") and len(call.args) >= 2:
            return call.args[0] is parent and string_value(call.args[1].value) in _VERSION_NAMES
    return False


def _tf_keras_node(node: cst.Attribute, ctx: Context) -> cst.Attribute | None:
    """The `tf.keras` part of a chain that spells it (`tf.keras.layers.Dense`); None for a chain
    whose root was imported from `tensorflow.keras` (its import is what gets reported)."""
    expr: cst.BaseExpression = node
    while isinstance(expr, cst.Attribute):
        if expr.attr.value == "keras" and ctx.qualname(expr) in TF_KERAS:
            return expr
        expr = expr.value
    return None


class TfKerasNamespace(Rule):
    """
    ## Why
    Keras 3 is its own package, `keras`. With TensorFlow >= 2.16, `tf.keras` only forwards to a
    compatibility shim of it; without TensorFlow (JAX or PyTorch backend) it does not exist at
    all: `ModuleNotFoundError: No module named 'tensorflow'`. Importing Keras through
    TensorFlow also ties code that could run on every backend to TensorFlow.

    The fix is applied only where the name exists in Keras 3 (checked against the public API of
    Keras 3.15.1). A few names live on only in the `tf.keras` shim (see KER103) and names that
    Keras 3 removed have their own rules (KER102-KER113, KER603-KER608): this rule leaves those
    to them, and does not rewrite a `from tensorflow.keras... import` that mixes them in.

    ## Example
    ```python
    import tensorflow as tf
    from tensorflow import keras
    from tensorflow.keras.layers import Dense

    model = tf.keras.Sequential([Dense(10)])
    ```

    ## Use instead
    ```python
    import keras
    from keras.layers import Dense

    model = keras.Sequential([Dense(10)])
    ```

    ## Backends
    JAX and PyTorch, where `tf.keras` cannot even be imported without TensorFlow. On the
    TensorFlow backend (TensorFlow >= 2.16) `tf.keras` forwards to Keras 3 itself: the same
    classes (`tf.keras.layers.Dense is keras.layers.Dense`), so the code runs as it is and the
    import is only a needless tie to TensorFlow. Checked on Keras 3.15.1 with TensorFlow 2.21.
    A name that neither Keras 3 nor the shim has (`tf.keras.metrics.mean_iou`) fails on every
    backend: KER115 reports it.

    Not reported: the Keras 2 branch of a compatibility shim (an `if` / `try` whose other branch
    imports `keras` or `keras_core`), and a version probe, a `from tensorflow import keras` whose
    name serves only to read the version (`hasattr(keras, "version")`, `keras.version()`,
    `keras.__version__`) to learn which Keras TensorFlow uses.

    ## Fix safety
    Safe: the Keras 3 name is the same object the `tf.keras` shim forwards to. `import
    tensorflow.keras` (without `as`) and `from tensorflow import keras, ...` with other names are
    reported without a fix: they bind more than Keras.

    ## References
    - Catalogue K3-IMP-001; Keras migration guide, "Replace your imports".
    """

    code = "KER101"
    name = "tf-keras-namespace"
    message = "Keras is imported through TensorFlow: import `keras` itself"
    nodes = (cst.Attribute, cst.ImportFrom, cst.Import)
    fix = "safe"
    backends = frozenset({"jax", "torch"})
    examples = (
        Example(
            "import tensorflow as tf\nmodel = «tf.keras.Sequential»([«tf.keras.layers.Dense»(1)])\n",
            "import tensorflow as tf\nimport keras\nmodel = keras.Sequential([keras.layers.Dense(1)])\n",
        ),
        Example(
            "«from tensorflow import keras»\nmodel = keras.Model()\n",
            "import keras\nmodel = keras.Model()\n",
        ),
        Example(
            "«from tensorflow import keras as K»\nx = K.layers.Dense(1)\n",
            "import keras as K\nx = K.layers.Dense(1)\n",
        ),
        # Not a version probe: the name also builds a layer.
        Example(
            "def make():\n    «from tensorflow import keras»\n\n"
            "    if hasattr(keras, 'version'):\n        return keras.layers.Dense(1)\n",
            "def make():\n    import keras\n\n"
            "    if hasattr(keras, 'version'):\n        return keras.layers.Dense(1)\n",
        ),
        Example(
            "from «tensorflow.keras.layers» import Dense, Dropout\n",
            "from keras.layers import Dense, Dropout\n",
        ),
        Example(
            "from «tensorflow.keras» import layers, Model\n",
            "from keras import layers, Model\n",
        ),
        Example(
            "import «tensorflow.keras» as K\nimport «tensorflow.keras.backend» as B\n",
            "import keras as K\nimport keras.backend as B\n",
        ),
        Example(
            "import «tensorflow.keras» as keras\n",
            "import keras\n",
        ),
        Example(
            "import tensorflow as tf\nimport keras\nloss = «tf.compat.v1.keras.losses.Huber»()\n",
            "import tensorflow as tf\nimport keras\nloss = keras.losses.Huber()\n",
        ),
        Example(
            "import tensorflow as tf\n«from tensorflow import keras»\nx = «tf.keras.layers.Dense»(1)\n",
            "import tensorflow as tf\nimport keras\nx = keras.layers.Dense(1)\n",
        ),
        # A name that exists only in the tf.keras shim blocks the rewrite of the whole import.
        Example("from «tensorflow.keras.backend» import int_shape, floatx\n", None),
        Example("import «tensorflow.keras»\n", None),
        Example("from tensorflow import «keras», nn\n", None),
        # In the same branch as the Keras 3 import: not a fallback.
        Example(
            "if KERAS_3:\n    import keras\n    from «tensorflow.keras» import layers\n",
            "if KERAS_3:\n    import keras\n    from keras import layers\n",
        ),
    )
    valid = (
        "import keras\nfrom keras import layers\nmodel = keras.Sequential([layers.Dense(1)])\n",
        "def build(tf):\n    return tf.keras.layers.Dense(1)\n",
        "import tensorflow as tf\nx = tf.constant(1.0)\n",
        "import my_lib as tf\nx = tf.keras.layers.Dense(1)\n",
        # Handled by the rules that know what replaces them.
        "import tensorflow as tf\nx = tf.keras.layers.experimental.preprocessing.Rescaling(1.0)\n",
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n",
        "from tensorflow.keras.optimizers.legacy import Adam\n",
        "import tensorflow as tf\nk = tf.keras.backend.int_shape\n",
        "from tensorflow.python.keras.layers import Dense\n",
        "from tf_keras import layers\n",
        # The Keras 2 fallback of a shim whose other branch imports Keras 3 (or keras_core).
        "try:\n    import keras\nexcept ImportError:\n    from tensorflow import keras\n",
        "import tensorflow as tf\nif KERAS_3:\n    from keras import layers\nelse:\n"
        "    from tensorflow.keras import layers\n    if not hasattr(tf.keras, 'saving'):\n        pass\n",
        "if MULTI_BACKEND:\n    from keras_core import *\nelse:\n    from tensorflow.keras import *\n",
        # A probe of the Keras TensorFlow uses: the name serves only to read its version.
        "def tensorflow_uses_keras_3():\n    from tensorflow import keras\n\n"
        "    return hasattr(keras, 'version') and keras.version().startswith('3.')\n",
    )

    # One walk finds both kinds of finding: this rule reports the names Keras 3 has (reached
    # through TensorFlow), KER115 below the ones it does not have at all.
    def _migrate(self, ctx: Context, node: cst.CSTNode, message: str | None = None, **kwargs) -> None:
        # The Keras 2 fallback of a shim whose other branch imports Keras 3 (or `keras_core`).
        if not {"keras", "keras_core"}.isdisjoint(shim_alternatives(ctx)):
            return
        ctx.report(node, message, **kwargs)

    def _missing(self, node: cst.CSTNode, ctx: Context, message: str) -> None:
        pass

    def attribute_words(self) -> frozenset[str]:
        """For the walker: an attribute is visited only when its whole chain spells `keras`
        (see `engine.gates`); `_chain` tests the same."""
        return frozenset({"keras"})

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:
        if type(node) is cst.Attribute:
            self._chain(node, ctx)  # type: ignore[arg-type]
        elif type(node) is cst.ImportFrom:
            self._from_import(node, ctx)  # type: ignore[arg-type]
        elif type(node) is cst.Import:
            self._import(node, ctx)  # type: ignore[arg-type]

    def _chain(self, node: cst.Attribute, ctx: Context) -> None:
        names = chain_words(node, ctx)
        if names is None or "keras" not in names:
            return
        api = ctx.keras_api(node)
        if api is None or api[1] != "tf.keras":
            return
        prefix = _tf_keras_node(node, ctx)
        if prefix is None:
            return
        path = api[0]
        if owner(path, api[1]) is not None:
            return
        if not exists(path):
            self._missing(node, ctx, f"`{full_name(path)}` does not exist in Keras 3")
            return
        fix = None
        reference = ctx.reference("keras")
        if reference is not None:
            fix = FixSpec.safe("Use `keras`", Replace(prefix, reference[0]), imports=reference[1])
        self._migrate(ctx, node, fix=fix)

    def _from_import(self, node: cst.ImportFrom, ctx: Context) -> None:
        if node.relative or node.module is None:
            return
        module = dotted_name(node.module)
        if module in TF_MODULES:
            self._keras_from_tensorflow(node, ctx)
            return
        api = module_api(module)
        if api is None or api[1] != "tf.keras":
            return
        module_path = api[0]
        if owner(module_path, "tf.keras") is not None:
            return
        if isinstance(node.names, cst.ImportStar):
            names: list[str] = []
        else:
            names = [dotted_name(alias.name) or "" for alias in node.names]
        paths = [f"{module_path}.{name}" if module_path else name for name in names]
        owned = [owner(path, "tf.keras") for path in paths]
        if names and all(owned):
            return
        if not is_module(module_path):
            self._missing(node.module, ctx, f"`{full_name(module_path)}` does not exist in Keras 3")
            return
        missing = [name for name, path, who in zip(names, paths, owned) if who or not exists(path)]
        if missing:
            listed = ", ".join(f"`{name}`" for name in missing)
            self._migrate(
                ctx,
                node.module,
                f"Keras is imported through TensorFlow, but {listed} "
                f"{'does' if len(missing) == 1 else 'do'} not exist in `{full_name(module_path)}` "
                "of Keras 3: move the other names to a `keras` import",
            )
            return
        self._migrate(
            ctx,
            node.module,
            fix=FixSpec.safe(f"Import from `{full_name(module_path)}`", Replace(node.module, full_name(module_path))),
        )

    def _keras_from_tensorflow(self, node: cst.ImportFrom, ctx: Context) -> None:
        """`from tensorflow import keras [as K]` -> `import keras [as K]`."""
        if isinstance(node.names, cst.ImportStar):
            return
        aliases = [alias for alias in node.names if dotted_name(alias.name) == "keras"]
        if not aliases:
            return
        if len(node.names) > 1:
            self._migrate(ctx, aliases[0].name, "Keras is imported through TensorFlow: import it with `import keras`")
            return
        alias = aliases[0]
        bound = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else "keras"
        scope = ctx.functions[-1] if ctx.functions else ctx.module
        if _reads_only_version(scope, bound):
            # `from tensorflow import keras` to ask which Keras TensorFlow uses: a version probe.
            return
        text = "import keras" if bound == "keras" else f"import keras as {bound}"
        self._migrate(ctx, node, fix=FixSpec.safe(f"Use `{text}`", Replace(node, text)))

    def _import(self, node: cst.Import, ctx: Context) -> None:
        for alias in node.names:
            name = dotted_name(alias.name)
            api = module_api(name)
            if api is None or api[1] != "tf.keras" or owner(api[0], "tf.keras") is not None:
                continue
            if not name or not name.startswith(("tensorflow.keras", "tensorflow.compat.")):
                continue
            path = api[0]
            if alias.asname is None:
                self._migrate(ctx, alias.name, "Keras is imported through TensorFlow: use `import keras`")
            elif not (path == "" or is_module(path)):
                self._missing(alias.name, ctx, f"`{full_name(path)}` is not a module of Keras 3")
            elif isinstance(alias.asname.name, cst.Name) and alias.asname.name.value == "keras" and path == "":
                self._migrate(
                    ctx,
                    alias.name,
                    fix=FixSpec.safe("Use `import keras`", Replace(alias.name, "keras", end=alias.asname)),
                )
            else:
                self._migrate(ctx, alias.name, fix=FixSpec.safe(f"Import `{full_name(path)}`", Replace(alias.name, full_name(path))))




class NameMissingFromKeras3(TfKerasNamespace):
    """
    ## Why
    A name reached through `tf.keras` that Keras 3 does not have, nor the `tf.keras` shim that
    TensorFlow >= 2.16 forwards to: it fails on every backend, with TensorFlow installed or not
    (`AttributeError: module 'keras._tf_keras.keras.metrics' has no attribute 'mean_iou'` on
    TensorFlow 2.21). Names that Keras 3 moved or replaced have their own rules with the
    replacement (KER102-KER113, KER603-KER608); this one is for the rest.

    ## Example
    ```python
    import tensorflow as tf
    iou = tf.keras.metrics.mean_iou(y_true, y_pred, 3)
    ```

    ## Use instead
    Keras 3's counterpart, if it has one (here the `keras.metrics.MeanIoU` class), or
    TensorFlow's own op.

    ## Backends
    All.

    ## Fix safety
    No fix: whether a replacement exists, and which, depends on the name.

    ## References
    - Catalogue K3-IMP-001; the public API of Keras 3.15.1 (`rules/data/keras3_api.txt`).
    """

    code = "KER115"
    name = "name-missing-from-keras3"
    message = "This `tf.keras` name does not exist in Keras 3"
    fix = "none"
    backends = BACKENDS
    examples = (
        Example("import tensorflow as tf\nx = «tf.keras.layers.NoSuchLayer»\n"),
        Example("import tensorflow as tf\niou = «tf.keras.metrics.mean_iou»(y_true, y_pred, 3)\n"),
        Example("from «tensorflow.keras.no_such_module» import thing\n"),
        Example("import «tensorflow.keras.layers.Dense» as D\n"),
    )
    valid = (
        "import tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.layers.Dense(1)])\n",
        "from tensorflow.keras.layers import Dense\n",
        "import tensorflow.keras as K\n",
        "import keras\nx = keras.layers.Dense(1)\n",
    )

    def _migrate(self, ctx: Context, node: cst.CSTNode, message: str | None = None, **kwargs) -> None:
        pass

    def _missing(self, node: cst.CSTNode, ctx: Context, message: str) -> None:
        ctx.report(node, message)
