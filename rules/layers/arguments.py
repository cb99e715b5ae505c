"""KER409-KER417, KER430: layer constructor arguments that Keras 3 removed, moved or limits to
one backend."""

from __future__ import annotations

import re
from functools import lru_cache

import libcst as cst

from ..engine.context import Context, call_keyword
from ..engine.edits import FixSpec, Insert, append_arg, remove_arg, rename_keyword
from ..engine.model import Severity
from ..engine.provenance import MODEL, fact_of
from ..engine.rule import Example, Rule
from ..engine.tables import load_toml
from ..engine.walker import SOURCE_TEXT
from ._common import callee_leaf, keras_reference

# `model.add(...)`: which call adds the first layer decides the input's fix.
_ADDS = re.compile(r"\.add\b")


def _tables() -> dict:
    return load_toml("layers_arguments.toml")


@lru_cache(maxsize=1)
def _rnn_layers() -> frozenset[str]:
    return frozenset(_tables()["rnn"]["layers"])


def keras_layer(node: cst.Call, ctx: Context, names: frozenset[str] | tuple[str, ...]) -> str | None:
    """The layer's class name when `node` constructs one of the Keras layers `names`."""
    leaf = callee_leaf(node)
    # An imported alias (`from keras.layers import BatchNormalization as BN`) is a Name: cheap
    # to resolve.
    if leaf not in names and not isinstance(node.func, cst.Name):
        return None
    if not _spelled(ctx, names):
        return None
    api = ctx.keras_api(node.func)
    if api is None:
        return None
    name = api[0].removeprefix("layers.")
    return name if name in names and api[0] in (f"layers.{name}", name) else None


_SPELLED_KEY = "layers.spelled_layers"


def _spelled(ctx: Context, names: frozenset[str] | tuple[str, ...]) -> bool:
    """Whether the linted text spells one of the layer `names` (once per lint and set of
    names). A call resolves to a layer only through the layer's name, written in the callee
    (`layers.Dense`) or in the import that binds it (`from keras.layers import Dense as D`):
    in a file that never spells it, no call needs resolving."""
    text = ctx.shared.get(SOURCE_TEXT)
    if text is None:  # only a part of the file is linted: the rest may spell it
        return True
    cache = ctx.shared.get(_SPELLED_KEY)
    if cache is None:
        cache = ctx.shared[_SPELLED_KEY] = {}
    found = cache.get(names)
    if found is None:
        found = cache[names] = any(name in text for name in names)
    return found


