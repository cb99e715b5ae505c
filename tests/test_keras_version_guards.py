"""Code that runs only under Keras 2 (behind a test of the Keras version, or in a class whose
`__init__` refuses Keras 3) gets no Keras 3 finding; the same code outside such a test does."""

from __future__ import annotations

import ast

import pytest

from kerasfix.rules import Settings, lint
from kerasfix.rules.engine.incremental import IncrementalLinter
from kerasfix.rules.engine.keras_version import IS_KERAS_3, KERAS_3, REFUSES, VersionTests
from kerasfix.rules.engine.project import project_index
from kerasfix.rules.engine.python_ast import dotted
from project_files import write_project

IMPORTS = {
    "keras": "keras",
    "tf": "tensorflow",
    "tf_keras": "tf_keras",
    "version": "packaging.version",
    "parse": "packaging.version.parse",
    "importlib": "importlib",
}


def _qualify(expr: ast.expr) -> str | None:
    spelled = dotted(expr)
    if spelled is None:
        return None
    head, dot, rest = spelled.partition(".")
    return f"{IMPORTS[head]}{dot}{rest}" if head in IMPORTS else None


def read(test: str):
    return VersionTests(_qualify).outcome(ast.parse(test, mode="eval").body)


IS_KERAS_2 = (IS_KERAS_3[1], IS_KERAS_3[0])


@pytest.mark.parametrize(
    "test",
    [
        'keras.version().startswith("3.")',
        'keras.__version__.startswith("3")',
        'keras.__version__ >= "3.0.0"',
        '"3" <= keras.__version__',
        'int(keras.__version__.split(".")[0]) >= 3',
        'int(keras.__version__[0]) == 3',
        'version.parse(keras.__version__) >= version.parse("3.0")',
        'parse(keras.version()).major > 2',
        'importlib.metadata.version("keras") >= "3"',
        'hasattr(keras, "version") and keras.version().startswith("3.")',
        'not keras.__version__.startswith("2")',
        'tf.keras.__version__ >= "3"',
    ],
)
def test_tests_true_on_keras_3_only(test):
    assert read(test) == IS_KERAS_3


@pytest.mark.parametrize(
    "test",
    [
        'keras.__version__.startswith("2")',
        'keras.__version__ < "3"',
        'version.parse(keras.__version__) < version.parse("3.0.0")',
        'int(keras.__version__.split(".")[0]) != 3',
        'tf_keras.__version__ < "3"',
    ],
)
def test_tests_true_on_keras_2_only(test):
    assert read(test) == IS_KERAS_2


@pytest.mark.parametrize(
    "test",
    [
        'keras.__version__ >= "2.13"',  # differs within Keras 2
        'keras.__version__ < "3.5"',  # differs within Keras 3
        'tf.__version__ >= "2.16"',  # TensorFlow's version, not Keras's
        'keras.__version__.startswith("3.1")',
        'version.parse(keras.__version__) == version.parse("3.0.0")',
        'numpy.__version__.startswith("2")',
        'hasattr(keras, "version")',
    ],
)
def test_tests_that_do_not_split_keras_2_from_keras_3(test):
    assert read(test) not in (IS_KERAS_3, IS_KERAS_2)


# ----- one file ---------------------------------------------------------------------------------

INLINE = '''import keras
import tensorflow as tf


@keras.saving.register_keras_serializable()
class Merge(keras.layers.Layer):
    def call(self, a, b):
        if keras.__version__.startswith("2"):
            return tf.concat([a, b], axis=-1)
        return tf.stack([a, b])


if keras.__version__ < "3":
    def flatten(x):
        return tf.reshape(x, [-1])
else:
    def flatten(x):
        return tf.reshape(x, [-1])
'''


def found(source: str, path: str = "layers.py") -> list[tuple[str, int]]:
    return [(f.code, f.span.start_pos.line + 1) for f in lint(source, path, Settings())]


def test_keras_2_branches_of_a_file_get_no_keras_3_finding():
    assert found(INLINE) == [("KER107", 2), ("KER201", 10), ("KER225", 18)]
    unguarded = INLINE.replace('keras.__version__.startswith("2")', "a is None").replace(
        'keras.__version__ < "3"', "DEBUG"
    )
    assert found(unguarded) == [("KER107", 2), ("KER201", 9), ("KER201", 10), ("KER225", 15), ("KER225", 18)]


def test_a_test_that_does_not_split_the_versions_narrows_nothing():
    source = INLINE.replace('keras.__version__ < "3"', 'keras.__version__ < "2.13"')
    assert ("KER225", 15) in found(source)


# ----- a project's own helpers -------------------------------------------------------------------

CONFIG = '''def detect_keras_3():
    try:
        from tensorflow import keras

        if hasattr(keras, "version") and keras.version().startswith("3."):
            return True
    except ImportError:
        raise ValueError("Keras cannot be imported")
    return False


_USE_KERAS_3 = detect_keras_3()


def keras_3():
    return _USE_KERAS_3


def tensorflow_only():
    return not keras_3()


def on_tensorflow():
    import keras

    return keras.config.backend() == "tensorflow"
'''

