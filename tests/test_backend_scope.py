"""Code behind a backend guard is checked only by the rules about the backends it runs on."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kerasfix.rules import Settings, lint
from kerasfix.rules.engine.incremental import IncrementalLinter
from project_files import write_project


def found(source: str, settings: Settings | None = None) -> list[tuple[str, int]]:
    return [(f.code, f.span.start_pos.line + 1) for f in lint(source, "layers.py", settings or Settings())]


TENSORFLOW_GUARD = '''"""Layers with a TensorFlow fast path."""
import keras

if keras.backend.backend() == "tensorflow":
    import tensorflow as tf

    @keras.saving.register_keras_serializable()
    class PairConcat(keras.layers.Layer):
        def call(self, a, b):
            return tf.concat([a, b], axis=-1)


@keras.saving.register_keras_serializable()
class Merge(keras.layers.Layer):
    def call(self, a, b):
        return tf.concat([a, b], axis=-1)
'''


def test_tensorflow_guard_silences_jax_and_torch_rules_inside_it_only():
    assert found(TENSORFLOW_GUARD) == [("KER201", 16)]
    # Within the targets: a project for JAX only still sees what is outside the guard.
    assert found(TENSORFLOW_GUARD, Settings(target_backends=frozenset({"jax"}))) == [("KER201", 16)]


NOT_TENSORFLOW = '''import keras

if keras.backend.backend() != "tensorflow":
    import tensorflow as tf

    @keras.saving.register_keras_serializable()
    class PairConcat(keras.layers.Layer):
        def call(self, a, b):
            return tf.concat([a, b], axis=-1)
else:
    import tensorflow as tf

    @keras.saving.register_keras_serializable()
    class PairConcat(keras.layers.Layer):
        def call(self, a, b):
            return tf.concat([a, b], axis=-1)
'''


def test_not_equal_guard_body_is_the_other_backends_and_else_is_tensorflow():
    assert found(NOT_TENSORFLOW) == [("KER201", 9)]


MEMBERSHIP = '''import keras

if keras.config.backend() in ("jax", "torch"):
    from keras import ops as tf_free

    concat = tf_free.concatenate
elif keras.config.backend() not in ("jax", "torch"):
    import tensorflow as tf

    @keras.saving.register_keras_serializable()
    class PairConcat(keras.layers.Layer):
        def call(self, a, b):
            return tf.concat([a, b], axis=-1)

if keras.config.backend() in ("jax", "tensorflow"):
    import tensorflow as tf

    @keras.saving.register_keras_serializable()
    class PairSum(keras.layers.Layer):
        def call(self, a, b):
            return tf.add(a, b)
'''


def test_membership_guards():
    assert found(MEMBERSHIP) == [("KER201", 21)]


@pytest.mark.parametrize(
    "test",
    [
        'os.environ["KERAS_BACKEND"] == "tensorflow"',
        'os.environ.get("KERAS_BACKEND") == "tensorflow"',
        'os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow"',
        'os.getenv("KERAS_BACKEND") == "tensorflow"',
        '"tensorflow" == os.getenv("KERAS_BACKEND")',
        'BACKEND == "tensorflow"',
        'USE_FAST_PATH and BACKEND == "tensorflow"',
    ],
)
def test_environment_and_module_level_name_guards(test):
    source = (
        "import os\n"
        "import keras\n"
        "\n"
        'BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")\n'
        "USE_FAST_PATH = True\n"
        "\n"
        f"if {test}:\n"
        "    import tensorflow as tf\n"
        "\n"
        "    @keras.saving.register_keras_serializable()\n"
        "    class PairConcat(keras.layers.Layer):\n"
        "        def call(self, a, b):\n"
        "            return tf.concat([a, b], axis=-1)\n"
    )
    assert found(source) == []


def test_name_bound_twice_or_tested_with_or_is_not_a_guard():
    body = (
        "    import tensorflow as tf\n"
        "\n"
        "    @keras.saving.register_keras_serializable()\n"
        "    class PairConcat(keras.layers.Layer):\n"
        "        def call(self, a, b):\n"
        "            return tf.concat([a, b], axis=-1)\n"
    )
    rebound = (
        'import keras\n\nBACKEND = keras.backend.backend()\nBACKEND = "jax"\n\n'
        'if BACKEND == "tensorflow":\n' + body
    )
    assert found(rebound) == [("KER201", 12)]
    assert found(rebound.replace('BACKEND = "jax"\n', "")) == []
    either = 'import keras\n\nFAST = True\n\nif FAST or keras.backend.backend() == "tensorflow":\n' + body
    assert found(either) == [("KER201", 11)]
    assert found(either.replace(" or ", " and ")) == []


ALIASED = '''import keras
from keras import backend as K

if K.backend() == "tensorflow":
    import tensorflow as tf

    @keras.saving.register_keras_serializable()
    class PairConcat(keras.layers.Layer):
        def call(self, a, b):
            return tf.concat([a, b], axis=-1)
'''


def test_guard_through_an_aliased_import():
    assert found(ALIASED) == []


def test_keras_2_backend_function_is_not_a_guard():
    source = (
        "import keras\n"
        "import tensorflow as tf\n"
        "\n"
        'if tf.keras.backend.backend() == "tensorflow":\n'
        "\n"
        "    @keras.saving.register_keras_serializable()\n"
        "    class PairConcat(keras.layers.Layer):\n"
        "        def call(self, a, b):\n"
        "            return tf.concat([a, b], axis=-1)\n"
    )
    codes = found(source)
    assert ("KER201", 9) in codes
    assert ("KER107", 2) in codes
    assert ("KER201", 9) not in found(source.replace("tf.keras.backend.backend()", "keras.backend.backend()"))


MODULE_EARLY_EXIT = '''"""TensorFlow-only layers."""
import keras

if keras.backend.backend() != "tensorflow":
    raise ImportError("tf_layers needs the TensorFlow backend")

import tensorflow as tf


@keras.saving.register_keras_serializable()
class PairConcat(keras.layers.Layer):
    def call(self, a, b):
        return tf.concat([a, b], axis=-1)
'''


def test_module_level_early_raise_narrows_the_rest_of_the_module():
    assert found(MODULE_EARLY_EXIT) == []
    # Code before the guard runs on every backend.
    moved = MODULE_EARLY_EXIT.replace('import keras\n', 'import keras\nimport tensorflow as tf\n', 1)
    assert found(moved) == [("KER107", 3)]


def test_sys_exit_is_an_early_exit_too():
    source = MODULE_EARLY_EXIT.replace(
        '    raise ImportError("tf_layers needs the TensorFlow backend")', "    sys.exit(1)"
    ).replace("import keras\n", "import sys\n\nimport keras\n", 1)
    assert found(source) == []


FUNCTION_EARLY_RETURN = '''import keras
import tensorflow as tf


@keras.saving.register_keras_serializable()
class PairConcat(keras.layers.Layer):
    def call(self, a, b):
        if keras.backend.backend() != "tensorflow":
            return keras.ops.concatenate([a, b], axis=-1)
        return tf.concat([a, b], axis=-1)

    def compute_output_spec(self, a, b):
        return tf.concat([a, b], axis=-1)
'''


def test_function_level_early_return_narrows_the_rest_of_the_function():
    assert found(FUNCTION_EARLY_RETURN) == [("KER107", 2), ("KER201", 13)]


NESTED = '''import keras

if keras.backend.backend() in ("jax", "tensorflow"):
    import tensorflow as tf

    @keras.saving.register_keras_serializable()
    class PairConcat(keras.layers.Layer):
        def call(self, a, b):
            if keras.backend.backend() != "jax":
                return tf.concat([a, b], axis=-1)
            return tf.stack([a, b], axis=-1)
'''


def test_nested_guards_intersect():
    assert found(NESTED) == [("KER201", 11)]


JAX_GUARD = '''import keras

if keras.backend.backend() == "jax":
    import tensorflow as tf

    @keras.saving.register_keras_serializable()
    class PairConcat(keras.layers.Layer):
        def call(self, a, b):
            return tf.concat([a, b], axis=-1)
'''


def test_tensorflow_ops_behind_a_jax_guard_are_still_reported():
    assert found(JAX_GUARD) == [("KER201", 9)]
    assert found(JAX_GUARD.replace('== "jax"', '== "tensorflow"')) == []


CONDITIONAL_EXPRESSION = '''import keras
import tensorflow as tf


@keras.saving.register_keras_serializable()
class PairConcat(keras.layers.Layer):
    def call(self, a, b):
        return (
            tf.concat([a, b], axis=-1)
            if keras.backend.backend() == "tensorflow"
            else tf.stack([a, b], axis=-1)
        )
'''


def test_conditional_expression_guard():
    assert found(CONDITIONAL_EXPRESSION) == [("KER107", 2), ("KER201", 11)]


NAMED_BACKEND = '''import keras

BACKEND = keras.backend.backend()

if BACKEND == "tensorflow":
    import tensorflow as tf

    @keras.saving.register_keras_serializable()
    class PairConcat(keras.layers.Layer):
        def call(self, a, b):
            return tf.concat([a, b], axis=-1)
'''

GUARDED_FILES = [
    (NAMED_BACKEND, []),
    (TENSORFLOW_GUARD, ["KER201"]),
    (NOT_TENSORFLOW, ["KER201"]),
    (MEMBERSHIP, ["KER201"]),
    (ALIASED, []),
    (MODULE_EARLY_EXIT, []),
    (FUNCTION_EARLY_RETURN, ["KER107", "KER201"]),
    (NESTED, ["KER201"]),
    (JAX_GUARD, ["KER201"]),
    (CONDITIONAL_EXPRESSION, ["KER107", "KER201"]),
]


def _full(text: str):
    return lint(text, "layers.py", Settings())


@pytest.mark.parametrize(("source", "codes"), GUARDED_FILES)
def test_incremental_lint_gives_what_a_full_lint_gives(source, codes):
    linter = IncrementalLinter("layers.py", Settings())
    assert [f.code for f in linter.lint(source)] == codes
    edits = [
        source.replace("axis=-1)", "axis=1)", 1),
        source.replace("axis=-1)", "axis=1)"),
        source + "\n\nx = tf.concat([1], 0)\n",
        source + '\n\nif keras.backend.backend() != "jax":\n    raise ImportError("no")\n\nx = tf.concat([1], 0)\n',
        source.replace("keras.backend.backend()", "keras.backend.backend()", 1),
    ]
    for text in edits:
        assert linter.lint(text) == _full(text)
        assert linter.lint(source) == _full(source)


FAST_PATH = '''import keras
import tensorflow as tf

if keras.backend.backend() == "tensorflow":

    @keras.saving.register_keras_serializable()
    class PairConcat(keras.layers.Layer):
        def call(self, a, b):
            return tf.concat([a, b], axis=-1)


@keras.saving.register_keras_serializable()
class Merge(keras.layers.Layer):
    def call(self, a, b):
        return tf.concat([a, b], axis=-1)
'''


def test_edit_inside_a_guarded_block_relints_that_statement_only():
    linter = IncrementalLinter("layers.py", Settings())
    linter.lint(FAST_PATH)
    edited = FAST_PATH.replace("axis=-1)", "axis=1)", 1)
    assert [(f.code, f.span.start_pos.line + 1) for f in linter.lint(edited)] == [("KER107", 2), ("KER201", 15)]
    assert linter.last_mode == "region"


def test_a_framework_import_behind_a_guard_relints_the_whole_file():
    """Whether the module exists for one backend depends on every statement of it."""
    linter = IncrementalLinter("layers.py", Settings())
    linter.lint(TENSORFLOW_GUARD)
    edited = TENSORFLOW_GUARD.replace("axis=-1)", "axis=1)", 1)
    assert [(f.code, f.span.start_pos.line + 1) for f in linter.lint(edited)] == [("KER201", 16)]
    assert linter.last_mode == "full"


def test_module_level_early_exit_relints_the_whole_file():
    linter = IncrementalLinter("layers.py", Settings())
    linter.lint(MODULE_EARLY_EXIT)
    edited = MODULE_EARLY_EXIT.replace("axis=-1)", "axis=1)")
    assert linter.lint(edited) == _full(edited) == []
    assert linter.last_mode == "full"


def test_early_exit_typed_above_other_statements_narrows_them():
    source = (
        "import keras\n"
        "import tensorflow as tf\n"
        "\n"
        'print("loading layers")\n'
        "\n"
        "\n"
        "@keras.saving.register_keras_serializable()\n"
        "class PairConcat(keras.layers.Layer):\n"
        "    def call(self, a, b):\n"
        "        return tf.concat([a, b], axis=-1)\n"
    )
    linter = IncrementalLinter("layers.py", Settings())
    assert [f.code for f in linter.lint(source)] == ["KER107", "KER201"]
    edited = source.replace(
        'print("loading layers")\n', 'if keras.backend.backend() != "tensorflow":\n    raise ImportError("no")\n'
    )
    assert linter.lint(edited) == _full(edited)
    assert [f.code for f in _full(edited)] == ["KER107"]


def test_parameter_shadowing_a_backend_name_is_not_a_guard():
    source = (
        "import keras\n"
        "import tensorflow as tf\n"
        "\n"
        "backend = keras.backend.backend()\n"
        "\n"
        "\n"
        "@keras.saving.register_keras_serializable()\n"
        "class PairConcat(keras.layers.Layer):\n"
        "    def call(self, a, b, backend=None):\n"
        '        if backend == "tensorflow":\n'
        "            return tf.concat([a, b], axis=-1)\n"
        "        return keras.ops.concatenate([a, b], axis=-1)\n"
    )
    assert found(source) == [("KER107", 2), ("KER201", 11)]
    assert found(source.replace(", backend=None", "")) == [("KER107", 2)]


# ----- modules that exist for one backend ------------------------------------------------------

# KER416 (TensorFlow only) is reported before Keras 3.9; the saving rules (KER3xx) read the
# project the file is in, which the fixtures leave out.
OLD_KERAS = Settings(keras_version=(3, 0, 0), ignore=("KER3",))

TORCH_MODULE = '''"""Helpers for the PyTorch backend."""
import keras

if keras.backend.backend() == "torch":
    import torch
else:
    torch = None


class Noise(keras.layers.Layer):
    def call(self, x):
        return x + keras.random.normal(keras.ops.shape(x))


class TorchModel(keras.Model):
    def train_step(self, data):
        x, y = data
        self.zero_grad()
        loss = self.compute_loss(y=y, y_pred=self(x))
        loss.backward()
        return {"loss": loss}


def helper(x):
    return x


tokens = keras.Input(shape=(None,), ragged=True)
optimizer = keras.optimizers.Adam(lr=1e-3)
'''

TENSORFLOW_MODULE = '''"""Helpers for the TensorFlow backend."""
import keras

if keras.backend.backend() == "tensorflow":
    import tensorflow as tf


def resize(images):
    return tf.image.resize(images, (224, 224))


class TapeModel(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = self.compute_loss(y=y, y_pred=self(x))
        return {"loss": loss}


def helper(x):
    return x


tokens = keras.Input(shape=(None,), ragged=True)
'''


def found_in(source: str, settings: Settings = OLD_KERAS) -> list[tuple[str, int]]:
    return found(source, settings)


def codes_in(source: str, settings: Settings = OLD_KERAS) -> list[str]:
    return [code for code, _ in found(source, settings)]


def test_module_with_its_framework_imported_behind_a_torch_guard_is_checked_for_torch_only():
    # Dropped: KER703 (unseeded random under JAX tracing), KER501 (JAX step signature), KER416
    # (TensorFlow's ragged inputs). Kept: PyTorch's ragged inputs (KER415) and every backend's.
    assert found_in(TORCH_MODULE) == [("KER505", 21), ("KER415", 28), ("KER601", 29)]


def test_module_with_tensorflow_imported_behind_a_guard_is_checked_for_tensorflow_only():
    # Dropped: KER225 (tf op outside a model), KER501, KER502 (GradientTape), KER415.
    assert found_in(TENSORFLOW_MODULE) == [("KER505", 17), ("KER416", 24)]


def test_guarded_module_within_the_project_targets():
    # A project for JAX only: nothing of a PyTorch-only module runs.
    assert found_in(TORCH_MODULE, replace(OLD_KERAS, target_backends=frozenset({"jax"}))) == []
    torch_and_tf = replace(OLD_KERAS, target_backends=frozenset({"torch", "tensorflow"}))
    assert found_in(TORCH_MODULE, torch_and_tf) == found_in(TORCH_MODULE)


UNNARROWED_TORCH = ["KER703", "KER501", "KER505", "KER415", "KER416", "KER601"]


def _torch_module_with(old: str, new: str) -> str:
    assert old in TORCH_MODULE
    return TORCH_MODULE.replace(old, new)


@pytest.mark.parametrize(
    "variant",
    [
        # An unguarded framework import anywhere (here in a function).
        _torch_module_with("def helper(x):\n    return x\n", "def helper(x):\n    import torch as t\n    return x\n"),
        # Imports for two backends.
        _torch_module_with("else:\n    torch = None\n", "else:\n    import tensorflow as torch\n"),
        # The guard holds code besides the import: a fast path of a multi-backend module.
        _torch_module_with("    import torch\n", "    import torch\n    torch.manual_seed(0)\n"),
        # Code for the other backends: a fallback after the PyTorch branch returns.
        _torch_module_with(
            "def helper(x):\n    return x\n",
            'def helper(x):\n    if keras.backend.backend() == "torch":\n        return x\n    return -x\n',
        ),
        # ... an `else:` that computes.
        _torch_module_with("else:\n    torch = None\n", "else:\n    torch = keras.ops.convert_to_tensor(0)\n"),
        # ... a conditional expression on the backend.
        _torch_module_with(
            "def helper(x):\n    return x\n",
            'def helper(x):\n    return x if keras.backend.backend() == "torch" else -x\n',
        ),
        # A guard admitting two backends.
        _torch_module_with('== "torch":', 'in ("torch", "jax"):'),
    ],
)
def test_what_keeps_a_module_multi_backend(variant):
    assert codes_in(variant) == UNNARROWED_TORCH


def test_plain_bindings_and_refusals_keep_a_module_for_one_backend():
    narrowed = codes_in(TORCH_MODULE)
    assert narrowed == ["KER505", "KER415", "KER601"]
    variants = [
        # A guard inside a function that refuses the other backends.
        _torch_module_with(
            "def helper(x):\n    return x\n",
            'def helper(x):\n    if keras.backend.backend() != "torch":\n        raise NotImplementedError("torch only")\n'
            "    return x\n",
        ),
        # A guard for the module's own backend that computes.
        _torch_module_with(
            "def helper(x):\n    return x\n",
            'def helper(x):\n    if keras.backend.backend() == "torch":\n        x = torch.clone(x)\n    return x\n',
        ),
        # `try: import torch / except ImportError: torch = None` inside the guard.
        _torch_module_with(
            "    import torch\n", "    try:\n        import torch\n    except ImportError:\n        torch = None\n"
        ),
        # A one-line guard, without `else`.
        _torch_module_with(
            'if keras.backend.backend() == "torch":\n    import torch\nelse:\n    torch = None\n',
            'if keras.backend.backend() == "torch": import torch\n',
        ),
        # The backend read from the environment, and `from torch import ...`.
        _torch_module_with(
            'if keras.backend.backend() == "torch":\n    import torch\n',
            'if os.environ.get("KERAS_BACKEND") == "torch":\n    from torch import nn\n',
        ).replace("import keras\n", "import os\n\nimport keras\n"),
    ]
    for variant in variants:
        assert codes_in(variant) == narrowed, variant


def test_module_that_refuses_other_backends_is_for_one_backend_from_its_first_line():
    # Before the refusal: only what the module's own framework import does not reach.
    source = MODULE_EARLY_EXIT.replace(
        '"""TensorFlow-only layers."""\nimport keras\n',
        '"""TensorFlow-only layers."""\nimport keras\n\ntokens = keras.Input(shape=(None,), ragged=True)\n',
    )
    assert found_in(source) == [("KER416", 4)]
    # A framework import before the refusal runs on every backend: nothing is narrowed there.
    moved = source.replace("import keras\n", "import keras\nimport tensorflow as tf\n", 1)
    assert found_in(moved) == [("KER107", 3), ("KER415", 5), ("KER416", 5)]


def test_module_narrowing_needs_a_framework_import():
    source = 'import keras\n\nif keras.backend.backend() == "torch":\n    import numpy as np\n\n' + (
        "tokens = keras.Input(shape=(None,), ragged=True)\n"
    )
    assert found_in(source) == [("KER415", 6), ("KER416", 6)]


def _same_as_full(linter: IncrementalLinter, text: str, settings: Settings) -> str:
    assert linter.lint(text) == lint(text, "layers.py", settings)
    return linter.last_mode


@pytest.mark.parametrize("source", [TORCH_MODULE, TENSORFLOW_MODULE])
def test_incremental_lint_follows_module_narrowing(source):
    linter = IncrementalLinter("layers.py", OLD_KERAS)
    assert _same_as_full(linter, source, OLD_KERAS) == "full"
    unguarded = source.replace("def helper(x):\n    return x\n", "def helper(x):\n    import jax\n    return x\n")
    backend = "torch" if source is TORCH_MODULE else "tensorflow"
    guarded = source.replace(
        "def helper(x):\n    return x\n",
        f'def helper(x):\n    if keras.backend.backend() == "{backend}":\n        import jax\n    return x\n',
    )
    steps = [
        source.replace("    return x\n", "    return x + 1\n"),  # inside a function: still narrowed
        unguarded,  # an unguarded import inside a function: the module is no longer narrowed
        source,  # and back
        guarded,
        source,
    ]
    for text in steps:
        _same_as_full(linter, text, OLD_KERAS)
    assert codes_in(unguarded) != codes_in(source)
    assert codes_in(guarded) == codes_in(source)


def test_a_guarded_framework_import_typed_into_a_module_narrows_it_at_once():
    source = TORCH_MODULE.replace(
        'if keras.backend.backend() == "torch":\n    import torch\nelse:\n    torch = None\n', ""
    ).replace("def helper(x):\n    return x\n", "def helper(x):\n    import torch\n    return x\n")
    linter = IncrementalLinter("layers.py", OLD_KERAS)
    before = _same_as_full(linter, source, OLD_KERAS)
    assert before == "full"
    assert ("KER501", 12) in [(f.code, f.span.start_pos.line + 1) for f in linter.lint(source)]
    edited = source.replace(
        "    import torch\n", '    if keras.backend.backend() == "torch":\n        import torch\n'
    )
    _same_as_full(linter, edited, OLD_KERAS)
    assert "KER501" not in [f.code for f in linter.lint(edited)]


@pytest.mark.parametrize(
    "text",
    [
        "if keras.config.backend() == 'jax':",
        "if (keras.backend.backend)() == 'jax':",
        "if keras.config.backend  # which one\n    () == 'jax':",
        "if keras.config.backend \\\n() == 'jax':",
        "from keras.config import backend as which\nif which() == 'jax':",
        "from os import environ as env\nif env['KERAS_BACKEND'] == 'jax':",
        "if os.getenv('KERAS_BACKEND') == 'jax':",
    ],
)
def test_every_guard_spelling_passes_the_text_test(text):
    from kerasfix.rules.engine.backend_scope import MAY_GUARD

    assert MAY_GUARD.search(text)


def test_a_file_naming_keras_backend_module_only_has_no_guard_to_read():
    from kerasfix.rules.engine.backend_scope import MAY_GUARD

    assert not MAY_GUARD.search("from tf_keras import backend\n\nx = backend.floatx()\nbackend.clear_session()\n")


# ----- project helpers that return the backend's name -------------------------------------------

CONFIG_MODULE = '''import os

import keras


def multi_backend():
    return os.environ.get("MULTI", "1") == "1"


def backend():
    return "tensorflow" if not multi_backend() else keras.config.backend()


def env_backend():
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def forwarded_backend():
    return backend()


def not_a_backend():
    if multi_backend():
        return keras.config.backend()
    return compute()


def compute():
    return 3
'''

SAVER = '''import keras

from pkg import config
from .config import env_backend, forwarded_backend, not_a_backend


def local_backend():
    return keras.config.backend()


class Saver(keras.callbacks.Callback):
    def imported_module(self):
        if config.backend() != "tensorflow":
            return
        print(self.model.distribute_strategy)

    def relative_import(self):
        if env_backend() == "tensorflow":
            print(self.model.distribute_strategy)

    def same_module(self):
        if local_backend() == "tensorflow":
            print(self.model.distribute_strategy)

    def through_another_helper(self):
        if forwarded_backend() == "tensorflow":
            print(self.model.distribute_strategy)

    def helper_that_may_return_something_else(self):
        if not_a_backend() == "tensorflow":
            print(self.model.distribute_strategy)

    def unguarded(self):
        print(self.model.distribute_strategy)
'''


def test_a_project_function_returning_the_backend_is_a_guard(tmp_path):
    root = write_project(tmp_path, {"pkg/__init__.py": "", "pkg/config.py": CONFIG_MODULE, "pkg/saver.py": SAVER})
    path = root / "pkg" / "saver.py"
    lines = [f.span.start_pos.line + 1 for f in lint(SAVER, str(path), Settings()) if f.code == "KER406"]
    # Only the helper that may return something else and the unguarded use are reported.
    assert lines == [31, 34]


def test_backend_helpers_are_read_by_the_project_index(tmp_path):
    from kerasfix.rules.engine.project import project_index

    root = write_project(tmp_path, {"pkg/__init__.py": "", "pkg/config.py": CONFIG_MODULE})
    index = project_index(root / "pkg" / "config.py")
    info = index.module("pkg.config")
    assert info is not None
    assert info.backend_functions == {"backend", "env_backend", "forwarded_backend"}
    assert index.is_backend_function("pkg.config.backend")
    assert not index.is_backend_function("pkg.config.multi_backend")
    assert not index.is_backend_function("keras.config.backend")  # not the project's


# ----- `match` on the backend, and a function's own name for it ----------------------------------

MATCHED = '''import keras


@keras.saving.register_keras_serializable()
class Jacobian(keras.layers.Layer):
    def call(self, x):
        backend = keras.backend.backend()
        match backend:
            case "jax":
                import jax.numpy as jnp
                return jnp.concatenate([x, x], axis=1)
            case "tensorflow":
                import tensorflow as tf
                return tf.concat([x, x], axis=1)
            case "torch" | "numpy":
                import tensorflow as tf
                return tf.concat([x, x], axis=1)
            case _:
                import tensorflow as tf
                return tf.concat([x, x], axis=1)
'''


def test_a_match_on_the_backend_narrows_each_case():
    # `case _` takes what no case took before: no backend is left for it.
    assert found(MATCHED) == [("KER201", 17)]
    direct = MATCHED.replace("        backend = keras.backend.backend()\n        match backend:", "        match keras.config.backend():")
    assert found(direct) == [("KER201", 16)]


@pytest.mark.parametrize(
    "binding",
    [
        # Bound twice: the name may hold anything at the `match`.
        "        backend = keras.backend.backend()\n        backend = backend.upper()\n",
        # A parameter of the same name.
        "        backend = keras.backend.backend()\n",
    ],
    ids=["bound-twice", "parameter"],
)
def test_a_name_bound_more_than_once_is_no_guard(binding):
    source = MATCHED.replace("        backend = keras.backend.backend()\n", binding)
    if "upper" not in binding:
        source = source.replace("def call(self, x):", "def call(self, x, backend='jax'):")
    assert [code for code, _ in found(source)] == ["KER201"] * 3


# ----- modules the project imports only under a backend guard ------------------------------------

SELECTING = '''import keras

if keras.backend.backend() == "tensorflow":
    from .tf_layer import Pair
else:
    from .generic import Pair
'''

TF_LAYER = '''import tensorflow as tf
import keras


@keras.saving.register_keras_serializable()
class Pair(keras.layers.Layer):
    def call(self, a, b):
        return tf.concat([a, b], axis=-1)
'''

GENERIC = TF_LAYER.replace("import tensorflow as tf\n", "").replace("tf.concat", "keras.ops.concatenate")


def _selected_project(root, **files):
    return write_project(
        root,
        {"pkg/__init__.py": "", "pkg/layers.py": SELECTING, "pkg/tf_layer.py": TF_LAYER, "pkg/generic.py": GENERIC, **files},
    )


def _codes_of(root, name="pkg/tf_layer.py"):
    path = root / name
    return sorted(f.code for f in lint(path.read_text(), str(path), Settings()))


def test_a_module_imported_only_under_a_guard_exists_for_its_backends(tmp_path):
    assert _codes_of(_selected_project(tmp_path)) == []
    # A test importing it directly does not count.
    tested = _selected_project(tmp_path / "tested", **{"pkg/tf_layer_test.py": "from pkg.tf_layer import Pair\n"})
    assert _codes_of(tested) == []


@pytest.mark.parametrize(
    "files",
    [
        {"pkg/other.py": "from .tf_layer import Pair\n"},
        {"pkg/lazy.py": "def make():\n    from pkg import tf_layer\n    return tf_layer.Pair()\n"},
        {"pkg/broken.py": "from .tf_layer import Pair\nx = (\n"},
        {"pkg/layers.py": SELECTING.replace('== "tensorflow"', "== current()")},
    ],
    ids=["unguarded-import", "lazy-import", "unparsable-importer", "unknown-guard"],
)
def test_any_other_import_keeps_the_module_for_every_backend(tmp_path, files):
    assert "KER201" in _codes_of(_selected_project(tmp_path, **files))


@pytest.mark.parametrize(
    "selecting",
    [
        # A project function returning the backend's name, imported from another module.
        "from .config import backend\n\nif backend() == 'tensorflow':\n    from .tf_layer import Pair\n",
        # A `match` on the backend.
        "import keras\n\nmatch keras.config.backend():\n    case 'tensorflow':\n        from . import tf_layer\n"
        "    case _:\n        from . import generic\n",
        # An early refusal of the other backends.
        "import os\n\nif os.environ.get('KERAS_BACKEND') != 'tensorflow':\n    raise ImportError('TensorFlow only')\n"
        "from .tf_layer import Pair\n",
    ],
    ids=["project-function", "match", "early-exit"],
)
def test_guards_of_every_kind_select_a_module(tmp_path, selecting):
    config = "import keras\n\n\ndef backend():\n    return keras.config.backend()\n"
    root = _selected_project(tmp_path, **{"pkg/layers.py": selecting, "pkg/config.py": config})
    assert _codes_of(root) == []


TF_HELPERS = '''import tensorflow as tf
import keras


def pair(a, b):
    return tf.concat([a, b], axis=-1)
'''

TF_LAYER_WITH_HELPERS = TF_LAYER.replace("import keras\n", "import keras\n\nfrom .tf_helpers import pair\n")


def test_a_helper_only_selected_modules_import_exists_for_their_backends(tmp_path):
    files = {"pkg/tf_layer.py": TF_LAYER_WITH_HELPERS, "pkg/tf_helpers.py": TF_HELPERS}
    assert _codes_of(_selected_project(tmp_path / "chain", **files), "pkg/tf_helpers.py") == []
    # Importing the selected module back (a cycle) changes nothing, for either of them.
    cycle = _selected_project(
        tmp_path / "cycle", **{**files, "pkg/tf_helpers.py": TF_HELPERS + "\nfrom . import tf_layer\n"}
    )
    assert _codes_of(cycle, "pkg/tf_helpers.py") == []
    assert _codes_of(cycle) == []
    # Imported by a module the project does not select too: every backend.
    shared = _selected_project(tmp_path / "shared", **files, **{"pkg/other.py": "from .tf_helpers import pair\n"})
    assert _codes_of(shared, "pkg/tf_helpers.py") == ["KER107", "KER225"]


def test_the_editor_re_lints_a_module_whose_selection_changes(tmp_path):
    from kerasfix.server.lsp_index import ProjectTracker

    root = _selected_project(tmp_path)
    layer, selecting = str(root / "pkg/tf_layer.py"), str(root / "pkg/layers.py")
    tracker = ProjectTracker()
    assert _codes_of(root) == []  # read once, as the editor's lint does
    # The import loses its guard in an unsaved buffer: the layer runs on every backend again.
    tracker.apply([(selecting, "open", "from .tf_layer import Pair\n")], True)
    assert tracker.changes([layer]) == ([layer], True)
    assert "KER201" in _codes_of(root)
    tracker.apply([(selecting, "close", None)], True)
    assert tracker.changes([layer]) == ([layer], True)
    assert _codes_of(root) == []
