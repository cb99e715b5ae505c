"""KER308, KER309, KER310: custom layers and models that Keras 3 cannot load back."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context
from ..engine.edits import FixSpec, Insert, Replace
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ..engine.tables import load_toml
from ..engine.walker import code_children
from ..layers._common import all_param_names, class_methods, direct_calls, is_self, keras_reference
from ._reach import REGISTER, SAVING_TEXT, only_a_base, registration, saving_reason

# Keys every layer's base config has: `from_config` passes them back to `__init__`.
BASE_CONFIG_KEYS = frozenset({"name", "trainable", "dtype"})


class UnregisteredCustomObject(Rule):
    """
    ## Why
    A `.keras` file stores a custom class by its registered name. Keras 3 finds the class again
    only if it was registered with `@keras.saving.register_keras_serializable()` or passed in
    `custom_objects=` to `load_model`; otherwise loading fails with
    `TypeError: <class '…Sequential'> could not be deserialized properly …`, with the cause
    deep inside the message: "Could not locate class 'TransformerBlock'. Make sure custom
    classes and functions are decorated with `@keras.saving.register_keras_serializable()`".

    Reported only for a class that can reach a load: the file or another module of its project
    saves, loads or rebuilds Keras objects by their config (`model.save(...)`, `load_model`,
    `clone_model`, `serialize_keras_object`, `pickle.dump`, a `ModelCheckpoint` saving whole
    models...), or the class defines `get_config()` or `from_config()`. The note names what was
    found. Saving arrays (`np.save`), weights (`save_weights`) or a SavedModel
    (`tf.saved_model.save`) does not count; a project too large to walk counts as saving. A
    class given to `custom_objects=`, registered by a call, or decorated by a project function
    that calls `register_keras_serializable` (an `@export("pkg.layers.Block")`) is registered.

    Nor is a class that only other Keras classes of the project build, in their own methods
    (`self.attention = Attention(...)` in a layer's `__init__` or `build`): a loaded model
    rebuilds it through its owner and never looks it up by name. Every reference to the class
    in the project's modules (tests apart) must then be in a method of a Keras layer, or of a
    model that defines `get_config()`, and the owner must not serialize it (its `get_config()`
    may serialize an object it was given, `serialize_keras_object(self.encoder)`, not one it
    built of the class; a serializing call outside class methods counts as serializing
    anything); a class built in a function, at module level or by any other class, or
    re-exported by a package, is reported.

    ## Example
    ```python
    class TransformerBlock(keras.layers.Layer):
        ...

    model.save("gpt.keras")
    ```

    ## Use instead
    ```python
    @keras.saving.register_keras_serializable()
    class TransformerBlock(keras.layers.Layer):
        ...
    ```
    Pass `package="my_project"` to keep names apart when two packages define the same class name.

    ## Backends
    All.

    Not reported for an abstract base, one of whose methods only raises `NotImplementedError`,
    nor for a class the project only derives other classes from (nothing builds it): saved
    models hold its subclasses. A `get_config()` that returns `{}` (a test double's stub) is not
    taken as a sign the class is saved.

    ## Fix safety
    Safe: the decorator only adds an entry to Keras's registry of serializable objects; the
    class is returned unchanged. It is spelled through the module's own `keras` or `tf.keras`
    import.

    ## References
    - Catalogue K3-SAV-008; Keras "Save, serialize, and export models" guide.
    """

    # A save, load or registration in one statement decides for the classes of the others.
    cross_statement_words = SAVING_TEXT
    code = "KER308"
    name = "unregistered-custom-object"
    message = "Custom Keras class is not registered: `load_model` cannot rebuild it without `custom_objects`"
    nodes = (cst.ClassDef,)
    fix = "safe"
    examples = (
        Example(
            "import keras\n\n\nclass «TransformerBlock»(keras.layers.Layer):\n    pass\n\n\nmodel.save('gpt.keras')\n",
            "import keras\n\n\n@keras.saving.register_keras_serializable()\nclass TransformerBlock(keras.layers.Layer):\n    pass\n\n\nmodel.save('gpt.keras')\n",
        ),
        Example(
            "import tensorflow as tf\n\n# A residual block.\n@dataclass_like\nclass «Residual»(tf.keras.Model):\n    pass\n"
            "restored = tf.keras.models.load_model('residual.keras')\n",
            "import tensorflow as tf\n\n# A residual block.\n@tf.keras.utils.register_keras_serializable()\n@dataclass_like\nclass Residual(tf.keras.Model):\n    pass\n"
            "restored = tf.keras.models.load_model('residual.keras')\n",
        ),
        Example(
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
            "class «Base»(layers.Layer):\n    pass\nclass «Child»(Base):\n    pass\n"
            "def train(model):\n    model.fit(x, y, callbacks=[keras.callbacks.ModelCheckpoint('best.keras')])\n",
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
            "@keras.utils.register_keras_serializable()\nclass Base(layers.Layer):\n    pass\n"
            "@keras.utils.register_keras_serializable()\nclass Child(Base):\n    pass\n"
            "def train(model):\n    model.fit(x, y, callbacks=[keras.callbacks.ModelCheckpoint('best.keras')])\n",
        ),
        # No save in this file, but a `get_config()` is there to be saved.
        Example(
            "from keras import layers\nclass «Scale»(layers.Layer):\n    def get_config(self):\n        return {'factor': self.factor}\n",
            "from keras import layers\nimport keras\n"
            "@keras.saving.register_keras_serializable()\nclass Scale(layers.Layer):\n    def get_config(self):\n        return {'factor': self.factor}\n",
        ),
    )
    valid = (
        # An abstract base: the saved models hold its subclasses.
        "import keras\nclass Mixing(keras.layers.Layer):\n    def call(self, x):\n"
        "        \"\"\"Mixes the tokens.\"\"\"\n        raise NotImplementedError('subclasses mix')\n"
        "model.save('m.keras')\n",
        # A test double's empty config is not written to be saved.
        "import keras\nclass MockModel(keras.Model):\n    def get_config(self):\n        return {}\n",
        # A checkpoint manager's `save()` takes no path: it is not a model's save.
        "import keras\nimport tensorflow as tf\nclass A(keras.layers.Layer):\n    pass\n"
        "manager = tf.train.CheckpointManager(tf.train.Checkpoint(), 'ckpt', 3)\nmanager.save()\n",
        "import keras\n@keras.saving.register_keras_serializable(package='demo')\nclass A(keras.layers.Layer):\n    pass\n"
        "model.save('m.keras')\n",
        "import tensorflow as tf\n@tf.keras.utils.register_keras_serializable()\nclass A(tf.keras.Model):\n    pass\n"
        "model.save('m.keras')\n",
        "from keras.saving import register_keras_serializable\n@register_keras_serializable\nclass A(keras.layers.Layer):\n    pass\n"
        "model.save('m.keras')\n",
        # Registered by a decorator of the file that calls `register_keras_serializable`.
        "import keras\ndef export(path):\n    def wrap(cls):\n        return keras.saving.register_keras_serializable('pkg')(cls)\n    return wrap\n"
        "@export('pkg.layers.A')\nclass A(keras.layers.Layer):\n    pass\nmodel.save('m.keras')\n",
        # Registered by a call, or given to `load_model` in `custom_objects`.
        "import keras\nclass A(keras.layers.Layer):\n    pass\nA = keras.saving.register_keras_serializable()(A)\nmodel.save('m.keras')\n",
        "import keras\nclass A(keras.layers.Layer):\n    pass\nm = keras.models.load_model('m.keras', custom_objects={'A': A})\n",
        "import keras\nclass Config:\n    layers = 3\nmodel.save('m.keras')\n",
        "import keras\ndef make():\n    class Local(keras.layers.Layer):\n        pass\n    return Local\nmodel.save('m.keras')\n",
        "def build(tf):\n    class A(tf.keras.layers.Layer):\n        pass\nmodel.save('m.keras')\n",
        # A file (of a project) that never saves nor loads a model: nothing to register for.
        "import keras\nclass Block(keras.layers.Layer):\n    def call(self, x):\n        return x\n"
        "model = keras.Sequential([Block()])\nmodel.fit(x, y)\n",
        # Saving arrays, weights or a SavedModel needs no registered class.
        "import numpy as np\nimport torch\nimport tensorflow as tf\nimport keras\nclass Block(keras.layers.Layer):\n    pass\n"
        "np.save('x.npy', x)\ntorch.save(state, 'x.pt')\ntf.saved_model.save(module, 'exported')\n"
        "model.save_weights('m.weights.h5')\ncheckpoint = keras.callbacks.ModelCheckpoint('w.weights.h5', save_weights_only=True)\n",
    )

    def visit(self, node: cst.ClassDef, ctx: Context) -> None:
        # Only module-level classes: a class made inside a function is a new class per call.
        if ctx.parents[-1] is not ctx.module or not node.bases:
            return
        if not ctx.is_keras_class(node) or registration(node, ctx) is not None:
            return
        methods = class_methods(node)
        if _abstract_call(methods) or only_a_base(node, ctx):
            return  # a base for other classes: the saved models hold its subclasses
        note = saving_reason(node, ctx, methods, None)
        if note is None:
            return
        reference = keras_reference(ctx, f"saving.{REGISTER}", tf_path=f"utils.{REGISTER}")
        if reference is None:
            ctx.report(node.name, note=note)
            return
        code, imports = reference
        text = f"@{code}()\n"
        if node.decorators:
            edit = Insert(node.decorators[0].decorator, f"{code}()\n@")
        elif node.leading_lines:
            edit = Insert(node.leading_lines[-1], text, after=True)
        else:
            # Right after the imports a new import would land at this same offset, and the
            # engine may put it after the decorator: write the import here instead.
            edit = Insert(node, "".join(line + "\n" for line in imports) + text)
            imports = ()
        ctx.report(node.name, fix=FixSpec.safe("Register the class for saving", edit, imports=imports), note=note)


class LayerInitWithoutKwargs(Rule):
    """
    ## Why
    The config of every Keras 3 layer includes `name`, `trainable` and `dtype`, and
    `from_config` passes the whole config to `__init__`. An `__init__` without `**kwargs` (or
    one that does not forward them to `super().__init__`) cannot take them, so `load_model`
    fails: `TypeError: Error when deserializing class 'TransformerBlock' using config={'name':
    …, 'trainable': True, 'dtype': …}. Exception encountered: TransformerBlock.__init__() got
    an unexpected keyword argument 'name'` (Keras 3.15.1; the first of them that `__init__`
    does not take is named).

    An `__init__` that takes `**kwargs` without forwarding them reloads, but the layer comes
    back with a new name, `trainable=True` and the default dtype (checked on Keras 3.15.1): the
    finding says so.

    Reported only for a class that can be reloaded: the file or another module of its project
    saves, loads or rebuilds Keras objects by their config (for a test file, `*_test.py` or
    `test_*.py`, only its own saves count), the class defines `get_config()`, or it is
    registered for saving (as KER308 counts them; the note says which). Not reported for an
    unregistered class that only other Keras classes of the project build (as KER308), when
    `__init__` takes `name`, `trainable` and `dtype` as parameters of its own, or when the
    class's own `get_config()` never asks the base class for its config (`return {"units":
    self.units}`): the saved config then holds only keys `__init__` takes (both reload on
    Keras 3.15.1).

    ## Example
    ```python
    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim):
            super().__init__()

    model.save("gpt.keras")
    ```

    ## Use instead
    ```python
    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, **kwargs):
            super().__init__(**kwargs)
    ```

    ## Backends
    All.

    ## Fix safety
    Safe: `**kwargs` is added to the signature and forwarded to `super().__init__()`; calls that
    worked before behave the same. No fix is offered when `super().__init__` already receives
    `name`, `trainable` or `dtype` explicitly and `__init__` does not take that key as a
    parameter of its own (`super().__init__(name="head")`: `**kwargs` could hold it too and pass
    it twice), or when there is no `super().__init__(...)` call to forward to. Forwarding
    `name=name` from a `name` parameter keeps the fix: `**kwargs` never holds `name` then.

    ## References
    - Catalogue K3-SAV-009; keras-team/keras#19899; keras-io GPT text generation example.
    """

    # A save, load or registration in one statement decides for the classes of the others.
    cross_statement_words = SAVING_TEXT
    code = "KER309"
    name = "layer-init-without-kwargs"
    message = "`__init__` does not accept and forward `**kwargs`: Keras 3 cannot reload this layer, whose saved config passes `name`, `trainable` and `dtype`"
    nodes = (cst.ClassDef,)
    fix = "safe"
    examples = (
        Example(
            "from tensorflow.keras import layers\n"
            "class TransformerBlock(layers.Layer):\n"
            "    def «__init__»(self, embed_dim, num_heads, ff_dim, rate=0.1):\n"
            "        super().__init__()\n"
            "        self.embed_dim = embed_dim\n"
            "model.save('gpt.keras')\n",
            "from tensorflow.keras import layers\n"
            "class TransformerBlock(layers.Layer):\n"
            "    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.embed_dim = embed_dim\n"
            "model.save('gpt.keras')\n",
        ),
        Example(
            "import tensorflow as tf\n"
            "class Head(tf.keras.layers.Layer):\n"
            "    def «__init__»(\n        self,\n        units: int,\n    ):\n"
            "        super(Head, self).__init__(name='head')\n"
            "restored = tf.keras.models.load_model('head.keras')\n",
            None,
        ),
        # No save in this file: the class's own `get_config()` is there to be saved.
        Example(
            "import keras\n"
            "class Block(keras.Model):\n"
            "    def «__init__»(self, units, *, act='relu', **config):\n"
            "        keras.Model.__init__(self, dtype='float32')\n"
            "        self.units = units\n"
            "    def get_config(self):\n"
            "        return {**super().get_config(), 'units': self.units}\n",
            None,
        ),
        # Registered: it is there to be saved.
        Example(
            "import keras\n"
            "@keras.saving.register_keras_serializable()\n"
            "class Gate(keras.layers.Layer):\n"
            "    def «__init__»(self, units: int, **kw):\n"
            "        super().__init__(trainable=True)\n",
            None,
        ),
        Example(
            "import keras\n"
            "class Gate(keras.layers.Layer):\n"
            "    def «__init__»(self, *args, **kw):\n"
            "        super().__init__(*args)\n"
            "def train(model):\n"
            "    model.fit(x, y, callbacks=[keras.callbacks.ModelCheckpoint('best.keras')])\n",
            "import keras\n"
            "class Gate(keras.layers.Layer):\n"
            "    def __init__(self, *args, **kw):\n"
            "        super().__init__(*args, **kw)\n"
            "def train(model):\n"
            "    model.fit(x, y, callbacks=[keras.callbacks.ModelCheckpoint('best.keras')])\n",
        ),
        # `name` is a parameter of its own: `**kwargs` cannot hold it twice.
        Example(
            "import keras\n"
            "class Scale(keras.layers.Layer):\n"
            "    def «__init__»(self, factor, name=None):\n"
            "        super().__init__(name=name)\n"
            "model.save('scale.keras')\n",
            "import keras\n"
            "class Scale(keras.layers.Layer):\n"
            "    def __init__(self, factor, name=None, **kwargs):\n"
            "        super().__init__(name=name, **kwargs)\n"
            "model.save('scale.keras')\n",
        ),
        Example(
            "import pickle\nimport keras\n"
            "class Scale(keras.layers.Layer):\n"
            "    def «__init__»(self, factor: float = 2.0):\n"
            "        super(Scale, self).__init__()\n"
            "blob = pickle.dumps(model)\n",
            "import pickle\nimport keras\n"
            "class Scale(keras.layers.Layer):\n"
            "    def __init__(self, factor: float = 2.0, **kwargs):\n"
            "        super(Scale, self).__init__(**kwargs)\n"
            "blob = pickle.dumps(model)\n",
        ),
    )
    valid = (
        "import keras\nclass A(keras.layers.Layer):\n"
        "    def __init__(self, units, **kwargs):\n        super().__init__(**kwargs)\nmodel.save('m.keras')\n",
        # It takes every key of the saved config (checked: it reloads on Keras 3.15.1).
        "import keras\nclass A(keras.layers.Layer):\n"
        "    def __init__(self, units, name=None, trainable=True, dtype=None):\n"
        "        super().__init__(name=name, trainable=trainable, dtype=dtype)\n        self.units = units\n"
        "    def get_config(self):\n        return {**super().get_config(), 'units': self.units}\n"
        "model.save('m.keras')\n",
        # Its config is its own get_config()'s alone, without the base keys.
        "import keras\nclass A(keras.layers.Layer):\n    def __init__(self, units):\n        super().__init__()\n"
        "        self.units = units\n    def get_config(self):\n        return {'units': self.units}\n"
        "model.save('m.keras')\n",
        "import keras\nclass A(keras.layers.Layer):\n    def call(self, x):\n        return x\nmodel.save('m.keras')\n",
        "import keras\nclass A(keras.layers.Layer):\n    def __init__(self, units):\n        super().__init__()\n"
        "    @classmethod\n    def from_config(cls, config):\n        return cls(config['units'])\nmodel.save('m.keras')\n",
        "class Plain:\n    def __init__(self, units):\n        self.units = units\nmodel.save('m.keras')\n",
        "def f(tf):\n    class A(tf.keras.layers.Layer):\n        def __init__(self, units):\n            super().__init__()\n"
        "model.save('m.keras')\n",
        # A file (of a project) that never saves nor loads a model: the config is never read.
        "import keras\nclass A(keras.layers.Layer):\n    def __init__(self, units):\n        super().__init__()\n"
        "        self.units = units\nmodel = keras.Sequential([A(3)])\nmodel.fit(x, y)\nmodel.save_weights('m.weights.h5')\n",
        # `save` of a module's function, not of a model.
        "import numpy as np\nimport tensorflow as tf\nimport keras\nclass A(keras.layers.Layer):\n"
        "    def __init__(self, units):\n        super().__init__()\n"
        "np.save('x.npy', x)\ntf.saved_model.save(module, 'exported')\n",
    )

    def visit(self, node: cst.ClassDef, ctx: Context) -> None:
        methods = class_methods(node)
        init = methods.get("__init__")
        if init is None or "from_config" in methods or not ctx.is_keras_class(node):
            return
        if BASE_CONFIG_KEYS <= all_param_names(init) or _config_without_base(methods):
            return  # `__init__` takes every key the saved config holds
        star = init.params.star_kwarg
        super_call = _super_init_call(init)
        if super_call is not None and any(arg.star == "**" for arg in super_call.args):
            return
        if isinstance(star, cst.Param):
            if super_call is None:
                return
            kwargs = star.name.value
            message = (
                f"`__init__` takes `**{kwargs}` but does not forward it to `super().__init__()`: "
                "a reloaded layer loses the `name`, `trainable` and `dtype` it was saved with"
            )
        else:
            kwargs = "kwargs" if "kwargs" not in all_param_names(init) else "base_kwargs"
            message = None
        note = saving_reason(node, ctx, methods, registration(node, ctx))
        if note is None:
            return
        fix = None
        forwarding = _forward(super_call, kwargs, all_param_names(init)) if super_call is not None else None
        if forwarding is not None:
            edits = [forwarding]
            if not isinstance(star, cst.Param):
                anchor = _last_param_end(init.params)
                edits = [Insert(anchor, f", **{kwargs}", after=True), forwarding] if anchor is not None else []
            if edits:
                fix = FixSpec.safe(f"Accept `**{kwargs}` and pass it to `super().__init__()`", *edits)
        ctx.report(init.name, message, fix=fix, note=note)


def _inherits_config(klass: cst.ClassDef, ctx: Context, depth: int = 0) -> bool:
    """Whether a base class of this file or of its project (not Keras's own) defines
    `get_config()`: the class saves its arguments through it."""
    local = ctx.module_classes()
    for base in klass.bases:
        name = dotted_name(base.value)
        if name is None or base.keyword is not None:
            continue
        parent = local.get(name)
        if parent is not None:
            if parent is not klass and depth < 20 and (
                "get_config" in class_methods(parent) or _inherits_config(parent, ctx, depth + 1)
            ):
                return True
            continue
        if ctx.project is None or ctx.keras_api(base.value) is not None:
            continue
        qualified = ctx.qualname(base.value) or ctx.relative_qualname(name)
        if qualified and ctx.project.defines_config(qualified):
            return True
    return False


def _abstract_call(methods: dict[str, cst.FunctionDef]) -> bool:
    """A method (`call()`, or a hook it calls) that only raises `NotImplementedError` (after
    its docstring): the class is an abstract base, never itself in a saved model."""
    return any(_only_raises_not_implemented(method) for method in methods.values())


def _only_raises_not_implemented(method: cst.FunctionDef) -> bool:
    if not isinstance(method.body, cst.IndentedBlock):
        return False
    body = [stmt for stmt in method.body.body if not _docstring(stmt)]
    if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine) or len(body[0].body) != 1:
        return False
    raised = body[0].body[0]
    if not isinstance(raised, cst.Raise) or raised.exc is None:
        return False
    exc = raised.exc.func if isinstance(raised.exc, cst.Call) else raised.exc
    return isinstance(exc, cst.Name) and exc.value == "NotImplementedError"


def _docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _super_init_call(init: cst.FunctionDef) -> cst.Call | None:
    """`super().__init__(...)`, `super(C, self).__init__(...)` or `Base.__init__(self, ...)`."""
    for call in direct_calls(init):
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "__init__":
            continue
        owner = func.value
        if isinstance(owner, cst.Call) and isinstance(owner.func, cst.Name) and owner.func.value == "super":
            return call
        if isinstance(owner, (cst.Name, cst.Attribute)) and call.args and is_self(call.args[0].value):
            return call
    return None


def _config_without_base(methods: dict[str, cst.FunctionDef]) -> bool:
    """A `get_config()` of the class's own that never asks the base class for its config: the
    saved config holds only the keys it returns, not `name`, `trainable` and `dtype`."""
    get_config = methods.get("get_config")
    if get_config is None:
        return False
    todo: list[cst.CSTNode] = [get_config.body]
    while todo:
        node = todo.pop()
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get_config":
            return False
        todo.extend(code_children(node))
    return True


def _forward(call: cst.Call, kwargs: str, params: set[str] | frozenset[str]) -> Insert | Replace | None:
    """The edit that adds `**kwargs` to the super call, or None when that could pass a base
    config key twice: the super call names a key that `__init__` does not take as a parameter
    of its own (`super().__init__(name="head")`), so `**kwargs` may hold it too."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in BASE_CONFIG_KEYS and arg.keyword.value not in params:
            return None
    if not call.args:
        return Replace(call, call.with_changes(args=[cst.Arg(cst.Name(kwargs), star="**")]))
    return Insert(call.args[-1].value, f", **{kwargs}", after=True)


def _last_param_end(params: cst.Parameters) -> cst.CSTNode | None:
    """The node after which `, **kwargs` goes: the end of the last parameter before its comma."""
    last: cst.Param | None = None
    if params.kwonly_params:
        last = params.kwonly_params[-1]
    elif isinstance(params.star_arg, cst.Param):
        last = params.star_arg
    elif params.params:
        last = params.params[-1]
    if last is None:
        return None
    return last.default or last.annotation or last.name


@lru_cache(maxsize=1)
def _plain_types() -> frozenset[str]:
    return frozenset(load_toml("saving_serializable.toml")["plain_annotation_names"])


@lru_cache(maxsize=1)
def _object_modules() -> tuple[str, ...]:
    return tuple(load_toml("saving_serializable.toml")["object_modules"])


class NonSerializableInitArgument(Rule):
    """
    ## Why
    Keras 3 records the arguments given to a layer's `__init__` and uses them as the config,
    so a layer with only plain-Python arguments (numbers, strings, lists, dicts) needs no
    `get_config()`. An argument that is an object (a layer, an initializer, a function, an
    array) cannot be recorded, and saving fails: `NotImplementedError: Object MyLayer was
    created by passing non-serializable argument values in __init__(), and therefore the object
    must override get_config() in order to be serializable.`

    Reported only for a class that can be saved: the file or another module of its project
    saves, loads or rebuilds Keras objects by their config, the class defines `from_config()`,
    or it is registered for saving (as KER308 counts them; the note says which).

    ## Example
    ```python
    class Residual(keras.layers.Layer):
        def __init__(self, inner: keras.layers.Layer, activation=keras.activations.relu, **kwargs):
            super().__init__(**kwargs)

    model.save("residual.keras")
    ```

    ## Use instead
    ```python
        def get_config(self):
            config = super().get_config()
            config.update(inner=keras.saving.serialize_keras_object(self.inner))
            return config

        @classmethod
        def from_config(cls, config):
            config["inner"] = keras.saving.deserialize_keras_object(config["inner"])
            return cls(**config)
    ```

    ## Backends
    All.

    ## Fix safety
    None: how to serialize the object is the author's choice.

    ## References
    - Catalogue K3-SAV-010 (auto-recorded configs checked on Keras 3.15.1).
    """

    # A save, load or registration in one statement decides for the classes of the others.
    cross_statement_words = SAVING_TEXT
    code = "KER310"
    name = "non-serializable-init-argument"
    message = "This `__init__` argument is not plain data and the class has no `get_config()`: Keras 3 cannot save it"
    nodes = (cst.ClassDef,)
    examples = (
        Example(
            "import keras\n"
            "class Residual(keras.layers.Layer):\n"
            "    def __init__(self, «inner: keras.layers.Layer», «activation=keras.activations.relu», **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "model.save('residual.keras')\n"
        ),
        # Registered: it is there to be saved.
        Example(
            "import tensorflow as tf\nfrom typing import Callable, Optional\n"
            "@tf.keras.utils.register_keras_serializable('mix')\n"
            "class Mix(tf.keras.Model):\n"
            "    def __init__(self, units, «fn: Callable», «init=tf.keras.initializers.GlorotUniform()»,\n"
            "                 «config: Optional[ModelConfig] = None», **kwargs):\n"
            "        super().__init__(**kwargs)\n"
        ),
        # No save in this file: the class's own `from_config()` is there to load it.
        Example(
            "import numpy as np\nfrom keras import layers\n"
            "class Table(layers.Layer):\n"
            "    def __init__(self, «table: np.ndarray», «fallback=lambda t: t», **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "    @classmethod\n"
            "    def from_config(cls, config):\n"
            "        return cls(**config)\n"
        ),
    )
    valid = (
        "import keras\nclass AutoCfg(keras.layers.Layer):\n"
        "    def __init__(self, units: int, act: str = 'tanh', sizes: list[int] | None = None, **kwargs):\n"
        "        super().__init__(**kwargs)\nmodel.save('m.keras')\n",
        "import keras\nclass WithCfg(keras.layers.Layer):\n"
        "    def __init__(self, inner: keras.layers.Layer, **kwargs):\n        super().__init__(**kwargs)\n"
        "    def get_config(self):\n        return {**super().get_config(), 'inner': None}\nmodel.save('m.keras')\n",
        "import keras\nclass D(keras.layers.Layer):\n"
        "    def __init__(self, units=DEFAULT_UNITS, shape=(3, 4), dtype=keras.mixed_precision.dtype_policy(), **kwargs):\n"
        "        super().__init__(**kwargs)\nmodel.save('m.keras')\n",
        "import keras\nclass NotKeras:\n    def __init__(self, fn=keras.activations.relu):\n        self.fn = fn\n"
        "model.save('m.keras')\n",
        "import tensorflow as tf\nfrom typing import Optional, Union, Dict, Any, Text\n"
        "class Drop(tf.keras.layers.Layer):\n"
        "    def __init__(self, rate: Optional[Union[float, tf.Tensor]] = None, extra: Optional[Dict[Text, Any]] = None,\n"
        "                 size: 'int | tf.Tensor' = 1, **kwargs):\n        super().__init__(**kwargs)\nmodel.save('m.keras')\n",
        # A file (of a project) that never saves nor loads a model: the config is never needed.
        "import keras\nclass Residual(keras.layers.Layer):\n"
        "    def __init__(self, inner: keras.layers.Layer, **kwargs):\n        super().__init__(**kwargs)\n"
        "        self.inner = inner\nmodel = keras.Sequential([Residual(keras.layers.Dense(2))])\nmodel.fit(x, y)\n",
    )

    def visit(self, node: cst.ClassDef, ctx: Context) -> None:
        methods = class_methods(node)
        init = methods.get("__init__")
        if init is None or "get_config" in methods or not ctx.is_keras_class(node):
            return
        if _inherits_config(node, ctx):
            return
        params = init.params
        note: str | None = None
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.name.value in BASE_CONFIG_KEYS or param.name.value == "self":
                continue
            if self._is_object(param, ctx):
                if note is None:
                    note = saving_reason(node, ctx, methods, registration(node, ctx))
                    if note is None:
                        return
                ctx.report(param.name, end=param.default or param.annotation or param.name, note=note)

    def _is_object(self, param: cst.Param, ctx: Context) -> bool:
        default = param.default
        if default is not None:
            if isinstance(default, cst.Lambda):
                return True
            if isinstance(default, cst.Call) and not _builds_plain_data(default):
                return self._names_an_object(default.func, ctx)
            if isinstance(default, (cst.Name, cst.Attribute)) and self._names_an_object(default, ctx):
                return True
        if param.annotation is not None:
            return not _plain_annotation(param.annotation.annotation)
        return False

    def _names_an_object(self, expr: cst.BaseExpression, ctx: Context) -> bool:
        qualified = ctx.qualname(expr)
        return qualified is not None and qualified.startswith(_object_modules())


def _builds_plain_data(call: cst.Call) -> bool:
    return isinstance(call.func, cst.Name) and call.func.value in _plain_types()


def _plain_annotation(annotation: cst.BaseExpression) -> bool:
    """Whether a type annotation admits plain data (`int`, `list[str] | None`); a union counts
    when one of its members other than `None` is plain (`float | tf.Tensor` is usually given a
    float)."""
    if isinstance(annotation, (cst.Name, cst.Attribute)):
        name = dotted_name(annotation)
        return name is not None and name.rsplit(".", 1)[-1] in _plain_types()
    if isinstance(annotation, cst.Subscript):
        members = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
        if len(members) != len(annotation.slice):
            return False
        holder = dotted_name(annotation.value)
        if holder is not None and holder.rsplit(".", 1)[-1] == "Union":
            return _plain_union(members)
        return _plain_annotation(annotation.value) and all(_plain_annotation(m) for m in members)
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return _plain_union([annotation.left, annotation.right])
    if isinstance(annotation, (cst.SimpleString, cst.Ellipsis)):
        return True
    if isinstance(annotation, (cst.List, cst.Tuple)):
        return all(_plain_annotation(element.value) for element in annotation.elements)
    return False


def _plain_union(members: list[cst.BaseExpression]) -> bool:
    return any(
        _plain_annotation(m) and not (isinstance(m, cst.Name) and m.value == "None") for m in members
    )
