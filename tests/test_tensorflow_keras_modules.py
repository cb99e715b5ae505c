"""A module that takes Keras from TensorFlow, in a project written for Keras 3, is TensorFlow
code: rules about the other backends stay quiet there; in a Keras 2 project (nothing written
for Keras 3) it is code to migrate, reported whole."""

from __future__ import annotations

import warnings

import pytest

from kerasfix.rules import Settings, lint
from kerasfix.rules.engine.backend_scope import _spells_keras_of
from kerasfix.rules.engine.incremental import IncrementalLinter
from kerasfix.rules.engine.project import _KERAS_3_HINT, project_index
from project_files import write_project

TF_MODULE = '''import tensorflow as tf
from tensorflow import keras


class PairConcat(keras.layers.Layer):
    def call(self, a, b):
        return tf.concat([a, b], axis=-1)


LOSS = keras.losses.MeanSquaredError(reduction=keras.losses.Reduction.SUM)


def slow_down(model):
    keras.backend.set_value(model.optimizer.learning_rate, 1e-4)
'''

# What a Keras 2 project gets in that module: the import, the unconditional TensorFlow, the op,
# the removed enum and the removed backend function.
EVERY_FINDING = ["KER101", "KER107", "KER201", "KER221", "KER606"]
# What is left in a project written for Keras 3: the backend function, which fails on
# TensorFlow too; `tf.keras` still serves the enum there (`shim_backends`).
TENSORFLOW_FINDINGS = ["KER221"]

# One module of each kind that shows a project is written for Keras 3.
KERAS_3_MODULES = {
    "ops-import": "from keras import ops\n\n\ndef double(x):\n    return ops.add(x, x)\n",
    "ops-spelled": "import keras\n\n\ndef double(x):\n    return keras.ops.add(x, x)\n",
    "config": "import keras as K\n\nFLOAT = K.config.floatx()\n",
    "keras-core": "import keras_core\n",
    "backend-function": "import keras\n\n\ndef backend():\n    return keras.config.backend()\n",
    "version-function": "import keras\n\n\ndef keras_3():\n    return keras.version().startswith('3.')\n",
}
# More spellings of the same, each of which the project's first question must not skip unread.
MORE_KERAS_3_MODULES = {
    "parenthesized": "from keras import (\n    layers,\n    ops,\n)\n\nx = ops.add(1, 2)\n",
    "alias": "import keras as K\n\nx = K.random.normal((2,))\n",
    "keras-core-ops": "from keras_core import ops\n",
    "environment": "import os\n\nif os.environ['KERAS_BACKEND'] == 'jax':\n    import jax\n",
}
# Modules that do not: Keras 2 has all of this.
KERAS_2_MODULES = {
    "keras": "import keras\n\nlayer = keras.layers.Dense(1)\n",
    "tf-keras-ops-word": "from tensorflow import keras\n\nops = keras.layers\nx = keras.ops\n",
    "keras-2-backend": "from tensorflow import keras\n\n\ndef backend():\n    return keras.backend.backend()\n",
    # A `train_step` of JAX's signature, as other frameworks' task classes have it.
    "task-step": "class Task:\n    def train_step(self, inputs, model, optimizer, metrics=None):\n        return {}\n",
    "tensorflow-step": "import tensorflow as tf\nfrom tensorflow import keras\n\n\nclass Stepper(keras.Model):\n"
    "    def train_step(self, data):\n        with tf.GradientTape() as tape:\n            pass\n        return {}\n",
}


def codes(root, name="pkg/tf_layer.py", source=None):
    path = root / name
    text = path.read_text() if source is None else source
    return sorted(f.code for f in lint(text, str(path), Settings()))


def project(root, other: str, tf_module: str = TF_MODULE):
    return write_project(root, {"pkg/__init__.py": "", "pkg/other.py": other, "pkg/tf_layer.py": tf_module})


@pytest.mark.parametrize("kind", KERAS_3_MODULES)
def test_in_a_project_written_for_keras_3_only_tensorflow_findings_remain(tmp_path, kind):
    root = project(tmp_path, KERAS_3_MODULES[kind])
    assert project_index(root / "pkg/other.py").writes_for_keras_3("pkg")
    assert codes(root) == TENSORFLOW_FINDINGS


@pytest.mark.parametrize("kind", KERAS_2_MODULES)
def test_in_a_keras_2_project_the_module_is_reported_whole(tmp_path, kind):
    root = project(tmp_path, KERAS_2_MODULES[kind])
    assert not project_index(root / "pkg/other.py").writes_for_keras_3("pkg")
    assert codes(root) == EVERY_FINDING


def test_keras_3_code_in_another_top_level_package_does_not_count(tmp_path):
    root = write_project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/tf_layer.py": TF_MODULE,
            "examples/ported.py": KERAS_3_MODULES["ops-import"],
            "script.py": KERAS_3_MODULES["config"],
        },
    )
    index = project_index(root / "script.py")
    assert index.writes_for_keras_3("examples") and index.writes_for_keras_3("")
    assert not index.writes_for_keras_3("pkg")
    assert codes(root) == EVERY_FINDING
    # A module at the root counts for the root's other modules.
    (root / "loose.py").write_text(TF_MODULE)
    assert codes(root, "loose.py") == TENSORFLOW_FINDINGS


