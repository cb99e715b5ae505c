"""Hover on a finding: a short card (message, short note, fix state, link to the rule's page),
in Markdown or plain text as the client asks."""

from __future__ import annotations

import asyncio
import concurrent.futures
import re

import pytest
from lsprotocol import types

from kerasfix.rules import all_rules, lint
from kerasfix.server.lsp_actions import to_diagnostic
from kerasfix.server.lsp_hover import build_hover, finding_card, module_names, wants_markdown
from kerasfix.server.lsp_text import Lines

# A docs base other than the default: the card links where the diagnostics do.
DOCS = "https://docs.example/kerasfix/"
MAX_LINES = 12
# What users must not see: migration-catalogue ids and paths of the repository.
INTERNAL = re.compile(r"\b[A-Z][A-Z0-9]+-[A-Z]+-\d{3}\b|(?<![\w/.])rules/|\bcatalogue\b", re.IGNORECASE)

SOURCE = (
    "import tensorflow as tf\n"
    "import keras\n"
    "\n"
    "class Block(keras.layers.Layer):\n"
    "    def call(self, x):\n"
    "        s, u, v = tf.linalg.svd(x)\n"
    "        return tf.reduce_sum(x, axis=0)\n"
    "\n"
    "opt = keras.optimizers.Adam(lr=1e-3)\n"
    "n = tf.shape(data)\n"
)


class FixedSignatures:
    """The signature jedi would find, without jedi."""

    def lookup(self, name: str) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        found = ("sum(x, axis=None, keepdims=False)", "Sum of a tensor over the given axes.")
        future.set_result(found if name == "keras.ops.sum" else None)
        return future


def hover_text(line: int, word: str, markdown: bool, offset: int = 1) -> tuple[str, types.MarkupKind]:
    lines = Lines(SOURCE)
    diagnostics = [to_diagnostic(f, lines, DOCS) for f in lint(SOURCE, "x.py")]
    names = module_names(SOURCE)

    async def qualify(spelled: str) -> str | None:
        return names.qualify(spelled, line)

    position = types.Position(line, SOURCE.splitlines()[line].index(word) + offset)
    result = asyncio.run(build_hover(diagnostics, lines, position, qualify, FixedSignatures(), markdown))
    return result.contents.value, result.contents.kind


CARDS = {
    # A safe fix, and the Keras 3 counterpart of the name under the cursor with its signature.
    ("reduce_sum", True): (
        "**`tf.reduce_sum`** → Keras 3: **`keras.ops.sum`**\n\n"
        "```python\nsum(x, axis=None, keepdims=False)\n```\nSum of a tensor over the given axes.\n\n"
        "**KER201** `tf.reduce_sum` runs only on the TensorFlow backend: use `keras.ops.sum`\n\n"
        f"Quick fix available · [Documentation]({DOCS}ker201-tf-op-in-model/)"
    ),
    ("reduce_sum", False): (
        "tf.reduce_sum → Keras 3: keras.ops.sum\n\n"
        "sum(x, axis=None, keepdims=False)\nSum of a tensor over the given axes.\n\n"
        "KER201: `tf.reduce_sum` runs only on the TensorFlow backend: use `keras.ops.sum`\n\n"
        f"Quick fix available\nDocs: {DOCS}ker201-tf-op-in-model/"
    ),
    # No fix; the finding's short note.
    ("tf.linalg", True): (
        "**KER208** `keras.ops.svd` returns `(u, s, vh)` where `tf.linalg.svd` returns `(s, u, v)`: reorder by hand\n\n"
        "tf.linalg.svd returns (s, u, v); keras.ops.svd returns (u, s, vh) with v transposed: reorder the results and transpose v by hand\n\n"
        f"No automatic fix · [Documentation]({DOCS}ker208-tf-svd-order/)"
    ),
    ("tf.linalg", False): (
        "KER208: `keras.ops.svd` returns `(u, s, vh)` where `tf.linalg.svd` returns `(s, u, v)`: reorder by hand\n\n"
        "tf.linalg.svd returns (s, u, v); keras.ops.svd returns (u, s, vh) with v transposed: reorder the results and transpose v by hand\n\n"
        f"No automatic fix\nDocs: {DOCS}ker208-tf-svd-order/"
    ),
    # An unsafe fix.
    ("tf.shape", True): (
        "**KER225** `tf.shape` needs TensorFlow installed: `keras.ops.shape` runs on every backend\n\n"
        f"Unsafe fix available (may change behaviour) · [Documentation]({DOCS}ker225-tf-op-outside-model/)"
    ),
    ("tf.shape", False): (
        "KER225: `tf.shape` needs TensorFlow installed: `keras.ops.shape` runs on every backend\n\n"
        f"Unsafe fix available (may change behaviour)\nDocs: {DOCS}ker225-tf-op-outside-model/"
    ),
}
LINES = {"reduce_sum": 6, "tf.linalg": 5, "tf.shape": 9}


