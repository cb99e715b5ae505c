"""KER515: the learning rate read from the logs under its Keras 2 key, `lr`."""

from __future__ import annotations

import re

import libcst as cst

from ..engine.context import Context, string_value
from ..engine.edits import FixSpec, Replace
from ..engine.rule import Example, Rule

_CALLBACK_HOOKS = frozenset({"on_epoch_end", "on_epoch_begin", "on_train_end", "on_test_end", "on_predict_end"})
_OLD, _NEW = "lr", "learning_rate"
_SHARED_KEY = "training.writes_lr_log"


def _logs_parameter(ctx: Context) -> str | None:
    """The name of the `logs` parameter of the callback hook the node is in, if any."""
    functions = ctx.functions
    if not functions or functions[-1].name.value not in _CALLBACK_HOOKS or not ctx.classes:
        return None
    params = functions[-1].params.params
    return params[-1].name.value if len(params) >= 2 and params[-1].name.value.startswith("log") else None


def _reads_history(receiver: cst.BaseExpression) -> bool:
    """`<x>.history` (a `History` object's dict), `<x>.history.history`."""
    return isinstance(receiver, cst.Attribute) and receiver.attr.value == "history"


def _writes_old_key(module: cst.Module) -> bool:
    """The file puts an `lr` entry in the logs itself (`logs["lr"] = ...`): its reads are its own."""
    found = False

    class Finder(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            nonlocal found
            target = node.target
            if isinstance(target, cst.Subscript) and len(target.slice) == 1:
                index = target.slice[0].slice
                if isinstance(index, cst.Index) and string_value(index.value) == _OLD:
                    found = True

    module.visit(Finder())
    return found


class LearningRateLogKey(Rule):
    """
    ## Why
    Keras 2's `LearningRateScheduler` and `ReduceLROnPlateau` added the learning rate to the
    epoch's logs as `lr`; Keras 3's add it as `learning_rate` (and so does its TensorBoard
    callback). Code that reads `logs["lr"]` in a callback, or `history.history["lr"]` after
    `fit`, raises `KeyError: 'lr'` on Keras 3; `logs.get("lr")` silently gets None.

    ## Example
    ```python
    history = model.fit(x, y, callbacks=[keras.callbacks.ReduceLROnPlateau()])
    rates = history.history["lr"]
    ```

    ## Use instead
    ```python
    rates = history.history["learning_rate"]
    ```

    ## Backends
    All. Checked on Keras 3.15.1 and 3.0.5 (`callbacks/reduce_lr_on_plateau.py`,
    `learning_rate_scheduler.py`).

    ## Fix safety
    Unsafe: the key is Keras's only when Keras's callbacks wrote it. A file that writes an `lr`
    entry itself (`logs["lr"] = ...`, a Keras 2 habit of custom callbacks) gets no fix: its reads
    may be of its own entry.

    ## References
    - Keras 3.15.1 `keras/src/callbacks/reduce_lr_on_plateau.py` (`logs["learning_rate"]`);
      tf-keras 2.21 `callbacks.py` (`logs["lr"]`).
    """

    code = "KER515"
    name = "learning-rate-log-key"
    message = "Keras 3's callbacks log the learning rate as `learning_rate`, not `lr`"
    nodes = (cst.Subscript, cst.Call)
    fix = "unsafe"
    # Whether a read gets its fix depends on the file's own `logs["lr"] = ...` anywhere.
    cross_statement_words = re.compile(r"""\[\s*['"]lr['"]\s*\]""")
    examples = (
        Example(
            "import keras\nhistory = model.fit(x, y, callbacks=[keras.callbacks.ReduceLROnPlateau()])\n"
            "rates = history.history[«\"lr\"»]\n",
            "import keras\nhistory = model.fit(x, y, callbacks=[keras.callbacks.ReduceLROnPlateau()])\n"
            "rates = history.history[\"learning_rate\"]\n",
            unsafe=True,
        ),
        Example(
            "from tensorflow import keras\n\n"
            "class Show(keras.callbacks.Callback):\n"
            "    def on_epoch_end(self, epoch, logs=None):\n"
            "        print(epoch, logs.get(«'lr'»))\n",
            "from tensorflow import keras\n\n"
            "class Show(keras.callbacks.Callback):\n"
            "    def on_epoch_end(self, epoch, logs=None):\n"
            "        print(epoch, logs.get('learning_rate'))\n",
            unsafe=True,
        ),
        # The file writes its own `lr` entry: its reads may be of it.
        Example(
            "from tensorflow import keras\n\n"
            "class Rate(keras.callbacks.Callback):\n"
            "    def on_epoch_end(self, epoch, logs=None):\n"
            "        logs['lr'] = 0.1\n\n"
            "h = model.fit(x, y, callbacks=[Rate()])\nprint(h.history[«'lr'»])\n",
            None,
        ),
    )
    valid = (
        "import keras\nrates = history.history['learning_rate']\n",
        "import keras\nconfig = {'lr': 0.1}\nprint(config['lr'])\n",
        "import keras\nclass C(keras.callbacks.Callback):\n"
        "    def on_epoch_end(self, epoch, logs=None):\n        print(logs['loss'])\n",
        "import keras\nparams = {}\nparams.get('lr')\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"get"})

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:
        if type(node) is cst.Subscript:
            if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):  # type: ignore[attr-defined]
                return
            key, receiver = node.slice[0].slice.value, node.value  # type: ignore[attr-defined]
        else:
            func = node.func  # type: ignore[attr-defined]
            if not (isinstance(func, cst.Attribute) and func.attr.value == "get" and node.args):  # type: ignore[attr-defined]
                return
            key, receiver = node.args[0].value, func.value  # type: ignore[attr-defined]
        if string_value(key) != _OLD or isinstance(ctx.parents[-1], cst.AssignTarget):
            return
        logs = _logs_parameter(ctx)
        if not (_reads_history(receiver) or (logs is not None and isinstance(receiver, cst.Name) and receiver.value == logs)):
            return
        fix = None
        writes = ctx.shared.get(_SHARED_KEY)
        if writes is None or writes[0] is not ctx.module:
            writes = ctx.shared[_SHARED_KEY] = (ctx.module, _writes_old_key(ctx.module))
        if not writes[1]:
            quote = key.value[-1] if isinstance(key, cst.SimpleString) else '"'  # type: ignore[union-attr]
            fix = FixSpec.unsafe(f"Read `{_NEW}`", Replace(key, f"{quote}{_NEW}{quote}"))
        ctx.report(key, fix=fix)
