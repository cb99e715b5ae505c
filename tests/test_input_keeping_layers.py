"""A Keras layer that sets `self._convert_input_args = False` (itself, or through a base class of
its module or of another module of the project) takes its inputs as they come and runs
TensorFlow on every backend, as `tf.data` does: the TensorFlow-op, TensorFlow-random and XLA
rules stay quiet in its methods, and what it returns is not taken for a backend tensor. The
real-Keras proof is tests/keras3/test_input_keeping_layers_keras3.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from kerasfix.rules import Settings, lint
from kerasfix.rules.engine.project import ProjectIndex
from project_files import write_project

SETTINGS = Settings(select=("KER2", "KER5", "KER7"))

BASE = '''\
import keras


class PreprocessingLayer(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
'''

PLAIN_BASE = BASE.replace("        self._convert_input_args = False\n", "")

AUGMENT = '''\
import numpy as np
import tensorflow as tf

from .base import PreprocessingLayer


class Augment(PreprocessingLayer):
    def call(self, images):
        noise = tf.random.uniform(tf.shape(images))
        flipped = tf.py_function(np.flip, [images, 2], "float32")
        return tf.cast(flipped, "float32") + noise


def preview(images):
    return np.asarray(Augment()(images))
'''


def _codes(root: Path, text: str = AUGMENT) -> list[str]:
    return sorted(f.code for f in lint(text, str(root / "pkg" / "augment.py"), SETTINGS))


def _project(root: Path, base: str) -> Path:
    return write_project(root, {"pkg/__init__.py": "", "pkg/base.py": base, "pkg/augment.py": AUGMENT})


def test_a_layer_whose_project_base_keeps_its_inputs_is_tensorflow_code(tmp_path):
    assert _codes(_project(tmp_path, BASE)) == []


def test_without_the_attribute_the_same_layer_is_reported(tmp_path):
    codes = _codes(_project(tmp_path, PLAIN_BASE))
    for code in ("KER201", "KER218", "KER219", "KER227", "KER514", "KER701"):
        assert code in codes, (code, codes)


def test_the_attribute_set_by_a_base_in_the_same_file(tmp_path):
    text = BASE + AUGMENT.replace("from .base import PreprocessingLayer\n", "")
    root = write_project(tmp_path, {"pkg/__init__.py": ""})
    assert _codes(root, text) == []
    assert "KER201" in _codes(root, PLAIN_BASE + AUGMENT.replace("from .base import PreprocessingLayer\n", ""))


@pytest.mark.parametrize(
    "assignment",
    ["self._convert_input_args = True", "other._convert_input_args = False", "_convert_input_args = False"],
)
def test_only_self_set_to_false_counts(tmp_path, assignment):
    base = BASE.replace("self._convert_input_args = False", assignment)
    assert "KER201" in _codes(_project(tmp_path, base))


def test_the_index_follows_the_attribute_through_bases(tmp_path):
    root = _project(tmp_path, BASE)
    (root / "pkg" / "more.py").write_text("from .augment import Augment\n\nclass Stronger(Augment):\n    pass\n")
    index = ProjectIndex(root)
    assert index.keeps_inputs("pkg.base.PreprocessingLayer")
    assert index.keeps_inputs("pkg.more.Stronger")
    assert not index.keeps_inputs("pkg.augment.preview")
    assert index.module("pkg.base").keeps_inputs == {"PreprocessingLayer"}
