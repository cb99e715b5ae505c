"""KER107: an unconditional `import tensorflow` in Keras 3 multi-backend code."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ..ops._sites import tensorflow_uses
from ._unused import removal_fix


def _is_tensorflow(module: str | None) -> bool:
    return module == "tensorflow" or (module or "").startswith("tensorflow.")


def _tensorflow_alias(alias: cst.ImportAlias) -> bool:
    return _is_tensorflow(dotted_name(alias.name))


def _keras_module(alias: cst.ImportAlias) -> bool:
    return (dotted_name(alias.name) or "").startswith(("tensorflow.keras", "tensorflow.python.keras"))


def _imports_keras3(ctx: Context) -> bool:
    return any(bound == "keras" or bound.startswith("keras.") for bound in ctx.scopes.module.values())


class UnconditionalTensorflowImport(Rule):
    """
    ## Why
    Keras 3 code runs on JAX, PyTorch or TensorFlow, but a module that imports TensorFlow at its
    top level cannot even be imported where TensorFlow is not installed
    (`ModuleNotFoundError: No module named 'tensorflow'`), and on other backends it pays
    TensorFlow's import time and memory for nothing. This rule reports the import in a module
    that also imports `keras` itself (Keras 3 style), or uses Keras through TensorFlow (Keras 2
    code: `from tensorflow import keras`, `tf.keras.Model`), which is about to become Keras 3
    code, or needs TensorFlow only for file I/O and logging (`tf.io.gfile`, `tf.get_logger`,
    which KER225 reports with their plain-Python forms); an import inside `try: ... except
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
    Safe when nothing in the file uses the names the import binds: the fix deletes the import.
    That is what the other fixes leave behind (`tf.nest.flatten` -> `keras.tree.flatten`,
    `tf.reduce_mean` -> `keras.ops.mean`), and `--fix` re-checks the file after each pass, so
    the import goes in the pass after its last use. The fix is on this finding rather than on a
    rule of its own because the import is the problem either way: used or not, it is what
    stops the module from loading without TensorFlow. "Unused" is decided conservatively: a
    name read anywhere (even a local that shadows it, `del tf`, `global tf`), named in a string
    (`__all__`, a string annotation) or bound by a star import counts as used; an import
    inside `try:` / `if:` is not reported at all; in a package's `__init__.py` (where an
    import may be a re-export) the deletion is unsafe.

    While the import still has uses there is no fix: replace the TensorFlow calls with
    backend-neutral ones (`keras.ops`, `keras.random`, `keras.utils.set_random_seed`, plain
    Python file I/O instead of `tf.io.gfile`), or make the import optional.

    ## References
    - Catalogue MB-DEP-001; scikeras 0.13 `utils/random_state.py`; keras-tuner 1.4
      `backend/io.py`.
    """

    code = "KER107"
    name = "unconditional-tensorflow-import"
    message = "TensorFlow is imported unconditionally in Keras 3 code: it cannot run without TensorFlow installed"
    utilities_message = (
        "TensorFlow is imported only for file I/O or logging (`tf.io.gfile`, `tf.get_logger`),"
        " which Python does without it"
    )
    keras2_message = (
        "TensorFlow is imported unconditionally in Keras code: on Keras 3 this module cannot run"
        " without TensorFlow installed"
    )
    nodes = (cst.Import, cst.ImportFrom)
    backends = frozenset({"jax", "torch"})
    fix = "safe"
    examples = (
        Example("import keras\n«import tensorflow as tf»\n\nx = tf.ones(3)\n", None),
        Example("from keras import layers\n«import tensorflow»\nprint(tensorflow.__version__)\n", None),
        Example("import keras\n«from tensorflow import data as tf_data»\nds = tf_data.Dataset.range(3)\n", None),
        # Nothing uses it any more (a fix replaced `tf.nest.flatten` with `keras.tree.flatten`).
        Example(
            '"""Flatten."""\nimport keras\n«import tensorflow as tf»  # for tf.nest\n\nflat = keras.tree.flatten(x)\n',
            '"""Flatten."""\nimport keras\n\nflat = keras.tree.flatten(x)\n',
        ),
        # Only the unused name goes.
        Example(
            "import keras\n«from tensorflow import nest, data»\nds = data.Dataset.range(3)\n",
            "import keras\nfrom tensorflow import data\nds = data.Dataset.range(3)\n",
        ),
        Example(
            "import keras\n«from tensorflow import data, nest, io»\nds = data.Dataset.range(3)\n",
            "import keras\nfrom tensorflow import data\nds = data.Dataset.range(3)\n",
        ),
        # A function that imports TensorFlow itself (the TensorFlow branch of a per-backend
        # `train_step`) reads its own `tf`, not the module's.
        Example(
            "import keras\n«import tensorflow as tf»\n\ndef f():\n    import tensorflow as tf\n    return tf.ones(1)\n",
            "import keras\n\ndef f():\n    import tensorflow as tf\n    return tf.ones(1)\n",
        ),
        # ... unless it declares it `global`, or its defaults read the module's.
        Example(
            "import keras\n«import tensorflow as tf»\n\ndef f():\n    global tf\n    import tensorflow as tf\n",
            None,
        ),
        Example(
            "import keras\n«import tensorflow as tf»\n\ndef f(x=tf.ones(1)):\n    import tensorflow as tf\n",
            None,
        ),
        # A use in a string (an annotation, `__all__`) or a `del` keeps it.
        Example('import keras\n«import tensorflow as tf»\n\ndef f(x: "tf.Tensor"):\n    return x\n', None),
        Example("import keras\n«import tensorflow as tf»\ndel tf\n", None),
        Example(
            "import keras\n«import numpy as np, tensorflow as tf»\n",
            "import keras\nimport numpy as np\n",
        ),
        # Keras 2 code, which becomes Keras 3 code: Keras imported through TensorFlow, or
        # spelled `tf.keras`. The Keras import itself is KER101's.
        Example("«import tensorflow as tf»\nfrom tensorflow import keras\n\nx = tf.ones(3)\n", None),
        Example("«import tensorflow as tf»\nfrom tensorflow.keras.layers import Dense\n\nx = tf.ones(3)\n", None),
        Example("«import tensorflow as tf»\n\nmodel = tf.keras.Sequential()\n", None),
        Example(
            "«from tensorflow import io as tf_io»\nimport tensorflow.keras as keras\n\n"
            "exists = tf_io.gfile.exists\n",
            None,
        ),
        # TensorFlow only for file I/O and logging: Python does both without it.
        Example(
            "import json\n«import tensorflow as tf»\n\n\ndef load(path):\n"
            "    with tf.io.gfile.GFile(path) as f:\n        return json.load(f)\n",
            None,
        ),
    )
    valid = (
        "import tensorflow as tf\nx = tf.constant(1)\n",
        # TensorFlow for more than file I/O.
        "import tensorflow as tf\n\nif tf.io.gfile.exists(p):\n    x = tf.constant(1)\n",
        # Not Keras code: TensorFlow's own modules only.
        "import tensorflow as tf\nfrom tensorflow import data\n\nds = data.Dataset.range(3).map(tf.square)\n",
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
            # `import tensorflow.keras as keras` is KER101's.
            if not any(_tensorflow_alias(alias) and not _keras_module(alias) for alias in node.names):  # type: ignore[union-attr]
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
            message = None
        else:
            uses = tensorflow_uses(ctx)
            if uses.keras:
                message = self.keras2_message
            elif uses.only_utilities:
                message = self.utilities_message
            else:
                return
        # `import tensorflow as tf, numpy as np` names each module; `from tensorflow import
        # a, b` imports only from TensorFlow.
        concerns = _tensorflow_alias if type(node) is cst.Import else None
        ctx.report(node, message, fix=removal_fix(node, ctx, "TensorFlow", concerns))
