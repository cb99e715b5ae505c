"""KER225: a TensorFlow op outside model code, in a Keras module, where `keras.ops` has it."""

from __future__ import annotations

import re
from dataclasses import replace

import libcst as cst

from ..engine.context import Context, call_keyword, has_star_args, positional_args
from ..engine.edits import FixSpec, Replace, append_arg
from ..engine.model import Applicability, Severity
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ..engine.walker import code_children
from ._base import PORTABILITY_BACKENDS
from ._sites import (
    KERAS_TENSOR_TEXT,
    MODEL_FUNCTION_WORDS,
    in_model_code,
    may_be_tf,
    module_uses_keras,
    on_keras_tensor,
    root_name,
    tensorflow_backend_module,
    tensorflow_uses,
    tf_utilities,
)
from ._table import build_fix, leaf_name, normalize_tf, tf_leaves, tf_rows

# Calls whose function arguments run somewhere other than the script's own flow: in a
# `tf.data` pipeline or a TensorFlow graph (where a `keras.ops` op on the JAX or PyTorch
# backend cannot run), or inside a Keras model (KER201 and its traps report those).
_CALLBACK_TAKERS = frozenset(
    {
        # tf.data.Dataset methods and constructors taking functions
        "map", "filter", "flat_map", "interleave", "reduce", "scan", "apply", "from_generator",
        "group_by_window", "take_while", "bucket_by_sequence_length", "parallel_interleave",
        # TensorFlow wrappers that run a Python function as (or inside) a graph
        "function", "py_function", "numpy_function", "py_func", "map_fn", "vectorized_map",
        "while_loop", "cond", "switch_case", "case",
        # Keras: the function runs inside the model
        "Lambda", "compile",
    }
)

_SHARED_KEY = "ops.callback_names"


def _callback_names(ctx: Context) -> frozenset[str]:
    """Names passed anywhere in the module to a call in `_CALLBACK_TAKERS` (`ds.map(parse)`,
    `layers.Lambda(fn)`, `compile(loss=my_loss, metrics=[m])`): functions of those names are
    not plain script code, wherever they are defined."""
    found = ctx.shared.get(_SHARED_KEY)
    if found is not None:
        return found
    names: set[str] = set()
    # The whole file's statements, also while an editor re-lints only some of them.
    todo: list[cst.CSTNode] = list(ctx.module_statements)
    while todo:
        node = todo.pop()
        if isinstance(node, cst.Call) and _runs_elsewhere(node, ctx):
            for arg in node.args:
                names.update(_named_functions(arg.value))
        todo.extend(code_children(node))
    found = ctx.shared[_SHARED_KEY] = frozenset(names)
    return found


def _named_functions(expr: cst.BaseExpression) -> list[str]:
    if isinstance(expr, cst.Name):
        return [expr.value]
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return [n for e in expr.elements for n in _named_functions(e.value)]
    if isinstance(expr, cst.Dict):
        return [n for e in expr.elements if isinstance(e, cst.DictElement) for n in _named_functions(e.value)]
    if isinstance(expr, cst.Call) and leaf_name(expr.func) == "partial" and expr.args:
        return _named_functions(expr.args[0].value)
    return []


def _is_tf_call(call: cst.Call, ctx: Context) -> bool:
    return (ctx.qualname(call.func) or "").startswith("tensorflow.")


def _stays_tensorflow(call: cst.Call, ctx: Context) -> bool:
    """A TensorFlow call that is not itself an op `keras.ops` has (`tf.data...`, `tf.io...`):
    what is passed to it must stay a TensorFlow value. In `tf.reduce_sum(tf.abs(x))` both
    ops move to `keras.ops` together."""
    if not _is_tf_call(call, ctx):
        return False
    row = tf_rows().get(normalize_tf(ctx.qualname(call.func)) or "")
    return row is None or row.safety == "none"


def _runs_elsewhere(call: cst.Call, ctx: Context) -> bool:
    """A call that runs the functions given to it in a pipeline, a graph or a model. TensorFlow
    control flow that `keras.ops` has (`tf.map_fn`, `tf.cond`) moves to `keras.ops` with the
    functions it runs, so it does not count."""
    if leaf_name(call.func) not in _CALLBACK_TAKERS:
        return False
    return not (_is_tf_call(call, ctx) and not _stays_tensorflow(call, ctx))


_TARGET = re.compile(r"with `keras\.([\w.]+)`$")


