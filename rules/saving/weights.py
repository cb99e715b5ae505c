"""KER303, KER304, KER306: loading SavedModels and the weights file names Keras 3 accepts."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_keyword
from ..engine.rule import BACKENDS, Example, Rule
from ._common import LEGACY_H5, WEIGHTS, method_call, path_argument, path_tail, weights_call
from ._paths import (
    load_owner,
    may_save_or_load,
    needs_weights_rename,
    path_plan,
    report_binding,
    report_load,
    report_save,
    weights_rename,
)

# A load of a file Keras 3 still reads, which this file's own save moves to a new name.
_PAIRED_LOAD = "This file saves the weights it loads here under a name Keras 3 rejects, which the fix renames: load the new name"


class LoadSavedModelDirectory(Rule):
    """
    ## Why
    `load_model()` in Keras 3 reads only `.keras` files and legacy `.h5` files. A TensorFlow
    SavedModel directory, what Keras 2 wrote for a path without extension, fails with
    "ValueError: File format not supported: filepath=…. Keras 3 only supports V3 `.keras`
    files, legacy H5 format files (`.h5` extension). Note that the legacy SavedModel format is
    not supported by `load_model()` in Keras 3. In order to reload a TensorFlow SavedModel as
    an inference-only layer in Keras 3, use `keras.layers.TFSMLayer(…,
    call_endpoint='serving_default')`"

    ## Example
    ```python
    model = keras.models.load_model("saved_model_dir")
    ```

    ## Use instead
    ```python
    # Re-save the model from Keras 2 as model.keras, or reload the SavedModel for inference:
    layer = keras.layers.TFSMLayer("saved_model_dir", call_endpoint="serving_default")
    ```
    `call_endpoint="serving_default"` is for SavedModels written by `tf.keras` or
    `tf.saved_model.save`; `model.export()` output answers the default `"serve"` too.

    ## Backends
    All: no backend loads a SavedModel through `load_model`. `TFSMLayer` needs TensorFlow.

    ## Fix safety
    Unsafe, and only when this file itself saves the model to the same path (the same string,
    a name set once to it, or an f-string / `os.path.join` of names set once): the fix of that
    save (KER301, KER305) writes a `.keras` file, and the load is renamed to read it. Without
    such a save there is no fix: `TFSMLayer` is an inference-only layer, not a model that can
    be compiled or trained. A path the file also gives to `tf.saved_model` is left alone, and a
    directory it gives to `keras.callbacks.OrbaxCheckpoint` is not reported (Keras 3 loads
    Orbax checkpoint directories).

    A path that is a directory made at run time (a name set to `tempfile.mkdtemp()`, the
    target of `with tempfile.TemporaryDirectory() as d` or of a `contextlib.contextmanager`
    function of the file that yields only directories, `tmp.name` of a `TemporaryDirectory`;
    see KER301) is reported with a note saying so. It is fixed only with this file's save to
    the same directory (the same name, bound once, saved before every load): KER301's fix
    saves `os.path.join(d, "model.keras")` and the load reads that file; a load after a save
    that already writes a `.keras` file in `d` loads that file.

    ## References
    - Catalogue K3-SAV-003; keras-io migration guide; keras-team/keras#18467.
    """

    code = "KER303"
    name = "load-savedmodel-directory"
    message = "Keras 3 `load_model()` cannot read a SavedModel directory: re-save as `.keras`, or use `keras.layers.TFSMLayer` for inference"
    nodes = (cst.Call,)
    whole_file = True
    fix = "unsafe"
    backends = BACKENDS
    deprecated = True
    examples = (
        Example('import keras\nmodel = keras.models.load_model(«"saved_model_dir"»)\n'),
        Example(
            "import tensorflow as tf\n"
            'model = tf.keras.models.load_model(«f"{root}/export/"», compile=False)\n'
        ),
        Example("from tensorflow.keras.models import load_model\nm = load_model(«'models/v3'»)\n"),
        Example('from keras import saving\nm = saving.load_model(filepath=«"run1/best"»)\n'),
        Example(
            'import keras\nmodel.save("trained_model.keras")\nrestored = keras.models.load_model(«"trained_model"»)\n',
            'import keras\nmodel.save("trained_model.keras")\nrestored = keras.models.load_model("trained_model.keras")\n',
            unsafe=True,
        ),
        # A directory made at run time, filled by other code: no fix.
        Example(
            "import os\nimport tempfile\nfrom contextlib import contextmanager\nfrom uuid import uuid4\n"
            "from tensorflow.keras.models import load_model\n\n@contextmanager\ndef scratch():\n"
            '    if os.name == "nt":\n        path = tempfile.mkdtemp()\n        yield path\n'
            '    else:\n        yield f"ram://{uuid4().hex}"\n\n'
            "def unpack(data):\n    with scratch() as where:\n        extract(data, where)\n"
            "        return load_model(«where»)\n",
            None,
        ),
        # The save already writes a `.keras` file in the same directory: the load reads it.
        Example(
            "import os\nimport tempfile\nimport keras\nwith tempfile.TemporaryDirectory() as tmp:\n"
            '    model.save(os.path.join(tmp, "model.keras"))\n    restored = keras.models.load_model(«tmp»)\n',
            "import os\nimport tempfile\nimport keras\nwith tempfile.TemporaryDirectory() as tmp:\n"
            '    model.save(os.path.join(tmp, "model.keras"))\n'
            '    restored = keras.models.load_model(os.path.join(tmp, "model.keras"))\n',
            unsafe=True,
        ),
    )
    valid = (
        'import keras\nm = keras.models.load_model("model.keras")\nm = keras.models.load_model("old.h5")\n',
        "import keras\nm = keras.models.load_model(path)\n",
        'import torch\nimport keras\nstate = torch.load("weights")\n',
        'import keras\ndef load_model(path): ...\nm = load_model("saved")\n',
        # Directories made at run time, holding the file or an Orbax checkpoint.
        'import os\nimport tempfile\nimport keras\nd = tempfile.mkdtemp()\nm = keras.models.load_model(os.path.join(d, "m.keras"))\n',
        "import tempfile\nimport keras\nd = tempfile.mkdtemp()\ncb = keras.callbacks.OrbaxCheckpoint(d)\n"
        "model.fit(x, y, callbacks=[cb])\nm = keras.models.load_model(d)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"load_model"})

    def applies_to(self, text: str) -> bool:
        """Whether the file names a call that saves or loads (see `engine.gates`)."""
        return may_save_or_load(text)

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        leaf = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else None
        if leaf != "load_model":
            return
        plan = path_plan(ctx)
        use = plan.use(node)
        if use is None or use.saving or load_owner(plan, use) != self.code:
            return
        if plan.load_decision(use).rename is None:
            extension = plan.saved_as(use)
            if extension is not None:
                # The save was renamed already (a fix applied to it alone): follow it.
                report_load(ctx, use, fallback=lambda text: text.rstrip("/") + extension)
                return
        report_load(ctx, use)


class WeightsFileName(Rule):
    """
    ## Why
    Keras 3 `save_weights()` writes only `.weights.h5` files:
    "ValueError: The filename must end in `.weights.h5`. Received: filepath=w.h5". TensorFlow
    checkpoint prefixes (`"ckpt/weights"`) can be neither written nor read:
    "ValueError: File format not supported: filepath=ckpt/weights. Keras 3 only supports V3
    `.keras` files, `.weights.h5` files, legacy H5 format files (`.h5` extension), or Orbax
    checkpoints." Legacy `.h5` files can still be *loaded*.

    ## Example
    ```python
    model.save_weights("weights.h5")
    model.load_weights("ckpt/weights")
    ```

    ## Use instead
    ```python
    model.save_weights("weights.weights.h5")
    model.load_weights("ckpt/weights.weights.h5")
    ```

    ## Backends
    All.

    ## Fix safety
    Unsafe: every consumer of the file must use the new name, and files written by Keras 2 as
    TensorFlow checkpoints cannot be read by Keras 3 at all: they must be converted (load them
    with Keras 2 and save them as `.weights.h5`). The loads of this file that provably read the
    renamed path (the same string, or a name set once to it) are renamed with it, even legacy
    `.h5` loads Keras 3 could still read; a path set through a name is renamed where it is set.

    A path that is a directory made at run time (a name set to `tempfile.mkdtemp()`, the
    target of `with tempfile.TemporaryDirectory() as d` or of a `contextlib.contextmanager`
    function of the file that yields only directories, `tmp.name` of a `TemporaryDirectory`;
    see KER301) is reported with a note saying so: Keras 2 wrote a TensorFlow checkpoint under
    that prefix, Keras 3 can neither write nor read one. The fix saves
    `os.path.join(d, "model.weights.h5")` and loads that file, only when this file both saves
    and loads the weights in the same directory (the same name, bound once, saved before every
    load); a load after a save that already writes a `.weights.h5` file in `d` loads that file.
    Otherwise there is no fix: whatever else reads or fills the directory must change with it.

    ## References
    - Catalogue K3-SAV-004; keras-team/keras#18823.
    """

    code = "KER304"
    name = "weights-file-name"
    message = "Keras 3 weights files must end in `.weights.h5`"
    nodes = (cst.Call, cst.Assign, cst.AnnAssign)
    whole_file = True
    fix = "unsafe"
    deprecated = True
    examples = (
        Example(
            'import keras\nmodel.save_weights(«"weights.h5"»)\n',
            'import keras\nmodel.save_weights("weights.weights.h5")\n',
            unsafe=True,
        ),
        Example(
            'import keras\ndef keep(model, folder):\n    model.save_weights(«folder + "/weights.h5"»)\n',
            'import keras\ndef keep(model, folder):\n    model.save_weights(folder + "/weights.weights.h5")\n',
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\n"
            "model.save_weights(«f'{ckpt_dir}/cp-{epoch:04d}.ckpt'»)\n"
            'model.load_weights(«"ckpt/weights"»)\n',
            "import tensorflow as tf\n"
            "model.save_weights(f'{ckpt_dir}/cp-{epoch:04d}.weights.h5')\n"
            'model.load_weights("ckpt/weights.weights.h5")\n',
            unsafe=True,
        ),
        Example(
            "from tensorflow import keras\nclass Agent:\n    def store(self):\n"
            '        self.net.save_weights(filepath=«"agent"», overwrite=True)\n',
            "from tensorflow import keras\nclass Agent:\n    def store(self):\n"
            '        self.net.save_weights(filepath="agent.weights.h5", overwrite=True)\n',
            unsafe=True,
        ),
        # A directory made at run time, saved and loaded back by this file.
        Example(
            "import tempfile\nimport keras\n\ndef copy_weights(model, fresh):\n"
            "    with tempfile.TemporaryDirectory() as tmp:\n        model.save_weights(«tmp»)\n"
            "        fresh.load_weights(«tmp»)\n",
            "import tempfile\nimport keras\nimport os\n\ndef copy_weights(model, fresh):\n"
            "    with tempfile.TemporaryDirectory() as tmp:\n"
            '        model.save_weights(os.path.join(tmp, "model.weights.h5"))\n'
            '        fresh.load_weights(os.path.join(tmp, "model.weights.h5"))\n',
            unsafe=True,
        ),
        # Only loaded here: no fix.
        Example("import tempfile\nimport keras\nd = tempfile.mkdtemp()\nrestore(d)\nmodel.load_weights(«d»)\n"),
    )
    valid = (
        'import keras\nmodel.save_weights("w.weights.h5")\nmodel.load_weights("w.weights.h5")\n',
        'import keras\nmodel.load_weights("legacy.h5")\nmodel.load_weights("model.keras")\n',
        "import keras\nmodel.save_weights(path)\n",
        'import keras\nmodel.load_weights("logs/{epoch}")\n',
        'import os\nimport tempfile\nimport keras\nwith tempfile.TemporaryDirectory() as d:\n'
        '    model.save_weights(os.path.join(d, "w.weights.h5"))\n    model.load_weights(f"{d}/w.weights.h5")\n',
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"save_weights", "load_weights"})

    def applies_to(self, text: str) -> bool:
        """Whether the file names a call that saves or loads (see `engine.gates`)."""
        return may_save_or_load(text)

    def visit(self, node: cst.Call | cst.Assign | cst.AnnAssign, ctx: Context) -> None:
        if not isinstance(node, cst.Call):
            report_binding(ctx, node, self.code, "Use a `.weights.h5` file name")
            return
        saving = method_call(node, "save_weights")
        if not saving and not method_call(node, "load_weights"):
            return
        plan = path_plan(ctx)
        use = plan.use(node)
        if use is None:
            return
        if saving:
            if use.code == self.code:
                report_save(ctx, use, "Use a `.weights.h5` file name")
            return
        owner = load_owner(plan, use)
        if owner == self.code:
            checkpoint = needs_weights_rename(use.ref.text, saving=False)
            report_load(ctx, use, None if checkpoint else _PAIRED_LOAD, fallback=weights_rename)


class LoadWeightsByName(Rule):
    """
    ## Why
    `load_weights(by_name=True)` matched layers by name in Keras 2. Keras 3 supports it only for
    legacy `.h5`/`.hdf5` files; for `.weights.h5` and `.keras` files it raises
    "ValueError: `by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: …".

    ## Example
    ```python
    model.load_weights("pretrained.weights.h5", by_name=True)
    ```

    ## Use instead
    Load into a model with the same structure, or inspect and rename the weights with
    `keras.saving.KerasFileEditor`, or keep a legacy `.h5` file for name matching.

    ## Backends
    All.

    ## Fix safety
    None: name matching has no equivalent for the Keras 3 weights format.

    ## References
    - Catalogue K3-SAV-006.
    """

    code = "KER306"
    name = "load-weights-by-name"
    message = "Keras 3 `load_weights(by_name=True)` works only for legacy `.h5` files"
    nodes = (cst.Call,)
    deprecated = True
    examples = (
        Example('import keras\nmodel.load_weights("pretrained.weights.h5", «by_name=True»)\n'),
        Example(
            "import tensorflow as tf\n"
            "backbone.load_weights(f'{root}/imagenet.keras', «by_name=True», skip_mismatch=True)\n"
        ),
        Example('from tensorflow import keras\nmodel.load_weights(filepath="ckpt/model", «by_name=True»)\n'),
    )
    valid = (
        'import keras\nmodel.load_weights("legacy.h5", by_name=True)\n',
        'import keras\nmodel.load_weights("legacy.hdf5", by_name=True)\n',
        "import keras\nmodel.load_weights(path, by_name=True)\n",
        'import keras\nmodel.load_weights("w.weights.h5", by_name=False)\n',
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"by_name"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        arg = call_keyword(node, "by_name")
        if arg is None or not weights_call(node, "load_weights", ctx):
            return
        if isinstance(arg.value, cst.Name) and arg.value.value == "False":
            return
        path = path_argument(node, "filepath", 0)
        tail = path_tail(path.value) if path is not None else None
        if tail is None:
            return
        text = tail[0].lower()
        if text.endswith(LEGACY_H5) and not text.endswith(WEIGHTS):
            return
        ctx.report_arg(arg)
