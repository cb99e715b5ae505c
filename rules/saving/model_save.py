"""KER301, KER302, KER315: where `model.save()` writes, and in which format."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_keyword
from ..engine.edits import FixSpec, remove_arg
from ..engine.model import Severity
from ..engine.rule import Example, Rule
from ._common import WEIGHTS, WHOLE_MODEL, method_call, model_save_path, path_argument, path_tail, weights_call
from ._paths import load_owner, may_save_or_load, path_plan, report_binding, report_load, report_save

# A load of a legacy `.h5` file that this file's own save moves to `.keras`.
_PAIRED_LOAD = "This file saves the model it loads here to `.h5`, which the fix moves to `.keras`: load the `.keras` file"


class SaveToDirectory(Rule):
    """
    ## Why
    Keras 2 wrote a TensorFlow SavedModel directory when the path had no `.h5` extension. Keras 3
    saves only to `.keras` (or legacy `.h5`) files and refuses anything else:
    "ValueError: Invalid filepath extension for saving. Please add either a `.keras` extension
    for the native Keras format (recommended) or a `.h5` extension. Use
    `model.export(filepath)` if you want to export a SavedModel for use with
    TFLite/TFServing/etc."

    ## Example
    ```python
    model.save("exported_model")
    ```

    ## Use instead
    ```python
    model.save("exported_model.keras")   # to reload with keras.models.load_model
    model.export("exported_model")       # a SavedModel for TF Serving / TFLite
    ```

    ## Backends
    All. `model.export()` to a SavedModel needs TensorFlow installed.

    ## Fix safety
    Unsafe: the artifact becomes one `.keras` file instead of a directory, so whatever reads it
    (serving, a later `load_model`, scripts copying the folder) must change too. With
    `save_format="h5"` the fix adds `.h5`, keeping the format that call asked for; the fix
    drops `save_format=` (the extension decides the format, and KER302 leaves a save this rule
    reports to it). The loads
    of this file that provably read the same path (the same string, a name set once to it, or
    an f-string / `os.path.join` of names set once) are renamed with it (KER303); a path set
    through a name is renamed where it is set. No fix when the file also gives the path to
    `tf.saved_model` or `TFSMLayer` (it wants a SavedModel: use `model.export()`), or saves it
    under two different new names.

    A path that is a directory made at run time is reported too, with a note saying where the
    directory comes from: a name set to `tempfile.mkdtemp()` or `tempfile.gettempdir()`, the
    target of `with tempfile.TemporaryDirectory() as d`, `tmp.name` of
    `tmp = tempfile.TemporaryDirectory()`, or the target of `with helper() as d` where
    `helper` is a `contextlib.contextmanager` function of the file whose every `yield` yields
    such a directory or a path without file extension (`f"ram://{uuid4().hex}"`). A path built
    from it (`os.path.join(d, "model")`, `f"{d}/model"`) is a file name, renamed as above. The
    directory's fix saves one file in it, and only when the file proves a load reads it back:
    ```python
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        restored = keras.models.load_model(tmp)
    ```
    becomes
    ```python
    with tempfile.TemporaryDirectory() as tmp:
        model.save(os.path.join(tmp, "model.keras"))
        restored = keras.models.load_model(os.path.join(tmp, "model.keras"))
    ```
    (`import os` is added when missing). The save and its loads use the same name, bound once,
    every load comes after a save, and KER303 is enabled to move the loads. Otherwise there is
    no fix: a directory that the file never reads back is read elsewhere (archived, uploaded,
    loaded by another function from a copy), and those readers must change with it.

    ## References
    - Catalogue K3-SAV-001; keras-io "Migrating Keras 2 code to multi-backend Keras 3";
      keras-team/keras#18467.
    """

    code = "KER301"
    name = "save-to-directory"
    message = "Keras 3 cannot save a model to a SavedModel directory: give the path a `.keras` extension, or use `model.export()`"
    nodes = (cst.Call, cst.Assign, cst.AnnAssign)
    whole_file = True
    fix = "unsafe"
    deprecated = True
    examples = (
        Example(
            'import keras\nmodel = keras.Sequential()\nmodel.save(«"exported_model"»)\n',
            'import keras\nmodel = keras.Sequential()\nmodel.save("exported_model.keras")\n',
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\n\ndef export(model, root):\n"
            '    tf.keras.models.save_model(model, «f"{root}/classifier/"»)\n',
            "import tensorflow as tf\n\ndef export(model, root):\n"
            '    tf.keras.models.save_model(model, f"{root}/classifier.keras")\n',
            unsafe=True,
        ),
        Example(
            "from tensorflow import keras\nautoencoder = keras.Model()\n"
            "autoencoder.save(«'ae'», save_format='h5')\n",
            "from tensorflow import keras\nautoencoder = keras.Model()\n"
            "autoencoder.save('ae.h5')\n",
            unsafe=True,
        ),
        Example(
            'from keras.models import save_model\nsave_model(model, filepath=«"saved/model_v2"»)\n',
            'from keras.models import save_model\nsave_model(model, filepath="saved/model_v2.keras")\n',
            unsafe=True,
        ),
        Example(
            'import keras\nclass Net(keras.Model):\n    def export_all(self):\n        self.save(«"net"»)\n',
            None,
        ),
        Example(
            'import keras\nm2 = keras.Sequential([keras.layers.Dense(2)])\nm2.save(«"c_dir"»)\n',
            'import keras\nm2 = keras.Sequential([keras.layers.Dense(2)])\nm2.save("c_dir.keras")\n',
            unsafe=True,
        ),
        Example(
            'import tensorflow as tf\nnet = tf.keras.models.load_model("a.h5")\nnet.save(«"exported"»)\n',
            'import tensorflow as tf\nnet = tf.keras.models.load_model("a.h5")\nnet.save("exported.keras")\n',
            unsafe=True,
        ),
        Example(
            'import keras\n\ndef export(m: keras.Model, root):\n    m.save(«f"{root}/serving"»)\n',
            'import keras\n\ndef export(m: keras.Model, root):\n    m.save(f"{root}/serving.keras")\n',
            unsafe=True,
        ),
        # A path built with `+`: its literal end is renamed.
        Example(
            'import keras\n\ndef export(m: keras.Model, root):\n    m.save(«root + "/serving"»)\n',
            'import keras\n\ndef export(m: keras.Model, root):\n    m.save(root + "/serving.keras")\n',
            unsafe=True,
        ),
        # A directory made at run time, which nothing in the file loads back: no fix.
        Example(
            "import tempfile\nfrom contextlib import contextmanager\nimport keras\n\n"
            "@contextmanager\ndef scratch():\n    path = tempfile.mkdtemp()\n    yield path\n\n"
            "def pack(model: keras.Model):\n    with scratch() as where:\n        model.save(«where»)\n"
            "        return archive(where)\n",
            None,
        ),
        Example(
            "import tempfile\nimport keras\ntmp = tempfile.TemporaryDirectory()\n"
            "model.save(«tmp.name»)\nmodel.save(«tempfile.mkdtemp()»)\n",
            None,
        ),
        # A path in such a directory is a file name like any other.
        Example(
            'import os\nimport tempfile\nimport keras\nwith tempfile.TemporaryDirectory() as d:\n'
            '    model.save(«os.path.join(d, "model")»)\n',
            'import os\nimport tempfile\nimport keras\nwith tempfile.TemporaryDirectory() as d:\n'
            '    model.save(os.path.join(d, "model.keras"))\n',
            unsafe=True,
        ),
    )
    valid = (
        'import keras\nmodel.save("model.keras")\nmodel.save("model.h5")\n',
        'import keras\nmodel.save(path)\nmodel.save(f"{name}")\n',
        'import numpy as np\nimport keras\nnp.save("weights", x)\n',
        'import tensorflow as tf\ncheckpoint = tf.train.Checkpoint()\ncheckpoint.save("ckpt/step")\n'
        'tf.saved_model.save(model, "export_dir")\nimage.save("thumbnail")\n',
        'import keras\nmodel.save("logs/{epoch}")\nmodel.export("serving_dir")\n',
        'import keras\ndef save_model(model, path): ...\nsave_model(model, "out")\n',
        'import keras\nfrom PIL import Image\nimg = Image.open(p)\nimg.save("x")\n',
        'import keras\nimport PIL.Image\nmodel = PIL.Image.new("RGB", (8, 8))\nmodel.save("out")\n',
        'import keras\nimport tensorflow as tf\nmodel_ckpt = tf.train.Checkpoint(model=m)\nmodel_ckpt.save("ckpt/step")\n',
        # Directories made at run time, given to what writes a SavedModel, or holding the file.
        "import os\nimport tempfile\nimport keras\nimport tensorflow as tf\n"
        "with tempfile.TemporaryDirectory() as d:\n    model.export(d)\n    tf.saved_model.save(model, d)\n"
        '    model.save(os.path.join(d, "m.keras"))\n    model.save(f"{d}/m.keras")\n    model.save(d + "/m.keras")\n',
        'import tempfile\nfrom pathlib import Path\nimport keras\nd = tempfile.mkdtemp()\nmodel.save(Path(d) / "m.keras")\n',
        # A temporary directory used for something else than the model.
        "import tempfile\nimport numpy as np\nimport keras\nwith tempfile.TemporaryDirectory() as d:\n"
        '    np.save(d + "/x.npy", x)\n    image.save(d)\n    model.save("m.keras")\n',
        # A context manager that may yield a file, or whose name is set twice.
        "import tempfile\nfrom contextlib import contextmanager\nimport keras\n\n@contextmanager\n"
        'def target(folder):\n    yield f"{folder}"\n\n@contextmanager\ndef scratch():\n'
        '    yield tempfile.mkdtemp()\n    yield "out/model.keras"\n\n'
        "with target(x) as a, scratch() as b:\n    model.save(a)\n    model.save(b)\n"
        "d = tempfile.mkdtemp()\nd = d + '/m.keras'\nmodel.save(d)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(_SAVE_LEAVES)

    def applies_to(self, text: str) -> bool:
        """Whether the file names a call that saves or loads (see `engine.gates`)."""
        return may_save_or_load(text)

    def visit(self, node: cst.Call | cst.Assign | cst.AnnAssign, ctx: Context) -> None:
        if not isinstance(node, cst.Call):
            report_binding(ctx, node, self.code, "Save to a `.keras` file")
            return
        if not _may_save_model(node):
            return
        use = path_plan(ctx).use(node)
        if use is None or use.code != self.code:
            return
        text = use.ref.text
        extension = use.rename(text)[len(text.rstrip("/")):] if use.rename is not None else ".keras"
        report_save(ctx, use, f"Save to a `{extension}` file")


class SaveFormatArgument(Rule):
    """
    ## Why
    Keras 3 picks the format from the file extension alone. `save_format=` is ignored with a
    warning ("The `save_format` argument is deprecated in Keras 3") when the path ends in
    `.keras`, `.h5` or `.hdf5`; for any other path it raises "ValueError: The `save_format`
    argument is deprecated in Keras 3. Please remove this argument and pass a file path with
    either `.keras` or `.h5` extension." `save_weights()` does not accept it at all:
    "TypeError: Model.save_weights() got an unexpected keyword argument 'save_format'".

    ## Example
    ```python
    model.save("model.keras", save_format="tf")
    model.save_weights("w.weights.h5", save_format="h5")
    ```

    ## Use instead
    ```python
    model.save("model.keras")
    model.save_weights("w.weights.h5")
    ```

    ## Backends
    All.

    ## Fix safety
    Safe when the path is a literal that already ends in `.keras`, `.h5` or `.hdf5`
    (`.weights.h5` for `save_weights`): Keras 3 ignores the argument there, so removing it
    changes nothing. For other paths no fix is offered: the path itself must change first
    (see KER301 and KER304). A whole-model save that KER301 reports is its finding alone: its
    fix gives the path an extension and drops `save_format=` with it.

    ## References
    - Catalogue K3-SAV-002; `keras/src/saving/saving_api.py` `save_model`.
    """

    code = "KER302"
    name = "save-format-argument"
    message = "`save_format=` is gone in Keras 3: the file extension decides the format"
    nodes = (cst.Call,)
    # Whether `.save()` saves a model may depend on other statements (`m2 = keras.Sequential()`).
    whole_file = True
    fix = "safe"
    deprecated = True
    examples = (
        Example(
            'import keras\nmodel.save("model.keras", «save_format="tf"»)\n',
            'import keras\nmodel.save("model.keras")\n',
        ),
        Example(
            "import tensorflow as tf\n"
            'tf.keras.models.save_model(model, "best.h5", overwrite=True, «save_format="h5"»)\n',
            "import tensorflow as tf\n"
            'tf.keras.models.save_model(model, "best.h5", overwrite=True)\n',
        ),
        Example(
            'from tensorflow import keras\nmodel.save_weights(f"{d}/w.weights.h5", «save_format="h5"»)\n',
            'from tensorflow import keras\nmodel.save_weights(f"{d}/w.weights.h5")\n',
        ),
        Example(
            'import keras\nmodel.save("exported", «save_format="tf"»)\n'
            'model.save(path, «save_format="tf"»)\n',
            None,
        ),
    )
    valid = (
        'import keras\nmodel.save("model.keras")\n',
        'import keras\nimage.save("a.png", save_format="png")\n',
        'def export(tf, m):\n    tf.keras.models.save_model(m, "m.keras", save_format="tf")\n',
        'import keras\ndef write(model, save_format):\n    model.save("m.keras")\n',
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"save_format"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        arg = call_keyword(node, "save_format")
        if arg is None:
            return
        if method_call(node, "save_weights"):
            if not weights_call(node, "save_weights", ctx):
                return
            path = path_argument(node, "filepath", 0)
            accepted: tuple[str, ...] = (WEIGHTS,)
        else:
            path = model_save_path(node, ctx)
            accepted = WHOLE_MODEL
            if path is None:
                return
        tail = path_tail(path.value) if path is not None else None
        if tail is None or not tail[0].lower().endswith(accepted):
            if accepted is WHOLE_MODEL and _save_to_directory_reported(node, ctx):
                return  # KER301's finding, whose fix drops the argument with the rename
            ctx.report_arg(arg)
            return
        ctx.report_arg(arg, fix=FixSpec.safe("Remove `save_format`", remove_arg(node, arg)))


class LegacyH5Save(Rule):
    """
    ## Why
    Saving a whole model to `.h5` still works in Keras 3, but it is the legacy format: Keras logs
    "This file format is considered legacy" and some Keras 3 objects do not round-trip through it.
    The native `.keras` format stores the config, the weights and the optimizer state.

    ## Example
    ```python
    model.save("model.h5")
    ```

    ## Use instead
    ```python
    model.save("model.keras")
    ```

    ## Backends
    All.

    ## Fix safety
    Unsafe: the file name and format change, so code that loads `model.h5` must change too.
    The loads of this file that provably read the same path are renamed with it.

    ## References
    - Catalogue K3-SAV-015; `keras/src/saving/saving_api.py`.
    """

    code = "KER315"
    name = "legacy-h5-save"
    message = "`.h5` is the legacy whole-model format in Keras 3: save to `.keras`"
    nodes = (cst.Call, cst.Assign, cst.AnnAssign)
    whole_file = True
    severity = Severity.INFO
    fix = "unsafe"
    examples = (
        Example(
            'import keras\nmodel.save(«"model.h5"»)\n',
            'import keras\nmodel.save("model.keras")\n',
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\n"
            'tf.keras.models.save_model(model, «f"{out}/best.HDF5"»)\n',
            "import tensorflow as tf\n"
            'tf.keras.models.save_model(model, f"{out}/best.keras")\n',
            unsafe=True,
        ),
        Example(
            "from tensorflow import keras\n"
            "generator.save(«'gen.h5'», include_optimizer=False)\n",
            "from tensorflow import keras\n"
            "generator.save('gen.keras', include_optimizer=False)\n",
            unsafe=True,
        ),
        Example(
            "from tensorflow import keras\n"
            "best = keras.callbacks.ModelCheckpoint(«'best.h5'», save_best_only=True)\n"
            "model = keras.models.load_model(«'best.h5'»)\n",
            "from tensorflow import keras\n"
            "best = keras.callbacks.ModelCheckpoint('best.keras', save_best_only=True)\n"
            "model = keras.models.load_model('best.keras')\n",
            unsafe=True,
        ),
    )
    valid = (
        'import keras\nmodel.save("model.keras")\nmodel.save_weights("w.weights.h5")\n',
        'import keras\nimport h5py\nstore.save("data.h5")\n',
        'def export(keras, m):\n    keras.models.save_model(m, "m.h5")\n',
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(_SAVE_LEAVES | {"load_model"})

    def applies_to(self, text: str) -> bool:
        """Whether the file names a call that saves or loads (see `engine.gates`)."""
        return may_save_or_load(text)

    def visit(self, node: cst.Call | cst.Assign | cst.AnnAssign, ctx: Context) -> None:
        if not isinstance(node, cst.Call):
            report_binding(ctx, node, self.code, "Save to a `.keras` file")
            return
        if _may_save_model(node):
            use = path_plan(ctx).use(node)
            if use is not None and use.saving and use.code == self.code:
                report_save(ctx, use, "Save to a `.keras` file")
        elif _may_load_model(node):
            use = path_plan(ctx).use(node)
            if use is not None and not use.saving and load_owner(path_plan(ctx), use) == self.code:
                report_load(ctx, use, _PAIRED_LOAD)


def _save_to_directory_reported(node: cst.Call, ctx: Context) -> bool:
    use = path_plan(ctx).use(node)
    return use is not None and use.code == "KER301" and ctx.settings.enabled("KER301") and not ctx.settings.ignored_for_path("KER301", ctx.path)


# The callees' last names of calls that may save a whole model.
_SAVE_LEAVES = frozenset({"save", "save_model", "ModelCheckpoint"})


def _may_save_model(node: cst.Call) -> bool:
    """A cheap look at the callee before the file's plan is consulted."""
    func = node.func
    if isinstance(func, cst.Attribute):
        return func.attr.value in _SAVE_LEAVES
    return isinstance(func, cst.Name) and func.value in ("save_model", "ModelCheckpoint")


def _may_load_model(node: cst.Call) -> bool:
    func = node.func
    leaf = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
    return leaf == "load_model"
