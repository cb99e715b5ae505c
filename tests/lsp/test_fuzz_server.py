"""Random edits sent to the server as didChange events (hypothesis).

Real Keras 2 code (the shipped programs and rule examples) is cut, pasted into and truncated as
an editor would send it, in bursts and one edit at a time. Properties: the server never stops
answering; the diagnostics of the last version of a burst, and of every version when each edit
is waited for (so that each is linted incrementally from the one before), lie inside its text
and, when that text parses, equal a fresh lint of it, for every rule. A third
of the scripts start from saving code, whose findings depend on other statements, and a third
from functions that are re-linted one at a time. The draw is
fixed (no example database, derandomized): every machine runs the same scripts; more of them:

    KERASFIX_SERVER_FUZZ_EXAMPLES=500 python3 -m pytest tests/lsp/test_fuzz_server.py
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from lsprotocol import types

from kerasfix.rules import Settings, all_rules, lint

EXAMPLES = Path(__file__).parent.parent / "examples"
OPTIONS = {"select": ["KER"]}
SEEDS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.py"))] + [
    example.source for rule in all_rules() for example in rule.examples if example.source.strip()
][:40]
# Saving code, whose findings depend on other statements (a path saved to in one statement and
# bound in another, a weights file written and read back): the whole-file rules (KER301,
# KER303, KER304, KER305, KER315) and the other saving rules. Drawn as often as the others.
CROSS_STATEMENT_SEED = '''import keras
from keras.models import load_model

PATH = "exported_model"


class Scale(keras.layers.Layer):
    def call(self, x):
        return x * 2


model = keras.Sequential([keras.layers.Dense(2), Scale()])
model.fit(x, y, callbacks=[keras.callbacks.ModelCheckpoint("best.h5", save_weights_only=True)])
model.save(PATH)
restored = load_model(PATH, custom_objects={"Scale": Scale})
model.save_weights("weights.h5")
model.save("model.h5")
model.save("exported", save_format="tf")
'''
SAVING_SEEDS = [CROSS_STATEMENT_SEED] + [
    example.source
    for rule in all_rules()
    if type(rule).__module__.startswith("kerasfix.rules.saving.")
    for example in rule.examples
    if example.source.strip()
]
# Functions with findings and nothing that ties statements together: an edit inside one is
# re-linted alone (the incremental path), and the findings of the others move with the text.
FUNCTION_SEED = "import tensorflow as tf\nfrom tensorflow.keras import backend as K\n" + "".join(
    f"""

def block_{i}(x, y):
    optimizer = tf.keras.optimizers.Adam(lr=1e-3)
    total = tf.reduce_sum(x, axis={i % 2})
    value = K.get_value(y)
    layer = tf.keras.layers.Dense({i} + 1, activation="relu")
    return optimizer, value, layer(total * {i})
