"""KER523: labels made noisy above 1 (ones plus uniform noise, a GAN's label trick) given to
binary cross-entropy on probabilities, which PyTorch refuses."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from ..engine.context import Context, call_argument, call_keyword
from ..engine.names import statements
from ..engine.provenance import assigned_value
from ..engine.rule import Example, Rule
from ..engine.walker import SOURCE_TEXT, calls_in
from ._common import body_of, is_self_attribute

_BCE_FUNCTIONS = frozenset(
    {"keras.losses.binary_crossentropy", "keras.ops.binary_crossentropy", "keras.metrics.binary_crossentropy"}
)
_BCE_CLASSES = frozenset({"keras.losses.BinaryCrossentropy"})
# Noise in [0, 1) by default.
_UNIFORM = frozenset(
    {"tensorflow.random.uniform", "keras.random.uniform", "numpy.random.uniform", "numpy.random.rand",
     "jax.random.uniform"}
)
_ONES = frozenset({"ones", "ones_like"})
_SHARED_KEY = "training.binary_targets"
_ONES_MODULES = ("tensorflow.", "keras.ops.", "numpy.", "jax.numpy.")


def _canonical(ctx: Context, expr: cst.BaseExpression) -> str | None:
    """The qualified name, Keras spelled `keras.` however it was imported (`tf.keras`)."""
    api = ctx.keras_api(expr)
    return f"keras.{api[0]}" if api is not None else ctx.qualname(expr)


def _from_logits(call: cst.Call) -> bool:
    """`from_logits=` given anything but `False`: on logits PyTorch takes any target."""
    arg = call_keyword(call, "from_logits")
    return arg is not None and not (isinstance(arg.value, cst.Name) and arg.value.value == "False")


def _bce_construction(ctx: Context, expr: cst.BaseExpression) -> bool:
    """`keras.losses.BinaryCrossentropy(...)` on probabilities."""
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, (cst.Name, cst.Attribute))
        and _canonical(ctx, expr.func) in _BCE_CLASSES
        and not _from_logits(expr)
    )


def _has_uniform_noise(ctx: Context, expr: cst.BaseExpression) -> bool:
    return any(
        isinstance(call.func, (cst.Name, cst.Attribute)) and ctx.qualname(call.func) in _UNIFORM
        for call in calls_in(expr)
    )


def _has_ones(ctx: Context, expr: cst.BaseExpression) -> bool:
    for call in calls_in(expr):
        if isinstance(call.func, (cst.Name, cst.Attribute)):
            name = _canonical(ctx, call.func) or ""
            if name.rpartition(".")[2] in _ONES and name.startswith(_ONES_MODULES):
                return True
    return False


class BinaryTargetsAboveOne(Rule):
    """
    ## Why
    A GAN's discriminator step often adds noise to its 0/1 labels (`labels += 0.05 *
    tf.random.uniform(tf.shape(labels))`, the keras.io DCGAN trick): the labels that were 1 then
    exceed 1. TensorFlow and JAX compute binary cross-entropy on such targets; PyTorch's
    `binary_cross_entropy`, which Keras 3 calls on the PyTorch backend for a loss on
    probabilities, raises `RuntimeError: all elements of target should be between 0 and 1`
    at the first step.

    ## Example
    ```python
    labels = ops.concatenate([ops.ones((n, 1)), ops.zeros((n, 1))], axis=0)
    labels += 0.05 * keras.random.uniform(ops.shape(labels))
    d_loss = keras.losses.BinaryCrossentropy()(labels, predictions)
    ```

    ## Use instead
    Keep the targets in [0, 1], for example by taking the noise away from the ones
    (`ops.abs(labels - 0.05 * noise)`) or by clipping them (`ops.clip(labels, 0.0, 1.0)`), or
    give the loss logits (`from_logits=True` with a discriminator without its sigmoid).
    Either changes the loss the program computed on TensorFlow, so the choice is yours.

    ## Backends
    PyTorch. Checked on Keras 3.15.1: `keras.losses.BinaryCrossentropy()` on targets up to
    1.05 raises on PyTorch and returns a loss on TensorFlow and JAX.

    ## Fix safety
    No fix: every way of keeping the targets in range changes the numbers.

    Reported where the loss is called with a name whose last assignment before the call adds
    uniform noise to it, after an assignment with `ones`; the loss is Keras's binary
    cross-entropy on probabilities: the function or the `BinaryCrossentropy` object called
    directly or through a name, or a `self.<attribute>` the class sets from a parameter that
    the module passes a `BinaryCrossentropy(...)` (`gan.compile(loss_fn=...)`).

    ## References
    - Keras 3.15.1 `keras/src/backend/torch/nn.py` (`binary_crossentropy` calls
      `torch.nn.functional.binary_cross_entropy` on probabilities).
    """

    code = "KER523"
    name = "binary-targets-above-one"
    message = "These labels exceed 1 (ones plus uniform noise): binary cross-entropy on them fails on PyTorch"
    nodes = (cst.Call,)
    backends = frozenset({"torch"})
    # Which loss a `self.<attr>` holds is read from the module's other statements.
    whole_file = True
    examples = (
        Example(
            "import keras\nfrom keras import ops\n\n"
            "def step(n, predictions):\n"
            "    labels = ops.concatenate([ops.ones((n, 1)), ops.zeros((n, 1))], axis=0)\n"
            "    labels += 0.05 * keras.random.uniform(ops.shape(labels))\n"
            "    return keras.losses.BinaryCrossentropy()(«labels», predictions)\n"
        ),
        # The loss through a name.
        Example(
            "import numpy as np\nimport keras\n\n"
            "bce = keras.losses.BinaryCrossentropy()\n"
            "labels = np.ones((8, 1)) \n"
            "labels += 0.05 * np.random.uniform(size=(8, 1))\n"
            "loss = bce(«labels», predictions)\n"
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow import keras\n\n"
            "class GAN(keras.Model):\n"
            "    def compile(self, optimizer, loss_fn):\n"
            "        super().compile(optimizer=optimizer)\n"
            "        self.loss_fn = loss_fn\n\n"
            "    def train_step(self, data):\n"
            "        labels = tf.ones((8, 1))\n"
            "        labels = labels + 0.1 * tf.random.uniform(tf.shape(labels))\n"
            "        return {'d_loss': self.loss_fn(«labels», self.discriminator(data))}\n\n"
            "gan = GAN()\n"
            "gan.compile(optimizer='adam', loss_fn=keras.losses.BinaryCrossentropy())\n"
        ),
    )
    valid = (
        # On logits, PyTorch takes any target.
        "import keras\nfrom keras import ops\n\n"
        "def step(n, logits):\n"
        "    labels = ops.ones((n, 1))\n"
        "    labels += 0.05 * keras.random.uniform(ops.shape(labels))\n"
        "    return keras.losses.BinaryCrossentropy(from_logits=True)(labels, logits)\n",
        # Clipped back into [0, 1].
        "import keras\nfrom keras import ops\n\n"
        "def step(n, predictions):\n"
        "    labels = ops.ones((n, 1))\n"
        "    labels += 0.05 * keras.random.uniform(ops.shape(labels))\n"
        "    labels = ops.clip(labels, 0.0, 1.0)\n"
        "    return keras.losses.binary_crossentropy(labels, predictions)\n",
        # Zeros plus noise stay in [0, 1).
        "import keras\nfrom keras import ops\n\n"
        "def step(n, predictions):\n"
        "    labels = ops.zeros((n, 1))\n"
        "    labels += 0.05 * keras.random.uniform(ops.shape(labels))\n"
        "    return keras.losses.binary_crossentropy(labels, predictions)\n",
        # Another loss.
        "import keras\nfrom keras import ops\n\n"
        "def step(n, predictions):\n"
        "    labels = ops.ones((n, 1))\n"
        "    labels += 0.05 * keras.random.uniform(ops.shape(labels))\n"
        "    return keras.losses.MeanSquaredError()(labels, predictions)\n",
    )

    def applies_to(self, text: str) -> bool:
        """Whether the file spells binary cross-entropy and a uniform draw (see `engine.gates`)."""
        return _spells_bce_and_noise(text)

    def visit(self, node: cst.Call, ctx: Context) -> None:  # type: ignore[override]
        if not _may_apply(ctx):
            return
        target = call_argument(node, 0, ("y_true", "target"))
        if target is None or not isinstance(target.value, cst.Name):
            return
        # The statements of the function the call is in, or of the module (a script).
        scope = body_of(ctx.function) if ctx.function is not None else ctx.module.body
        if _noisy_above_one(ctx, scope, target.value.value, node) and self._is_bce(ctx, node):
            ctx.report(target.value)

    def _is_bce(self, ctx: Context, call: cst.Call) -> bool:
        func = call.func
        if isinstance(func, cst.Call):
            return _bce_construction(ctx, func)
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return False
        if _canonical(ctx, func) in _BCE_FUNCTIONS:
            return not _from_logits(call)
        if isinstance(func, cst.Name):
            value = assigned_value(ctx, func)
            return value is not None and _bce_construction(ctx, value)
        if is_self_attribute(func) and ctx.klass is not None:
            return _self_attribute_holds_bce(ctx, ctx.klass, func.attr.value)
        return False


def _spells_bce_and_noise(text: str) -> bool:
    """Whether the text spells binary cross-entropy and a uniform draw (substring tests, much
    faster than a regular expression's search)."""
    return ("BinaryCrossentropy" in text or "binary_crossentropy" in text) and ("uniform" in text or "rand" in text)


def _may_apply(ctx: Context) -> bool:
    """The module spells binary cross-entropy and a uniform draw: most modules do not, and the
    rule's reading of assignments is then skipped."""
    found = ctx.shared.get(_SHARED_KEY)
    if found is None or found[0] is not ctx.module:
        text = ctx.shared.get(SOURCE_TEXT)
        if not isinstance(text, str):
            text = ctx.module.code
        found = ctx.shared[_SHARED_KEY] = (ctx.module, _spells_bce_and_noise(text))
    return found[1]


def _self_attribute_holds_bce(ctx: Context, klass: cst.ClassDef, attr: str) -> bool:
    """`self.<attr>` is set to a `BinaryCrossentropy(...)`, or to a parameter of one of the
    class's methods that a call in the module passes one by keyword."""
    parameters: set[str] = set()
    for method in body_of(klass):
        if not isinstance(method, cst.FunctionDef):
            continue
        names = {p.name.value for p in (*method.params.params, *method.params.kwonly_params)}
        for stmt in statements(body_of(method)):
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Assign) and any(is_self_attribute(t.target, attr) for t in small.targets):
                    if _bce_construction(ctx, small.value):
                        return True
                    if isinstance(small.value, cst.Name) and small.value.value in names:
                        parameters.add(small.value.value)
    if not parameters:
        return False
    return any(
        arg.keyword is not None and arg.keyword.value in parameters and _bce_construction(ctx, arg.value)
        for call in calls_in(ctx.module)
        for arg in call.args
    )


def _noisy_above_one(ctx: Context, scope: Sequence[cst.CSTNode], name: str, call: cst.Call) -> bool:
    """Whether `name`, as the statements of `scope` before `call` leave it, holds ones plus
    uniform noise: its last assignment adds the noise, an earlier one has ones."""
    history: list[tuple[str, cst.BaseExpression]] = []  # ("=" or "+=", value), in order
    around = {id(parent) for parent in ctx.parents}
    for stmt in statements(scope):
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        if id(stmt) in around:
            break  # the statement of the call
        for small in stmt.body:
            if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets
            ):
                history.append(("=", small.value))
            elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name) and small.target.value == name:
                history.append((type(small.operator).__name__, small.value))
    if len(history) < 2:
        return False
    kind, last = history[-1]
    if kind == "AddAssign":
        noise = last
    elif (
        kind == "="
        and isinstance(last, cst.BinaryOperation)
        and isinstance(last.operator, cst.Add)
        and isinstance(last.left, cst.Name)
        and last.left.value == name
    ):
        noise = last.right
    else:
        return False
    if not _has_uniform_noise(ctx, noise) or _negated(noise):
        return False
    return any(kind == "=" and _has_ones(ctx, value) for kind, value in history[:-1])


def _negated(expr: cst.BaseExpression) -> bool:
    """A noise written with a minus sign (`-0.05 * noise`): it does not push labels up."""
    while isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Multiply):
        expr = expr.left
    return isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus)