@pytest.mark.parametrize(("word", "markdown"), list(CARDS))
def test_the_hover_on_a_finding_is_a_short_card(word, markdown):
    text, kind = hover_text(LINES[word], word, markdown)
    assert text == CARDS[word, markdown]
    assert kind == (types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText)
    assert len(text.splitlines()) <= MAX_LINES


def test_a_name_whose_keras3_spelling_is_the_same_gets_no_tautology():
    source = "from tensorflow import keras\nc = keras.initializers.Constant(1)\n"
    names = module_names(source)
    lines = Lines(source)

    async def qualify(spelled: str) -> str | None:
        return names.qualify(spelled, 1)

    position = types.Position(1, source.splitlines()[1].index("Constant") + 1)
    result = asyncio.run(build_hover([], lines, position, qualify, FixedSignatures()))
    assert result is None


def _all_example_diagnostics() -> list[types.Diagnostic]:
    found = []
    for rule in all_rules():
        for example in rule.examples:
            lines = Lines(example.source)
            found.extend(to_diagnostic(f, lines, DOCS) for f in lint(example.source, "x.py"))
    return found


def test_every_finding_card_is_short_and_free_of_internal_references():
    diagnostics = _all_example_diagnostics()
    # Most rules' examples report without project settings.
    assert len({str(d.code) for d in diagnostics}) >= 100
    for diagnostic in diagnostics:
        for markdown in (True, False):
            card = finding_card(diagnostic, markdown)
            assert len(card.splitlines()) <= MAX_LINES, card
            assert INTERNAL.search(card) is None, card
            assert "--fix" not in card, card


@pytest.mark.parametrize("rows", [True, False])
def test_no_rule_docs_show_catalogue_ids_or_repository_paths(rows):
    for rule in all_rules():
        docs = rule.docs(rows=rows)
        assert INTERNAL.search(docs) is None, (rule.code, INTERNAL.search(docs))


def test_the_internal_pattern_catches_what_the_docstrings_hold():
    # The docstrings do cite them: the check above sees them if the rendering keeps them.
    raw = "".join(rule.__doc__ or "" for rule in all_rules())
    assert {m.group() for m in INTERNAL.finditer(raw)} >= {"MB-OPS-000", "K3-BK-001", "rules/", "catalogue"}


@pytest.mark.parametrize(
    ("formats", "markdown"),
    [
        ([types.MarkupKind.Markdown, types.MarkupKind.PlainText], True),
        ([types.MarkupKind.PlainText, types.MarkupKind.Markdown], True),
        ([types.MarkupKind.PlainText], False),
        (None, False),
    ],
)
def test_markdown_only_for_clients_that_declare_it(formats, markdown):
    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(hover=types.HoverClientCapabilities(content_format=formats))
    )
    assert wants_markdown(capabilities) is markdown
    assert wants_markdown(types.ClientCapabilities()) is False
