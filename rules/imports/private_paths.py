"""KER102: private Keras modules (`keras.engine`, `keras.layers.core`, `keras.src`,
`tensorflow.python.keras`)."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context
from ..engine.names import dotted_name
from ..engine.rule import Example
from ._common import Match, Row, TableRule, exists, leaves, quoted, replacement, row_for


@lru_cache(maxsize=1)
def _words() -> frozenset[str]:
    return leaves("KER102") | {"src", "python"}


def _public(path: str) -> str | None:
    """The public Keras 3 path of a private one, e.g. `saving.register_keras_serializable` for
    `src.saving.saving_api.register_keras_serializable`."""
    row = row_for(path)
    if row is not None:
        return replacement(row, path)
    if exists(path):
        return path
    return None


class PrivateKerasPath(TableRule):
    """
    ## Why
    Keras 2 code often imported from modules that were never public: `keras.engine`,
    `keras.layers.core`, `tensorflow.python.keras`. Keras 3 has neither `keras.engine` nor the
    layer submodules: `ModuleNotFoundError: No module named 'keras.engine'` (and
    `'keras.layers.core'`). `tensorflow.python.keras` still imports where TensorFlow is
    installed (TensorFlow 2.21 ships its private Keras 2 copy), but its classes are not Keras 3
    ones: a Keras 3 model rejects its layers (`ValueError: Only instances of `keras.Layer` can
    be added to a Sequential model`). Keras 3's own implementation lives in `keras.src`, which
    is private too: it was rearranged several times in 3.x releases (for example "Generate API
    (#19530)"), so code importing from it breaks on upgrades.

    ## Example
    ```python
    from keras.engine.base_layer import Layer
    from keras.src.saving import register_keras_serializable
    ```

    ## Use instead
    ```python
    from keras.layers import Layer
    from keras.saving import register_keras_serializable
    ```

    ## Backends
    All.

    ## Fix safety
    Safe when every imported name has a public home in Keras 3 (the public name is the same
    object); otherwise there is no fix and the message says which module is private. The
    `keras.utils` submodules (`np_utils`, `generic_utils`, ...) are reported by KER112.

    ## References
    - Catalogue K3-IMP-002.
    """

    code = "KER102"
    name = "private-keras-path"
    message = "Private Keras module: import from the public API"
    fix = "safe"
    examples = (
        Example(
            "from «keras.engine.base_layer» import Layer\n",
            "from keras.layers import Layer\n",
        ),
        Example(
            "from «keras.engine.training» import Model\n",
            "from keras.models import Model\n",
        ),
        Example(
            "from «keras.layers.core» import Dense, Dropout\n",
            "from keras.layers import Dense, Dropout\n",
        ),
        Example(
            "from «keras.src.saving» import register_keras_serializable\n",
            "from keras.saving import register_keras_serializable\n",
        ),
        Example(
            "from «keras.src.saving.saving_lib» import load_model, save_model\n",
            "from keras.saving import load_model, save_model\n",
        ),
        Example(
            "from «tensorflow.python.keras.layers» import Dense\n",
            "from keras.layers import Dense\n",
        ),
        Example(
            "from «tensorflow.python.keras» import backend as K\n",
            "from keras import backend as K\n",
        ),
        Example(
            "import keras\nx = «keras.src.ops.numpy.sum»(y)\n",
            "import keras\nx = keras.ops.sum(y)\n",
        ),
        Example(
            "from keras import layers\nx = «layers.core.Dense»(1)\n",
            "from keras import layers\nx = layers.Dense(1)\n",
        ),
        # Names that have no public home, or homes in two modules: no fix.
        Example("from «keras.engine» import base_layer\n", None),
        Example("from «keras.src.backend.common.variables» import standardize_shape\n", None),
        Example("from «keras.engine.base_layer» import Layer, Model\n", None),
        # The first choice of a `try` is not a fallback, whatever its handler imports.
        Example(
            "try:\n    from «keras.src.saving» import register_keras_serializable\n"
            "except ImportError:\n    from keras.utils import register_keras_serializable\n",
            "try:\n    from keras.saving import register_keras_serializable\n"
            "except ImportError:\n    from keras.utils import register_keras_serializable\n",
        ),
    )
    valid = (
        "from keras.layers import Layer\nfrom keras.saving import register_keras_serializable\n",
        # KER104's finding first: its fix gives `keras.src.ops`, reported then.
        "from keras_core.src.ops import *\n",
        "from my_project.engine.base_layer import Layer\n",
        "from .src.layers import Dense\n",
        "def f(keras):\n    return keras.src.ops.sum\n",
        "from keras.utils.np_utils import to_categorical\n",
        # A shim: the private fallback runs only where the public import fails.
        "try:\n    from keras.ops import *\nexcept ImportError:\n    from keras.src.ops import *\n",
        "if KERAS_3:\n    from keras.ops import *\nelse:\n    try:\n        from keras.src.ops import *\n"
        "    except ImportError:\n        from keras_core.src.ops import *\n",
    )

    def words(self) -> frozenset[str]:
        return _words()

    def visit_from_import(self, node: cst.ImportFrom, ctx: Context) -> None:
        # `from keras_core.src.ops import *` is one problem at a time: KER104 renames the
        # pre-release package, and the import it gives (`keras.src.ops`) is reported here then.
        if node.module is not None and (dotted_name(node.module) or "").startswith("keras_core."):
            return
        super().visit_from_import(node, ctx)

    def visit_import(self, node: cst.Import, ctx: Context) -> None:
        if any((dotted_name(alias.name) or "").startswith("keras_core.") for alias in node.names):
            return
        super().visit_import(node, ctx)

    def message_for(self, match: Match) -> str:
        # Three different facts: TensorFlow's Keras 2 copy imports but is not Keras 3;
        # `keras.src` exists but is private; Keras 2's private modules do not exist at all.
        if match.row.path == "":
            old = f"`tensorflow.python.keras{'.' + match.path if match.path else ''}`"
            text = f"{old} is TensorFlow's private copy of Keras 2 (its classes are not Keras 3 ones)"
        elif match.row.path == "src":
            text = f"{quoted(match.path)} is Keras 3's private implementation, which changes between releases"
        else:
            text = f"{quoted(match.path)} is not in Keras 3 ({match.row.note})"
        if match.new is not None:
            return f"{text}: use {quoted(match.new)}"
        return f"{text}: import from the public API"

    def resolve(self, path: str, origin: str) -> Match | None:
        if origin == "tf.python.keras":
            # Keras 2's implementation: its public names are those of Keras 2.
            return Match(Row("KER102", "", fix="safe", note="it is TensorFlow's private copy of Keras 2"), path, _public(path))
        if path == "src" or path.startswith("src."):
            return Match(Row("KER102", "src", fix="safe", note="`keras.src` changes between releases"), path, _src_public(path))
        return super().resolve(path, origin)


def _src_public(path: str) -> str | None:
    inner = path[len("src."):]
    if not inner:
        return None
    found = _public(inner) if row_for(inner) is not None else None
    if found is not None:
        return found
    # Keras 3 exports most `keras.src.<package>.<module>.<name>` as `keras.<package>.<name>`.
    parts = inner.split(".")
    if len(parts) >= 2:
        candidate = f"{parts[0]}.{parts[-1]}"
        if exists(candidate) and row_for(candidate) is None:
            return candidate
    return None
