"""KER105, KER108-KER113: Keras 2 namespaces that Keras 3 removed, renamed or merged.

Each rule reports the rows of `data/imports_namespaces.toml` that carry its code."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.edits import FixSpec, Replace
from ..engine.rule import Example
from ..engine.names import dotted_name
from ._common import TableRule, module_api


class ExperimentalLayersNamespace(TableRule):
    """
    ## Why
    Keras 2 kept new layers under `layers.experimental` and `layers.experimental.preprocessing`.
    Keras 3 has no `experimental` namespace: `AttributeError: module 'keras.layers' has no
    attribute 'experimental'`. The layers themselves (`RandomFlip`, `Rescaling`, `EinsumDense`,
    `Normalization`, ...) are in `keras.layers`.

    ## Example
    ```python
    augment = tf.keras.layers.experimental.preprocessing.RandomFlip("horizontal")
    ```

    ## Use instead
    ```python
    augment = keras.layers.RandomFlip("horizontal")
    ```

    ## Backends
    All.

    ## Fix safety
    Safe for the layers that kept their name (the same class). Unsafe for the
    `PreprocessingLayer` base class, which becomes `keras.layers.Layer` without the `adapt()`
    machinery. `SyncBatchNormalization` and `RandomFourierFeatures` are reported by KER608.

    ## References
    - Catalogue K3-IMP-005; Keras migration guide, "Removed features".
    """

    code = "KER105"
    name = "experimental-layers-namespace"
    message = "`layers.experimental` is gone in Keras 3: the layers are in `keras.layers`"
    fix = "mixed"
    examples = (
        Example(
            "import tensorflow as tf\nflip = «tf.keras.layers.experimental.preprocessing.RandomFlip»()\n",
            "import tensorflow as tf\nflip = tf.keras.layers.RandomFlip()\n",
        ),
        Example(
            "from keras import layers\nx = «layers.experimental.EinsumDense»(\"ab,bc->ac\", output_shape=4)\n",
            "from keras import layers\nx = layers.EinsumDense(\"ab,bc->ac\", output_shape=4)\n",
        ),
        Example(
            "from «tensorflow.keras.layers.experimental.preprocessing» import Rescaling, Normalization\n",
            "from keras.layers import Rescaling, Normalization\n",
        ),
        Example(
            "from «tensorflow.keras.layers.experimental» import preprocessing\nx = preprocessing.Rescaling(1.0)\n",
            "from keras import layers as preprocessing\nx = preprocessing.Rescaling(1.0)\n",
        ),
        Example(
            "import keras\nclass Scale(«keras.layers.experimental.preprocessing.PreprocessingLayer»):\n    pass\n",
            "import keras\nclass Scale(keras.layers.Layer):\n    pass\n",
            unsafe=True,
        ),
        Example(
            "from «tensorflow.keras.layers.experimental.preprocessing» import PreprocessingLayer\n",
            "from keras.layers import Layer as PreprocessingLayer\n",
            unsafe=True,
        ),
        Example("from «keras.layers.experimental» import NoSuchLayer\n", None),
        Example("from «tensorflow.keras.layers.experimental» import EinsumDense, RandomFourierFeatures\n", None),
    )
    valid = (
        "import keras\nflip = keras.layers.RandomFlip()\n",
        # Gone, not moved: KER608 reports it.
        "from tensorflow.keras.layers.experimental import RandomFourierFeatures\n",
        "def f(layers):\n    return layers.experimental.preprocessing.RandomFlip()\n",
        "import tensorflow as tf\nx = tf.keras.layers.experimental.SyncBatchNormalization()\n",
        "import my_layers as layers\nx = layers.experimental.Thing()\n",
    )


class RemovedKerasNamespace(TableRule):
    """
    ## Why
    Keras 3 dropped several Keras 2 namespaces and functions: `keras.estimator`,
    `keras.premade`, `keras.experimental`, `keras.feature_column`, `keras.dtensor`,
    `keras.saving.legacy`, and YAML / config model loading (`models.model_from_yaml`,
    `models.model_from_config`). Using them raises `AttributeError` or `ModuleNotFoundError`.

    ## Example
    ```python
    schedule = keras.experimental.CosineDecay(1e-3, decay_steps=1000)
    model = keras.models.model_from_yaml(text)
    ```

    ## Use instead
    ```python
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=1000)
    model = keras.models.model_from_json(text)  # with text from model.to_json()
    ```

    ## Backends
    All: the `tf.keras` shim of TensorFlow does not serve them either (`tf.keras.experimental`
    raises `AttributeError` on the TensorFlow backend; checked on Keras 3.15.1 with
    TensorFlow 2.21).

    ## Fix safety
    Safe for the learning-rate schedules that moved (`keras.experimental.CosineDecay` was an
    alias of the schedule). Unsafe for `model_from_yaml` -> `model_from_json`: the text it reads
    must now be JSON. No fix for the rest: the message says what replaces them. `Model.to_yaml()`
    is not reported, because the type of the object it is called on is unknown.

    ## References
    - Catalogue K3-NS-001.
    """

    code = "KER108"
    name = "removed-keras-namespace"
    message = "This Keras 2 namespace or function is not in Keras 3"
    fix = "mixed"
    examples = (
        Example(
            "import keras\ns = «keras.experimental.CosineDecay»(1e-3, 1000)\n",
            "import keras\ns = keras.optimizers.schedules.CosineDecay(1e-3, 1000)\n",
        ),
        Example(
            "from tensorflow import keras\ns = «keras.experimental.CosineDecayRestarts»(1e-3, 1000)\n",
            "from tensorflow import keras\nfrom keras.optimizers import schedules\ns = schedules.CosineDecayRestarts(1e-3, 1000)\n",
        ),
        Example(
            "from keras.models import «model_from_yaml»\nm = model_from_yaml(text)\n",
            "from keras.models import model_from_json as model_from_yaml\nm = model_from_yaml(text)\n",
            unsafe=True,
        ),
        Example("import tensorflow as tf\nest = «tf.keras.estimator.model_to_estimator»(model)\n", None),
        Example("from «keras.premade» import LinearModel\n", None),
        Example("import keras\nm = «keras.models.model_from_config»(config)\n", None),
        Example("from «tensorflow.keras.experimental» import LinearModel\n", None),
    )
    valid = (
        "import keras\ns = keras.optimizers.schedules.CosineDecay(1e-3, 1000)\n",
        "import tensorflow as tf\ntf.experimental.numpy.ones(3)\n",
        "def f(keras):\n    return keras.estimator.model_to_estimator\n",
        "import keras\nm = keras.models.model_from_json(text)\n",
    )


class MixedPrecisionExperimental(TableRule):
    """
    ## Why
    The mixed precision API left `experimental` in TensorFlow 2.4; Keras 3 has only the final
    API: `keras.mixed_precision.set_global_policy`, `Policy` (an alias of `DTypePolicy`),
    `LossScaleOptimizer`. `mixed_precision.experimental` raises `AttributeError`.

    ## Example
    ```python
    tf.keras.mixed_precision.experimental.set_policy("mixed_float16")
    ```

    ## Use instead
    ```python
    keras.mixed_precision.set_global_policy("mixed_float16")
    ```

    ## Backends
    All.

    ## Fix safety
    Safe for `set_policy` and `Policy`. Unsafe for `LossScaleOptimizer`: its `loss_scale=`
    argument became `initial_scale=` (dynamic scaling only).

    ## References
    - Catalogue K3-MP-001.
    """

    code = "KER109"
    name = "mixed-precision-experimental"
    message = "`mixed_precision.experimental` is gone in Keras 3"
    fix = "mixed"
    examples = (
        Example(
            "import tensorflow as tf\n«tf.keras.mixed_precision.experimental.set_policy»(\"mixed_float16\")\n",
            "import tensorflow as tf\nimport keras\nkeras.mixed_precision.set_global_policy(\"mixed_float16\")\n",
        ),
        Example(
            "from keras import mixed_precision\np = «mixed_precision.experimental.Policy»(\"mixed_float16\")\n",
            "from keras import mixed_precision\np = mixed_precision.Policy(\"mixed_float16\")\n",
        ),
        Example(
            "from «tensorflow.keras.mixed_precision.experimental» import set_policy\nset_policy(\"mixed_float16\")\n",
            "from keras.mixed_precision import set_global_policy as set_policy\nset_policy(\"mixed_float16\")\n",
        ),
        Example(
            "import keras\nopt = «keras.mixed_precision.experimental.LossScaleOptimizer»(opt)\n",
            "import keras\nopt = keras.mixed_precision.LossScaleOptimizer(opt)\n",
            unsafe=True,
        ),
    )
    valid = (
        "import keras\nkeras.mixed_precision.set_global_policy(\"mixed_float16\")\n",
        "def f(mixed_precision):\n    mixed_precision.experimental.set_policy(\"x\")\n",
    )


class CallbacksExperimental(TableRule):
    """
    ## Why
    `callbacks.experimental.BackupAndRestore` became `callbacks.BackupAndRestore` (same
    `backup_dir` argument), and Keras 3 has no `BaseLogger`: it averages the epoch logs itself.
    Both raise `AttributeError` in Keras 3.

    ## Example
    ```python
    backup = tf.keras.callbacks.experimental.BackupAndRestore("backup")
    ```

    ## Use instead
    ```python
    backup = keras.callbacks.BackupAndRestore("backup")
    ```

    ## Backends
    All.

    ## Fix safety
    Safe for `BackupAndRestore`, and for dropping `BaseLogger()` from a literal callback list
    (Keras 2 added it to every `fit()` anyway). Elsewhere `BaseLogger` is reported without a fix.

    ## References
    - Catalogue K3-CB-002.
    """

    code = "KER110"
    name = "callbacks-experimental"
    message = "This callback path is not in Keras 3"
    fix = "safe"
    examples = (
        Example(
            "import tensorflow as tf\nb = «tf.keras.callbacks.experimental.BackupAndRestore»(\"backup\")\n",
            "import tensorflow as tf\nb = tf.keras.callbacks.BackupAndRestore(\"backup\")\n",
        ),
        Example(
            "from «tensorflow.keras.callbacks.experimental» import BackupAndRestore\n",
            "from keras.callbacks import BackupAndRestore\n",
        ),
        Example(
            "import keras\nmodel.fit(x, callbacks=[«keras.callbacks.BaseLogger»(), stop])\n",
            "import keras\nmodel.fit(x, callbacks=[stop])\n",
        ),
        Example(
            "from tensorflow.keras.callbacks import «BaseLogger»\ncallbacks = [stop, «BaseLogger»()]\n",
            "from tensorflow.keras.callbacks import BaseLogger\ncallbacks = [stop]\n",
        ),
        Example("import keras\nlogger = «keras.callbacks.BaseLogger»()\n", None),
    )
    valid = (
        "import keras\nb = keras.callbacks.BackupAndRestore(\"backup\")\n",
        "import tensorflow as tf\nx = tf.experimental.BackupAndRestore\n",
        "from my_callbacks import BaseLogger\ncallbacks = [BaseLogger()]\n",
    )
    nodes = (cst.Attribute, cst.ImportFrom, cst.Import, cst.Call)

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"BaseLogger"})

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:
        if type(node) is cst.Call:
            self._base_logger(node, ctx)  # type: ignore[arg-type]
        else:
            super().visit(node, ctx)

    def _base_logger(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        called = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        if called != "BaseLogger":
            return
        api = ctx.keras_api(func)
        match = self.resolve(*api) if api is not None else None
        if match is None or match.path != match.row.path:
            return
        fix = None
        element, holder = ctx.parents[-1], ctx.parents[-2]
        if isinstance(element, cst.Element) and isinstance(holder, cst.List):
            fix = FixSpec.safe("Drop `BaseLogger()`", _remove_element(holder, element))
        ctx.report(func, self.message_for(match), fix=fix)


def _remove_element(holder: cst.List, element: cst.Element) -> Replace:
    """Remove one list element with its comma, as `remove_arg` does for an argument."""
    elements = list(holder.elements)
    index = next(i for i, e in enumerate(elements) if e is element)
    if index == len(elements) - 1 and index > 0 and not isinstance(element.comma, cst.Comma):
        previous = elements[index - 1]
        if isinstance(previous.comma, cst.Comma):
            return Replace(previous.comma, "", end=element)
    return Replace(element, "")


class LegacyOptimizerNamespace(TableRule):
    """
    ## Why
    Keras 3 has one set of optimizers. `keras.optimizers.legacy` only holds stubs that raise
    an `ImportError` ("`keras.optimizers.legacy` is not supported in Keras 3. When using
    `tf.keras`, to continue using a `tf.keras.optimizers.legacy` optimizer, you can install the
    `tf_keras` package (Keras 2) and set the environment variable `TF_USE_LEGACY_KERAS=True`
    ..."), and `keras.optimizers.experimental` does not exist (`AttributeError: module
    'keras.optimizers' has no attribute 'experimental'`).

    ## Example
    ```python
    opt = tf.keras.optimizers.legacy.Adam(learning_rate=1e-3)
    ```

    ## Use instead
    ```python
    opt = keras.optimizers.Adam(learning_rate=1e-3)
    ```

    ## Backends
    All.

    ## Fix safety
    Safe for code. Optimizer checkpoints written by legacy optimizers do not load into the new
    ones (the slot variables differ): retrain or convert them.

    ## References
    - Catalogue K3-OPT-003.
    """

    code = "KER111"
    name = "legacy-optimizer-namespace"
    message = "Keras 3 has no legacy or experimental optimizers"
    fix = "safe"
    examples = (
        Example(
            "import tensorflow as tf\nopt = «tf.keras.optimizers.legacy.Adam»(learning_rate=1e-3)\n",
            "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n",
        ),
        Example(
            "from keras import optimizers\nopt = «optimizers.experimental.AdamW»(weight_decay=1e-4)\n",
            "from keras import optimizers\nopt = optimizers.AdamW(weight_decay=1e-4)\n",
        ),
        Example(
            "from «tensorflow.keras.optimizers.legacy» import SGD, Adam\n",
            "from keras.optimizers import SGD, Adam\n",
        ),
        Example(
            "import «tensorflow.keras.optimizers.legacy» as legacy\n",
            "import keras.optimizers as legacy\n",
        ),
    )
    valid = (
        "import keras\nopt = keras.optimizers.Adam()\n",
        "from tf_keras.optimizers.legacy import Adam\n",
    )


class RemovedKerasUtils(TableRule):
    """
    ## Why
    Keras 3 has no `keras.utils` submodules (`np_utils`, `generic_utils`, `vis_utils`,
    `data_utils`, ...: `ModuleNotFoundError`), and dropped `multi_gpu_model`, the data
    enqueuers (`OrderedEnqueuer`, `GeneratorEnqueuer`, `SequenceEnqueuer`),
    `utils.experimental.DatasetCreator`, `SidecarEvaluator`, `warmstart_embedding_matrix` and
    `to_ordinal`.

    ## Example
    ```python
    from keras.utils.np_utils import to_categorical
    ```

    ## Use instead
    ```python
    from keras.utils import to_categorical
    ```

    ## Backends
    All.

    ## Fix safety
    Safe for names that moved to `keras.utils` (or `keras.saving`): the same functions. No fix
    for the removed utilities: the message names what to use.

    ## References
    - Catalogue K3-DAT-004 (and K3-IMP-002 for the submodules).
    """

    code = "KER112"
    name = "removed-keras-utils"
    message = "This `keras.utils` path is not in Keras 3"
    fix = "safe"
    examples = (
        Example(
            "from «keras.utils.np_utils» import to_categorical\n",
            "from keras.utils import to_categorical\n",
        ),
        Example(
            "from «tensorflow.keras.utils.generic_utils» import get_custom_objects, Progbar\n",
            "from keras.utils import get_custom_objects, Progbar\n",
        ),
        Example(
            "import keras\ny = «keras.utils.np_utils.to_categorical»(labels)\n",
            "import keras\ny = keras.utils.to_categorical(labels)\n",
        ),
        Example("from keras.utils import «vis_utils»\nvis_utils.plot_model(model)\n", None),
        Example("import tensorflow as tf\nm = «tf.keras.utils.multi_gpu_model»(model, gpus=2)\n", None),
        Example("from keras.utils import «OrderedEnqueuer», to_categorical\n", None),
    )
    valid = (
        "from keras.utils import to_categorical, plot_model\n",
        "from my_project.utils.np_utils import to_categorical\n",
        "def f(keras):\n    keras.utils.multi_gpu_model(m)\n",
    )


class ScikitLearnWrappers(TableRule):
    """
    ## Why
    `keras.wrappers.scikit_learn` (`KerasClassifier`, `KerasRegressor`) was removed in
    TensorFlow 2.13 and is not in Keras 3: `ModuleNotFoundError: No module named
    'keras.wrappers.scikit_learn'` (through `tf.keras.wrappers.scikit_learn`:
    `AttributeError: module 'keras.wrappers' has no attribute 'scikit_learn'`).

    ## Example
    ```python
    from keras.wrappers.scikit_learn import KerasClassifier
    clf = KerasClassifier(build_fn=make_model, epochs=10)
    ```

    ## Use instead
    ```python
    from scikeras.wrappers import KerasClassifier
    clf = KerasClassifier(model=make_model, epochs=10)
    ```

    ## Backends
    All: on the TensorFlow backend the `tf.keras` shim has only Keras 3's own wrappers, so
    `from tensorflow.keras.wrappers.scikit_learn import ...` fails there too
    (`ModuleNotFoundError`, checked on Keras 3.15.1 with TensorFlow 2.21).

    ## Fix safety
    Unsafe, for `from ... import KerasClassifier, KerasRegressor` only: the import moves to
    scikeras (a new dependency, scikeras >= 0.13 for Keras 3), whose constructor takes `model=`
    where Keras 2 took `build_fn=`, and routes the model function's arguments by prefix
    (`model__units=`). Keras 3.8 also has `keras.wrappers.SKLearnClassifier(model, ...)`,
    with a different constructor.

    ## References
    - Catalogue K3-DAT-005; TensorFlow 2.13 release notes; scikeras 0.13 migration notes.
    """

    code = "KER113"
    name = "scikit-learn-wrappers"
    message = "`keras.wrappers.scikit_learn` is not in Keras 3"
    fix = "unsafe"
    examples = (
        Example(
            "from «keras.wrappers.scikit_learn» import KerasClassifier\n",
            "from scikeras.wrappers import KerasClassifier\n",
            unsafe=True,
        ),
        Example(
            "from «tensorflow.keras.wrappers.scikit_learn» import KerasClassifier, KerasRegressor\n",
            "from scikeras.wrappers import KerasClassifier, KerasRegressor\n",
            unsafe=True,
        ),
        Example("import tensorflow as tf\nclf = «tf.keras.wrappers.scikit_learn.KerasClassifier»(build_fn=f)\n", None),
        Example("from «keras.wrappers.scikit_learn» import BaseWrapper\n", None),
    )
    valid = (
        "from scikeras.wrappers import KerasClassifier\n",
        "from keras.wrappers import SKLearnClassifier\n",
    )

    _SCIKERAS = frozenset({"KerasClassifier", "KerasRegressor"})

    def visit_from_import(self, node: cst.ImportFrom, ctx: Context) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            super().visit_from_import(node, ctx)
            return
        api = module_api(dotted_name(node.module))
        match = self.resolve(*api) if api is not None else None
        names = {dotted_name(alias.name) for alias in node.names}
        if match is None or match.path != match.row.path or not names <= self._SCIKERAS:
            super().visit_from_import(node, ctx)
            return
        fix = FixSpec.unsafe("Import from `scikeras.wrappers`", Replace(node.module, "scikeras.wrappers"))
        ctx.report(node.module, self.message_for(match), fix=fix)

