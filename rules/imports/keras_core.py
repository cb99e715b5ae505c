"""KER104: `keras_core`, the pre-release name of Keras 3."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.edits import FixSpec, Replace
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ._common import exists, owner, root_name, shim_alternatives


class KerasCoreImport(Rule):
    """
    ## Why
    `keras_core` was the preview release of Keras 3 (keras-tuner 1.4, KerasCV and KerasNLP 0.6-0.8
    depended on it). It is no longer maintained and stays at a pre-3.0 API; everything it had
    is released as `keras` now.

    ## Example
    ```python
    import keras_core as keras
    from keras_core import ops
    ```

    ## Use instead
    ```python
    import keras
    from keras import ops
    ```

    ## Backends
    All.

    ## Fix safety
    Safe: the package is renamed, the names stay. A bare `import keras_core` becomes
    `import keras as keras_core`, so the code that uses it keeps working. An import of a name
    that Keras 3 no longer has is reported without a fix.

    ## References
    - Catalogue K3-IMP-004; keras-team/keras-core README.
    """

    code = "KER104"
    name = "keras-core-import"
    message = "`keras_core` is the pre-release of Keras 3: import `keras`"
    nodes = (cst.Import, cst.ImportFrom)
    fix = "safe"
    examples = (
        Example("import «keras_core» as keras\n", "import keras\n"),
        # The other branch is not Keras 3: reported.
        Example(
            "try:\n    from tensorflow import keras\nexcept ImportError:\n    import «keras_core» as keras\n",
            "try:\n    from tensorflow import keras\nexcept ImportError:\n    import keras\n",
        ),
        Example("import «keras_core» as K\n", "import keras as K\n"),
        Example("import «keras_core»\nx = keras_core.ops.ones(3)\n", "import keras as keras_core\nx = keras_core.ops.ones(3)\n"),
        Example("from «keras_core» import ops, layers\n", "from keras import ops, layers\n"),
        Example("from «keras_core.layers» import Dense\n", "from keras.layers import Dense\n"),
        Example("import «keras_core.ops» as ops\n", "import keras.ops as ops\n"),
        Example("from «keras_core.layers» import NoSuchLayer\n", None),
    )
    valid = (
        "import keras\nfrom keras import ops\n",
        "from .keras_core import ops\n",
        "import keras_core_extras\n",
        # A shim: `keras_core` only where `keras` is missing.
        "try:\n    from keras import ops\nexcept ImportError:\n    from keras_core import ops\n",
        "if KERAS_3:\n    import keras\nelse:\n    import keras_core as keras\n",
    )

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:
        # The fallback of a shim whose other branch imports `keras`: `keras_core` runs only
        # where Keras 3 is missing.
        if "keras" in shim_alternatives(ctx):
            return
        if type(node) is cst.Import:
            for alias in node.names:  # type: ignore[union-attr]
                name = dotted_name(alias.name)
                if name == "keras_core" or (name or "").startswith("keras_core."):
                    self._import_alias(alias, name, ctx)  # type: ignore[arg-type]
            return
        assert isinstance(node, cst.ImportFrom)
        if node.relative or node.module is None:
            return
        module = dotted_name(node.module)
        if module != "keras_core" and not (module or "").startswith("keras_core."):
            return
        module_path = module[len("keras_core."):] if module != "keras_core" else ""  # type: ignore[index]
        root = root_name(node.module)
        assert root is not None
        if not isinstance(node.names, cst.ImportStar):
            missing = []
            for alias in node.names:
                name = dotted_name(alias.name) or ""
                path = f"{module_path}.{name}" if module_path else name
                if not exists(path) or owner(path, "keras") is not None:
                    missing.append(name)
            if missing:
                listed = ", ".join(f"`{name}`" for name in missing)
                ctx.report(node.module, f"`keras_core` is the pre-release of Keras 3, and Keras 3 has no {listed} there")
                return
        ctx.report(node.module, fix=FixSpec.safe("Import from `keras`", Replace(root, "keras")))

    def _import_alias(self, alias: cst.ImportAlias, name: str, ctx: Context) -> None:
        root = root_name(alias.name)
        assert root is not None
        asname = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
        if asname is None:
            if name != "keras_core":
                ctx.report(alias.name)
                return
            fix = FixSpec.safe("Import `keras` as `keras_core`", Replace(alias.name, "keras as keras_core"))
        elif asname == "keras" and name == "keras_core":
            fix = FixSpec.safe("Use `import keras`", Replace(alias.name, "keras", end=alias.asname))
        else:
            fix = FixSpec.safe("Import `keras`", Replace(root, "keras"))
        ctx.report(root if name == "keras_core" else alias.name, fix=fix)
