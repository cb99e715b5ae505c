"""Code behind a backend guard is checked only by the rules about the backends it runs on."""

from __future__ import annotations

import pytest

from kerasfix.rules import Settings, lint
from kerasfix.rules.engine.incremental import IncrementalLinter


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


def test_edit_inside_a_guarded_block_relints_that_statement_only():
    linter = IncrementalLinter("layers.py", Settings())
    linter.lint(TENSORFLOW_GUARD)
    edited = TENSORFLOW_GUARD.replace("axis=-1)", "axis=1)", 1)
    assert [(f.code, f.span.start_pos.line + 1) for f in linter.lint(edited)] == [("KER201", 16)]
    assert linter.last_mode == "region"


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
