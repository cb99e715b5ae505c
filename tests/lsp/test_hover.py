"""Hover: a finding's card, the Keras 3 counterpart of a Keras 2 / TF name."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from lsprotocol import types

from conftest import logged

from kerasfix.rules.engine.model import rule_url

# The Keras 3 + JAX venv that tests/keras3/setup.sh makes (the test command installs it).
KERAS3_PYTHON = (
    Path(os.environ.get("KERASFIX_TEST_CACHE", Path.home() / ".cache" / "kerasfix-tests"))
    / "venvs" / "jax" / "bin" / "python"
)

SOURCE = (
    "import tensorflow as tf\n"
    "from tensorflow.keras import backend as K\n"
    "\n"
    "opt = tf.keras.optimizers.Adam(lr=1e-3)\n"
    "total = tf.reduce_sum(x, axis=0)\n"
    "value = K.get_value(v)\n"
    "layer = tf.keras.layers.ThresholdedReLU(theta=0.5)\n"
    "dense = tf.keras.layers.Dense(3)\n"
    "def f(tf):\n"
    "    return tf.reduce_sum(x)\n"
)


async def hover(session, uri: str, line: int, character: int) -> types.Hover | None:
    return await asyncio.wait_for(
        session.client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line, character))
        ),
        20,
    )


async def test_hover_on_a_finding_shows_its_card(session):
    # The test clients declare Markdown; tests/lsp/test_hover_card.py has the plain-text card.
    uri = session.open("h.py", SOURCE)
    await session.diagnostics(uri, 1)
    result = await hover(session, uri, 3, 32)
    assert result.contents.kind == types.MarkupKind.Markdown
    assert result.contents.value == (
        "**KER601** `lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`\n\n"
        f"Quick fix available · [Documentation]({rule_url('KER601', 'optimizer-lr-argument')})"
    )


@pytest.mark.parametrize(
    ("line", "word", "replacement"),
    [
        (4, "reduce_sum", "keras.ops.sum"),
        (5, "get_value", "keras.ops.convert_to_numpy"),
        (6, "ThresholdedReLU", "keras.layers.ReLU"),
        (7, "Dense", "keras.layers.Dense"),
    ],
)
async def test_hover_on_a_keras2_or_tf_name_shows_its_keras3_counterpart(session, line, word, replacement):
    uri = session.open("h.py", SOURCE)
    await session.diagnostics(uri, 1)
    column = SOURCE.splitlines()[line].index(word) + 2
    result = await hover(session, uri, line, column)
    assert f"→ Keras 3: **`{replacement}`**" in result.contents.value
    # The range is the dotted name up to the hovered part.
    text = SOURCE.splitlines()[line]
    assert result.range.start == types.Position(line, text.index("=") + 2)
    assert result.range.end == types.Position(line, text.index(word) + len(word))


async def test_hover_says_what_differs(session):
    uri = session.open("h.py", SOURCE)
    await session.diagnostics(uri, 1)
    result = await hover(session, uri, 6, SOURCE.splitlines()[6].index("Thresholded"))
    assert "`ThresholdedReLU(theta=t)` is `ReLU(threshold=t)`" in result.contents.value


async def test_no_hover_on_plain_python_or_a_shadowed_name(session):
    uri = session.open("h.py", SOURCE)
    await session.diagnostics(uri, 1)
    assert await hover(session, uri, 8, 4) is None  # `f`
    assert await hover(session, uri, 0, 0) is None  # `import`
    # `tf` is a parameter of `f` there, not TensorFlow.
    assert await hover(session, uri, 9, SOURCE.splitlines()[9].index("reduce_sum") + 1) is None


async def test_hover_answers_anywhere_in_a_3000_line_file(session):
    # How fast it answers is measured by tests/bench_lsp_latency.py, not asserted here.
    body = "".join(f"def step_{i}(x):\n    return tf.reduce_sum(x, axis={i % 3})\n\n" for i in range(1000))
    text = "import tensorflow as tf\n" + body
    assert text.count("\n") >= 3000
    uri = session.open("big.py", text)
    await session.diagnostics(uri, 1)
    for line in (2, 1502, 2999):
        column = text.splitlines()[line].index("reduce_sum")
        result = await hover(session, uri, line, column + 1)
        assert result is not None and "keras.ops.sum" in result.contents.value


@pytest.mark.options({"pythonPath": str(KERAS3_PYTHON)})
async def test_hover_shows_the_real_signature_through_jedi(verbose_session):
    session = verbose_session
    uri = session.open("h.py", SOURCE)
    await session.diagnostics(uri, 1)
    # The server looks the counterpart up at startup, and logs when jedi is done with it.
    await logged(session, "jedi looked up keras.ops.sum: a signature", wait=120)
    column = SOURCE.splitlines()[4].index("reduce_sum")
    text = (await hover(session, uri, 4, column)).contents.value
    assert "sum(x, axis=None, keepdims=False)" in text
    assert "Sum of a tensor over the given axes." in text


def test_a_text_that_does_not_parse_before_any_did_leaves_the_names_to_be_read():
    """The lint thread reads a text's names when idle. If the first text it reads does not
    parse, nothing is kept: the next hover reads the current text, which has the imports."""
    from kerasfix.server.lsp import OpenDocument
    from kerasfix.server.lsp_hover import module_names

    document = OpenDocument("file:///x.py", None, 3, SOURCE, converter=None)  # type: ignore[arg-type]
    assert module_names("import tensorflow as tf\ndef (") is None
    document.remember_names(2, None)
    names = asyncio.run(document.names())
    assert names.qualify("tf.reduce_sum", 4) == "tensorflow.reduce_sum"
    # Later texts that do not parse keep the names of the last one that did.
    document.remember_names(4, None)
    assert asyncio.run(document.names()).qualify("K.get_value", 5) == "tensorflow.keras.backend.get_value"
