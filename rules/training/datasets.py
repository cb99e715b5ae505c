"""KER511: `keras.utils.Sequence` subclasses and the `PyDataset` constructor."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, class_methods
from ..engine.edits import FixSpec, Insert, Replace
from ..engine.rule import Example, Rule
from ._common import add_kwargs_param, block_indent, inner_indent, insert_first, super_init_call

_SEQUENCE = frozenset({"utils.Sequence", "utils.data_utils.Sequence"})


class SequenceToPyDataset(Rule):
    """
    ## Why
    Keras 3 renamed `keras.utils.Sequence` to `keras.utils.PyDataset` (the old name is an alias)
    and moved the data-loading options there: `workers`, `use_multiprocessing` and
    `max_queue_size` are constructor arguments of the dataset, no longer of `fit()`. A subclass
    whose `__init__` does not call `super().__init__(**kwargs)` gets the warning "Your PyDataset
    class should call `super().__init__(**kwargs)` in its constructor" and cannot take them.

    ## Example
    ```python
    class DataGen(keras.utils.Sequence):
        def __init__(self, x, y, batch_size):
            self.x, self.y, self.batch_size = x, y, batch_size
    ```

    ## Use instead
    ```python
    class DataGen(keras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size
    ```

    ## Backends
    All.

    ## Fix safety
    Safe: `keras.utils.Sequence is keras.utils.PyDataset` in Keras 3, and the added
    `super().__init__(**kwargs)` only sets the loading options to their defaults unless the
    caller passes them.

    ## References
    - Catalogue K3-TRN-011.
    """

    code = "KER511"
    name = "sequence-to-pydataset"
    message = "`Sequence` is `keras.utils.PyDataset` in Keras 3: subclass it and call `super().__init__(**kwargs)`"
    nodes = (cst.ClassDef,)
    fix = "safe"
    examples = (
        Example(
            "import tensorflow as tf\n"
            "class Gen(«tf.keras.utils.Sequence»):\n"
            "    def __init__(self, x, batch_size=32):\n"
            '        """Batches of x."""\n'
            "        self.x = x\n"
            "    def __len__(self):\n"
            "        return 1\n",
            "import tensorflow as tf\n"
            "import keras\n"
            "class Gen(keras.utils.PyDataset):\n"
            "    def __init__(self, x, batch_size=32, **kwargs):\n"
            '        """Batches of x."""\n'
            "        super().__init__(**kwargs)\n"
            "        self.x = x\n"
            "    def __len__(self):\n"
            "        return 1\n",
        ),
        Example(
            "from tensorflow.keras.utils import Sequence\n"
            "from keras import utils\n"
            "class Gen(«Sequence»):\n"
            "    def __init__(self, x, **kw):\n"
            "        self.x = x\n",
            "from tensorflow.keras.utils import Sequence\n"
            "from keras import utils\n"
            "class Gen(utils.PyDataset):\n"
            "    def __init__(self, x, **kw):\n"
            "        super().__init__(**kw)\n"
            "        self.x = x\n",
        ),
        Example(
            "import keras\n"
            "class Gen(keras.utils.PyDataset):\n"
            "    def «__init__»(self, x):\n"
            "        self.x = x\n",
            "import keras\n"
            "class Gen(keras.utils.PyDataset):\n"
            "    def __init__(self, x, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.x = x\n",
        ),
        Example(
            "from tensorflow import keras\n"
            "class Gen(«keras.utils.Sequence»):\n"
            "    def __getitem__(self, i):\n"
            "        return i\n",
            "from tensorflow import keras\n"
            "from keras import utils\n"
            "class Gen(utils.PyDataset):\n"
            "    def __getitem__(self, i):\n"
            "        return i\n",
        ),
    )
    valid = (
        "import keras\ndef build(keras):\n    class Gen(keras.utils.Sequence):\n        pass\n    return Gen\n",
        "import keras\nclass Gen(keras.utils.PyDataset):\n    def __init__(self, x, **kwargs):\n"
        "        super().__init__(**kwargs)\n        self.x = x\n",
        "import keras\nfrom collections.abc import Sequence\nclass Rows(Sequence):\n    pass\n",
        "import keras\nfrom typing import Sequence\nclass Gen(Sequence):\n    pass\n",
    )

    def visit(self, node: cst.ClassDef, ctx: Context) -> None:
        if not node.bases:
            return
        for base in node.bases:
            if base.keyword is not None:
                continue
            api = ctx.keras_api(base.value)
            if api is None:
                continue
            if api[0] in _SEQUENCE:
                self._report_sequence(node, base, ctx)
                return
            if api[0] == "utils.PyDataset":
                init = class_methods(node).get("__init__")
                if init is not None and super_init_call(init) is None:
                    edits = self._super_call(node, init, ctx)
                    fix = FixSpec.safe("Call `super().__init__(**kwargs)`", *edits) if edits else None
                    ctx.report(init.name, "A `PyDataset` must call `super().__init__(**kwargs)` in `__init__`", fix=fix)
                return

    def _report_sequence(self, node: cst.ClassDef, base: cst.Arg, ctx: Context) -> None:
        reference = ctx.reference("keras.utils.PyDataset")
        if reference is None:
            ctx.report(base.value)
            return
        code, imports = reference
        edits: list[Replace | Insert] = [Replace(base.value, code)]
        init = class_methods(node).get("__init__")
        if init is not None and super_init_call(init) is None:
            extra = self._super_call(node, init, ctx)
            if extra is None:
                ctx.report(base.value)
                return
            edits += extra
        ctx.report(base.value, fix=FixSpec.safe("Subclass `keras.utils.PyDataset`", *edits, imports=imports))

    def _super_call(self, node: cst.ClassDef, init: cst.FunctionDef, ctx: Context) -> list[Insert] | None:
        if not isinstance(node.body, cst.IndentedBlock) or not isinstance(init.body, cst.IndentedBlock):
            return None
        kwargs = add_kwargs_param(init)
        if kwargs is None:
            return None
        name, param_edit = kwargs
        indent = block_indent(ctx, node.body, (node,)) + inner_indent(ctx, init.body)
        edits = [insert_first(init, f"super().__init__(**{name})", indent)]
        if param_edit is not None:
            edits.append(param_edit)
        return edits
