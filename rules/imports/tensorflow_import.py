"""KER107: an unconditional `import tensorflow` in Keras 3 multi-backend code."""

from __future__ import annotations

import libcst as cst

from ..context import Context
from ..names import dotted_name
from ..rule import Example, Rule


def _is_tensorflow(module: str | None) -> bool:
    return module == "tensorflow" or (module or "").startswith("tensorflow.")


def _imports_keras3(ctx: Context) -> bool:
    return any(bound == "keras" or bound.startswith("keras.") for bound in ctx.scopes.module.values())


class UnconditionalTensorflowImport(Rule):
    """
    ## Why
    Keras 3 code runs on JAX, PyTorch or TensorFlow, but a module that imports TensorFlow at its
    top level cannot even be imported where TensorFlow is not installed
    (`ModuleNotFoundError: No module named 'tensorflow'`), and on other backends it pays
    TensorFlow's import time and memory for nothing. This rule reports the import in a module
    that also imports `keras` itself (Keras 3 style); an import inside `try: ... except
    ImportError:` or inside a function is not reported.

    ## Example
    ```python
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    tf.random.set_seed(0)
    ```

    ## Use instead
    ```python
    import keras

    keras.utils.set_random_seed(0)  # seeds Python, NumPy and the backend
    ```
    or, where TensorFlow is optional:
    ```python
    try:
        import tensorflow as tf
    except ImportError:
        tf = None
    ```

    ## Backends
    JAX and PyTorch: with the TensorFlow backend, TensorFlow is installed anyway.

    ## Fix safety
    No fix: replace the TensorFlow calls with backend-neutral ones (`keras.ops`,
    `keras.random`, `keras.utils.set_random_seed`, plain Python file I/O instead of
    `tf.io.gfile`), or make the import optional.

    ## References
    - Catalogue MB-DEP-001; scikeras 0.13 `utils/random_state.py`; keras-tuner 1.4
      `backend/io.py`.
    """

    code = "KER107"
    name = "unconditional-tensorflow-import"
    message = "TensorFlow is imported unconditionally in Keras 3 code: it cannot run without TensorFlow installed"
    nodes = (cst.Import, cst.ImportFrom)
    backends = frozenset({"jax", "torch"})
    examples = (
        Example("import keras\n«import tensorflow as tf»\n", None),
        Example("from keras import layers\n«import tensorflow»\n", None),
        Example("import keras\n«from tensorflow import data as tf_data»\n", None),
    )
    valid = (
        "import tensorflow as tf\nx = tf.constant(1)\n",
        "import tensorflow as tf\nfrom tensorflow import keras\n",
        "import keras\ntry:\n    import tensorflow as tf\nexcept ImportError:\n    tf = None\n",
        "import keras\ndef to_tf(x):\n    import tensorflow as tf\n    return tf.constant(x)\n",
        "import keras\nfrom tensorflow import keras as tf_keras\n",
        "import keras\nimport tensorflow_datasets as tfds\n",
    )

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:
        # Module level only: the Module and the statement line are the only ancestors.
        if len(ctx.parents) != 2:
            return
        if type(node) is cst.Import:
            if not any(_is_tensorflow(dotted_name(alias.name)) for alias in node.names):  # type: ignore[union-attr]
                return
        else:
            assert isinstance(node, cst.ImportFrom)
            if node.relative or node.module is None or not _is_tensorflow(dotted_name(node.module)):
                return
            module = dotted_name(node.module) or ""
            # Keras imported through TensorFlow is KER101's.
            if module.startswith(("tensorflow.keras", "tensorflow.python.keras")):
                return
            if module == "tensorflow" and not isinstance(node.names, cst.ImportStar):
                if all(dotted_name(alias.name) == "keras" for alias in node.names):
                    return
        if _imports_keras3(ctx):
            ctx.report(node)
