"""KER420-KER422, KER431: functional-model structure and Python control flow on traced tensors."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context, call_keyword, class_methods, positional_args
from ..engine.edits import FixSpec, Replace
from ..engine.provenance import LAYER, MODEL, assigned_value, fact_of
from ..engine.rule import Example, Rule
from ..engine.tables import load_toml
from ._common import callee_leaf, enclosing_method, keras_reference, param_name, self_attribute

_CONTAINERS = (cst.Dict, cst.List, cst.Tuple)


def _values(container: cst.BaseExpression):
    if isinstance(container, cst.Dict):
        for element in container.elements:
            if isinstance(element, cst.DictElement):
                yield element.value
    elif isinstance(container, (cst.List, cst.Tuple)):
        for element in container.elements:
            yield element.value


class NestedFunctionalInputs(Rule):
    """
    ## Why
    Keras 3.0 to 3.3 accept only flat structures (one tensor, a list, or a dict of tensors) as a
    functional model's inputs and outputs: `keras.Model({"foo": a, "bar": {"baz": b}}, out)`
    raises "When providing `inputs` as a dict, all values in the dict must be KerasTensors".
    Keras 3.4 accepts any nesting.

    The structure is seen written in the call or through a name assigned once in its scope
    (`inputs = {"foo": i1, "bar": {"baz": i2}}; keras.Model(inputs, out)`, also a name inside
    the structure: `meta = {...}; keras.Model({"image": image, "meta": meta}, out)`); a name
    assigned more than once, a parameter or a structure built item by item is not followed.

    ## Example
    ```python
    model = keras.Model({"image": image, "meta": {"age": age, "sex": sex}}, outputs)
    ```

    ## Use instead
    ```python
    model = keras.Model({"image": image, "age": age, "sex": sex}, outputs)
    ```
    or require `keras>=3.4`.

    ## Backends
    All.

    ## Fix safety
    None: flattening changes the structure callers pass to the model.

    ## References
    - Catalogue K3-FUN-002 (checked on 3.0.5 and 3.15.1; fixed by keras commit 8cb1829d1e).
    """

    code = "KER420"
    name = "nested-functional-inputs"
    message = "Nested inputs or outputs in a functional model need Keras 3.4 or newer: flatten them"
    nodes = (cst.Call,)
    fixed_in = "3.4.0"
    examples = (
        Example(
            "import keras\n"
            'model = keras.Model({"foo": i1, "bar": «{"baz": i2}»}, out)\n'
        ),
        Example(
            "import tensorflow as tf\n"
            "model = tf.keras.Model(inputs=[a, «[b, c]»], outputs={'x': x, 'y': «(y1, y2)»})\n"
        ),
        Example("from tensorflow.keras import Model\nm = Model([a, b], [out, «{'aux': aux}»])\n"),
        Example(
            "import keras\n"
            'inputs = {"foo": i1, "bar": {"baz": i2}}\n'
            "model = keras.Model(«inputs», out)\n"
        ),
        Example(
            "import keras\n\ndef build(image, age, sex):\n"
            '    meta = {"age": age, "sex": sex}\n'
            "    heads = [keras.layers.Dense(1)(image), [keras.layers.Dense(1)(image)]]\n"
            '    return keras.Model({"image": image, "meta": «meta»}, outputs=«heads»)\n'
        ),
    )
    valid = (
        "import keras\nmodel = keras.Model({'a': a, 'b': b}, [o1, o2])\n",
        "import keras\ninputs = {'a': a, 'b': b}\noutputs = [o1, o2]\nmodel = keras.Model(inputs, outputs)\n",
        "import keras\ndef build(inputs, outputs):\n    return keras.Model(inputs, outputs)\n",
        "import keras\ninputs = None\ninputs = [a, b]\nmodel = keras.Model(inputs, out)\n",
        # Assigned twice: which value reaches the call is not worked out.
        "import keras\ndef build(a, b, nested):\n    ins = [a, b]\n    if nested:\n        ins = [a, [b]]\n"
        "    return keras.Model(ins, a)\n",
        "import keras\nfor ins in ([a], [a, b]):\n    keras.Model(ins, out)\n",
        "import keras\nmodel = keras.Model(inputs, outputs)\n",
        "class Model:\n    pass\nm = Model([a, [b]], c)\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        if callee_leaf(node) != "Model" or not node.args:
            return
        api = ctx.keras_api(node.func)
        if api is None or api[0] not in ("Model", "models.Model"):
            return
        positional = positional_args(node)
        for index, keyword in enumerate(("inputs", "outputs")):
            arg = call_keyword(node, keyword) or (positional[index] if len(positional) > index else None)
            if arg is None:
                continue
            if isinstance(arg.value, _CONTAINERS):
                for value in _values(arg.value):
                    if isinstance(value, _CONTAINERS):
                        ctx.report(value)
                    elif _holds_structure(ctx, value):
                        ctx.report(value, self._held(value, f"is a structure inside the model's {keyword}"))
                continue
            # `inputs = {"foo": i1, "bar": {"baz": i2}}; keras.Model(inputs, out)`
            held = assigned_value(ctx, arg.value)
            if isinstance(held, _CONTAINERS) and any(
                isinstance(value, _CONTAINERS) or _holds_structure(ctx, value) for value in _values(held)
            ):
                ctx.report(arg.value, self._held(arg.value, f"(the model's {keyword}) is nested"))

    @staticmethod
    def _held(name: cst.BaseExpression, what: str) -> str:
        return f"Nested inputs or outputs in a functional model need Keras 3.4 or newer: `{name.value}` {what}, flatten it"  # type: ignore[attr-defined]


def _holds_structure(ctx: Context, value: cst.BaseExpression) -> bool:
    """A name whose one assignment is a list, tuple or dict (`meta = {"age": age}`)."""
    return isinstance(value, cst.Name) and isinstance(
        assigned_value(ctx, value), (*_CONTAINERS, cst.ListComp, cst.DictComp)
    )


def _nones(container: cst.BaseExpression):
    for value in _values(container):
        if isinstance(value, cst.Name) and value.value == "None":
            yield value
        elif isinstance(value, _CONTAINERS):
            yield from _nones(value)


_LITERALS = (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)


def _may_hold_tensor(container: cst.BaseExpression) -> bool:
    """Whether a structure holds anything but `None` and literals (`[None, 3]` holds no tensor)."""
    for value in _values(container):
        if isinstance(value, _CONTAINERS):
            if _may_hold_tensor(value):
                return True
        elif isinstance(value, cst.Name) and value.value in ("None", "True", "False"):
            continue
        elif not isinstance(value, _LITERALS):
            return True
    return False


class NoneInNestedCallArguments(Rule):
    """
    ## Why
    Before Keras 3.13 a layer called on a structure (a dict or list of tensors) could not have
    `None` in it: `layer({"foo": x, "bar": {"baz": None}})` raises "Only input tensors may be
    passed as positional arguments" (3.0 to 3.3) or `AttributeError: 'NoneType' object has no
    attribute 'shape'` (3.4 to 3.12). The same holds for a keyword argument that holds tensors
    and `None`: `layer(x, mask=[None, m])` raises "In a nested call() argument, you cannot mix
    tensors and non-tensors" (3.0 to 3.3) or the `AttributeError` (3.4 to 3.12); a keyword
    structure of `None` and literals alone (`sizes=[None, 3]`) is not a tensor argument and works.

    The layer is one built right there (`keras.layers.Concatenate()(...)`, `Gate()(...)` of a
    Layer class of the project), or a name or `self.x` provenance shows to be a layer or model.

    ## Example
    ```python
    y = self.block({"tokens": x, "mask": None})
    ```

    ## Use instead
    ```python
    def call(self, tokens, mask=None): ...
    y = self.block(x, mask=None)
    ```
    Optional tensors go in keyword arguments of `call()`, one each.

    ## Backends
    All.

    ## Fix safety
    None: the layer's `call()` signature must change.

    ## References
    - Catalogue K3-FUN-003; checked on Keras 3.0.5, 3.3.3, 3.12.0 (fails) and 3.13.0 (works).
    """

    code = "KER421"
    name = "none-in-nested-call-arguments"
    message = "`None` inside a structure passed to a layer fails before Keras 3.13: give each optional tensor its own keyword argument"
    nodes = (cst.Call,)
    fixed_in = "3.13.0"
    examples = (
        Example(
            "import keras\n\nclass Outer(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            '        return self.block({"foo": x, "bar": {"baz": «None»}})\n'
        ),
        Example(
            "import tensorflow as tf\ny = tf.keras.layers.Concatenate()([a, «None»])\n"
        ),
        Example(
            "from tensorflow.keras import layers\n\nclass Wrap(layers.Layer):\n"
            "    def call(self, x, mask=None):\n"
            "        return self.inner([x, («None», x)])\n"
        ),
        Example(
            "import keras\nblock = keras.layers.Concatenate()\ny = block([a, «None»])\n"
        ),
        Example(
            "import keras\n\nclass Fuse(keras.layers.Layer):\n"
            "    def call(self, x, extra=None):\n        return x\n\n"
            "a = keras.Input((2,))\nout = Fuse()(a, extra=[«None», a])\n"
            "y = keras.layers.Dense(2)(a, mask={'m': «None», 'n': (a, «None»)})\n"
        ),
    )
    valid = (
        "import keras\nclass Outer(keras.layers.Layer):\n"
        "    def call(self, x):\n        return self.block({'foo': x})\n",
        "import keras\nclass Outer(keras.layers.Layer):\n"
        "    def helper(self, d):\n        return d\n"
        "    def call(self, x):\n        return self.helper({'foo': None})\n",
        "import keras\nprint({'a': None})\n",
        "import keras\nclass Fuse(keras.layers.Layer):\n    def call(self, x, sizes=None, extra=None):\n        return x\n"
        "out = Fuse()(a, sizes=[None, 3], extra=[a, b])\n",
        "import keras\nclass Plain:\n    def __call__(self, x, extra=None):\n        return x\n"
        "out = Plain()(a, extra=[None, a])\n",
        "import keras\nclass Outer(keras.layers.Layer):\n"
        "    def __init__(self):\n        super().__init__()\n        self.lookup = dict\n"
        "    def call(self, x):\n        return self.lookup({'foo': None})\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        if not node.args or not any(isinstance(a.value, _CONTAINERS) for a in node.args):
            return
        if not self._calls_layer(node, ctx):
            return
        for arg in node.args:
            if not isinstance(arg.value, _CONTAINERS):
                continue
            if arg.keyword is None:
                for none in _nones(arg.value):
                    ctx.report(none)
            elif _may_hold_tensor(arg.value):
                message = (
                    f"`None` next to tensors in `{arg.keyword.value}=` fails before Keras 3.13: "
                    "give each optional tensor its own keyword argument"
                )
                for none in _nones(arg.value):
                    ctx.report(none, message)

    def _calls_layer(self, node: cst.Call, ctx: Context) -> bool:
        """The callee is a layer or model: built by `keras.layers.X(...)` right there, shown to
        be one by provenance (`block = layers.Dense(2)`, `self.block = Block()`), or an
        attribute of a Keras class that provenance knows nothing about and that is no method."""
        func = node.func
        if isinstance(func, cst.Call):
            api = ctx.keras_api(func.func)
            if api is not None:
                return api[0].startswith("layers.")
            return fact_of(ctx, func).kind in (LAYER, MODEL)  # `Gate()(x, extra=[None, x])`
        if isinstance(func, (cst.Name, cst.Attribute)) and ctx.qualname(func) is None:
            fact = fact_of(ctx, func)
            if fact.known:
                return fact.kind in (LAYER, MODEL)
        attribute = self_attribute(func)
        klass = ctx.klass
        if attribute is None or klass is None or not ctx.is_keras_class(klass):
            return False
        return attribute not in class_methods(klass)


@lru_cache(maxsize=1)
def _static() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    table = load_toml("layers_tracing.toml")
    return (
        frozenset(table["static_keras_ops"]),
        frozenset(table["static_keras_backend"]),
        frozenset(table["static_tf_functions"]),
    )


@lru_cache(maxsize=1)
def _containers() -> tuple[frozenset[str], frozenset[str]]:
    table = load_toml("layers_tracing.toml")
    return frozenset(table["container_keras_ops"]), frozenset(table["container_tf_functions"])


def _container_call(call: cst.Call, ctx: Context) -> bool:
    """Whether a call gives a Python list or tuple of tensors (`ops.split`, `tf.unstack`)."""
    if not isinstance(call.func, (cst.Name, cst.Attribute)):
        return False
    keras_ops, tf_functions = _containers()
    api = ctx.keras_api(call.func)
    if api is not None:
        return api[0].startswith("ops.") and api[0][4:] in keras_ops
    qualified = ctx.qualname(call.func)
    return qualified is not None and qualified.startswith("tensorflow.") and qualified[11:] in tf_functions


def _tensor_call(call: cst.Call, ctx: Context) -> bool:
    """Whether a call computes a tensor: a TensorFlow function or a Keras op."""
    if not isinstance(call.func, (cst.Name, cst.Attribute)):
        return False
    keras_ops, keras_backend, tf_functions = _static()
    api = ctx.keras_api(call.func)
    if api is not None:
        name = api[0]
        if name.startswith("ops."):
            return name[4:] not in keras_ops
        if name.startswith("random."):
            return name[7:8].islower()  # `keras.random.uniform(...)`, not `SeedGenerator()`
        return name.startswith("backend.") and name[8:] not in keras_backend
    qualified = ctx.qualname(call.func)
    if qualified is None or not qualified.startswith("tensorflow."):
        return False
    return qualified.split(".")[1] not in tf_functions


def _tests_tensor(test: cst.BaseExpression, ctx: Context) -> bool:
    """Whether an `if` test (a small expression) calls a tensor op."""
    todo: list[cst.CSTNode] = [test]
    while todo:
        current = todo.pop()
        if isinstance(current, cst.Call):
            if _tensor_call(current, ctx):
                return True
            todo.extend(arg.value for arg in current.args)
        elif isinstance(current, (cst.Comparison, cst.BooleanOperation, cst.UnaryOperation, cst.BinaryOperation)):
            todo.extend(c for c in current.children if isinstance(c, cst.BaseExpression) or isinstance(c, cst.ComparisonTarget))
        elif isinstance(current, cst.ComparisonTarget):
            todo.append(current.comparator)
        elif isinstance(current, cst.Subscript):
            todo.append(current.value)
    return False


def _single_return(block: cst.BaseSuite) -> cst.BaseExpression | None:
    """The value of a block that is exactly `return <value>`."""
    body = block.body if isinstance(block, cst.IndentedBlock) else ()
    if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine) or len(body[0].body) != 1:
        return None
    statement = body[0].body[0]
    return statement.value if isinstance(statement, cst.Return) else None


class PythonIfOnTensor(Rule):
    """
    ## Why
    Keras 3 does not run `call()` through TensorFlow's autograph, and JAX traces it: a Python
    `if` on a tensor value fails as soon as the layer is used in a model (built on symbolic
    inputs, `predict`, `fit`). TensorFlow raises `OperatorNotAllowedInGraphError: Using a
    symbolic tf.Tensor as a Python bool is not allowed`; JAX fails with the unhelpful
    `AttributeError: 'str' object has no attribute '_error_repr'`. An eager call of the
    layer alone still works, which hides the problem in quick tests; PyTorch runs `call()`
    eagerly and takes either branch.

    ## Example
    ```python
    def call(self, inputs):
        if tf.reduce_sum(inputs) > 0.5:
            return inputs * 2
        else:
            return inputs / 2
    ```

    ## Use instead
    ```python
    def call(self, inputs):
        return keras.ops.cond(keras.ops.sum(inputs) > 0.5, lambda: inputs * 2, lambda: inputs / 2)
    ```
    or `keras.ops.where(condition, a, b)` for element-wise choices.

    ## Backends
    JAX and TensorFlow (PyTorch runs the `if` eagerly).

    ## Fix safety
    Unsafe, offered for `if …: return a` / `else: return b`: `ops.cond` needs both branches to
    give the same structure, shape and dtype, and runs them as traced functions. Other shapes
    of code get no fix.

    ## References
    - Catalogue K3-FUN-004; keras-io migration guide, "TF autograph".
    """

    code = "KER422"
    name = "python-if-on-tensor"
    message = "Python `if` on a tensor in `call()`: Keras 3 traces `call()` without autograph, use `keras.ops.cond` or `keras.ops.where`"
    nodes = (cst.If,)
    fix = "unsafe"
    backends = frozenset({"jax", "tensorflow"})
    examples = (
        Example(
            "import keras\nimport tensorflow as tf\n\nclass Gate(keras.layers.Layer):\n"
            "    def call(self, inputs):\n"
            "        if «tf.reduce_sum(inputs) > 0.5»:\n"
            "            return inputs * 2\n"
            "        else:\n"
            "            return inputs / 2\n",
            "import keras\nimport tensorflow as tf\n\nclass Gate(keras.layers.Layer):\n"
            "    def call(self, inputs):\n"
            "        return keras.ops.cond(tf.reduce_sum(inputs) > 0.5, lambda: inputs * 2, lambda: inputs / 2)\n",
            unsafe=True,
        ),
        Example(
            "from keras import ops, layers\n\nclass Clip(layers.Layer):\n"
            "    def call(self, x, training=None):\n"
            "        if training and «ops.max(x) > 1.0»:\n"
            "            x = x / ops.max(x)\n"
            "        return x\n",
            None,
        ),
    )
    valid = (
        "import keras\nclass L(keras.layers.Layer):\n"
        "    def call(self, x, training=None):\n        if training:\n            x = x * 2\n        return x\n",
        "import keras\nclass L(keras.layers.Layer):\n"
        "    def call(self, x):\n        if keras.ops.shape(x)[0] > 1:\n            return x\n        return x\n",
        "import tensorflow as tf\ndef eager(x):\n    if tf.reduce_sum(x) > 0:\n        return x\n",
        "from tensorflow.keras import backend as K\nimport keras\nclass Pool(keras.layers.Layer):\n"
        "    def call(self, x):\n        if K.ndim(x) == 2 and K.image_data_format() == 'channels_last':\n"
        "            return x\n        return x\n",
    )

    def visit(self, node: cst.If, ctx: Context) -> None:
        if enclosing_method(ctx, "call") is None or not _tests_tensor(node.test, ctx):
            return
        ctx.report(_tensor_part(node.test, ctx), fix=self._fix(node, ctx))

    def _fix(self, node: cst.If, ctx: Context) -> FixSpec | None:
        orelse = node.orelse
        # The statement's text starts with its leading comment lines and its indentation.
        if not isinstance(orelse, cst.Else) or node.leading_lines:
            return None
        when_true, when_false = _single_return(node.body), _single_return(orelse.body)
        if when_true is None or when_false is None:
            return None
        reference = keras_reference(ctx, "ops.cond")
        if reference is None:
            return None
        code, imports = reference
        source = ctx.module.code_for_node
        indent = "".join(
            block.indent if block.indent is not None else ctx.module.default_indent
            for block in ctx.parents
            if isinstance(block, cst.IndentedBlock)
        )
        text = f"{indent}return {code}({source(node.test)}, lambda: {source(when_true)}, lambda: {source(when_false)})\n"
        return FixSpec.unsafe("Use `keras.ops.cond`", Replace(node, text), imports=imports)


def _tensor_part(test: cst.BaseExpression, ctx: Context) -> cst.BaseExpression:
    """In `training and ops.max(x) > 1`, the operand that involves a tensor."""
    if isinstance(test, cst.BooleanOperation):
        for side in (test.left, test.right):
            if _tests_tensor(side, ctx):
                return _tensor_part(side, ctx)
    return test


class InPlaceTensorMutation(Rule):
    """
    ## Why
    JAX arrays and TensorFlow tensors have no item assignment. `x[:, 0] = 0.0` or `x[i] += v`
    inside `call()` fails while Keras traces the layer: `TypeError … Could not automatically
    infer the output shape / dtype …` ("JAX arrays are immutable and do not support in-place
    item assignment"). PyTorch tensors accept it, so the code runs on PyTorch only, and there
    an assignment to an input overwrites the caller's tensor.

    ## Example
    ```python
    def call(self, x):
        x[:, 0] = 0.0
        return x
    ```

    ## Use instead
    ```python
    def call(self, x):
        return keras.ops.slice_update(x, (0, 0), keras.ops.zeros((keras.ops.shape(x)[0], 1)))
    ```
    or `keras.ops.scatter_update` / `keras.ops.where` with a mask.

    ## Backends
    JAX and TensorFlow (PyTorch tensors are mutable).

    ## Fix safety
    None: the update tensor's shape has to be worked out from the slice.

    ## References
    - Catalogue MB-JAX-001.
    """

    code = "KER431"
    name = "in-place-tensor-mutation"
    message = "Tensors cannot be assigned to in place: use `keras.ops.slice_update`, `scatter_update` or `where`"
    nodes = (cst.Assign, cst.AugAssign)
    backends = frozenset({"jax", "tensorflow"})
    examples = (
        Example(
            "import keras\n\nclass Zero(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        «x[:, 0]» = 0.0\n"
            "        return x\n"
        ),
        Example(
            "from tensorflow import keras\nfrom keras import ops\n\nclass Mask(keras.Model):\n"
            "    def call(self, inputs):\n"
            "        «inputs[..., -1]» *= 0\n"
            "        return inputs\n"
        ),
        Example(
            "import tensorflow as tf\n\nclass Acc(tf.keras.layers.Layer):\n"
            "    def call(self, inputs, index=0):\n"
            "        h = tf.nn.relu(inputs)\n"
            "        «h[index]» += 1.0\n"
            "        return h\n"
        ),
    )
    valid = (
        "import keras\nclass L(keras.layers.Layer):\n"
        "    def call(self, x):\n        out = {}\n        out['a'] = x\n        cache = []\n        cache[0] = x\n        return out\n",
        "import keras\nclass L(keras.layers.Layer):\n"
        "    def call(self, inputs):\n        inputs['mask'] = None\n        return inputs\n",
        "import numpy as np\nclass Plain:\n    def call(self, x):\n        x[0] = 1\n",
        "import keras\nimport numpy as np\nclass L(keras.layers.Layer):\n"
        "    def call(self, inputs):\n        inputs[0] = inputs[0][..., :-1]\n"
        "        m = np.eye(3)\n        m[-1, -1] = -1.0\n        return inputs\n",
        # A NumPy array mutated before it becomes a tensor.
        "from tensorflow import keras\nimport numpy as np\nK = keras.backend\nclass L(keras.layers.Layer):\n"
        "    def call(self, inputs):\n        m = np.eye(4)\n        m[-1, -1] = -1.0\n"
        "        m = K.constant(m)\n        return K.dot(inputs, m)\n",
        "import keras\nclass L(keras.layers.Layer):\n"
        "    def call(self, x):\n        out = self.attention(x)\n        out = {}\n        out[0] = x\n        return out\n",
        # Ops that give Python lists or tuples of tensors: their items can be replaced.
        "import keras\nfrom keras import ops\n\nclass Gates(keras.layers.Layer):\n"
        "    def call(self, x):\n        parts = ops.split(x, 4, axis=-1)\n"
        "        parts[0] = ops.sigmoid(parts[0])\n        return ops.concatenate(parts, axis=-1)\n",
        "import tensorflow as tf\n\nclass Heads(tf.keras.layers.Layer):\n"
        "    def call(self, inputs):\n        heads = tf.unstack(inputs, axis=1)\n"
        "        heads[-1] = tf.zeros_like(heads[-1])\n        shape = tf.shape_n([inputs])\n"
        "        shape[0] = None\n        return tf.stack(heads, axis=1)\n",
    )

    def visit(self, node: cst.Assign | cst.AugAssign, ctx: Context) -> None:
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        subscripts = [t for t in targets if isinstance(t, cst.Subscript) and isinstance(t.value, cst.Name)]
        if not subscripts:
            return
        found = enclosing_method(ctx, "call")
        if found is None:
            return
        method = found[1]
        for target in subscripts:
            if _string_index(target):
                continue
            name = target.value.value  # type: ignore[attr-defined]
            if _array_index(target):
                # `x[:, 0]` and `x[i, j]` index arrays, never lists or dicts.
                if name == param_name(method, 1) or _tensor_local(method, name, ctx, before=node):
                    ctx.report(target)
            elif _tensor_local(method, name, ctx, from_ops_only=True, before=node):
                ctx.report(target)


def _array_index(target: cst.Subscript) -> bool:
    return len(target.slice) > 1 or any(
        isinstance(element.slice, cst.Slice)
        or (isinstance(element.slice, cst.Index) and isinstance(element.slice.value, cst.Ellipsis))
        for element in target.slice
    )


def _string_index(target: cst.Subscript) -> bool:
    return any(
        isinstance(element.slice, cst.Index) and isinstance(element.slice.value, (cst.SimpleString, cst.FormattedString))
        for element in target.slice
    )


def _tensor_local(
    method: cst.FunctionDef, name: str, ctx: Context, from_ops_only: bool = False, before: cst.CSTNode | None = None
) -> bool:
    """Whether `call()` assigns `name` from a tensor op (`h = tf.nn.relu(x)`) or, unless
    `from_ops_only`, from a sublayer (`h = self.dense(x)`), and never from a list or dict, in its
    top-level statements; with `before` (the mutation), only the assignments up to its statement
    count (`m = np.eye(3); m[-1, -1] = -1.0; m = K.constant(m)` mutates a NumPy array)."""
    body = method.body.body if isinstance(method.body, cst.IndentedBlock) else ()
    tensor = False
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        if before is not None and any(small is before for small in stmt.body):
            break
        for small in stmt.body:
            if not isinstance(small, cst.Assign):
                continue
            if not any(isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets):
                continue
            value = small.value
            if isinstance(value, (cst.Dict, cst.List, cst.DictComp, cst.ListComp)):
                return False
            if isinstance(value, cst.Call) and _container_call(value, ctx):
                return False
            if isinstance(value, cst.Call) and (
                _tensor_call(value, ctx) or (not from_ops_only and self_attribute(value.func) is not None)
            ):
                tensor = True
    return tensor
