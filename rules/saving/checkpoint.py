"""KER305: `ModelCheckpoint` paths and the arguments Keras 3 removed from it."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_keyword
from ..engine.edits import FixSpec, Replace, remove_arg
from ..engine.rule import Example, Rule
from ._common import method_call
from ._paths import WEIGHTS_FILE, checkpoint_rename, load_owner, may_save_or_load, path_plan, report_binding, report_load, report_save

# A load of a file Keras 3 still reads, which this file's `ModelCheckpoint` moves to a new name.
_PAIRED_LOAD = "This file's `ModelCheckpoint` writes what is loaded here under a name Keras 3 rejects, which the fix renames: load the new name"


class ModelCheckpointArguments(Rule):
    """
    ## Why
    Keras 3 `ModelCheckpoint` writes the Keras 3 formats only, and dropped two arguments:
    - with `save_weights_only=True` the path must end in `.weights.h5`: "When using
      `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in
      `.weights.h5` (Keras weights format)";
    - otherwise it must end in `.keras` (or legacy `.h5`): "The filepath provided must end in
      `.keras`";
    - `options=` (TensorFlow `CheckpointOptions`) and `period=` raise `TypeError … unexpected
      keyword argument`.

    ## Example
    ```python
    ModelCheckpoint("best.h5", save_weights_only=True, period=5)
    ModelCheckpoint("ckpt", options=tf.train.CheckpointOptions())
    ```

    ## Use instead
    ```python
    ModelCheckpoint("best.weights.h5", save_weights_only=True, save_freq="epoch")
    ModelCheckpoint("ckpt.keras")
    ```

    ## Backends
    All.

    ## Fix safety
    - Removing `options=`: safe, Keras 3 has no such setting.
    - Renaming the path: unsafe, whatever reads the checkpoint must use the new name; the
      `load_model` / `load_weights` calls of this file that provably read it are renamed too.
    - `period=N` -> `save_freq="epoch"`: unsafe. `period` counted epochs; `save_freq` counts
      batches unless it is `"epoch"`, so `"epoch"` saves after every epoch, not every N-th
      (use `save_freq=N * steps_per_epoch` for that).

    ## References
    - Catalogue K3-SAV-005.
    """

    code = "KER305"
    name = "model-checkpoint-arguments"
    message = "`ModelCheckpoint` in Keras 3 needs a `.keras` / `.weights.h5` path and has no `options` or `period`"
    nodes = (cst.Call, cst.Assign, cst.AnnAssign)
    whole_file = True
    fix = "mixed"
    deprecated = True
    examples = (
        Example(
            "import keras\n"
            'cb = keras.callbacks.ModelCheckpoint(«"best.h5"», save_weights_only=True)\n',
            "import keras\n"
            'cb = keras.callbacks.ModelCheckpoint("best.weights.h5", save_weights_only=True)\n',
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\n"
            "cb = tf.keras.callbacks.ModelCheckpoint('ckpt/model.keras', «options=tf.train.CheckpointOptions()»)\n",
            "import tensorflow as tf\n"
            "cb = tf.keras.callbacks.ModelCheckpoint('ckpt/model.keras')\n",
        ),
        Example(
            "from tensorflow.keras.callbacks import ModelCheckpoint\n"
            'cb = ModelCheckpoint(filepath=«f"{out}/w-{{epoch:02d}}"», monitor="val_loss",\n'
            "                     save_weights_only=True, «period=5»)\n",
            "from tensorflow.keras.callbacks import ModelCheckpoint\n"
            'cb = ModelCheckpoint(filepath=f"{out}/w-{{epoch:02d}}.weights.h5", monitor="val_loss",\n'
            '                     save_weights_only=True, save_freq="epoch")\n',
            unsafe=True,
        ),
        Example(
            "from keras import callbacks\n"
            'cb = callbacks.ModelCheckpoint(«"runs/{epoch:02d}.ckpt"»)\n',
            "from keras import callbacks\n"
            'cb = callbacks.ModelCheckpoint("runs/{epoch:02d}.keras")\n',
            unsafe=True,
        ),
    )
    valid = (
        'import keras\ncb = keras.callbacks.ModelCheckpoint("best.keras", save_best_only=True)\n',
        'import keras\ncb = keras.callbacks.ModelCheckpoint("w.weights.h5", save_weights_only=True)\n',
        'import keras\ncb = keras.callbacks.ModelCheckpoint("legacy.h5")\ncb = keras.callbacks.ModelCheckpoint(path)\n',
        'import keras\nclass ModelCheckpoint:\n    pass\ncb = ModelCheckpoint("ckpt", period=2)\n',
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"load_model", "load_weights", "ModelCheckpoint"})

    def applies_to(self, text: str) -> bool:
        """Whether the file names a call that saves or loads (see `engine.gates`)."""
        return may_save_or_load(text)

    def visit(self, node: cst.Call | cst.Assign | cst.AnnAssign, ctx: Context) -> None:
        if not isinstance(node, cst.Call):
            report_binding(ctx, node, self.code, "Use the path `ModelCheckpoint` needs")
            return
        func = node.func
        leaf = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else None
        if leaf in ("load_model", "load_weights") and (leaf == "load_model" or method_call(node, leaf)):
            plan = path_plan(ctx)
            use = plan.use(node)
            if use is not None and not use.saving and load_owner(plan, use) == self.code:
                report_load(ctx, use, _PAIRED_LOAD)
            return
        if leaf != "ModelCheckpoint":
            return
        api = ctx.keras_api(func)
        if api is None or api[0] != "callbacks.ModelCheckpoint":
            return
        self._check_path(node, ctx)
        options = call_keyword(node, "options")
        if options is not None:
            ctx.report_arg(
                options,
                "`ModelCheckpoint(options=)` does not exist in Keras 3: remove it",
                fix=FixSpec.safe("Remove `options`", remove_arg(node, options)),
            )
        period = call_keyword(node, "period")
        if period is not None:
            fix = None
            if call_keyword(node, "save_freq") is None:
                fix = FixSpec.unsafe('Save every epoch: `save_freq="epoch"`', Replace(period, 'save_freq="epoch"'))
            ctx.report_arg(
                period,
                '`ModelCheckpoint(period=)` does not exist in Keras 3: use `save_freq` ("epoch" or a number of batches)',
                fix=fix,
            )

    def _check_path(self, node: cst.Call, ctx: Context) -> None:
        use = path_plan(ctx).use(node)
        if use is None or use.code != self.code:
            return
        weights_only = use.family == WEIGHTS_FILE
        required = checkpoint_rename(weights_only)[0]
        report_save(
            ctx,
            use,
            f"Use a `{required}` path",
            f"Keras 3 `ModelCheckpoint` needs a path ending in `{required}` here",
        )
