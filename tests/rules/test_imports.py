"""The import rules (KER1xx) together with every other rule: which rule owns which path, and
what a whole Keras 2 module becomes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import libcst as cst
import numpy as np
import pytest

from kerasfix.rules import Settings, fix, lint
from kerasfix.rules.imports._common import WITHOUT_SHIM, exists, owner, row_for, rows, shim_backends, tf_keras_only
from kerasfix.rules.engine.registry import rule_by_code

MY_FAMILIES = ("KER1", "KER6")
# The Keras 3 + JAX venv of tests/keras3/setup.sh (no TensorFlow in it).
KERAS3_PYTHON = (
    Path(os.environ.get("KERASFIX_TEST_CACHE", Path.home() / ".cache" / "kerasfix-tests")) / "venvs" / "jax" / "bin" / "python"
)


def mine(findings):
    return [f for f in findings if f.code.startswith(MY_FAMILIES)]


@pytest.mark.parametrize("path", sorted(rows()))
def test_every_row_belongs_to_a_rule_and_is_absent_from_keras3(path):
    row = rows()[path]
    assert rule_by_code(row.code) is not None
    # `optimizers.legacy` is the one namespace Keras 3 keeps, as stubs that raise.
    assert not exists(path) or path == "optimizers.legacy"
    if row.to is not None:
        assert exists(row.to), f"{path} -> {row.to}, which Keras 3 does not have"


@pytest.mark.parametrize("path", sorted(rows()))
def test_one_rule_reports_a_tf_keras_chain_of_each_row(path):
    source = f"import tensorflow as tf\nx = tf.keras.{path}\n"
    found = mine(lint(source, "a.py", Settings()))
    chain = source.index("tf.keras")
    at_chain = [f for f in found if f.span.start == chain]
    assert [f.code for f in at_chain] == [rows()[path].code]


@pytest.mark.parametrize("path", sorted(tf_keras_only() - {p for p in tf_keras_only() if row_for(p)}))
def test_names_only_the_tf_keras_shim_has_are_never_rewritten(path):
    module, _, name = path.rpartition(".")
    source = f"from tensorflow.keras.{module} import {name}\n" if module else f"from tensorflow.keras import {name}\n"
    findings = lint(source, "a.py", Settings())
    assert {f.code for f in mine(findings)} == {"KER103"}
    assert fix(source, "a.py", Settings(), unsafe=True).source == source


def test_removed_names_tf_keras_still_serves_fail_without_tensorflow_only():
    assert shim_backends("losses.Reduction.SUM", "tf.keras") == WITHOUT_SHIM
    assert shim_backends("backend.int_shape", "tf.keras") == WITHOUT_SHIM
    assert shim_backends("backend.set_value", "tf.keras") is None  # fails on a Keras 3 variable
    assert shim_backends("losses.Reduction.AUTO", "tf.keras") is None  # a Keras 3 loss refuses it
    assert shim_backends("losses.Reduction", "keras") is None  # Keras 3 itself has none of them
    assert shim_backends("layers.Dense", "tf.keras") is None
    source = (
        "import tensorflow as tf\nimport keras\n\n"
        "a = tf.keras.losses.Reduction.SUM\n"  # KER606, served by tf.keras
        "b = keras.losses.Reduction.SUM\n"  # KER606
        "tf.keras.backend.name_scope('x')\n"  # KER221, served by tf.keras
        "tf.keras.backend.set_value(v, 1.0)\n"  # KER221, fails on TensorFlow too
        "from tensorflow.keras.layers import RandomWidth\n"  # KER608, served by tf.keras
    )
    found = {(f.code, f.span.start_pos.line + 1): f.backends for f in lint(source, "a.py", Settings()) if f.code in ("KER221", "KER606", "KER608")}
    everywhere = frozenset({"jax", "tensorflow", "torch"})
    assert found == {
        ("KER606", 4): WITHOUT_SHIM,
        ("KER606", 5): everywhere,
        ("KER221", 6): WITHOUT_SHIM,
        ("KER221", 7): everywhere,
        ("KER608", 8): WITHOUT_SHIM,
    }
    # So a project that targets TensorFlow alone keeps only what fails there.
    on_tensorflow = Settings(target_backends=frozenset({"tensorflow"}))
    kept = {(f.code, f.span.start_pos.line + 1) for f in lint(source, "a.py", on_tensorflow) if f.code in ("KER221", "KER606", "KER608")}
    assert kept == {("KER606", 5), ("KER221", 7)}


def test_owner_prefers_the_most_specific_row():
    assert owner("layers.experimental.SyncBatchNormalization", "tf.keras") == "KER608"
    assert owner("layers.experimental.preprocessing.RandomFlip", "tf.keras") == "KER105"
    assert owner("layers.Dense", "tf.keras") is None
    assert owner("backend.int_shape", "tf.keras") == "KER103"
    assert owner("layers.Dense", "tf.python.keras") == "KER102"


def test_a_from_import_mixing_shim_only_names_is_not_rewritten():
    source = "from tensorflow.keras.losses import Loss, Reduction, mse\n"
    findings = mine(lint(source, "a.py", Settings()))
    ker101 = [f for f in findings if f.code == "KER101"]
    assert len(ker101) == 1 and ker101[0].fix is None
    assert "`Reduction`" in ker101[0].message and "`mse`" in ker101[0].message
    assert "`Loss`" not in ker101[0].message


def test_tf_keras_import_rewrite_waits_for_a_free_keras_name():
    # `keras` is bound to tf.keras until its import is fixed; the chain is fixed a pass later.
    source = "import tensorflow as tf\nfrom tensorflow import keras\nx = tf.keras.layers.Dense(1)\n"
    first = lint(source, "a.py", Settings(select=("KER101",)))
    chain = [f for f in first if source[f.span.start : f.span.end] == "tf.keras.layers.Dense"]
    assert len(chain) == 1 and chain[0].fix is None
    result = fix(source, "a.py", Settings(select=("KER101",))).source
    assert result == "import tensorflow as tf\nimport keras\nx = keras.layers.Dense(1)\n"


def test_unconditional_tensorflow_import_is_quiet_for_tensorflow_only_projects():
    source = "import keras\nimport tensorflow as tf\n"
    assert [f.code for f in lint(source, "a.py", Settings(select=("KER107",)))] == ["KER107"]
    tf_only = Settings(select=("KER107",), target_backends=frozenset({"tensorflow"}))
    assert lint(source, "a.py", tf_only) == []


KERAS2_MODULE = '''\
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers, losses
from tensorflow.keras.layers import Dense, Dropout
from tensorflow.keras.layers.experimental.preprocessing import Rescaling, RandomFlip
from tensorflow.keras.utils.np_utils import to_categorical
from tensorflow.keras.optimizers.legacy import Adam
from keras.engine.base_layer import Layer

tf.keras.mixed_precision.experimental.set_policy("float32")


class Twice(Layer):
    def call(self, x):
        return x * 2


model = tf.keras.Sequential([
    Rescaling(1 / 255),
    RandomFlip("horizontal"),
    tf.keras.layers.experimental.preprocessing.RandomRotation(0.1),
    layers.Flatten(),
    Dense(16),
    layers.ThresholdedReLU(theta=0.5),
    tf.keras.layers.ThresholdedReLU(),
    Dropout(0.1),
    Twice(),
    Dense(3),
])
opt = Adam(lr=1e-3, decay=1e-4)
loss = losses.MeanSquaredError(reduction=tf.keras.losses.Reduction.NONE)
model.compile(optimizer=opt, loss=losses.mse, metrics=[tf.keras.metrics.mae])
y = to_categorical(np.array([0, 1, 2]))
RESULT = list(model(np.ones((2, 8, 8, 3), dtype="float32")).shape)
'''

KERAS3_MODULE = '''\
import numpy as np
import keras
from keras import layers, losses
from keras.layers import Dense, Dropout
from keras.layers import Rescaling, RandomFlip
from keras.utils import to_categorical
from keras.optimizers import Adam
from keras.layers import Layer
from keras import mixed_precision

mixed_precision.set_global_policy("float32")


class Twice(Layer):
    def call(self, x):
        return x * 2


model = keras.Sequential([
    Rescaling(1 / 255),
    RandomFlip("horizontal"),
    keras.layers.RandomRotation(0.1),
    layers.Flatten(),
    Dense(16),
    layers.ReLU(threshold=0.5),
    keras.layers.ReLU(threshold=1.0),
    Dropout(0.1),
    Twice(),
    Dense(3),
])
opt = Adam(learning_rate=keras.optimizers.schedules.InverseTimeDecay(1e-3, decay_steps=1, decay_rate=1e-4))
loss = losses.MeanSquaredError(reduction="none")
model.compile(optimizer=opt, loss=losses.mean_squared_error, metrics=[keras.metrics.mean_absolute_error])
y = to_categorical(np.array([0, 1, 2]))
RESULT = list(model(np.ones((2, 8, 8, 3), dtype="float32")).shape)
'''


def _only_my_rules() -> Settings:
    return Settings(select=MY_FAMILIES)


def test_a_keras2_module_becomes_keras3():
    result = fix(KERAS2_MODULE, "model.py", _only_my_rules(), unsafe=True)
    assert result.source == KERAS3_MODULE
    # Once its last use is rewritten, the TensorFlow import is deleted (KER107's fix).
    assert mine(result.remaining) == []


def test_safe_fixes_alone_leave_the_unsafe_decay_rewrite():
    result = fix(KERAS2_MODULE, "model.py", _only_my_rules(), unsafe=False).source
    unsafe_line = "opt = Adam(learning_rate=keras.optimizers.schedules.InverseTimeDecay(1e-3, decay_steps=1, decay_rate=1e-4))\n"
    assert result == KERAS3_MODULE.replace(unsafe_line, "opt = Adam(learning_rate=1e-3, decay=1e-4)\n")


def test_the_fixed_module_runs_on_keras3_with_jax(tmp_path):
    assert KERAS3_PYTHON.exists(), f"{KERAS3_PYTHON} is missing: run tests/keras3/setup.sh"
    program = tmp_path / "model.py"
    # The venv has no TensorFlow: the fixed module must not import it.
    program.write_text(KERAS3_MODULE + "print(RESULT)\n")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    run = subprocess.run([str(KERAS3_PYTHON), str(program)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "[2, 3]"


def test_the_keras2_module_uses_removed_apis():
    # A guard against a vacuous test above: the original does use removed APIs.
    assert {f.code for f in mine(lint(KERAS2_MODULE, "model.py", _only_my_rules()))} >= {
        "KER101", "KER102", "KER105", "KER109", "KER111", "KER112", "KER601", "KER602", "KER606", "KER607", "KER608",
    }


# A Keras 2 program without TensorFlow: each of its three removed APIs stops it on Keras 3.
KERAS2_PROGRAM = '''\
import numpy as np
from keras.utils.np_utils import to_categorical
from keras import layers, optimizers

labels = to_categorical(np.array([0, 2, 1]), num_classes=3)
x = np.array([[-1.0, 0.25, 0.5, 0.75, 2.0]], dtype="float32")
activated = layers.ThresholdedReLU(theta=0.5)(x)
opt = optimizers.Adam(lr=0.01)
RESULT = [labels.tolist(), np.asarray(activated).tolist(), float(opt.learning_rate)]
'''

# Runs each program given in the Keras 3 venv's one process and prints, as JSON, what each
# raised or its RESULT.
_RUN_PROGRAMS = '''\
import json, sys
outcomes = []
for path in sys.argv[1:]:
    scope = {"__name__": "__main__"}
    try:
        exec(compile(open(path).read(), path, "exec"), scope)
        outcomes.append({"error": None, "result": scope.get("RESULT")})
    except Exception as error:
        outcomes.append({"error": type(error).__name__, "message": str(error)})
print(json.dumps(outcomes))
'''


def _run_on_keras3(tmp_path: Path, programs: list[str]) -> list[dict]:
    assert KERAS3_PYTHON.exists(), f"{KERAS3_PYTHON} is missing: run tests/keras3/setup.sh"
    paths = []
    for number, program in enumerate(programs):
        paths.append(tmp_path / f"program{number}.py")
        paths[-1].write_text(program, encoding="utf-8")
    (tmp_path / "run.py").write_text(_RUN_PROGRAMS, encoding="utf-8")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", KERAS_HOME=str(tmp_path / ".keras"))
    run = subprocess.run(
        [str(KERAS3_PYTHON), "run.py", *map(str, paths)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_keras2_program_fails_on_keras3_before_the_fix(tmp_path):
    # Fixed one rule at a time, the program fails at the next removed API until all are fixed.
    steps = [("KER112",), ("KER112", "KER608"), ("KER112", "KER608", "KER601")]
    fixed = [fix(KERAS2_PROGRAM, "program.py", Settings(select=step), unsafe=True).source for step in steps]
    assert fixed[-1] == fix(KERAS2_PROGRAM, "program.py", _only_my_rules(), unsafe=True).source
    assert mine(lint(fixed[-1], "program.py", _only_my_rules())) == []
    original, without_np_utils, without_thresholded_relu, complete = _run_on_keras3(tmp_path, [KERAS2_PROGRAM, *fixed])
    assert original == {"error": "ModuleNotFoundError", "message": "No module named 'keras.utils.np_utils'"}
    assert without_np_utils["error"] == "AttributeError", without_np_utils
    assert "has no attribute 'ThresholdedReLU'" in without_np_utils["message"], without_np_utils
    assert without_thresholded_relu["error"] == "ValueError", without_thresholded_relu
    assert "Argument(s) not recognized: {'lr': 0.01}" in without_thresholded_relu["message"], without_thresholded_relu
    # What Keras 2 computed: one-hot rows, x where x > theta (0 at theta itself), the rate as float32.
    x = np.array([[-1.0, 0.25, 0.5, 0.75, 2.0]], dtype="float32")
    keras2 = [np.eye(3)[[0, 2, 1]].tolist(), np.where(x > 0.5, x, 0.0).tolist(), float(np.float32(0.01))]
    assert complete == {"error": None, "result": keras2}


# ----- imports left unused by the migration (KER106, KER107, KER114) ------------------------

UNUSED = Settings(select=("KER106", "KER107", "KER114"))


def _fixed_twice(source: str, path: str = "a.py", unsafe: bool = False) -> str:
    once = fix(source, path, UNUSED, unsafe=unsafe).source
    cst.parse_module(once)
    assert fix(once, path, UNUSED, unsafe=unsafe).source == once
    return once


@pytest.mark.parametrize(
    "source",
    [
        # Read by a function, deleted, declared global, assigned: each is a use.
        "import keras\nimport tensorflow as tf\n\ndef f():\n    return tf.ones(2)\n",
        "import keras\nimport tensorflow as tf\ndel tf\n",
        "import keras\nimport tensorflow as tf\n\ndef f():\n    global tf\n    tf = None\n",
        "import keras\nimport tensorflow as tf\n\ndef f(tf):\n    return tf\n",
        # Named in a string: __all__, a string annotation, eval, an f-string's text.
        'import keras\nimport tensorflow as tf\n__all__ = ["tf"]\n',
        'import keras\nimport tensorflow as tf\n\ndef f(x: "tf.Tensor") -> None: ...\n',
        'import keras\nimport tensorflow as tf\nx = eval("tf.ones(2)")\n',
        "import keras\nimport tensorflow as tf\nx = f\"{1} tf\"\n",
        # Used inside an f-string expression, a decorator, a default value.
        'import keras\nimport tensorflow as tf\nx = f"{tf.__version__}"\n',
        "import keras\nimport tensorflow as tf\n\n@tf.function\ndef f(x):\n    return x\n",
        "import keras\nfrom keras import backend as K\n\ndef f(x=K.epsilon()):\n    return x\n",
    ],
)
def test_an_import_with_a_use_anywhere_keeps_its_import(source):
    assert fix(source, "a.py", UNUSED, unsafe=True).source == source


@pytest.mark.parametrize(
    "source",
    [
        # Conditional or local imports: deleting them could leave an empty block.
        "import keras\ntry:\n    import tensorflow as tf\nexcept ImportError:\n    tf = None\n",
        "import keras\nif True:\n    import tensorflow as tf\n",
        "import keras\n\ndef f():\n    import tensorflow as tf\n",
        "import keras\ntry:\n    import tensorflow_addons as tfa\nexcept ImportError:\n    pass\n",
        # A star import binds names nobody can list.
        "import keras\nfrom tensorflow import *\n",
        "from keras.backend import *\n",
    ],
)
def test_conditional_local_and_star_imports_are_never_deleted(source):
    assert fix(source, "a.py", UNUSED, unsafe=True).source == source


def test_the_docstring_does_not_count_as_a_use():
    source = '"""Trains with tf and K."""\nimport keras\nimport tensorflow as tf\nfrom keras import backend as K\n\nx = 1\n'
    assert _fixed_twice(source) == '"""Trains with tf and K."""\nimport keras\n\nx = 1\n'


def test_attribute_and_keyword_names_are_not_uses():
    source = "import keras\nimport tensorflow as tf\n\nx = config.tf\ny = dict(tf=1)\n"
    assert _fixed_twice(source) == "import keras\n\nx = config.tf\ny = dict(tf=1)\n"


def test_comments_above_the_import_stay_and_a_trailing_one_goes():
    source = "import keras\n# TensorFlow for the data pipeline\nimport tensorflow as tf  # noqa: F401\nx = 1\n"
    assert _fixed_twice(source) == "import keras\n# TensorFlow for the data pipeline\nx = 1\n"


def test_an_import_sharing_its_line_goes_with_its_semicolon():
    source = "import keras\nimport tensorflow as tf; x = 1\n"
    assert _fixed_twice(source) == "import keras\nx = 1\n"


def test_only_the_unused_names_of_a_from_import_go():
    source = "import keras\nfrom tensorflow import (\n    nest,\n    data,\n    io,\n)\nds = data.Dataset.range(3)\n"
    assert _fixed_twice(source) == "import keras\nfrom tensorflow import (\n    data)\nds = data.Dataset.range(3)\n"


def test_other_modules_in_the_same_import_stay_even_if_unused():
    source = "import keras\nimport tensorflow as tf, tensorflow_addons as tfa, os\n"
    assert _fixed_twice(source) == "import keras\nimport os\n"


def test_in_a_package_init_the_deletion_is_unsafe():
    source = "import keras\nimport tensorflow as tf\nfrom keras import backend as K\n"
    findings = [f for f in lint(source, "pkg/__init__.py", UNUSED) if f.fix]
    assert {f.code for f in findings} == {"KER107", "KER114"}
    assert {f.fix.applicability.value for f in findings} == {"unsafe"}
    assert fix(source, "pkg/__init__.py", UNUSED).source == source
    assert fix(source, "pkg/__init__.py", UNUSED, unsafe=True).source == "import keras\n"


def test_an_editors_partial_relint_offers_no_deletion():
    from kerasfix.rules.engine.incremental import IncrementalLinter

    source = "import keras\nimport tensorflow as tf\n\n\ndef f():\n    return tf.ones(2)\n"
    linter = IncrementalLinter("a.py", UNUSED)
    assert [(f.code, f.fix) for f in linter.lint(source)] == [("KER107", None)]
    # The edit removes the last use: the re-lint of that function alone cannot know it.
    edited = source.replace("tf.ones(2)", "None")
    findings = linter.lint(edited)
    assert linter.last_mode == "region"
    assert [(f.code, f.fix) for f in findings] == [("KER107", None)]
    # A whole-file lint sees it.
    assert [f.fix is not None for f in lint(edited, "a.py", UNUSED)] == [True]


def test_keras_backend_imports_are_reported_only_when_unused():
    used = "from keras import backend as K\nprint(K.epsilon())\n"
    assert lint(used, "a.py", UNUSED) == []
    unused = "from tensorflow.keras import backend as K\nimport numpy as np\nx = np.ones(2)\n"
    (finding,) = lint(unused, "a.py", UNUSED)
    assert finding.code == "KER114" and finding.severity.value == "info"
    assert _fixed_twice(unused) == "import numpy as np\nx = np.ones(2)\n"


def test_a_tensorflow_only_script_keeps_its_unused_import():
    # Not Keras 3 code, and ordinary unused-import linting is Ruff's job.
    source = "import tensorflow as tf\nimport numpy as np\n"
    assert lint(source, "a.py", UNUSED) == []


def test_tf_keras_findings_follow_the_backends_where_they_break():
    # On the TensorFlow backend `tf.keras` is Keras 3 and its shim serves the Keras 2 backend
    # functions; only JAX and PyTorch break. A removed name breaks everywhere.
    source = (
        "import tensorflow as tf\n"
        "model = tf.keras.Sequential([tf.keras.layers.Dense(1)])\n"
        "shape_of = tf.keras.backend.int_shape\n"
        "schedule = tf.keras.experimental.CosineDecay(1e-3, 1000)\n"
        "iou = tf.keras.metrics.mean_iou(y_true, y_pred, 3)\n"
    )

    def found(*backends: str) -> list[str]:
        settings = Settings(select=("KER101", "KER103", "KER108", "KER115"), target_backends=frozenset(backends))
        return sorted({f.code for f in lint(source, "a.py", settings)})

    assert found("tensorflow") == ["KER108", "KER115"]
    assert found("jax") == ["KER101", "KER103", "KER108", "KER115"]
    assert found("torch", "tensorflow") == ["KER101", "KER103", "KER108", "KER115"]
    # Each name is reported once: KER101 for what Keras 3 has, KER115 for what it lacks.
    every = lint(source, "a.py", Settings(select=("KER101", "KER115")))
    assert [f.code for f in every if "mean_iou" in f.message] == ["KER115"]
    assert "KER115" not in [f.code for f in every if "mean_iou" not in f.message]


# ----- compatibility shims (keras-cv, keras-nlp, keras-tuner 1.4 backend modules) --------------

SHIM = '''import types

import tensorflow as tf

if config.keras_3():
    import keras
    from keras import *
else:
    from tensorflow import keras
    from tensorflow.keras import *

    if not hasattr(tf.keras, "saving"):
        keras.saving = types.SimpleNamespace()

if config.keras_3():
    from keras.ops import *
else:
    try:
        from keras.src.ops import *
    except ImportError:
        from keras_core.src.ops import *
'''


def test_the_keras2_branches_of_a_shim_are_not_reported():
    found = [(f.code, SHIM[f.span.start:f.span.end]) for f in lint(SHIM, "keras.py", Settings(select=MY_FAMILIES))]
    # Only the unconditional TensorFlow import, which every branch pays for.
    assert found == [("KER107", "import tensorflow as tf")]


def test_the_first_choice_of_a_try_is_reported_whatever_its_fallback_imports():
    source = (
        "try:\n    from keras.src.utils import tf_utils\n"
        "except ImportError:\n    from keras.utils import tf_utils\n"
    )
    codes = [(f.code, source[f.span.start:f.span.end]) for f in lint(source, "a.py", Settings(select=MY_FAMILIES))]
    assert codes == [("KER102", "keras.src.utils")]


def test_a_shim_between_keras_core_and_tf_keras_still_reports_keras_core():
    source = "if MULTI:\n    from keras_core import ops\nelse:\n    from tensorflow.keras import backend as ops\n"
    found = [(f.code, source[f.span.start:f.span.end]) for f in lint(source, "a.py", Settings(select=MY_FAMILIES))]
    assert found == [("KER104", "keras_core")]


# ----- TensorFlow only for file I/O (keras-tuner 1.3 engine modules) ---------------------------

STATEFUL = '''import json

import tensorflow as tf


def save(fname, state):
    with tf.io.gfile.GFile(fname, "w") as f:
        f.write(json.dumps(state))
    tf.get_logger().info("saved")
'''


def test_tensorflow_imported_only_for_file_io_is_reported_with_its_uses():
    found = [(f.code, STATEFUL[f.span.start:f.span.end]) for f in lint(STATEFUL, "stateful.py", Settings(select=("KER107", "KER225")))]
    assert found == [
        ("KER107", "import tensorflow as tf"),
        ("KER225", "tf.io.gfile.GFile"),
        ("KER225", "tf.get_logger"),
    ]
    fixed = fix(STATEFUL, "stateful.py", Settings(select=("KER107", "KER225")), unsafe=True)
    assert fixed.source == STATEFUL.replace("tf.io.gfile.GFile", "open").replace(
        'tf.get_logger().info("saved")', 'logging.getLogger("tensorflow").info("saved")'
    ).replace("import tensorflow as tf\n", "import tensorflow as tf\nimport logging\n")
    # Fixing again changes nothing; the import, now unused in a module without Keras, is left
    # to the general linters.
    assert fix(fixed.source, "stateful.py", Settings(select=("KER107", "KER225")), unsafe=True).source == fixed.source


def test_a_module_that_needs_tensorflow_for_more_than_file_io_is_left_alone():
    source = STATEFUL + "\n\ndef total(x):\n    return tf.reduce_sum(x)\n"
    assert lint(source, "stateful.py", Settings(select=("KER107", "KER225"))) == []


KERNEL_APPROXIMATION = '''import tensorflow as tf
from tensorflow.keras.layers.experimental import RandomFourierFeatures
from tensorflow.keras.layers.experimental import EinsumDense, RandomFourierFeatures as RFF

features = RandomFourierFeatures(output_dim=64, kernel_initializer="gaussian")
'''


def test_an_experimental_layer_that_did_not_move_is_not_told_it_moved():
    found = [(f.code, f.span.start_pos.line + 1, f.message) for f in lint(KERNEL_APPROXIMATION, "svm.py", Settings(select=("KER105", "KER608")))]
    assert [(code, line) for code, line, _ in found] == [("KER608", 2), ("KER105", 3), ("KER608", 3)]
    assert found[1][2].endswith("not `RandomFourierFeatures`, reported on its own")


def test_a_removed_backend_function_called_through_tf_keras_is_one_finding_with_its_fix():
    source = "import tensorflow as tf\n\ndef flat(x):\n    return tf.reshape(x, (-1, tf.keras.backend.int_shape(x)[-1]))\n"
    found = lint(source, "a.py", Settings(select=("KER1", "KER221")))
    assert [(f.code, f.fix is not None) for f in found if "int_shape" in f.message] == [("KER221", True)]


def test_a_private_keras_core_import_is_one_finding_then_the_next():
    source = "from keras_core.src.backend.tensorflow import *\n"
    assert [f.code for f in lint(source, "ops.py", Settings(select=("KER1",)))] == ["KER104"]
    fixed = fix(source, "ops.py", Settings(select=("KER1",))).source
    assert fixed == "from keras.src.backend.tensorflow import *\n"
    # What is still wrong is still reported: the import is private.
    assert [f.code for f in lint(fixed, "ops.py", Settings(select=("KER1",)))] == ["KER102"]


ADDONS_MODEL = '''import tensorflow as tf
import tensorflow_addons as tfa
from tensorflow_addons.layers import GELU

inputs = tf.keras.Input((32,))
x = tf.keras.layers.Dense(64)(inputs)
x = GELU()(x)
x = tfa.layers.InstanceNormalization()(x)
outputs = tf.keras.layers.Dense(3, activation=tfa.activations.mish)(x)
model = tf.keras.Model(inputs, outputs)
model.compile(
    optimizer=tfa.optimizers.LAMB(1e-3),
    loss=tfa.losses.SigmoidFocalCrossEntropy(),
    metrics=[tfa.metrics.F1Score(num_classes=3)],
)
'''


def test_each_addons_api_is_reported_with_its_keras_counterpart():
    found = {
        f.span.start_pos.line + 1: f.message
        for f in lint(ADDONS_MODEL, "model.py", Settings(select=("KER106",)))
        if f.message.startswith("`tfa.")
    }
    assert sorted(found) == [7, 8, 9, 12, 13, 14]
    assert found[7].startswith("`tfa.layers.GELU` -> `keras.layers.Activation`")
    assert found[8].startswith("`tfa.layers.InstanceNormalization` -> `keras.layers.GroupNormalization`")
    assert found[9].startswith("`tfa.activations.mish` -> `keras.activations.mish`")
    assert found[12] == "`tfa.optimizers.LAMB` -> `keras.optimizers.Lamb`"
    assert "apply_class_balancing=True" in found[13]
    assert found[14] == "`tfa.metrics.F1Score` -> `keras.metrics.F1Score`"


def test_every_addons_counterpart_is_in_keras_3():
    from kerasfix.rules.engine.tables import load_lines, load_toml

    api = set(load_lines("keras3_api.txt"))
    for path, row in load_toml("tensorflow_addons.toml")["api"].items():
        assert not row["keras"] or f"keras.{row['keras']}" in api, path
        assert row["keras"] or row["note"], f"{path}: no counterpart needs a note saying what to do"
