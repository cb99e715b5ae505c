"""KER509, KER510, KER513, KER530: model methods and arguments Keras 3 removed."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import libcst as cst

from ..engine.context import Context, call_keyword, class_methods, has_star_args
from ..engine.edits import FixSpec, Insert, Replace, remove_arg, rename_keyword
from ..engine.rule import Example, Rule
from ..engine.tables import load_toml
from ._common import may_be_model, remove_args


@lru_cache(maxsize=1)
def _generators() -> dict[str, dict[str, Any]]:
    return load_toml("training_generators.toml")["methods"]


@lru_cache(maxsize=1)
def _worker_arguments() -> tuple[frozenset[str], frozenset[str]]:
    table = load_toml("training_generators.toml")["worker_arguments"]
    return frozenset(table["names"]), frozenset(table["methods"])


@lru_cache(maxsize=1)
def _removed_arguments() -> dict[str, dict[str, dict[str, Any]]]:
    """method or callback class -> keyword -> how it is handled."""
    table = load_toml("training_arguments.toml")
    found = {method: args for method, args in table.items() if method != "callbacks"}
    found.update({f"callbacks.{name}": args for name, args in table["callbacks"].items()})
    return found


def _defined_here(ctx: Context, method: str) -> bool:
    """`self.fit_generator(...)` inside a class that defines `fit_generator` itself."""
    klass = ctx.klass
    return klass is not None and method in class_methods(klass)


class GeneratorMethods(Rule):
    """
    ## Why
    `fit_generator`, `evaluate_generator` and `predict_generator` were deprecated in TF 2.1 and
    are gone from Keras 3 (`AttributeError: 'Sequential' object has no attribute
    'fit_generator'`). `fit`, `evaluate` and `predict` take Python generators and `PyDataset`s
    directly.

    ## Example
    ```python
    model.fit_generator(gen, steps_per_epoch=100, epochs=10)
    ```

    ## Use instead
    ```python
    model.fit(gen, steps_per_epoch=100, epochs=10)
    ```

    ## Backends
    All.

    ## Fix safety
    Safe when no worker argument is passed: the method is renamed and positional arguments after
    the generator are passed by keyword (their positions differ in `fit`). With `workers=`,
    `use_multiprocessing=` or `max_queue_size=` the fix also drops them, which is unsafe: the
    data is then loaded in the main thread (give them to a `keras.utils.PyDataset` instead).

    ## References
    - Catalogue K3-TRN-009.
    """

    code = "KER509"
    name = "generator-methods"
    message = "`{old}` was removed in Keras 3: `{new}` takes generators directly"
    nodes = (cst.Call,)
    fix = "mixed"
    deprecated = True
    examples = (
        Example(
            "import keras\nmodel = keras.Sequential()\nmodel.«fit_generator»(gen, steps_per_epoch=10, epochs=2)\n",
            "import keras\nmodel = keras.Sequential()\nmodel.fit(gen, steps_per_epoch=10, epochs=2)\n",
        ),
        Example(
            "import tensorflow as tf\ndef run(model, gen):\n    return model.«predict_generator»(gen, 5)\n",
            "import tensorflow as tf\ndef run(model, gen):\n    return model.predict(gen, steps=5)\n",
        ),
        Example(
            "from tensorflow import keras\n"
            "model.«fit_generator»(gen, 100, 3, workers=4, use_multiprocessing=True)\n",
            "from tensorflow import keras\nmodel.fit(gen, steps_per_epoch=100, epochs=3)\n",
            unsafe=True,
        ),
        Example(
            "from tensorflow import keras\nscore = model.«evaluate_generator»(gen, steps=3, max_queue_size=20)\n",
            None,
        ),
    )
    valid = (
        "import keras\nmodel.fit(gen, steps_per_epoch=10)\n",
        "import keras\ndef fit_generator(gen):\n    pass\nfit_generator(g)\n",
        "import keras\nclass Wrapper:\n    def fit_generator(self, g):\n        pass\n"
        "    def run(self, g):\n        self.fit_generator(g)\n",
        "import keras\nfrom gans.trainers import GanTrainer\ntrainer = GanTrainer(g, d)\n"
        "trainer.fit_generator(batches, epochs=3)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(_generators().keys())

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        old = func.attr.value
        entry = _generators().get(old)
        if entry is None or _defined_here(ctx, old) or not may_be_model(ctx, func.value):
            return
        new = entry["replacement"]
        message = self.message.format(old=old, new=new)
        if has_star_args(node):
            ctx.report(func.attr, message)
            return
        positional = [a for a in node.args if a.keyword is None]
        if len(positional) - 1 > len(entry["positional"]):
            ctx.report(func.attr, message)
            return
        names, _ = _worker_arguments()
        edits: list[Replace | Insert] = [Replace(func.attr, new)]
        doomed: list[cst.Arg] = []
        for arg, name in zip(positional[1:], entry["positional"]):
            if name in names:
                doomed.append(arg)
            else:
                edits.append(Insert(arg, f"{name}="))
        doomed += [a for a in node.args if a.keyword is not None and a.keyword.value in names]
        if doomed:
            edits += remove_args(node, doomed)
            fix = FixSpec.unsafe(f"Use `{new}` and drop the worker arguments", *edits)
        else:
            fix = FixSpec.safe(f"Use `{new}`", *edits)
        ctx.report(func.attr, message, fix=fix)


class WorkerArguments(Rule):
    """
    ## Why
    Keras 3 `fit`, `evaluate` and `predict` no longer take `workers`, `use_multiprocessing` or
    `max_queue_size`: `TypeError: JAXTrainer.fit() got an unexpected keyword argument 'workers'`
    (likewise on every backend). Parallel loading is configured on the data instead.

    ## Example
    ```python
    model.fit(seq, epochs=5, workers=4, use_multiprocessing=True)
    ```

    ## Use instead
    ```python
    class MySeq(keras.utils.PyDataset):
        def __init__(self, x, y, **kwargs):
            super().__init__(**kwargs)
            ...

    model.fit(MySeq(x, y, workers=4, use_multiprocessing=True), epochs=5)
    ```

    ## Backends
    All.

    ## Fix safety
    Unsafe: the fix drops the argument, so the data is loaded without the worker pool until the
    arguments are given to the `PyDataset`.

    ## References
    - Catalogue K3-TRN-010.
    """

    code = "KER510"
    name = "fit-worker-arguments"
    message = "`{arg}=` is not accepted by Keras 3 `{method}()`: pass it to your `keras.utils.PyDataset`"
    nodes = (cst.Call,)
    fix = "unsafe"
    deprecated = True
    examples = (
        Example(
            "import keras\nmodel.fit(seq, epochs=5, «workers=4», «use_multiprocessing=True»)\n",
            "import keras\nmodel.fit(seq, epochs=5)\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\npreds = model.predict(seq, «max_queue_size=32», verbose=0)\n",
            "import tensorflow as tf\npreds = model.predict(seq, verbose=0)\n",
            unsafe=True,
        ),
        Example("from tensorflow import keras\nmodel.evaluate(seq, «workers=2»)\n", None),
    )
    valid = (
        "import keras\nmodel.fit(seq, epochs=5)\n",
        "import keras\nseq = MySeq(x, workers=4, use_multiprocessing=True)\n",
        "import keras\nfit(seq, workers=4)\n",
        "import keras\nfrom gans.trainers import GanTrainer\ntrainer = GanTrainer(g, d)\ntrainer.fit(seq, workers=4)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(_worker_arguments()[1])

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or not node.args:
            return
        names, method_names = _worker_arguments()
        method = func.attr.value
        if method not in method_names or not may_be_model(ctx, func.value):
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in names:
                fix = FixSpec.unsafe(f"Remove `{arg.keyword.value}=`", remove_arg(node, arg))
                ctx.report_arg(arg, self.message.format(arg=arg.keyword.value, method=method), fix=fix)


class RemovedMethodArguments(Rule):
    """
    ## Why
    Keras 3 `compile()` dropped `experimental_run_tf_function`, `target_tensors`, `distribute` and
    `sample_weight_mode`, and `train_on_batch()` / `test_on_batch()` dropped `reset_metrics`:
    `TypeError: Trainer.compile() got an unexpected keyword argument '...'`.

    ## Example
    ```python
    model.compile(optimizer="adam", loss="mse", experimental_run_tf_function=False)
    model.train_on_batch(x, y, reset_metrics=False)
    ```

    ## Use instead
    ```python
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(x, y)  # and model.reset_metrics() where the metrics should restart
    ```

    ## Backends
    All.

    ## Fix safety
    Removing `experimental_run_tf_function` (a Keras 2 execution switch) or `target_tensors=None`
    is safe. Removing `distribute`, `sample_weight_mode`, other `target_tensors` or
    `reset_metrics` is unsafe: each needs a replacement the message names (a distribution scope,
    sample weights shaped per timestep, targets given to `fit`, explicit `reset_metrics()`).

    ## References
    - Catalogue K3-TRN-012, K3-TRN-013.
    """

    code = "KER513"
    name = "removed-method-arguments"
    message = "`{arg}=` was removed from Keras 3 `{method}()`: {why}"
    nodes = (cst.Call,)
    fix = "mixed"
    deprecated = True
    examples = (
        Example(
            "import keras\nmodel.compile(optimizer='adam', loss='mse', «experimental_run_tf_function=False»)\n",
            "import keras\nmodel.compile(optimizer='adam', loss='mse')\n",
        ),
        Example(
            "import tensorflow as tf\nmodel.compile('adam', «target_tensors=None», loss='mse')\n",
            "import tensorflow as tf\nmodel.compile('adam', loss='mse')\n",
        ),
        Example(
            "from tensorflow import keras\nmodel.compile('adam', 'mse', «sample_weight_mode='temporal'»)\n",
            "from tensorflow import keras\nmodel.compile('adam', 'mse')\n",
            unsafe=True,
        ),
        Example(
            "import keras\nlogs = model.train_on_batch(x, y, «reset_metrics=False»)\n",
            "import keras\nlogs = model.train_on_batch(x, y)\n",
            unsafe=True,
        ),
        Example("import keras\nmodel.test_on_batch(x, y, «reset_metrics=True»)\n", None),
    )
    valid = (
        "import keras\nmodel.compile(optimizer='adam', loss='mse', jit_compile=False)\n",
        "import keras\nimport re\npattern = re.compile('x', flags=0)\n",
        "import keras\nmodel.train_on_batch(x, y)\n",
        "import keras\nfrom gans.trainers import GanTrainer\ntrainer = GanTrainer(g, d)\n"
        "trainer.train_on_batch(x, y, reset_metrics=False)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({name for name in _removed_arguments() if not name.startswith("callbacks.")})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or not node.args:
            return
        method = func.attr.value
        removed = _removed_arguments().get(method)
        if removed is None or not may_be_model(ctx, func.value):
            return
        for arg in node.args:
            if arg.keyword is None:
                continue
            entry = removed.get(arg.keyword.value)
            if entry is None:
                continue
            message = self.message.format(arg=arg.keyword.value, method=method, why=entry["why"])
            safe = entry["fix"] == "safe" or (
                entry.get("safe_if_none") and isinstance(arg.value, cst.Name) and arg.value.value == "None"
            )
            fix = FixSpec.of(bool(safe), f"Remove `{arg.keyword.value}=`", remove_arg(node, arg))
            ctx.report_arg(arg, message, fix=fix)


class RemovedCallbackArguments(Rule):
    """
    ## Why
    Keras 3 callbacks dropped arguments TF 2 Keras still accepted:
    `TensorBoard(write_grads=True)` raises `TypeError: TensorBoard.__init__() got an unexpected
    keyword argument 'write_grads'` (also `batch_size`, `embeddings_layer_names`,
    `embeddings_data`, which TF 2 already ignored); `ProgbarLogger()` takes no arguments; and
    `ReduceLROnPlateau(epsilon=...)` is swallowed silently, so the default `min_delta` is used.

    ## Example
    ```python
    keras.callbacks.TensorBoard(log_dir, write_grads=True)
    keras.callbacks.ReduceLROnPlateau(patience=3, epsilon=1e-3)
    ```

    ## Use instead
    ```python
    keras.callbacks.TensorBoard(log_dir)
    keras.callbacks.ReduceLROnPlateau(patience=3, min_delta=1e-3)
    ```

    ## Backends
    All.

    ## Fix safety
    Safe: the dropped arguments had no effect in TF 2 Keras (or only changed the progress
    display), and `epsilon` was Keras 2's old name of `min_delta`.

    ## References
    - Catalogue K3-CB-001; Keras 3.15.1 callback signatures.
    """

    code = "KER530"
    name = "removed-callback-arguments"
    message = "`{arg}=` is not a Keras 3 `{callback}` argument: {why}"
    nodes = (cst.Call,)
    fix = "safe"
    deprecated = True
    examples = (
        Example(
            "import tensorflow as tf\ntb = tf.keras.callbacks.TensorBoard('logs', «write_grads=True»)\n",
            "import tensorflow as tf\ntb = tf.keras.callbacks.TensorBoard('logs')\n",
        ),
        Example(
            "from keras.callbacks import ReduceLROnPlateau\ncb = ReduceLROnPlateau(patience=3, «epsilon=1e-3»)\n",
            "from keras.callbacks import ReduceLROnPlateau\ncb = ReduceLROnPlateau(patience=3, min_delta=1e-3)\n",
        ),
        Example(
            "from tensorflow import keras\n"
            "cbs = [keras.callbacks.TensorBoard(«batch_size=32», log_dir='l', «write_grads=False»)]\n",
            "from tensorflow import keras\ncbs = [keras.callbacks.TensorBoard(log_dir='l')]\n",
        ),
        Example(
            "import keras\ncb = keras.callbacks.ReduceLROnPlateau(«epsilon=1e-3», min_delta=0.1)\n",
            None,
        ),
        Example(
            "import keras\nbar = keras.callbacks.ProgbarLogger(«count_mode='steps'»)\n",
            "import keras\nbar = keras.callbacks.ProgbarLogger()\n",
        ),
    )
    valid = (
        "import keras\ntb = keras.callbacks.TensorBoard('logs', profile_batch=2, embeddings_freq=1)\n",
        "import keras\nclass TensorBoard:\n    pass\ntb = TensorBoard(write_grads=True)\n",
        "import keras\ndef make(keras):\n    return keras.callbacks.TensorBoard(write_grads=True)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({name.removeprefix("callbacks.") for name in _removed_arguments() if name.startswith("callbacks.")})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        if not node.args:
            return
        func = node.func
        leaf = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        removed = _removed_arguments().get(f"callbacks.{leaf}")
        if removed is None:
            return
        api = ctx.keras_api(func)
        if api is None or api[0] != f"callbacks.{leaf}":
            return
        for arg in node.args:
            if arg.keyword is None or arg.keyword.value not in removed:
                continue
            entry = removed[arg.keyword.value]
            message = self.message.format(arg=arg.keyword.value, callback=leaf, why=entry["why"])
            rename = entry.get("rename")
            if rename:
                if call_keyword(node, rename) is not None:
                    ctx.report_arg(arg, message)
                    continue
                fix = FixSpec.safe(f"Rename `{arg.keyword.value}` to `{rename}`", rename_keyword(arg, rename))
            else:
                fix = FixSpec.safe(f"Remove `{arg.keyword.value}=`", remove_arg(node, arg))
            ctx.report_arg(arg, message, fix=fix)