def _is_false(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value in ("False", "None")


class RnnTimeMajorConstants(Rule):
    """
    ## Why
    Keras 3 recurrent layers are batch-major only and have no `constants` call argument:
    `LSTM(64, time_major=True)` raises "Unrecognized keyword arguments passed to LSTM:
    {'time_major': True}", and `rnn(x, constants=c)` raises `TypeError: … got an unexpected
    keyword argument 'constants'`.

    ## Example
    ```python
    outputs = layers.LSTM(64, time_major=True, return_sequences=True)(x)
    ```

    ## Use instead
    ```python
    x = ops.transpose(x, (1, 0, 2))                 # time-major -> batch-major
    outputs = layers.LSTM(64, return_sequences=True)(x)
    outputs = ops.transpose(outputs, (1, 0, 2))     # back, if time-major output is needed
    ```
    Pass constants through an attribute of the cell, or as part of the input structure.

    ## Backends
    All.

    ## Fix safety
    Unsafe, offered for `LSTM/GRU/SimpleRNN/RNN(..., time_major=True)(x)` called where it is
    built, with `return_state` off: the input is transposed to batch-major and, with
    `return_sequences=True`, the output back to time-major. Whatever produces `x` could often
    be changed to batch-major instead, which is cheaper. No fix for a layer stored and called
    elsewhere, nor for `constants`.

    ## References
    - Catalogue K3-LAY-009; keras-io migration guide; keras-team/keras#18467.
    """

    code = "KER409"
    name = "rnn-time-major-constants"
    message = "Keras 3 recurrent layers have no `time_major`: transpose the inputs to batch-major"
    nodes = (cst.Call,)
    deprecated = True
    fix = "unsafe"
    examples = (
        Example(
            "import keras\ny = keras.layers.LSTM(64, «time_major=True»)(x)\n",
            "import keras\ny = keras.layers.LSTM(64)(keras.ops.transpose(x, (1, 0, 2)))\n",
            unsafe=True,
        ),
        Example(
            "from keras import layers, ops\n"
            "seq = layers.GRU(32, return_sequences=True, «time_major=True»)(frames)\n",
            "from keras import layers, ops\n"
            "seq = ops.transpose(layers.GRU(32, return_sequences=True)(ops.transpose(frames, (1, 0, 2))), (1, 0, 2))\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\n"
            "rnn = tf.keras.layers.RNN(cell, «time_major=True», return_sequences=True)\n"
            "y = tf.keras.layers.RNN(cell)(x, «constants=context»)\n"
        ),
        Example("from tensorflow.keras.layers import GRU\ny = GRU(32, «time_major=flag»)(x)\n"),
    )
    valid = (
        "import keras\ny = keras.layers.LSTM(64)(x)\n",
        "import keras\ndef LSTM(units, time_major): ...\ny = LSTM(3, time_major=True)\n",
        "import keras\nsolve(x, constants=c)\n",
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"constants", "time_major"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        constants = call_keyword(node, "constants")
        if constants is not None and isinstance(node.func, cst.Call) and keras_layer(node.func, ctx, _rnn_layers()):
            ctx.report_arg(
                constants,
                "Keras 3 recurrent layers take no `constants`: keep them in the cell or in the inputs",
            )
        time_major = call_keyword(node, "time_major")
        if time_major is None:
            return
        layer = keras_layer(node, ctx, _rnn_layers())
        if layer is not None:
            ctx.report_arg(time_major, fix=_batch_major(node, time_major, layer, ctx))


# Recurrent layers whose inputs and sequence outputs are (time, batch, features) when time-major.
_SEQUENCE_LAYERS = frozenset({"RNN", "SimpleRNN", "LSTM", "GRU"})


def _batch_major(node: cst.Call, time_major: cst.Arg, layer: str, ctx: Context) -> FixSpec | None:
    """For `LSTM(..., time_major=True)(x)`: the layer batch-major between two transposes."""
    outer = ctx.parents[-1]
    if layer not in _SEQUENCE_LAYERS or not _is_true(time_major.value):
        return None
    if not isinstance(outer, cst.Call) or outer.func is not node or len(outer.args) != 1:
        return None
    inputs = outer.args[0]
    if inputs.keyword is not None or inputs.star:
        return None
    state = call_keyword(node, "return_state")
    sequences = call_keyword(node, "return_sequences")
    if state is not None and not _is_false(state.value):
        return None
    if sequences is not None and not (_is_true(sequences.value) or _is_false(sequences.value)):
        return None
    reference = keras_reference(ctx, "ops.transpose")
    if reference is None:
        return None
    transpose, imports = reference
    edits = [
        remove_arg(node, time_major),
        Insert(inputs.value, f"{transpose}("),
        Insert(inputs.value, ", (1, 0, 2))", after=True),
    ]
    if sequences is not None and _is_true(sequences.value):
        edits += [Insert(outer, f"{transpose}("), Insert(outer, ", (1, 0, 2))", after=True)]
    return FixSpec.unsafe("Transpose to batch-major around the layer", *edits, imports=imports)


def _is_true(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "True"


class BatchNormalizationArguments(Rule):
    """
    ## Why
    Keras 3 `BatchNormalization` dropped the TensorFlow-specific arguments `fused`,
    `virtual_batch_size` and `adjustment`: "Unrecognized keyword arguments passed to
    BatchNormalization: {'fused': True}".

    ## Example
    ```python
    layers.BatchNormalization(fused=True, virtual_batch_size=8)
    ```

    ## Use instead
    ```python
    layers.BatchNormalization()
    ```

    ## Backends
    All.

    ## Fix safety
    Safe for `fused` (it only picked a TensorFlow kernel). None for `virtual_batch_size` and
    `adjustment`: Keras 3 has no equivalent, the normalisation would change.

    ## References
    - Catalogue K3-LAY-010.
    """

    code = "KER410"
    name = "batchnorm-removed-arguments"
    message = "Keras 3 `BatchNormalization` has no such argument"
    nodes = (cst.Call,)
    fix = "safe"
    deprecated = True
    examples = (
        Example(
            "import keras\nbn = keras.layers.BatchNormalization(momentum=0.9, «fused=True»)\n",
            "import keras\nbn = keras.layers.BatchNormalization(momentum=0.9)\n",
        ),
        Example(
            "import tensorflow as tf\nbn = tf.keras.layers.BatchNormalization(«virtual_batch_size=8», «fused=False»)\n",
            "import tensorflow as tf\nbn = tf.keras.layers.BatchNormalization(virtual_batch_size=8)\n",
        ),
        Example(
            "from tensorflow.keras import layers\nbn = layers.BatchNormalization(«adjustment=adjust»)\n",
            None,
        ),
    )
    valid = (
        "import keras\nbn = keras.layers.BatchNormalization(momentum=0.9)\n",
        "class BatchNormalization:\n    pass\nbn = BatchNormalization(fused=True)\n",
        "def make(tf):\n    return tf.keras.layers.BatchNormalization(fused=True)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"BatchNormalization"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        if not node.args or not keras_layer(node, ctx, ("BatchNormalization",)):
            return
        table = _tables()["batch_normalization"]
        for arg in node.args:
            if arg.keyword is None:
                continue
            keyword = arg.keyword.value
            if keyword in table["safe_to_drop"]:
                ctx.report_arg(
                    arg,
                    f"`BatchNormalization({keyword}=)` does not exist in Keras 3: remove it",
                    fix=FixSpec.safe(f"Remove `{keyword}`", remove_arg(node, arg)),
                )
            elif keyword in table["no_equivalent"]:
                ctx.report_arg(arg, f"`BatchNormalization({keyword}=)` does not exist in Keras 3 and has no equivalent")


class BatchNormalizationRenorm(Rule):
    """
    ## Why
    Batch renormalization (`renorm`, `renorm_clipping`, `renorm_momentum`) was missing from
    Keras 3 until 3.14.0: older releases raise "Unrecognized keyword arguments passed to
    BatchNormalization: {'renorm': True}".

    ## Example
    ```python
    layers.BatchNormalization(renorm=True)
    ```

    ## Use instead
    Require `keras>=3.14`, or drop batch renormalization (the training dynamics change).

    ## Backends
    All.

    ## Fix safety
    None.

    ## References
    - Catalogue K3-LAY-010; present in `keras/src/layers/normalization/batch_normalization.py`
      from 3.14.0.
    """

    code = "KER411"
    name = "batchnorm-renorm"
    message = "`BatchNormalization` batch renormalization needs Keras 3.14 or newer"
    nodes = (cst.Call,)
    fixed_in = "3.14.0"
    examples = (
        Example("import keras\nbn = keras.layers.BatchNormalization(«renorm=True», «renorm_momentum=0.9»)\n"),
        Example("import tensorflow as tf\nbn = tf.keras.layers.BatchNormalization(«renorm_clipping={'rmax': 3}»)\n"),
        Example("from tensorflow.keras.layers import BatchNormalization as BN\nbn = BN(«renorm=True»)\n"),
    )
    valid = (
        "import keras\nbn = keras.layers.BatchNormalization()\n",
        "def make(layers):\n    return layers.BatchNormalization(renorm=True)\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        if not node.args or not keras_layer(node, ctx, ("BatchNormalization",)):
            return
        renorm = _tables()["batch_normalization"]["renorm"]
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in renorm:
                ctx.report_arg(arg)


class BatchNormalizationSynchronized(Rule):
    """
    ## Why
    `BatchNormalization(synchronized=True)` (the Keras 3 form of `SyncBatchNormalization`) works
    only on TensorFlow. Other backends raise "Argument synchronized=True is only supported with
    the TensorFlow backend".

    ## Example
    ```python
    layers.BatchNormalization(synchronized=True)
    ```

    ## Use instead
    ```python
    layers.BatchNormalization()   # cross-replica statistics come from the distribution setup
    ```

    ## Backends
    JAX and PyTorch.

    ## Fix safety
    None: dropping synchronisation changes the statistics under data parallelism.

    ## References
    - Catalogue MB-BN-001.
    """

    code = "KER430"
    name = "batchnorm-synchronized"
    message = "`BatchNormalization(synchronized=True)` works only on the TensorFlow backend"
    nodes = (cst.Call,)
    backends = frozenset({"jax", "torch"})
    examples = (
        Example("import keras\nbn = keras.layers.BatchNormalization(«synchronized=True»)\n"),
        Example("from keras import layers\nbn = layers.BatchNormalization(axis=-1, «synchronized=sync»)\n"),
        Example("import tensorflow as tf\nbn = tf.keras.layers.BatchNormalization(«synchronized=True»)\n"),
    )
    valid = (
        "import keras\nbn = keras.layers.BatchNormalization(synchronized=False)\n",
        "import keras\nbn = keras.layers.BatchNormalization()\n",
        "import torch\nimport keras\nbn = torch.nn.BatchNorm1d(4, synchronized=True)\n",
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"synchronized"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        arg = call_keyword(node, "synchronized")
        if arg is None or _is_false(arg.value) or not keras_layer(node, ctx, ("BatchNormalization",)):
            return
        ctx.report_arg(arg)


class EmbeddingInputLength(Rule):
    """
    ## Why
    Keras 3 `Embedding` has no `input_length`. Keras 3.0 and 3.1 raise "Unrecognized keyword
    arguments passed to Embedding: {'input_length': 10}"; from 3.2 it is ignored with the warning
    "Argument `input_length` is deprecated. Just remove it."

    ## Example
    ```python
    model = keras.Sequential([layers.Embedding(vocab, 64, input_length=maxlen), ...])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.Input(shape=(maxlen,)), layers.Embedding(vocab, 64), ...])
    ```

    ## Backends
    All.

    ## Fix safety
    Safe: the argument only fixed the input length, which the model's input gives.

    ## References
    - Catalogue K3-LAY-011; `keras/src/layers/core/embedding.py` (3.2.0 made it a warning).
    """

    code = "KER412"
    name = "embedding-input-length"
    message = "`Embedding(input_length=)` is not a Keras 3 argument: remove it (give the length to `keras.Input`)"
    nodes = (cst.Call,)
    fix = "safe"
    fixed_in = "3.2.0"
    deprecated = True
    examples = (
        Example(
            "import keras\nemb = keras.layers.Embedding(10000, 64, «input_length=maxlen»)\n",
            "import keras\nemb = keras.layers.Embedding(10000, 64)\n",
        ),
        Example(
            "from tensorflow.keras.layers import Embedding\n"
            "emb = Embedding(input_dim=vocab, «input_length=100», output_dim=32)\n",
            "from tensorflow.keras.layers import Embedding\n"
            "emb = Embedding(input_dim=vocab, output_dim=32)\n",
        ),
        Example(
            "import tensorflow as tf\nmodel = tf.keras.Sequential([\n"
            "    tf.keras.layers.Embedding(5000, 16, «input_length=maxlen»),\n])\n",
            "import tensorflow as tf\nmodel = tf.keras.Sequential([\n"
            "    tf.keras.layers.Embedding(5000, 16),\n])\n",
        ),
    )
    valid = (
        "import keras\nemb = keras.layers.Embedding(10000, 64)\n",
        "def make(tf):\n    return tf.keras.layers.Embedding(10, 4, input_length=3)\n",
        "import keras\nfrom gensim.models import Embedding\nemb = Embedding(input_length=3)\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        arg = call_keyword(node, "input_length")
        if arg is None or not keras_layer(node, ctx, ("Embedding",)):
            return
        ctx.report_arg(arg, fix=FixSpec.safe("Remove `input_length`", remove_arg(node, arg)))


# Keras 2 layer arguments that declared the model input, and what `keras.Input` calls them.
_INPUT_KEYWORDS = {"input_shape": "shape", "batch_input_shape": "batch_shape", "input_dim": "shape"}
# Layers whose own `input_dim` is not the model's input (an embedding's vocabulary size); the
# only ones in Keras 3.15.1 whose constructor takes one.
_OWN_INPUT_DIM = frozenset({"Embedding", "ReversibleEmbedding"})


class LayerInputShapeArgument(Rule):
    """
    ## Why
    Keras 3 layers do not declare the model's input: `input_shape=`, `batch_input_shape=` and
    `input_dim=` on a layer only give the warning "Do not pass an `input_shape`/`input_dim`
    argument to a layer. When using Sequential models, prefer using an `Input(shape)` object as
    the first layer in the model instead.", and `InputLayer(input_shape=)` warns "Argument
    `input_shape` is deprecated. Use `shape` instead."

    ## Example
    ```python
    model = keras.Sequential([layers.Dense(32, input_shape=(10,)), layers.Dense(1)])
    inp = layers.InputLayer(input_shape=(3,))
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.Input(shape=(10,)), layers.Dense(32), layers.Dense(1)])
    inp = layers.InputLayer(shape=(3,))
    ```

    ## Backends
    All.

    ## Fix safety
    Safe: an `Input` as the first element of a `Sequential` list, or added by a
    `model.add(keras.Input(...))` just before the first `model.add(...)`, declares the same
    input, and `InputLayer` takes the same value as `shape=`. Layers elsewhere (a later
    `add`, a functional graph, a subclass) get no fix: the input belongs to the model that uses
    them.

    ## References
    - Catalogue K3-LAY-012.
    """

    # The fix adds the input before the first `model.add(...)`, maybe in another statement.
    cross_statement_words = _ADDS
    cross_statement_bindings = _ADDS
    code = "KER413"
    name = "layer-input-shape-argument"
    message = "Keras 3 layers do not declare the model input: start the model with `keras.Input(shape=...)`"
    nodes = (cst.Call,)
    fix = "safe"
    severity = Severity.INFO
    examples = (
        Example(
            "import keras\nfrom keras import layers\n"
            "model = keras.Sequential([layers.Dense(32, «input_shape=(10,)»), layers.Dense(1)])\n",
            "import keras\nfrom keras import layers\n"
            "model = keras.Sequential([keras.Input(shape=(10,)), layers.Dense(32), layers.Dense(1)])\n",
        ),
        Example(
            "import tensorflow as tf\n"
            "model = tf.keras.Sequential([\n"
            "    tf.keras.layers.Dense(64, activation='relu', «input_dim=20»),\n"
            "    tf.keras.layers.Dense(1),\n"
            "])\n",
            "import tensorflow as tf\n"
            "model = tf.keras.Sequential([\n"
            "    tf.keras.Input(shape=(20,)), tf.keras.layers.Dense(64, activation='relu'),\n"
            "    tf.keras.layers.Dense(1),\n"
            "])\n",
        ),
        Example(
            "from tensorflow import keras\nfrom tensorflow.keras.layers import InputLayer\n"
            "inp = InputLayer(«input_shape=(3,)»)\nb = keras.layers.InputLayer(«batch_input_shape=(8, 3)»)\n",
            "from tensorflow import keras\nfrom tensorflow.keras.layers import InputLayer\n"
            "inp = InputLayer(shape=(3,))\nb = keras.layers.InputLayer(batch_shape=(8, 3))\n",
        ),
        Example(
            "from tensorflow import keras\nmodel = keras.Sequential()\n"
            "model.add(keras.layers.LSTM(8, «batch_input_shape=(4, 10, 2)»))\n"
            "model.add(keras.layers.Dense(1, «input_dim=8»))\n",
            "from tensorflow import keras\nmodel = keras.Sequential()\n"
            "model.add(keras.Input(batch_shape=(4, 10, 2)))\n"
            "model.add(keras.layers.LSTM(8))\n"
            "model.add(keras.layers.Dense(1, input_dim=8))\n",
        ),
        Example(
            "import keras\nmodel = keras.Sequential([keras.layers.Embedding(input_dim=1000, output_dim=8, «input_shape=(10,)»)])\n",
            "import keras\nmodel = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Embedding(input_dim=1000, output_dim=8)])\n",
        ),
        Example(
            "import tensorflow as tf\n\ndef build():\n    net = tf.keras.Sequential()\n"
            "    net.add(tf.keras.layers.Dense(4, «input_shape=(3,)»))\n    return net\n",
            "import tensorflow as tf\n\ndef build():\n    net = tf.keras.Sequential()\n"
            "    net.add(tf.keras.Input(shape=(3,)))\n"
            "    net.add(tf.keras.layers.Dense(4))\n    return net\n",
        ),
    )
    valid = (
        "import keras\nmodel = keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)])\n",
        "import keras\ndef make(input_shape):\n    return build(input_shape=input_shape)\n",
        "import keras\ninp = keras.layers.InputLayer(shape=(3,))\n",
        # An embedding's input_dim is its vocabulary size.
        "import keras\nemb = keras.layers.Embedding(input_dim=1000, output_dim=64)\n",
        "import keras\nemb = keras.layers.ReversibleEmbedding(input_dim=1000, output_dim=64)\n",
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset(_INPUT_KEYWORDS.keys())

    def visit(self, node: cst.Call, ctx: Context) -> None:
        found = [a for a in node.args if a.keyword is not None and a.keyword.value in _INPUT_KEYWORDS]
        if not found:
            return
        api = ctx.keras_api(node.func)
        if api is None or not api[0].startswith("layers."):
            return
        if api[0].rsplit(".", 1)[-1] in _OWN_INPUT_DIM:
            found = [a for a in found if a.keyword.value != "input_dim"]  # type: ignore[union-attr]
            if not found:
                return
        arg = found[0]
        keyword = arg.keyword.value  # type: ignore[union-attr]
        if api[0] == "layers.InputLayer":
            if keyword != "input_dim":
                new = _INPUT_KEYWORDS[keyword]
                ctx.report_arg(
                    arg,
                    f"`InputLayer({keyword}=)` is deprecated in Keras 3: use `{new}=`",
                    fix=FixSpec.safe(f"Use `{new}=`", rename_keyword(arg, new)),
                )
            return
        ctx.report_arg(arg, fix=self._fix(node, arg, keyword, found, ctx))

    def _fix(self, node: cst.Call, arg: cst.Arg, keyword: str, found: list[cst.Arg], ctx: Context) -> FixSpec | None:
        if len(found) != 1:
            return None
        in_list = self._first_in_sequential(node, ctx)
        first_add = None if in_list else self._first_add(node, ctx)
        if not in_list and first_add is None:
            return None
        reference = keras_reference(ctx, "Input")
        if reference is None:
            return None
        code, imports = reference
        value = ctx.module.code_for_node(arg.value)
        if keyword == "input_dim":
            value = f"({value},)"
        declaration = f"{code}({_INPUT_KEYWORDS[keyword]}={value})"
        if in_list:
            insert = Insert(node, f"{declaration}, ")
        else:
            statement, receiver = first_add  # type: ignore[misc]
            indent = "".join(
                block.indent if block.indent is not None else ctx.module.default_indent
                for block in ctx.parents
                if isinstance(block, cst.IndentedBlock)
            )
            insert = Insert(statement, f"{receiver}.add({declaration})\n{indent}")
        return FixSpec.safe("Declare the input with `keras.Input`", insert, remove_arg(node, arg), imports=imports)

    def _first_add(self, node: cst.Call, ctx: Context) -> tuple[cst.CSTNode, str] | None:
        """For `model.add(<node>)` as the first `model.add` of its block: the `model.add(...)`
        expression (a new statement goes before it) and the receiver's text."""
        parents = ctx.parents
        if len(parents) < 5:
            return None
        argument, call, expr, line, block = parents[-1], parents[-2], parents[-3], parents[-4], parents[-5]
        if not (
            isinstance(argument, cst.Arg)
            and isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "add"
            and isinstance(call.func.value, cst.Name)
            and isinstance(expr, cst.Expr)
            and isinstance(line, cst.SimpleStatementLine)
            and len(line.body) == 1
        ):
            return None
        fact = fact_of(ctx, call.func.value)
        if fact.known and fact.kind != MODEL:
            return None  # `.add()` of something shown not to be a Sequential model
        receiver = call.func.value.value
        siblings = block.body if isinstance(block, (cst.Module, cst.IndentedBlock)) else ()
        for stmt in siblings:
            if stmt is line:
                return expr, receiver
            if isinstance(stmt, cst.SimpleStatementLine) and any(_adds_to(small, receiver) for small in stmt.body):
                return None
        return None

    def _first_in_sequential(self, node: cst.Call, ctx: Context) -> bool:
        parents = ctx.parents
        if len(parents) < 4:
            return False
        element, container, argument, call = parents[-1], parents[-2], parents[-3], parents[-4]
        if not isinstance(element, cst.Element) or not isinstance(container, (cst.List, cst.Tuple)):
            return False
        if container.elements[0] is not element or not isinstance(argument, cst.Arg) or not isinstance(call, cst.Call):
            return False
        if argument.keyword is not None and argument.keyword.value != "layers":
            return False
        api = ctx.keras_api(call.func)
        return api is not None and api[0] in ("Sequential", "models.Sequential")


def _adds_to(small: cst.BaseSmallStatement, receiver: str) -> bool:
    if not isinstance(small, cst.Expr) or not isinstance(small.value, cst.Call):
        return False
    func = small.value.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "add"
        and isinstance(func.value, cst.Name)
        and func.value.value == receiver
    )


class AttentionCausalArgument(Rule):
    """
    ## Why
    Keras 3 moved the causal mask of `Attention` and `AdditiveAttention` from the constructor to
    the call: `layers.Attention(causal=True)` raises "Unrecognized keyword arguments passed to
    Attention: {'causal': True}".

    ## Example
    ```python
    context = layers.Attention(causal=True)([query, value])
    ```

    ## Use instead
    ```python
    context = layers.Attention()([query, value], use_causal_mask=True)
    ```

    ## Backends
    All.

    ## Fix safety
    Unsafe, offered when the layer is called where it is built: the flag moves to that call.
    For a layer stored and called elsewhere no fix is offered; every call site needs
    `use_causal_mask=True`. `causal=False` is simply removed (safe).

    ## References
    - Catalogue K3-LAY-013.
    """

    code = "KER414"
    name = "attention-causal-argument"
    message = "Keras 3 attention layers take `use_causal_mask=True` when called, not `causal=True`"
    nodes = (cst.Call,)
    fix = "mixed"
    deprecated = True
    examples = (
        Example(
            "import keras\nctx = keras.layers.Attention(«causal=True»)([q, v])\n",
            "import keras\nctx = keras.layers.Attention()([q, v], use_causal_mask=True)\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\nattn = tf.keras.layers.AdditiveAttention(«causal=True», dropout=0.1)\n"
            "out = attn([q, v])\n",
            None,
        ),
        Example(
            "from tensorflow.keras import layers\nattn = layers.Attention(«causal=False»)\n",
            "from tensorflow.keras import layers\nattn = layers.Attention()\n",
        ),
    )
    valid = (
        "import keras\nctx = keras.layers.Attention()([q, v], use_causal_mask=True)\n",
        "import keras\nctx = keras.layers.MultiHeadAttention(2, 4)(q, v, use_causal_mask=True)\n",
        "def make(layers):\n    return layers.Attention(causal=True)\n",
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"causal"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        arg = call_keyword(node, "causal")
        if arg is None or not keras_layer(node, ctx, ("Attention", "AdditiveAttention")):
            return
        if _is_false(arg.value):
            ctx.report_arg(arg, fix=FixSpec.safe("Remove `causal=False`", remove_arg(node, arg)))
            return
        outer = ctx.parents[-1]
        fix = None
        if isinstance(outer, cst.Call) and outer.func is node and call_keyword(outer, "use_causal_mask") is None:
            mask = "use_causal_mask=True" if isinstance(arg.value, cst.Name) and arg.value.value == "True" else (
                f"use_causal_mask={ctx.module.code_for_node(arg.value)}"
            )
            fix = FixSpec.unsafe("Pass `use_causal_mask` to the call", remove_arg(node, arg), append_arg(outer, mask))
        ctx.report_arg(arg, fix=fix)


_RAGGED_APIS = frozenset({"Input", "layers.Input", "layers.InputLayer"})


def _ragged_argument(node: cst.Call, ctx: Context) -> cst.Arg | None:
    arg = call_keyword(node, "ragged")
    if arg is None or _is_false(arg.value) or ctx.imported_leaf(node.func) not in ("Input", "InputLayer"):
        return None
    api = ctx.keras_api(node.func)
    return arg if api is not None and api[0] in _RAGGED_APIS else None


class RaggedInput(Rule):
    """
    ## Why
    Ragged tensors are a TensorFlow type. On JAX and PyTorch `keras.Input(ragged=True)` and
    `InputLayer(ragged=True)` raise "`ragged=True` is not supported with the jax backend" (or
    "torch backend"). Keras 3.0 to 3.8 had no `ragged` argument on any backend (see KER416).

    ## Example
    ```python
    tokens = keras.Input(shape=(None,), ragged=True)
    ```

    ## Use instead
    ```python
    tokens = keras.Input(shape=(None,))   # pad with keras.utils.pad_sequences, mask padding
    ```

    ## Backends
    JAX and PyTorch (see KER416 for TensorFlow before Keras 3.9).

    ## Fix safety
    None: the data pipeline must produce padded tensors.

    ## References
    - Catalogue K3-LAY-014.
    """

    code = "KER415"
    name = "ragged-input"
    message = "Ragged inputs work only on the TensorFlow backend: pad the sequences instead"
    nodes = (cst.Call,)
    backends = frozenset({"jax", "torch"})
    examples = (
        Example("import keras\ntokens = keras.Input(shape=(None,), «ragged=True»)\n"),
        Example("from tensorflow.keras import layers\ninp = layers.InputLayer(input_shape=(None,), «ragged=True»)\n"),
        Example("import tensorflow as tf\ntokens = tf.keras.Input(shape=(None,), dtype=tf.int32, «ragged=True»)\n"),
        Example("from keras import Input as In\ntokens = In(shape=(None,), «ragged=True»)\n"),
    )
    valid = (
        "import keras\ntokens = keras.Input(shape=(None,))\n",
        "import keras\ntokens = keras.Input(shape=(None,), ragged=False)\n",
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"ragged"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        arg = _ragged_argument(node, ctx)
        if arg is not None:
            ctx.report_arg(arg)


class RaggedInputTensorFlow(Rule):
    """
    ## Why
    Keras 3.0 to 3.8 have no `ragged` argument on `Input` / `InputLayer`, on TensorFlow too:
    `keras.Input(ragged=True)` raises `TypeError: Input() got an unexpected keyword argument
    'ragged'`, and `InputLayer(ragged=True)` silently drops it and makes a dense input. Keras
    3.9 accepts it again on the TensorFlow backend.

    ## Example
    ```python
    tokens = keras.Input(shape=(None,), ragged=True)
    ```

    ## Use instead
    Require `keras>=3.9` on TensorFlow, or pad the sequences.

    ## Backends
    TensorFlow (on JAX and PyTorch ragged inputs never work: KER415).

    ## Fix safety
    None.

    ## References
    - Catalogue K3-LAY-014; `keras/src/layers/core/input_layer.py` (3.9.0 added `ragged`).
    """

    code = "KER416"
    name = "ragged-input-tensorflow"
    message = "`ragged=True` inputs need Keras 3.9 or newer"
    nodes = (cst.Call,)
    backends = frozenset({"tensorflow"})
    fixed_in = "3.9.0"
    examples = (
        Example("import tensorflow as tf\ntokens = tf.keras.Input(shape=(None,), «ragged=True»)\n"),
        Example("from keras import layers\ninp = layers.Input((None,), dtype='int32', «ragged=True»)\n"),
    )
    valid = (
        "import keras\ntokens = keras.Input(shape=(None,))\n",
        "def make(keras):\n    return keras.Input((None,), ragged=True)\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        arg = _ragged_argument(node, ctx)
        if arg is not None:
            ctx.report_arg(arg)


@lru_cache(maxsize=1)
def _separable_layers() -> frozenset[str]:
    return frozenset(_tables()["separable_conv"]["layers"])


class SeparableConvKernelArguments(Rule):
    """
    ## Why
    Keras 2 `SeparableConv1D/2D` and `DepthwiseConv1D/2D` accepted `kernel_initializer`,
    `kernel_regularizer` and `kernel_constraint` (they went on to the base `Conv` layer) and
    never used them: these layers build a depthwise and a pointwise kernel from their
    `depthwise_*` and `pointwise_*` arguments. Keras 3 rejects them: "Unrecognized keyword
    arguments passed to SeparableConv2D: {'kernel_initializer': 'lecun_normal'}".

    ## Example
    ```python
    x = layers.SeparableConv2D(64, 3, kernel_initializer="lecun_normal")(x)
    ```

    ## Use instead
    ```python
    x = layers.SeparableConv2D(64, 3)(x)   # what Keras 2 computed
    # or, to really apply it:
    x = layers.SeparableConv2D(64, 3, depthwise_initializer="lecun_normal",
                               pointwise_initializer="lecun_normal")(x)
    ```

    ## Backends
    All.

    ## Fix safety
    Safe: removing the argument gives the layer Keras 2 built (it was ignored). Passing the
    value to `depthwise_*` / `pointwise_*` instead would change the weights, so it is left to
    the author.

    ## References
    - `tf_keras/src/layers/convolutional/base_separable_conv.py` and `base_depthwise_conv.py`
      (`build` uses only the depthwise and pointwise arguments); Keras 3
      `keras/src/layers/convolutional/base_separable_conv.py` has no `kernel_*` arguments.
    """

    code = "KER417"
    name = "separable-conv-kernel-arguments"
    message = "Keras 3 separable and depthwise convolutions reject `kernel_*` arguments (Keras 2 ignored them)"
    nodes = (cst.Call,)
    fix = "safe"
    deprecated = True
    examples = (
        Example(
            "from keras import layers\n"
            "y = layers.SeparableConv2D(32, 3, padding='same', «kernel_initializer='lecun_normal'»)(x)\n",
            "from keras import layers\n"
            "y = layers.SeparableConv2D(32, 3, padding='same')(x)\n",
        ),
        Example(
            "import tensorflow as tf\n"
            "conv = tf.keras.layers.DepthwiseConv2D(3, «kernel_regularizer=reg», «kernel_constraint=c», use_bias=False)\n",
            "import tensorflow as tf\n"
            "conv = tf.keras.layers.DepthwiseConv2D(3, use_bias=False)\n",
        ),
        Example(
            "from tensorflow.keras.layers import SeparableConv1D as Sep\n"
            "conv = Sep(filters=8, kernel_size=5, «kernel_initializer=init»)\n",
            "from tensorflow.keras.layers import SeparableConv1D as Sep\n"
            "conv = Sep(filters=8, kernel_size=5)\n",
        ),
    )
    valid = (
        "import keras\nconv = keras.layers.Conv2D(32, 3, kernel_initializer='he_normal')\n",
        "import keras\nconv = keras.layers.SeparableConv2D(32, 3, depthwise_initializer='he_normal')\n",
        "def make(layers):\n    return layers.SeparableConv2D(32, 3, kernel_initializer='he_normal')\n",
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset(_tables()["separable_conv"]["ignored_by_keras2"])

    def visit(self, node: cst.Call, ctx: Context) -> None:
        if not node.args:
            return
        ignored = _tables()["separable_conv"]["ignored_by_keras2"]
        found = [a for a in node.args if a.keyword is not None and a.keyword.value in ignored]
        if not found:
            return
        layer = keras_layer(node, ctx, _separable_layers())
        if layer is None:
            return
        for arg in found:
            keyword = arg.keyword.value  # type: ignore[union-attr]
            kind = keyword.removeprefix("kernel_")
            ctx.report_arg(
                arg,
                f"`{layer}({keyword}=)` is rejected by Keras 3 and was ignored by Keras 2: remove it "
                f"(or use `depthwise_{kind}=` / `pointwise_{kind}=`)",
                fix=FixSpec.safe(f"Remove `{keyword}` (Keras 2 ignored it)", remove_arg(node, arg)),
            )
