"""KER516: a subclassed model that trains through its own `train_step` and has no `call()`."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_argument, call_keyword, positional_args
from ..engine.edits import FixSpec
from ..engine.rule import Example, Rule
from ..layers._common import class_methods, is_self
from ._common import add_to_init, assigned_values, body_of, insert_method, is_self_attribute, super_init_call

_STEPS = frozenset({"train_step", "test_step"})
# `keras_api` spellings of Keras's own Model class (any origin: keras, tf.keras).
_MODEL_APIS = frozenset({"Model", "models.Model"})


def _builds_functionally(init: cst.FunctionDef) -> bool:
    """`super().__init__(inputs, outputs)` / `(inputs=..., outputs=...)`: a functional model,
    built from its inputs."""
    stmt = super_init_call(init)
    if stmt is None:
        return False
    for small in stmt.body:
        call = small.value if isinstance(small, cst.Expr) else None
        if isinstance(call, cst.Call):
            for arg in call.args:
                # `*args` forwarded may be the inputs and outputs (`Custom(inputs, outputs)`).
                if arg.star == "*" or (arg.star == "" and (arg.keyword is None or arg.keyword.value in ("inputs", "outputs"))):
                    return True
    return False


class ModelWithoutCall(Rule):
    """
    ## Why
    A Keras 2 model that wraps other models and trains through its own `train_step` often has no
    `call()` (the keras.io VAE: `VAE(encoder, decoder)`). Before the first step, Keras 3 on JAX
    and PyTorch builds the model by calling it on symbolic inputs, which such a model cannot do:
    `fit` stops with `RuntimeError: Unable to automatically build the model. Please build it
    yourself before calling fit/evaluate/predict.` TensorFlow's trainer does not need the build
    and runs it.

    ## Example
    ```python
    class VAE(keras.Model):
        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.encoder = encoder
            self.decoder = decoder

        def train_step(self, data):
            ...
    ```

    ## Use instead
    ```python
    class VAE(keras.Model):
        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.built = True  # its sublayers are built models: nothing to build
            self.encoder = encoder
            self.decoder = decoder
    ```
    or give the model a `call()` that runs its sublayers.

    ## Backends
    JAX and PyTorch. Checked on Keras 3.15.1.

    Compiled metrics need more: Keras builds them from the model's symbolic output, so a
    model compiled with `metrics=` still fails with the same message when marked built. When a
    step updates metrics with the output of one sublayer called on its input (a distiller's
    `y_pred = self.student(x, training=False)`), the fix gives the model that forward pass as
    its `call()`:
    ```python
    def call(self, inputs, training=None):
        return self.student(inputs, training=training)
    ```

    ## Fix safety
    Unsafe: marking the model built is right when every sublayer it holds is built already
    (functional models made from `keras.Input`, as here). A sublayer that is not built keeps
    the model unbuilt for Keras, which then fails as before, with the same message. The added
    `call()` also makes `model(x)` and `predict()` run that sublayer, where they failed before. Not reported
    where a step runs the model itself (`self(x)`, `self.stateless_call(...)`: its `call()` comes
    from elsewhere, a subclass or a functional construction), where `__init__` forwards `*args`
    to Keras (`Custom(inputs, outputs)`),
    for a class that defines `build()`, for a functional model (`super().__init__(inputs,
    outputs)`), for a class without its own `__init__` (it may be made functionally, as
    `Custom(inputs, outputs)`), or for one whose base is not Keras's `Model` itself (the base
    may have a `call()`).

    ## References
    - Keras 3.15.1 `keras/src/trainers/trainer.py` (`_symbolic_build`); keras.io "Variational
      AutoEncoder" (Keras 2 version).
    """

    code = "KER516"
    name = "model-without-call"
    message = (
        "A model with its own `train_step` and no `call()`: on JAX and PyTorch, Keras 3 builds it by"
        " calling it before training and fails (\"Unable to automatically build the model\")"
    )
    nodes = (cst.ClassDef,)
    backends = frozenset({"jax", "torch"})
    fix = "unsafe"
    examples = (
        Example(
            'import keras\n'
            '\n'
            '\n'
            'class «Distiller»(keras.Model):\n'
            '    def __init__(self, student, teacher):\n'
            '        super().__init__()\n'
            '        self.student = student\n'
            '        self.teacher = teacher\n'
            '\n'
            '    def test_step(self, data):\n'
            '        x, y = data\n'
            '        y_pred = self.student(x, training=False)\n'
            '        self.compute_metrics(x, y, y_pred)\n'
            '        return {m.name: m.result() for m in self.metrics}\n',
            'import keras\n'
            '\n'
            '\n'
            'class Distiller(keras.Model):\n'
            '    def __init__(self, student, teacher):\n'
            '        super().__init__()\n'
            '        self.student = student\n'
            '        self.teacher = teacher\n'
            '\n'
            '    def call(self, inputs, training=None):\n'
            '        return self.student(inputs, training=training)\n'
            '\n'
            '    def test_step(self, data):\n'
            '        x, y = data\n'
            '        y_pred = self.student(x, training=False)\n'
            '        self.compute_metrics(x, y, y_pred)\n'
            '        return {m.name: m.result() for m in self.metrics}\n',
            unsafe=True,
        ),
        Example(
            "from tensorflow import keras\n\n\n"
            "class «VAE»(keras.Model):\n"
            "    def __init__(self, encoder, decoder, **kwargs):\n"
            "        super(VAE, self).__init__(**kwargs)\n"
            "        self.encoder = encoder\n"
            "        self.decoder = decoder\n\n"
            "    def train_step(self, data):\n"
            "        return {}\n",
            "from tensorflow import keras\n\n\n"
            "class VAE(keras.Model):\n"
            "    def __init__(self, encoder, decoder, **kwargs):\n"
            "        super(VAE, self).__init__(**kwargs)\n"
            "        self.built = True\n"
            "        self.encoder = encoder\n"
            "        self.decoder = decoder\n\n"
            "    def train_step(self, data):\n"
            "        return {}\n",
            unsafe=True,
        ),
        # A class made in a function: the line is indented as the method's body.
        Example(
            "import keras\n\n\ndef make(encoder):\n"
            "    class «Wrapper»(keras.Model):\n"
            "        def __init__(self, inner):\n"
            "            super().__init__()\n"
            "            self.inner = inner\n\n"
            "        def test_step(self, data):\n"
            "            return {}\n\n"
            "    return Wrapper(encoder)\n",
            "import keras\n\n\ndef make(encoder):\n"
            "    class Wrapper(keras.Model):\n"
            "        def __init__(self, inner):\n"
            "            super().__init__()\n"
            "            self.built = True\n"
            "            self.inner = inner\n\n"
            "        def test_step(self, data):\n"
            "            return {}\n\n"
            "    return Wrapper(encoder)\n",
            unsafe=True,
        ),
    )
    valid = (
        # The step runs the model: its call() comes from a subclass or a functional construction.
        "import keras\nclass M(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
        "    def train_step(self, data):\n        return {'y': self(data)}\n",
        "import keras\nclass M(keras.Model):\n    def __init__(self, *args, **kwargs):\n"
        "        super().__init__(*args, **kwargs)\n    def train_step(self, state, data):\n        return {}, state\n",
        # It has a call().
        "import keras\nclass M(keras.Model):\n    def __init__(self, d):\n        super().__init__()\n"
        "        self.d = d\n    def call(self, x):\n        return self.d(x)\n"
        "    def train_step(self, data):\n        return {}\n",
        # Functional: built from its inputs.
        "import keras\nclass M(keras.Model):\n    def __init__(self, inputs, outputs):\n"
        "        super().__init__(inputs, outputs)\n    def train_step(self, data):\n        return {}\n",
        # No __init__: it may be made as M(inputs, outputs).
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n        return {}\n",
        # Marked built already.
        "import keras\nclass M(keras.Model):\n    def __init__(self, d):\n        super().__init__()\n"
        "        self.d = d\n        self.built = True\n    def train_step(self, data):\n        return {}\n",
        # A project base may have the call().
        "import keras\nclass Base(keras.Model):\n    def call(self, x):\n        return x\n"
        "class M(Base):\n    def __init__(self):\n        super().__init__()\n"
        "    def train_step(self, data):\n        return {}\n",
    )

    def visit(self, node: cst.ClassDef, ctx: Context) -> None:
        methods = class_methods(node)
        if not (_STEPS & methods.keys()) or "call" in methods or "build" in methods:
            return
        init = methods.get("__init__")
        if init is None or _builds_functionally(init) or "self.built" in ctx.module.code_for_node(init.body):
            return
        bases = [base for base in node.bases if base.keyword is None]
        if not bases or any((ctx.keras_api(base.value) or ("",))[0] not in _MODEL_APIS for base in bases):
            return
        # A step that runs the model itself (`self(x)`, `self.stateless_call`) relies on a `call()`
        # from elsewhere (a subclass, a functional construction): not this rule's case.
        if any(_runs_model(methods[step]) for step in _STEPS & methods.keys()):
            return
        ctx.report(node.name, fix=_fix(ctx, node, methods))


_MODEL_RUNNERS = frozenset({"stateless_call", "compute_loss_and_updates", "call"})


def _runs_model(function: cst.FunctionDef) -> bool:
    found = False

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            nonlocal found
            found = found or is_self(node.func)

        def visit_Attribute(self, node: cst.Attribute) -> None:
            # Called or passed on (`jax.value_and_grad(self.compute_loss_and_updates)`).
            nonlocal found
            found = found or (is_self(node.value) and node.attr.value in _MODEL_RUNNERS)

    function.visit(Finder())
    return found


def _fix(ctx: Context, klass: cst.ClassDef, methods: dict[str, cst.FunctionDef]) -> FixSpec | None:
    forward = _metrics_forward(methods)
    if forward is not None:
        # Compiled metrics are built from the model's symbolic output: it needs a `call()`.
        attr, training = forward
        passed = ", training=training" if training else ""
        edits = insert_method(
            ctx, klass,
            "def call(self, inputs, training=None):",
            f"{ctx.module.default_indent}return self.{attr}(inputs{passed})",
            after=methods["__init__"], inside=(klass,),
        )
        return FixSpec.unsafe(f"Add a `call()` that runs `self.{attr}`, as the steps' metrics do", *edits) if edits else None
    edits = add_to_init(ctx, klass, "self.built = True", inside=(klass,))
    return FixSpec.unsafe("Mark the model built (its sublayers are built models)", *edits) if edits else None


def _metrics_forward(methods: dict[str, cst.FunctionDef]) -> tuple[str, bool] | None:
    """`("student", True)` when a step updates metrics with the output of one sublayer called on
    one input (`y_pred = self.student(x, training=True)`, then `self.compute_metrics(x, y,
    y_pred)` or `metric.update_state(y, y_pred)`): the model's forward pass, which compiled
    metrics need. The `test_step`'s is preferred (the inference pass), then the `train_step`'s."""
    for name in ("test_step", "train_step"):
        function = methods.get(name)
        if function is None:
            continue
        values = assigned_values(body_of(function), False)
        for predicted in _metric_predictions(function):
            call = values.get(predicted)
            if (
                isinstance(call, cst.Call)
                and is_self_attribute(call.func)
                and len(positional_args(call)) == 1
                and isinstance(positional_args(call)[0].value, cst.Name)
                and all(arg.keyword is not None and arg.keyword.value == "training" for arg in call.args[1:])
            ):
                return call.func.attr.value, call_keyword(call, "training") is not None  # type: ignore[attr-defined]
    return None


def _metric_predictions(function: cst.FunctionDef) -> list[str]:
    """The names passed as predictions to metric updates in the step."""
    found: list[str] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if not isinstance(func, cst.Attribute):
                return
            if func.attr.value == "update_state":
                arg = call_argument(node, 1, ("y_pred",))
            elif func.attr.value == "compute_metrics" and is_self(func.value):
                arg = call_argument(node, 2, ("y_pred",))
            else:
                return
            if arg is not None and isinstance(arg.value, cst.Name):
                found.append(arg.value.value)

    function.visit(Finder())
    return found
