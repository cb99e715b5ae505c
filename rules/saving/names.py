"""KER307, KER313, KER314: names and objects that do not survive a Keras 3 save/load round trip."""

from __future__ import annotations

import re

import libcst as cst

from ..engine.context import Context, call_keyword, positional_args
from ..engine.edits import FixSpec, Replace
from ..engine.model import Severity
from ..engine.rule import Example, Rule
from ..engine.walker import SOURCE_TEXT
from ..layers._common import callee_leaf
from ._reach import SAVING_TEXT, models_saved_note

# Where a `name=` becomes a layer or variable name.
_NAMED_APIS = ("layers.", "Input", "Variable", "Model", "Sequential", "models.")
_NAMED_METHODS = frozenset({"add_weight", "add_variable"})
# `kernel:0`: the output index TensorFlow appended to variable and tensor names.
_OUTPUT_INDEX = re.compile(r":\d+$")


class LambdaLayerPythonLambda(Rule):
    """
    ## Why
    A `Lambda` layer built from a Python `lambda` is saved as Python bytecode. Keras 3 refuses to
    load it by default: "Requested the deserialization of a `Lambda` layer whose `function` is a
    Python lambda … disallowed by default … pass `safe_mode=False`", because loading it runs
    arbitrary code.

    ## Example
    ```python
    x = layers.Lambda(lambda t: t * 2)(x)
    ```

    ## Use instead
    ```python
    @keras.saving.register_keras_serializable()
    class Double(layers.Layer):
        def call(self, t):
            return t * 2

    x = Double()(x)
    ```
    or load trusted files with `keras.models.load_model(path, safe_mode=False)`.

    Reported only where whole models are saved or loaded: the file or another module of its
    project saves, loads or rebuilds Keras models (as KER308 counts it; the note says where).
    A model that is only trained, or saved as weights, never meets `safe_mode`.

    ## Backends
    All.

    ## Fix safety
    None: whether to trust the file is the user's decision.

    ## References
    - Catalogue K3-SAV-007.
    """

    # A save or load in one statement decides for the `Lambda` layers of the others.
    cross_statement_words = SAVING_TEXT
    code = "KER307"
    name = "lambda-layer-python-lambda"
    message = "A `Lambda` layer holding a Python lambda cannot be loaded by Keras 3 without `safe_mode=False`: use a small custom layer"
    nodes = (cst.Call,)
    severity = Severity.INFO
    examples = (
        Example("import keras\nx = keras.layers.Lambda(«lambda t: t * 2»)(x)\nmodel.save('m.keras')\n"),
        Example(
            "import tensorflow as tf\n"
            "y = tf.keras.layers.Lambda(function=«lambda t: tf.squeeze(t, -1)», name='squeeze')(x)\n"
            "restored = tf.keras.models.load_model('squeeze.keras')\n"
        ),
        Example(
            "from tensorflow.keras.layers import Lambda as L\nlayer = L(«lambda t: t[:, 0]»)\n"
            "model.fit(x, y, callbacks=[tf.keras.callbacks.ModelCheckpoint('best.keras')])\n"
        ),
    )
    valid = (
        # Nothing in the file or its project saves or loads a whole model.
        "import keras\nx = keras.layers.Lambda(lambda t: t * 2)(x)\nmodel.save_weights('m.weights.h5')\n",
        "import keras\ndef double(t):\n    return t * 2\nx = keras.layers.Lambda(double)(x)\n",
        "class Lambda:\n    def __init__(self, f): ...\nx = Lambda(lambda t: t)\n",
        "import keras\nkey = sorted(items, key=lambda t: t[0])\n",
        "def make(layers):\n    return layers.Lambda(lambda t: t)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"Lambda"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        leaf = callee_leaf(node)
        if leaf is None or not node.args:
            return
        function = call_keyword(node, "function")
        if function is None:
            positional = positional_args(node)
            function = positional[0] if positional else None
        if function is None or not isinstance(function.value, cst.Lambda):
            return
        api = ctx.keras_api(node.func)
        if api is None or api[0] != "layers.Lambda":
            return
        note = models_saved_note(ctx)
        if note is not None:
            ctx.report(function.value, note=note)


def _named_call(node: cst.Call, ctx: Context) -> bool:
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value in _NAMED_METHODS:
        return True
    api = ctx.keras_api(func)
    return api is not None and api[0].startswith(_NAMED_APIS)


class SlashInName(Rule):
    """
    ## Why
    Keras 3 uses `/` to build variable paths (`dense/kernel`), so layer and variable names may not
    contain it: "Argument `name` must be a string and cannot contain character `/`." Keras 2
    code used `/` to imitate TensorFlow name scopes.

    ## Example
    ```python
    layers.Dense(64, name="block1/dense")
    ```

    ## Use instead
    ```python
    layers.Dense(64, name="block1_dense")
    ```

    ## Backends
    All.

    ## Fix safety
    Safe when the name appears nowhere else in the file; unsafe when the same text appears
    elsewhere (`model.get_layer("block1/dense")`, a weights mapping), which must change too.

    ## References
    - Catalogue K3-SAV-013; keras-team/keras#18467.
    """

    # The fix is safe only while no other statement spells the name.
    cross_statement_mentions = True
    code = "KER313"
    name = "slash-in-name"
    message = "Keras 3 layer and variable names cannot contain `/`"
    nodes = (cst.Call,)
    fix = "mixed"
    examples = (
        Example(
            'import keras\nx = keras.layers.Dense(64, name=«"block1/dense"»)(x)\n',
            'import keras\nx = keras.layers.Dense(64, name="block1_dense")(x)\n',
        ),
        Example(
            "import tensorflow as tf\n"
            "class Gate(tf.keras.layers.Layer):\n"
            "    def build(self, shape):\n"
            "        self.w = self.add_weight(name=«'gate/w'», shape=(shape[-1],))\n",
            "import tensorflow as tf\n"
            "class Gate(tf.keras.layers.Layer):\n"
            "    def build(self, shape):\n"
            "        self.w = self.add_weight(name='gate_w', shape=(shape[-1],))\n",
        ),
        Example(
            "from tensorflow.keras import layers\n"
            'x = layers.Conv2D(8, 3, name=«"stem/conv"»)(x)\n'
            'frozen = model.get_layer("stem/conv")\n',
            "from tensorflow.keras import layers\n"
            'x = layers.Conv2D(8, 3, name="stem_conv")(x)\n'
            'frozen = model.get_layer("stem/conv")\n',
            unsafe=True,
        ),
        Example('import keras\ninp = keras.Input((3,), name=«f"{prefix}/input"»)\n', None),
    )
    valid = (
        'import keras\nx = keras.layers.Dense(64, name="block1_dense")(x)\n',
        'import tensorflow as tf\nwith tf.name_scope("a/b"):\n    v = tf.Variable(1.0, name="a/b")\n',
        'import keras\nopen("data/train.csv", name="a/b")\n',
        'def make(layers):\n    return layers.Dense(2, name="a/b")\n',
    )

    # The text of the last module that had a finding: regenerated once per module, not per name.
    _code_of: tuple[cst.Module | None, str] = (None, "")

    def _module_code(self, ctx: Context) -> str:
        """The whole file's text, also when only some of its statements are re-linted."""
        text = ctx.shared.get(SOURCE_TEXT)
        if text is not None:
            return text
        module, code = self._code_of
        if module is not ctx.module:
            code = ctx.module.code
            self._code_of = (ctx.module, code)
        return code

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"name"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        arg = call_keyword(node, "name")
        if arg is None:
            return
        value = arg.value
        if isinstance(value, cst.SimpleString):
            if "/" not in value.raw_value or "b" in value.prefix.lower():
                return
        elif isinstance(value, cst.FormattedString):
            if not any(isinstance(p, cst.FormattedStringText) and "/" in p.value for p in value.parts):
                return
        else:
            return
        if not _named_call(node, ctx):
            return
        if not isinstance(value, cst.SimpleString):
            ctx.report(value)
            return
        body = value.raw_value
        start = len(value.prefix) + len(value.quote)
        replacement = Replace(value, value.value[:start] + body.replace("/", "_") + value.quote)
        used_elsewhere = self._module_code(ctx).count(body) > 1
        fix = FixSpec.of(not used_elsewhere, "Use `_` instead of `/`", replacement)
        ctx.report(value, fix=fix)


class VariableNameSemantics(Rule):
    """
    ## Why
    In Keras 3 a variable's `.name` is its bare name (`"kernel"`): no `:0` output index and no
    enclosing layer's scope. The scoped name is `.path`, and it starts with the model's name
    for the weights of a `Sequential` or subclassed model (`"sequential/dense/kernel"`), with
    the layer's name for a functional model or a lone layer (`"dense/kernel"`). Code written
    for TensorFlow names silently stops matching: `"kernel:0" in w.name` is always False, and
    `w.name.split("/")[0]` no longer gives the layer.

    ## Example
    ```python
    kernels = [w for w in model.weights if "kernel:0" in w.name]
    owner = w.name.split("/")[0]
    ```

    ## Use instead
    ```python
    kernels = [w for w in model.weights if "kernel" in w.name]
    owner = w.path.split("/")[-2]   # the layer that owns the variable
    ```

    ## Backends
    All.

    ## Fix safety
    Unsafe: the fix drops the `:0` suffix, looks for a scoped name inside `.path`, and takes the
    owning layer from `.path` (`split("/")[0]` becomes `split("/")[-2]`), but what the string
    logic should match depends on the intent. An `==` with a scoped name has no fix: `.path`
    may start with the model's name.

    ## References
    - Catalogue K3-SAV-014 (`w.name`/`w.path` checked on Keras 3.15.1 and 3.0.5).
    """

    code = "KER314"
    name = "variable-name-semantics"
    message = "Keras 3 variable names have no `:0` suffix and no scope: use `.path` for the full name"
    nodes = (cst.Comparison, cst.Call)
    fix = "unsafe"
    examples = (
        Example(
            "import keras\nkernels = [w for w in model.weights if «\"kernel:0\" in w.name»]\n",
            "import keras\nkernels = [w for w in model.weights if \"kernel\" in w.name]\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\nfor v in model.trainable_variables:\n"
            "    if «v.name == 'dense/kernel:0'»:\n        print(v)\n"
            "    if «'dense/kernel:0' in v.name»:\n        print(v)\n"
            "    owner = «v.name.split('/')»[0]\n",
            "import tensorflow as tf\nfor v in model.trainable_variables:\n"
            "    if v.name == 'dense/kernel:0':\n        print(v)\n"
            "    if 'dense/kernel' in v.path:\n        print(v)\n"
            "    owner = v.path.split('/')[-2]\n",
            unsafe=True,
        ),
        Example(
            "import keras\nscopes = «w.name.split('/')»\n",
            None,
        ),
        Example(
            "from tensorflow import keras\nbiases = [w for w in layer.weights if «w.name.endswith(':0')»]\n",
            None,
        ),
    )
    valid = (
        'import keras\nkernels = [w for w in model.weights if "kernel" in w.path]\n',
        'import keras\nif layer.name == "dense":\n    pass\n',
        'import keras\nparts = path.split("/")\nstem = file.name.split(".")[0]\n',
        'import keras\nif "a:0" in text:\n    pass\n',
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"split", "endswith", "startswith"})

    def visit(self, node: cst.Comparison | cst.Call, ctx: Context) -> None:
        if isinstance(node, cst.Call):
            self._visit_call(node, ctx)
            return
        if len(node.comparisons) != 1:
            return
        left, right = node.left, node.comparisons[0].comparator
        literal, other = (left, right) if isinstance(left, cst.SimpleString) else (right, left)
        if not isinstance(literal, cst.SimpleString) or not _is_name_attribute(other):
            return
        text = literal.raw_value
        if not _OUTPUT_INDEX.search(text):
            return
        stripped = _OUTPUT_INDEX.sub("", text)
        start = len(literal.prefix) + len(literal.quote)
        edits = [Replace(literal, literal.value[:start] + stripped + literal.quote)]
        if "/" in stripped:
            # `.path` starts with the model's name in a Sequential or subclassed model: a part
            # of it can be looked for, but no equality holds for every kind of model.
            if not isinstance(node.comparisons[0].operator, cst.In) or other is not right:
                ctx.report(node)
                return
            edits.append(Replace(other.attr, "path"))
        ctx.report(node, fix=FixSpec.unsafe("Compare without `:0`", *edits))

    def _visit_call(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or not _is_name_attribute(func.value) or not node.args:
            return
        method = func.attr.value
        first = node.args[0].value
        if not isinstance(first, cst.SimpleString):
            return
        if method == "split" and first.raw_value == "/":
            ctx.report(node, fix=_owner_fix(node, func.value, ctx))
        elif method in ("endswith", "startswith") and _OUTPUT_INDEX.search(first.raw_value):
            ctx.report(node)


def _owner_fix(call: cst.Call, name: cst.Attribute, ctx: Context) -> FixSpec | None:
    """`w.name.split("/")[0]`, the owning layer in TensorFlow names, is `w.path.split("/")[-2]`
    in Keras 3 (its first part may be the model's name). Other uses of the parts: no fix."""
    parent = ctx.parents[-1] if ctx.parents else None
    if not (isinstance(parent, cst.Subscript) and parent.value is call and len(parent.slice) == 1):
        return None
    index = parent.slice[0].slice
    if not (isinstance(index, cst.Index) and isinstance(index.value, cst.Integer) and index.value.value == "0"):
        return None
    return FixSpec.unsafe(
        "Take the owning layer from the variable's `.path`",
        Replace(name.attr, "path"),
        Replace(index.value, "-2"),
    )


def _is_name_attribute(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Attribute) and expr.attr.value == "name"
