"""KER114: a `keras.backend` import that nothing uses any more."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, keras_api
from ..engine.model import Severity
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ._unused import module_level_statement, removal_fix, unused_aliases


def _is_backend_alias(node: cst.Import | cst.ImportFrom, alias: cst.ImportAlias) -> bool:
    """Whether `alias` imports `keras.backend` itself, under any spelling of Keras."""
    name = dotted_name(alias.name)
    if isinstance(node, cst.ImportFrom):
        if node.relative or node.module is None:
            return False
        name = f"{dotted_name(node.module)}.{name}"
    return (keras_api(name) or ("", ""))[0] == "backend"


def _mentions_backend(node: cst.Import | cst.ImportFrom) -> bool:
    """A cheap first test on the statement's text-free shape: a `backend` name in it."""
    if isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar):
        return False
    for alias in node.names:  # type: ignore[union-attr]
        name = alias.name
        while isinstance(name, cst.Attribute):
            if name.attr.value == "backend":
                return True
            name = name.value
        if isinstance(name, cst.Name) and name.value == "backend":
            return True
    return False


class UnusedKerasBackendImport(Rule):
    """
    ## Why
    Keras 2 code imported `keras.backend` (`from keras import backend as K`) for the functions
    Keras 3 moved to `keras.ops`, `keras.random` and `keras.config`. Once those calls are
    ported (KER221 does it for the removed ones: `K.int_shape(x)` -> `x.shape`,
    `K.concatenate` -> `keras.ops.concatenate`), the import is left with no use. It is harmless
    but it reads as if the module still depended on the Keras 2 backend API.

    This is not general unused-import linting (Ruff's F401 does that): only `keras.backend`
    imports, under any spelling (`from tensorflow.keras import backend as K` too), are
    reported. Unused TensorFlow and TensorFlow Addons imports get their deletion from KER107
    and KER106, whose findings are already on those imports.

    ## Example
    ```python
    import keras
    from keras import backend as K

    print(x.shape)  # was K.int_shape(x)
    ```

    ## Use instead
    ```python
    import keras

    print(x.shape)
    ```

    ## Backends
    All: a dead import on every backend. Spelled `from tensorflow.keras import backend`, it
    also keeps TensorFlow a dependency, so the module fails to load on JAX or PyTorch without
    TensorFlow (`ModuleNotFoundError: No module named 'tensorflow'`); on the TensorFlow backend
    it is harmless.

    ## Fix safety
    Safe: the import is deleted only when nothing in the file uses the name it binds. A name
    read anywhere (even a local that shadows it, `del K`, `global K`) or named in a string
    (`__all__`, a string annotation) counts as used; an import inside `try:` / `if:` / a
    function is not reported; in a package's `__init__.py`, where an import may be a
    re-export, the deletion is unsafe.

    ## References
    - https://keras.io/guides/migrating_to_keras_3/ ("`keras.backend` ... most functions were
      moved to `keras.ops`").
    """

    code = "KER114"
    name = "unused-keras-backend-import"
    message = "`keras.backend` is imported but nothing uses it: remove the import"
    nodes = (cst.Import, cst.ImportFrom)
    severity = Severity.INFO
    fix = "safe"
    examples = (
        Example(
            "import keras\n«from keras import backend as K»\n\nprint(x.shape)\n",
            "import keras\n\nprint(x.shape)\n",
        ),
        Example("«import keras.backend as K»\n", ""),
        Example(
            "from keras import «backend as K», layers\n\ndense = layers.Dense(2)\n",
            "from keras import layers\n\ndense = layers.Dense(2)\n",
        ),
        Example(
            "«from tensorflow.keras import backend»\n",
            "",
        ),
    )
    valid = (
        "from keras import backend as K\n\nprint(K.backend())\n",
        'from keras import backend as K\n\n__all__ = ["K"]\n',
        "from keras import layers, ops\n",
        "import keras\n",
        "try:\n    from keras import backend as K\nexcept ImportError:\n    K = None\n",
        "def f():\n    from keras import backend as K\n",
        "import keras.backend\n\nkeras.ops.ones(2)\n",
    )

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:
        if module_level_statement(ctx) is None:
            return
        assert isinstance(node, (cst.Import, cst.ImportFrom))
        if not _mentions_backend(node):
            return

        def concerns(alias: cst.ImportAlias) -> bool:
            return _is_backend_alias(node, alias)

        unused = unused_aliases(node, ctx, concerns)
        if not unused:
            return
        fix = removal_fix(node, ctx, "`keras.backend`", concerns)
        if len(unused) == len(node.names):  # type: ignore[arg-type]
            ctx.report(node, fix=fix)
            return
        for alias in unused:
            end = alias.asname.name if alias.asname is not None else alias.name
            ctx.report(alias.name, end=end, fix=fix)