"""
    for i in range(6)
)
PIECES = ["(", ")", ":", "\n", "    ", "tf.", "keras.", "lr=", "#", '"', "x", "数据😀", "\r\n", "\t", "[", "]"]
EXAMPLES_RUN = int(os.environ.get("KERASFIX_SERVER_FUZZ_EXAMPLES", "25"))


def _width(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _position(text: str, offset: int, encoding: str) -> tuple[int, int]:
    """The LSP position of a code-point offset (lines end at \\r\\n, \\r or \\n)."""
    before = text[:offset]
    lines = _lines(before)
    if before.endswith("\r") and text[offset : offset + 1] == "\n":
        # Between the \r and \n of one line ending: the end of that line.
        return len(lines) - 2, _width(lines[-2], encoding)
    return len(lines) - 1, _width(lines[-1], encoding)


@st.composite
def edit_script(draw):
    """A seed text and a list of (start, end, new text) edits in code points."""
    text = seed = draw(st.one_of(st.sampled_from(SAVING_SEEDS), st.sampled_from(SEEDS), st.just(FUNCTION_SEED)))
    edits = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["insert", "delete", "truncate", "replace-all", "digit", "statement"]))
        at = draw(st.integers(0, len(text)))
        digits = [i for i, c in enumerate(text) if c.isdigit()]
        if kind == "digit" and digits:
            # Typing in a number (`epochs=3` -> `epochs=31`): the text stays valid and only one
            # statement changes, so the server re-lints that statement and moves the rest.
            at = draw(st.sampled_from(digits))
            edits.append((at, at, "1"))
            text = text[:at] + "1" + text[at:]
        elif kind == "statement":
            # A new line before another, with its indentation: mostly valid, often inside a
            # function (one statement re-linted) and sometimes in a block that cannot take it.
            starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
            at = draw(st.sampled_from(starts))
            line = text[at:].split("\n", 1)[0]
            new = line[: len(line) - len(line.lstrip(" "))] + "pass\n"
            edits.append((at, at, new))
            text = text[:at] + new + text[at:]
        elif kind == "insert" or kind == "digit":
            new = draw(st.sampled_from(PIECES))
            edits.append((at, at, new))
            text = text[:at] + new + text[at:]
        elif kind == "delete":
            end = min(len(text), at + draw(st.integers(1, 30)))
            edits.append((at, end, ""))
            text = text[:at] + text[end:]
        elif kind == "truncate":
            edits.append((at, len(text), ""))
            text = text[:at]
        else:
            edits.append((None, None, draw(st.sampled_from(SEEDS + SAVING_SEEDS))))
            text = edits[-1][2]
    return seed, edits


def _split_pairs(text: str, start: int, end: int) -> tuple[int, int]:
    """Never split a \\r\\n pair: LSP has no position between its two characters."""
    if 0 < start < len(text) and text[start - 1] == "\r" and text[start] == "\n":
        start -= 1
    if 0 < end < len(text) and text[end - 1] == "\r" and text[end] == "\n":
        end += 1
    return start, end


def _parses(text: str) -> bool:
    return not any(f.code == "KER001" for f in lint(text, "x.py", Settings.from_mapping({"select": ["KER001"]})))


def _check(diagnostics: list[types.Diagnostic], text: str, session, lint_settings: Settings, where) -> None:
    """The diagnostics lie inside `text` and, when it parses, equal a fresh lint of it."""
    lines = _lines(text)
    for diagnostic in diagnostics:
        for position in (diagnostic.range.start, diagnostic.range.end):
            assert 0 <= position.line < len(lines)
            assert 0 <= position.character <= _width(lines[position.line], session.encoding)
    if _parses(text):
        expected = sorted(
            (f.code, f.span.start_pos.line, _width(lines[f.span.start_pos.line][: f.span.start_pos.character], session.encoding))
            # The server's path: the project around the file decides some findings (where
            # the project saves models, for one).
            for f in lint(text, str(session.root / "fuzz.py"), lint_settings)
        )
        got = sorted((d.code, d.range.start.line, d.range.start.character) for d in diagnostics)
        assert got == expected, where


# Edits sent as fast as a client sends them (the server may lint only the last text of a burst),
# and edits each waited for: every one is then linted incrementally from the one before, and
# each result must equal a fresh lint of the same text.
@pytest.mark.parametrize("each_edit", [False, True], ids=["burst", "each-edit"])
@pytest.mark.options(OPTIONS)
async def test_fuzzed_edits_through_the_server(session, each_edit):
    uri = session.open("fuzz.py", SEEDS[0])
    await session.diagnostics(uri, 1)
    scripts: list = []

    # No example database and a fixed draw: every machine runs the same scripts.
    @settings(
        max_examples=EXAMPLES_RUN, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(edit_script())
    def collect(script):
        scripts.append(script)

    collect()
    lint_settings = Settings.from_mapping(OPTIONS)
    for seed, script in scripts:
        # The edits' offsets are in the seed they were drawn for.
        version = session.replace_all(uri, seed)
        text = seed
        if each_edit:
            _check(await session.diagnostics(uri, version), text, session, lint_settings, (seed[:60], "seed"))
        for number, (start, end, new) in enumerate(script):
            if start is None:
                version = session.replace_all(uri, new)
                text = new
            else:
                start, end = _split_pairs(text, min(start, len(text)), min(end, len(text)))
                begin, finish = _position(text, start, session.encoding), _position(text, end, session.encoding)
                version = session.change(uri, begin, finish, new)
                text = text[:start] + new + text[end:]
            if each_edit:
                _check(await session.diagnostics(uri, version), text, session, lint_settings, (seed[:60], script[: number + 1]))
        assert session.texts[uri] == text
        _check(await session.diagnostics(uri, version), text, session, lint_settings, (seed[:60], script))
    # Still answering.
    answer = await asyncio.wait_for(
        session.client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 0))),
        20,
    )
    assert answer is None or answer.contents
