"""The language server knows the project around an opened file: a layer's Keras base may be in
another module, read from disk."""

from __future__ import annotations

import pytest

BASE = "from tensorflow import keras\n\n\nclass BaseLayer(keras.layers.Layer):\n    pass\n"
MID = "from .base import BaseLayer\n\n\nclass Mid(BaseLayer):\n    pass\n"
DISTANCE = (
    "import tensorflow as tf\n\nfrom .mid import Mid\n\n\n"
    "class PairDistance(Mid):\n"
    "    def call(self, a, b):\n"
    "        both = tf.concat([a, b], axis=-1)\n"
    "        count = tf.shape(both)[0]\n"
    "        return tf.gather(both, count)\n"
)


@pytest.mark.options({"select": ["KER2"]})
async def test_opening_a_layer_alone_publishes_the_ops_of_its_call(session):
    layers = session.root / "pkg" / "layers"
    layers.mkdir(parents=True)
    (session.root / "setup.cfg").write_text("", encoding="utf-8")
    for name, text in {"__init__.py": "", "base.py": BASE, "mid.py": MID}.items():
        (layers / name).write_text(text, encoding="utf-8")
    (session.root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    # Only distance.py is opened, and it is not even saved: its neighbours are read from disk.
    uri = session.open("pkg/layers/distance.py", DISTANCE)
    diagnostics = await session.diagnostics(uri, 1)
    assert [(d.code, d.range.start.line, d.range.start.character) for d in diagnostics] == [
        ("KER201", 7, 15),
        ("KER218", 8, 16),
        ("KER202", 9, 15),
    ]