def _in_tensorflow_context(ctx: Context) -> bool:
    """Whether the op's value is used by TensorFlow itself or runs where TensorFlow traces:
    an argument of another TensorFlow call (`tf.data.Dataset.from_tensor_slices(tf.cast(x))`),
    a lambda given to a pipeline or graph call (`ds.map(lambda x: tf.cast(x))`), a function
    decorated with a TensorFlow decorator (`@tf.function`) or passed to such a call, or a
    `with tf.GradientTape()` / `tf.device()` block."""
    names = None
    parents = ctx.parents
    for index in range(len(parents) - 1, -1, -1):
        node = parents[index]
        kind = type(node)
        if kind is cst.Call:
            if _runs_elsewhere(node, ctx) or _stays_tensorflow(node, ctx):  # type: ignore[arg-type]
                return True
        elif kind is cst.Lambda:
            holder = parents[index - 2] if index >= 2 else None
            if isinstance(holder, cst.Call) and _runs_elsewhere(holder, ctx):
                return True
        elif kind is cst.With:
            for item in node.items:  # type: ignore[attr-defined]
                if isinstance(item.item, cst.Call) and _is_tf_call(item.item, ctx):
                    return True
        elif kind is cst.FunctionDef:
            for decorator in node.decorators:  # type: ignore[attr-defined]
                target = decorator.decorator
                target = target.func if isinstance(target, cst.Call) else target
                if (ctx.qualname(target) or "").startswith("tensorflow."):
                    return True
            if names is None:
                names = _callback_names(ctx)
            if node.name.value in names:  # type: ignore[attr-defined]
                return True
    return False