@pytest.mark.parametrize("kind", [*KERAS_3_MODULES, *MORE_KERAS_3_MODULES])
def test_every_module_written_for_keras_3_is_read_for_the_question(tmp_path, kind):
    text = {**KERAS_3_MODULES, **MORE_KERAS_3_MODULES}[kind]
    assert _KERAS_3_HINT.search(text.encode())
    # Read cold (nothing of the project read before), it counts.
    root = project(tmp_path, text)
    assert project_index(root / "pkg/other.py").writes_for_keras_3("pkg")


def test_a_file_outside_any_project_is_reported_whole(tmp_path):
    path = tmp_path / "loose.py"
    path.write_text(TF_MODULE)
    assert codes(tmp_path, "loose.py") == EVERY_FINDING


@pytest.mark.parametrize(
    "module",
    [
        # `tf.keras` spelled after the TensorFlow import.
        TF_MODULE.replace("from tensorflow import keras\n", "").replace("keras.", "tf.keras."),
        # A name imported from `tensorflow.keras`.
        TF_MODULE.replace("from tensorflow import keras\n", "from tensorflow.keras import backend, layers, losses\n")
        .replace("keras.layers", "layers").replace("keras.losses", "losses").replace("keras.backend", "backend"),
    ],
    ids=["tf.keras", "from-tensorflow.keras"],
)
def test_every_spelling_of_tensorflow_keras_counts(tmp_path, module):
    root = project(tmp_path, KERAS_3_MODULES["ops-import"], module)
    assert codes(root) == TENSORFLOW_FINDINGS


@pytest.mark.parametrize(
    "module",
    [
        # Also takes Keras 3 itself: a module half ported, checked for every backend.
        TF_MODULE.replace("from tensorflow import keras\n", "from tensorflow import keras\nimport keras as k3\n"),
        # The fallback of a shim: Keras 3 when there is one.
        TF_MODULE.replace(
            "from tensorflow import keras\n",
            "try:\n    import keras\nexcept ImportError:\n    from tensorflow import keras\n",
        ),
        # The project's own Keras module, with a TensorFlow one beside it.
        TF_MODULE.replace("from tensorflow import keras\n", "from pkg.backend import keras\nfrom tensorflow.keras import layers\n"),
        # Everything from Keras 3, by a star import.
        TF_MODULE.replace("from tensorflow import keras\n", "from keras import *\nfrom tensorflow import keras\n"),
        # Keras 2's own package: code that chose to stay on Keras 2.
        TF_MODULE.replace("from tensorflow import keras\n", "from tensorflow import keras\nimport tf_keras\n"),
        # No Keras from TensorFlow at all: TensorFlow ops in a Keras 3 layer.
        TF_MODULE.replace("from tensorflow import keras\n", "import keras\n"),
    ],
    ids=["both", "shim", "project-keras", "star", "tf_keras", "keras-3"],
)
def test_a_module_that_also_takes_keras_elsewhere_is_checked_for_every_backend(tmp_path, module):
    root = project(tmp_path, KERAS_3_MODULES["ops-import"], module)
    assert "KER107" in codes(root)


SUBCLASS = '''"""A layer built like `tf.keras.layers.Dense`."""
import tensorflow as tf

from .base import Base


class PairConcat(Base):
    def call(self, a, b):
        return tf.concat([a, b], axis=-1)
'''


def test_tf_keras_named_in_a_docstring_or_a_comment_does_not_count(tmp_path):
    root = project(tmp_path, KERAS_3_MODULES["ops-import"], SUBCLASS)
    (root / "pkg/base.py").write_text("import keras\n\n\nclass Base(keras.layers.Layer):\n    pass\n")
    assert codes(root) == ["KER201"]
    (root / "pkg/tf_layer.py").write_text(SUBCLASS.replace('"""A', "# A").replace('"""', ""))
    assert codes(root) == ["KER201"]
    # Spelled in the code, it does.
    (root / "pkg/tf_layer.py").write_text(SUBCLASS + "\nSPEC = tf.keras.layers.InputSpec(ndim=2)\n")
    assert codes(root) == []


def test_reading_the_code_prints_no_warning_of_the_users():
    # An invalid escape in the user's code: Python warns when it compiles it; the user's own
    # run shows that, a lint must not.
    text = 'import tensorflow as tf\n\nSPEC = tf.keras.layers.InputSpec(ndim=2)\nPATTERN = "\\d+"\n'
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _spells_keras_of(text, frozenset({"tf"}))
    assert [str(w.message) for w in caught] == []


def test_editing_the_import_to_keras_3_reports_the_ops_at_once(tmp_path):
    root = project(tmp_path, KERAS_3_MODULES["ops-import"])
    path = root / "pkg/tf_layer.py"
    linter = IncrementalLinter(str(path), Settings())
    steps = [
        TF_MODULE,
        TF_MODULE.replace("axis=-1", "axis=1"),  # an edit inside the layer
        TF_MODULE.replace("from tensorflow import keras\n", "import keras\n"),  # ported
        TF_MODULE,  # and back
    ]
    for text in steps:
        assert linter.lint(text) == lint(text, str(path), Settings())
    assert sorted(f.code for f in linter.lint(steps[2])) == ["KER107", "KER201", "KER221", "KER606"]
    assert sorted(f.code for f in linter.lint(steps[3])) == TENSORFLOW_FINDINGS


def test_target_backends_without_tensorflow_leave_nothing_in_such_a_module(tmp_path):
    root = project(tmp_path, KERAS_3_MODULES["ops-import"])
    path = root / "pkg/tf_layer.py"
    settings = Settings(target_backends=frozenset({"jax", "torch"}))
    assert lint(path.read_text(), str(path), settings) == []