CHECKS = '''from pkg import config


def assert_tf_keras(component):
    if config.keras_3():
        raise NotImplementedError(f"{component} needs Keras 2")


def assert_tensorflow(component):
    if not config.on_tensorflow():
        raise NotImplementedError(f"{component} needs TensorFlow")
'''

LAYERS = '''import keras
import tensorflow as tf

from pkg import checks
from pkg.config import keras_3


class RoiPooler(keras.layers.Layer):
    def __init__(self, **kwargs):
        checks.assert_tf_keras("RoiPooler")
        super().__init__(**kwargs)

    def call(self, x):
        return tf.concat([x, x], axis=-1)


class Pooler(keras.layers.Layer):
    def __init__(self, **kwargs):
        checks.assert_tensorflow("Pooler")
        super().__init__(**kwargs)

    def call(self, x):
        return tf.concat([x, x], axis=-1)


class Pair(keras.layers.Layer):
    def call(self, x):
        if not keras_3():
            return tf.concat([x, x], axis=-1)
        return tf.stack([x, x])


def legacy_only(x):
    if keras_3():
        raise NotImplementedError("Keras 2 only")
    return tf.reshape(x, [-1])
'''


def _project(tmp_path, layers: str = LAYERS, config: str = CONFIG):
    return write_project(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/config.py": config, "pkg/checks.py": CHECKS, "pkg/layers.py": layers},
    )


def test_the_index_reads_what_each_helper_does_with_the_version(tmp_path):
    root = _project(tmp_path)
    index = project_index(root / "pkg" / "layers.py")
    config = index.module("pkg.config")
    assert config is not None
    assert config.version_functions == {"detect_keras_3": (KERAS_3, ""), "keras_3": (KERAS_3, "")}
    checks = index.module("pkg.checks")
    assert checks is not None
    # Both raise after a call of another module's function: only one of those tests Keras 3.
    assert checks.version_functions["assert_tf_keras"] == (REFUSES, "pkg.config.keras_3")
    assert index.version_role("pkg.checks.assert_tf_keras") == REFUSES
    assert index.version_role("pkg.checks.assert_tensorflow") is None
    assert index.version_role("pkg.config.tensorflow_only") is None  # true on Keras 2
    assert index.version_role("pkg.config.on_tensorflow") is None
    # What the layers module may call of what it imports (its own `legacy_only` refuses
    # Keras 3 too, but its own text decides for that).
    from kerasfix.rules.engine.project import project_for

    module = project_for(str(root / "pkg" / "layers.py"))
    bindings = {"checks": "pkg.checks", "keras_3": "pkg.config.keras_3", "keras": "keras"}
    assert module.version_function_names(bindings) == {"keras_3", "assert_tf_keras"}


def test_keras_2_only_code_of_a_project_gets_no_keras_3_finding(tmp_path):
    root = _project(tmp_path)
    path = str(root / "pkg" / "layers.py")
    # The class refusing Keras 3, the Keras 2 branch and the code after the refusal are quiet;
    # the class refusing other backends only is still Keras 3 code.
    assert found(LAYERS, path) == [("KER107", 2), ("KER201", 23), ("KER201", 30)]


def test_without_the_refusals_every_tensorflow_op_is_reported(tmp_path):
    plain = (
        LAYERS.replace('checks.assert_tf_keras("RoiPooler")', "pass")
        .replace("if not keras_3():", "if x is None:")
        .replace("if keras_3():", "if x is None:")
    )
    root = _project(tmp_path, plain)
    path = str(root / "pkg" / "layers.py")
    assert found(plain, path) == [
        ("KER107", 2), ("KER201", 14), ("KER201", 23), ("KER201", 29), ("KER201", 30), ("KER225", 36)
    ]


def test_a_detector_that_tests_no_major_version_narrows_nothing(tmp_path):
    assert ("KER201", 14) not in found(LAYERS, str(_project(tmp_path / "major") / "pkg" / "layers.py"))
    # `startswith("3.1")` is false on Keras 3.0 and 3.2: no test of Keras 3, and nothing built
    # on it refuses Keras 3.
    minor = _project(tmp_path / "minor", config=CONFIG.replace('startswith("3.")', 'startswith("3.1")'))
    assert project_index(minor / "pkg" / "layers.py").version_role("pkg.checks.assert_tf_keras") is None
    assert ("KER201", 14) in found(LAYERS, str(minor / "pkg" / "layers.py"))


def test_incremental_lint_follows_a_module_level_refusal(tmp_path):
    root = _project(tmp_path)
    path = str(root / "pkg" / "tail.py")
    source = (
        "import keras\nimport tensorflow as tf\n\nfrom pkg.checks import assert_tf_keras\n\n"
        'assert_tf_keras("pkg.tail")\n\n\ndef flatten(x):\n    return tf.reshape(x, [-1])\n'
    )
    settings = Settings()
    linter = IncrementalLinter(path, settings)
    assert linter.lint(source) == lint(source, path, settings)
    assert [f.code for f in lint(source, path, settings)] == ["KER107"]
    without_refusal = source.replace('assert_tf_keras("pkg.tail")\n', "")
    assert [f.code for f in lint(without_refusal, path, settings)] == ["KER107", "KER225"]
    for text in (source.replace("[-1]", "[-1, 1]"), without_refusal, source):
        assert linter.lint(text) == lint(text, path, settings)