class TfOpOutsideModel(Rule):
    """
    ## Why
    A module that uses Keras 3 with the JAX or PyTorch backend should not need TensorFlow
    installed. A TensorFlow op anywhere in it, even outside the model (a script's evaluation
    code: `mean = tf.reduce_mean(model.predict(x))`), keeps `import tensorflow` and makes the
    whole module fail with `ModuleNotFoundError: No module named 'tensorflow'` where only JAX
    or PyTorch is installed. Ops that `keras.ops` has (the table of KER201) run on every
    backend.

    This rule covers the code KER201 leaves out: module-level statements, plain functions and
    methods of classes that are not Keras layers or models, in a module that imports Keras.
    It also reports TensorFlow's file and logging utilities, which Python's standard library
    has (`tf.io.gfile.exists` -> `os.path.exists`, `tf.io.gfile.GFile` -> `open`,
    `tf.io.gfile.makedirs` -> `os.makedirs(..., exist_ok=True)`, `tf.get_logger()` ->
    `logging.getLogger("tensorflow")`), in Keras code and in any module that needs TensorFlow
    for nothing else; in model code too, where they are Python calls rather than ops. Ops and
    utilities alike are reported only where TensorFlow is imported unconditionally: an import
    under `if` or `try` (`try: import tensorflow as tf / except ImportError: tf = None`) makes
    it optional, in a module written to run without it that keeps TensorFlow for what only it
    has (string and ragged tensors, `tf.data`).
    It stays quiet where TensorFlow itself runs the op or takes its value, because there a
    `keras.ops` op of the JAX or PyTorch backend cannot run: `tf.data` pipelines (functions and
    lambdas given to `map`, `filter`, ...), `@tf.function` functions, arguments of other
    TensorFlow calls, `with tf.GradientTape()` blocks, the methods of a layer that sets
    `self._convert_input_args = False` (a preprocessing layer that runs TensorFlow on every
    backend, as Keras's `TextVectorization` does); and on functions passed to
    `layers.Lambda` or `compile` (KER201 reports those), and on KerasTensors (KER222); and in a
    module built on Keras's own TensorFlow backend (`from keras.src.backend.tensorflow import
    ...`), which runs only with that backend.

    ## Example
    ```python
    predictions = model.predict(x)
    mean = tf.reduce_mean(predictions)
    ```

    ## Use instead
    ```python
    predictions = model.predict(x)
    mean = keras.ops.mean(predictions)
    ```

    ## Backends
    JAX and PyTorch: with the TensorFlow backend, TensorFlow is installed anyway.

    ## Fix safety
    Unsafe: the op is rewritten as KER201 would, but outside the model its result changes
    type, from a `tf.Tensor` to the backend's tensor (a JAX array, a torch tensor): `float()`,
    `np.asarray()`, arithmetic and `keras.ops` work on both, but `.numpy()` and TensorFlow
    calls on the result do not. Review the uses of the value. Ops without a one-to-one
    `keras.ops` form are not reported (KER107 still reports the import). The file utilities'
    replacements read local paths only: `tf.io.gfile` also reads `gs://`, `s3://`, `hdfs://`
    and `ram://` paths (a `GFile` also has `.size()`, and reads text as UTF-8 where `open`
    uses the locale's encoding); `copy`, `rename` and `stat` get no fix (different defaults
    and results).

    ## References
    - Catalogue MB-DEP-001 (TensorFlow as a hidden dependency), MB-OPS-000 (the op table).
    """

    # Model code (`Lambda(fn)`) and KerasTensors (`x = keras.Input(...)`) may come from other
    # statements.
    cross_statement_words = MODEL_FUNCTION_WORDS
    cross_statement_bindings = KERAS_TENSOR_TEXT
    code = "KER225"
    name = "tf-op-outside-model"
    message = "TensorFlow op in Keras code needs TensorFlow installed: use `keras.ops`"
    nodes = (cst.Call,)
    severity = Severity.INFO
    backends = PORTABILITY_BACKENDS
    fix = "unsafe"
    examples = (
        Example(
            "import keras\nimport tensorflow as tf\n\n"
            "def main(model, x):\n"
            "    mean = «tf.reduce_mean»(model.predict(x, verbose=0))\n"
            "    top = «tf.math.argmax»(model.predict(x, verbose=0))\n"
            "    return float(mean), top\n",
            "import keras\nimport tensorflow as tf\n\n"
            "def main(model, x):\n"
            "    mean = keras.ops.mean(model.predict(x, verbose=0))\n"
            "    top = keras.ops.argmax(model.predict(x, verbose=0), axis=0)\n"
            "    return float(mean), top\n",
            unsafe=True,
        ),
        Example(
            "from tensorflow import keras\nimport tensorflow as tf\n\n"
            "scores = «tf.nn.softmax»(logits)\n",
            "from tensorflow import keras\nimport tensorflow as tf\nfrom keras import ops\n\n"
            "scores = ops.softmax(logits)\n",
            unsafe=True,
        ),
        # Keras spelled `tf.keras` only: still a Keras module.
        Example(
            "import tensorflow as tf\n\nmodel = tf.keras.models.load_model('m.keras')\n"
            "mean = «tf.reduce_mean»(model.predict(x))\n",
            "import tensorflow as tf\nimport keras\n\nmodel = tf.keras.models.load_model('m.keras')\n"
            "mean = keras.ops.mean(model.predict(x))\n",
            unsafe=True,
        ),
        # No keras.ops form: nothing to offer.
        Example("import keras\nimport tensorflow as tf\n\nx = tf.nn.dropout(y, 0.5)\n", None),
        # File and logging utilities: Python has them.
        Example(
            "import os\nimport keras\nimport tensorflow as tf\n\n"
            "def save(path, text):\n"
            "    if not «tf.io.gfile.exists»(path):\n"
            "        «tf.io.gfile.makedirs»(path)\n"
            "    with «tf.io.gfile.GFile»(os.path.join(path, 'a.txt'), 'w') as f:\n"
            "        f.write(text)\n"
            "    «tf.get_logger»().info('saved')\n",
            "import os\nimport keras\nimport tensorflow as tf\nimport logging\n\n"
            "def save(path, text):\n"
            "    if not os.path.exists(path):\n"
            "        os.makedirs(path, exist_ok=True)\n"
            "    with open(os.path.join(path, 'a.txt'), 'w') as f:\n"
            "        f.write(text)\n"
            "    logging.getLogger(\"tensorflow\").info('saved')\n",
            unsafe=True,
        ),
        # A module that needs TensorFlow only for these (no Keras import).
        Example(
            "import tensorflow as tf\nfrom tensorflow import io as tf_io\n\n"
            "for root, _, files in «tf_io.gfile.walk»(folder):\n"
            "    «tf.io.gfile.rmtree»(root)\n"
            "names = «tf.io.gfile.glob»(pattern)\n"
            "«tf.io.gfile.copy»(a, b, overwrite=True)\n",
            "import tensorflow as tf\nfrom tensorflow import io as tf_io\nimport os\nimport shutil\nimport glob\n\n"
            "for root, _, files in os.walk(folder):\n"
            "    shutil.rmtree(root)\n"
            "names = glob.glob(pattern)\n"
            "tf.io.gfile.copy(a, b, overwrite=True)\n",
            unsafe=True,
        ),
        # In a layer too: Python file I/O, whatever runs it.
        Example(
            "import keras\nimport tensorflow as tf\n\n"
            "class L(keras.layers.Layer):\n    def build(self, shape):\n"
            "        self.ok = «tf.io.gfile.exists»('v.txt')\n",
            "import keras\nimport tensorflow as tf\nimport os\n\n"
            "class L(keras.layers.Layer):\n    def build(self, shape):\n"
            "        self.ok = os.path.exists('v.txt')\n",
            unsafe=True,
        ),
        # Keywords the replacement does not take the same way: no fix.
        Example(
            "import keras\nimport tensorflow as tf\n\nok = «tf.io.gfile.exists»(path=p)\n",
            None,
        ),
    )
    valid = (
        # Not Keras code.
        "import tensorflow as tf\n\nx = tf.reduce_sum([1, 2])\n",
        # String tensors: only TensorFlow has them.
        "import keras\nimport tensorflow as tf\n\nsentences = tf.constant(['a dog runs', 'a cat sits'])\n"
        "names = tf.convert_to_tensor(rows, dtype=tf.string)\nmodel = keras.models.load_model('m.keras')\n",
        # tf.data pipelines: a function given to map, a lambda, a dataset built from a TF op.
        "import keras\nimport tensorflow as tf\n\n"
        "def parse(x):\n    return tf.cast(x, 'float32') / 255.0\n\n"
        "ds = tf.data.Dataset.range(8).map(parse).map(lambda t: tf.square(t))\n"
        "ds2 = tf.data.Dataset.from_tensor_slices(tf.cast(images, 'float32'))\n",
        # Graph code and tapes.
        "import keras\nimport tensorflow as tf\n\n"
        "@tf.function\ndef step(x):\n    return tf.reduce_sum(x)\n\n"
        "def train(x):\n    with tf.GradientTape() as tape:\n        y = tf.square(x)\n    return y\n",
        # Model code is KER201's; a function later passed to Lambda or compile too.
        "import keras\nimport tensorflow as tf\n\n"
        "def smooth(t):\n    return tf.abs(t)\n\n"
        "class L(keras.layers.Layer):\n    def call(self, x):\n        return tf.abs(x)\n\n"
        "layer = keras.layers.Lambda(smooth)\n",
        # A KerasTensor is KER222's.
        "import keras\nimport tensorflow as tf\n\ninputs = keras.Input((3,))\noutputs = tf.abs(inputs)\n",
        # A parameter named tf.
        "import keras\n\ndef f(tf, x):\n    return tf.reduce_sum(x)\n",
        # A module built on Keras's TensorFlow backend runs only there.
        "import keras\nimport tensorflow as tf\nfrom keras.src.backend.tensorflow import *\n\n"
        "def resize(x):\n    return tf.cast(tf.shape(x), 'float32')\n",
        # File I/O in a module that needs TensorFlow for more, and does not use Keras.
        "import tensorflow as tf\n\nok = tf.io.gfile.exists(p)\nx = tf.constant(1)\n",
        # TensorFlow made optional: the module guards its uses.
        "import os\nimport keras\ntry:\n    import tensorflow as tf\nexcept ImportError:\n    tf = None\n\n"
        "def exists(p):\n    if tf is None:\n        return os.path.exists(p)\n    return tf.io.gfile.exists(p)\n",
        # ... and keeps it for string and ragged tensors.
        "import keras\ntry:\n    import tensorflow as tf\nexcept ImportError:\n    tf = None\n\n"
        "def to_ragged(inputs):\n    inputs = tf.convert_to_tensor(inputs)\n"
        "    return tf.RaggedTensor.from_tensor(tf.expand_dims(inputs, 0))\n",
    )

    def __init__(self) -> None:
        self.leaves = tf_leaves()
        self.utility_leaves = frozenset(name.rsplit(".", 1)[1] for name in tf_utilities())

    def _visit_utility(self, node: cst.Call, ctx: Context) -> None:
        """`tf.io.gfile.exists(p)` -> `os.path.exists(p)`, `tf.get_logger()` ->
        `logging.getLogger("tensorflow")`: in Keras code, or where such utilities are all the
        module needs TensorFlow for."""
        func = node.func
        qualified = ctx.qualname(func)
        row = tf_utilities().get(qualified or "")
        if row is None:
            return
        uses = tensorflow_uses(ctx)
        # TensorFlow imported under `if` / `try` is optional: the module guards its uses.
        if root_name(func) not in uses.unconditional:
            return
        if not (uses.keras or uses.only_utilities or module_uses_keras(ctx)):
            return
        # Plain Python functions, not ops: what runs them (a layer, a `tf.function`, a
        # pipeline) does not matter.
        spelled = dotted_name(func) or qualified
        target = row.get("target")
        if target:
            message = f"`{spelled}` needs TensorFlow installed: `{target}` does the same for local paths without it"
        else:
            message = f"`{spelled}` needs TensorFlow installed: use Python's `os` / `shutil` for local paths"
        ctx.report(func, message, fix=self._utility_fix(node, row, ctx) if target else None)

    @staticmethod
    def _utility_fix(node: cst.Call, row: dict, ctx: Context) -> FixSpec | None:
        if has_star_args(node) or len(positional_args(node)) > row.get("positional", 0):
            return None
        keep = set(row.get("keep", ()))
        if any(arg.keyword is not None and arg.keyword.value not in keep for arg in node.args):
            return None
        target = row["target"]
        if "." not in target:
            # A builtin: only where nothing shadows it.
            if ctx.scopes.is_bound(target):
                return None
            callee, imports = target, ()
        else:
            found = ctx.reference(target)
            if found is None:
                return None
            callee, imports = found
        add = row.get("add")
        if add and not node.args:
            edits = [Replace(node, f"{callee}({add})")]
        else:
            edits = [Replace(node.func, callee)]
            if add:
                edits.append(append_arg(node, add))
        spelled = dotted_name(node.func) or "the call"
        return FixSpec.unsafe(f"Replace `{spelled}` with `{callee}` (local paths only)", *edits, imports=imports)

    def call_leaves(self) -> frozenset[str]:
        """The callee last names `visit` acts on: the walker calls it on no other call."""
        return self.utility_leaves | self.leaves

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        leaf = leaf_name(func)
        if leaf is None or not may_be_tf(func, ctx):
            return
        if leaf in self.utility_leaves:
            self._visit_utility(node, ctx)
            return
        if leaf not in self.leaves:
            return
        qualified = normalize_tf(ctx.qualname(func))
        row = tf_rows().get(qualified) if qualified else None
        if row is None or row.safety == "none":
            return
        # A Keras module: Keras imported (any spelling) or spelled `tf.keras.` somewhere.
        uses = tensorflow_uses(ctx)
        if not (module_uses_keras(ctx) or uses.keras):
            return
        # TensorFlow imported under `if` / `try` is optional: the module is written to run
        # without it, and keeps TensorFlow for what only it has (strings, ragged tensors).
        if root_name(func) not in uses.unconditional:
            return
        if tensorflow_backend_module(ctx):
            return
        if in_model_code(ctx) is True or on_keras_tensor(node, ctx) or _in_tensorflow_context(ctx):
            return
        if ctx.in_layer_keeping_inputs():
            return
        if _string_tensor(node):
            return  # no backend but TensorFlow has string tensors: `keras.ops` cannot take it
        fix = build_fix(node, row, ctx)
        if fix is None:
            return
        spelled = dotted_name(func) or "this op"
        target = _TARGET.search(fix.title)
        message = (
            f"`{spelled}` needs TensorFlow installed: `keras.{target.group(1)}` runs on every backend"
            if target
            else self.message
        )
        # Outside the model the value changes type (see Fix safety): never a safe fix here.
        ctx.report(func, message, fix=replace(fix, applicability=Applicability.UNSAFE))


def _string_tensor(node: cst.Call) -> bool:
    """`tf.constant(["a dog runs"])`, `tf.convert_to_tensor(x, dtype=tf.string)`: a tensor of
    strings, which JAX and PyTorch do not have."""
    dtype = call_keyword(node, "dtype")
    if dtype is not None and (dotted_name(dtype.value) or "").endswith(".string"):
        return True
    if not node.args or node.args[0].keyword is not None:
        return False
    value = node.args[0].value
    while isinstance(value, (cst.List, cst.Tuple)) and value.elements:
        value = value.elements[0].value
    return isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))
