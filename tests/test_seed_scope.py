"""KER702 follows the seeded code into the project: `tf.random.set_seed` matters only where the
code it seeds makes Keras objects that draw random numbers, also through functions and classes
of other modules (read through the project index), and it follows an open buffer's text."""

from __future__ import annotations

from pathlib import Path

from kerasfix.rules import Settings, lint
from kerasfix.rules.engine.project import project_index

SETTINGS = Settings(select=("KER702",))

TEST = """\
import tensorflow as tf

from pkg import boxes


class BoxesTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        tf.random.set_seed(42)

    def test_count(self):
        out = boxes.{function}(tf.random.uniform((8, 4)))
        self.assertEqual(out.shape[0], 8)
"""

BOXES = """\
import tensorflow as tf
from tensorflow import keras

from .layers import Scale


def nms(b):
    return _sorted(b)


def _sorted(b):
    return tf.sort(b, axis=0)


def head(b):
    return _build()(b)


def _build():
    return keras.Sequential([keras.layers.Dense(4)])


def scaled(b):
    return Scale()(b)
"""

LAYERS = """\
from tensorflow import keras


class Base(keras.layers.Layer):
    pass


class Scale(Base):
    def call(self, x):
        return x * 2.0
"""


def project(root: Path, function: str) -> Path:
    files = {
        "pyproject.toml": "[project]\nname = 'pkg'\n",
        "pkg/__init__.py": "",
        "pkg/boxes.py": BOXES,
        "pkg/layers.py": LAYERS,
        "tests/boxes_test.py": TEST.format(function=function),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root / "tests/boxes_test.py"


def seeds(path: Path) -> list[int]:
    findings = lint(path.read_text(encoding="utf-8"), str(path), SETTINGS)
    return [f.span.start_pos.line + 1 for f in findings]


def test_a_test_class_that_only_draws_tensorflow_numbers_through_a_project_function(tmp_path):
    assert seeds(project(tmp_path, "nms")) == []


def test_a_project_function_that_builds_a_model_two_calls_deep(tmp_path):
    assert seeds(project(tmp_path, "head")) == [9]


def test_a_project_layer_whose_keras_base_is_in_its_own_module(tmp_path):
    assert seeds(project(tmp_path, "scaled")) == [9]


def test_the_called_function_as_an_open_buffer_has_it(tmp_path):
    path = project(tmp_path, "nms")
    assert seeds(path) == []
    boxes = tmp_path / "pkg/boxes.py"
    index = project_index(str(boxes))
    index.set_overlay(boxes, BOXES.replace("return _sorted(b)", "return _build()(b)"))
    try:
        assert seeds(path) == [9]
    finally:
        index.remove_overlay(boxes)
    assert seeds(path) == []


def test_without_a_project_another_package_s_function_counts_as_drawing(tmp_path):
    path = project(tmp_path, "nms")
    text = path.read_text(encoding="utf-8")
    assert [f.span.start_pos.line + 1 for f in lint(text, None, SETTINGS)] == [9]


def test_loading_a_model_builds_layers_that_draw(tmp_path):
    path = tmp_path / "evaluate.py"
    path.write_text(
        "import tensorflow as tf\n\n\ndef evaluate(folder):\n    tf.random.set_seed(3)\n"
        "    model = tf.keras.models.load_model(folder)\n    return model.evaluate(tf.ones((2, 3)))\n",
        encoding="utf-8",
    )
    assert seeds(path) == [5]
    path.write_text(path.read_text(encoding="utf-8").replace("tf.keras.models.load_model(folder)", "tf.saved_model.load(folder)"), encoding="utf-8")
    assert seeds(path) == []
