"""Load: a flood of edits to a 3,000-line file, and 50 documents open at once.

These tests check what must hold under load (the last version's diagnostics, equal to a fresh
lint; bounded memory; the server still answering). The timings are printed by
`python3 tests/bench_lsp_load.py`, not asserted here: the machine running the tests is shared.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.uris import to_fs_path

from kerasfix.rules import Settings, lint

EXAMPLES = Path(__file__).parent.parent / "examples"
OPTIONS = {"select": ["KER"]}
# The server's peak resident memory after the flood (a fresh server is ~60 MB).
MEMORY_BOUND_MB = 400

BLOCK = '''

def block_{i}(x, y):
    """Keras 2 code with several findings per function."""
    optimizer = tf.keras.optimizers.Adam(lr=1e-3)
    total = tf.reduce_sum(x, axis=1)
    value = K.get_value(y)
    layer = tf.keras.layers.Dense({i} + 1, activation="relu")
    scaled = total * {i}
    return optimizer, value, layer(scaled)
'''


def realistic_file(lines: int = 3000) -> str:
    """The shipped Keras 2 programs, then functions in their style up to `lines` lines."""
    parts = ["import tensorflow as tf\nfrom tensorflow.keras import backend as K\n"]
    parts += [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.py"))]
    text = "".join(parts)
    i = 0
    while text.count("\n") < lines:
        text += BLOCK.format(i=i)
        i += 1
    return text


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def expected_diagnostics(session, uri: str, settings: Settings) -> list[tuple]:
    """A fresh whole-file lint of the document's text, as (code, range) in the client's
    encoding, at its path in a copy of the workspace as the server sees it: every open
    document's text on disk (a rule may ask the project about other modules)."""
    mirror = Path(tempfile.mkdtemp(prefix="kerasfix-load-")) / session.root.name
    for other, other_text in session.texts.items():
        target = mirror / Path(to_fs_path(other)).relative_to(session.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(other_text, encoding="utf-8")
    text, encoding = session.texts[uri], session.encoding
    lines = text.split("\n")
    found = []
    path = mirror / Path(to_fs_path(uri)).relative_to(session.root)
    for finding in lint(text, str(path), settings):
        ends = []
        for position in (finding.span.start_pos, finding.span.end_pos):
            ends.append((position.line, _units(lines[position.line][: position.character], encoding)))
        found.append((finding.code, *ends))
    return sorted(found)


async def settled(session, uri: str, version: int, expected: list[tuple]) -> list[tuple]:
    """The diagnostics last published for `uri` at `version` once they equal `expected`, or
    after a few seconds. A buffer's text reaches the project index only once typing pauses
    (`lsp_index`): a finding that depends on what the index reads of the buffer's own module
    (a class that only another class of the file builds) is published again then."""
    last = published(await session.diagnostics(uri, version))
    for _ in range(500):
        if last == expected:
            break
        await asyncio.sleep(0.01)
        last = published(await session.diagnostics(uri, version))
    return last


def published(diagnostics: list[types.Diagnostic]) -> list[tuple]:
    return sorted(
        (d.code, (d.range.start.line, d.range.start.character), (d.range.end.line, d.range.end.character))
        for d in diagnostics
    )


def peak_memory_mb(session) -> float:
    pid = session.client._server.pid
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM for the server process")


async def hover(session, uri: str, line: int, character: int):
    return await asyncio.wait_for(
        session.client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line, character))
        ),
        20,
    )


@pytest.mark.options(OPTIONS)
async def test_a_thousand_edits_to_a_3000_line_file(session):
    text = realistic_file()
    assert text.count("\n") >= 3000
    uri = session.open("big.py", text)
    await session.diagnostics(uri, 1)
    lines = text.split("\n")
    # Type in the middle of a function as an editor sends it: one character per change,
    # a new line now and then, and a `lr=` call typed in the middle of the flood.
    [row] = [n for n, line in enumerate(lines) if "scaled = total * 40" in line]
    line, column = row, len(lines[row])
    version = 1
    # (Each 100 characters end in digits, so the last version parses.)
    piece = "\n    w = tf.keras.optimizers.SGD(lr=1)\n    v = 9"
    typed = (piece + "1" * (100 - len(piece))) * 10
    for ch in typed:
        version = session.change(uri, (line, column), (line, column), ch)
        if ch == "\n":
            line, column = line + 1, 0
        else:
            column += 1
    assert version == 1001
    expected = expected_diagnostics(session, uri, Settings.from_mapping(OPTIONS))
    assert await settled(session, uri, version, expected) == expected
    final = await session.diagnostics(uri, version)
    assert sum(1 for d in final if d.code == "KER601") > sum(1 for line in lines if "lr=" in line)
    # Coalesced: the versions published only go up.
    versions = [p.version for p in session.published if p.uri == uri]
    assert versions == sorted(versions) and versions[-1] == version
    assert peak_memory_mb(session) < MEMORY_BOUND_MB
    # Still answering: hover on `tf.reduce_sum` after the flood.
    final_lines = session.texts[uri].split("\n")
    [target] = [n for n, text_line in enumerate(final_lines) if "tf.reduce_sum(x, axis=1)" in text_line][-1:]
    answer = await hover(session, uri, target, final_lines[target].index("reduce_sum") + 2)
    assert answer is not None and "keras.ops.sum" in answer.contents.value


@pytest.mark.options(OPTIONS)
async def test_fifty_documents_open_at_once_edited_in_turn(session):
    sources = {
        f"doc{i:02}.py": f"import tensorflow as tf\n\nopt = tf.keras.optimizers.Adam(lr={i})\n" + BLOCK.format(i=i)
        for i in range(50)
    }
    uris = {name: session.open(name, text) for name, text in sources.items()}
    for uri in uris.values():
        await session.diagnostics(uri, 1)
    # Three rounds: each document in turn gets one edit per round (the `lr=` is fixed by hand
    # in even documents, a second optimizer added in odd ones, then a line removed).
    for round_ in range(3):
        for index, (name, uri) in enumerate(uris.items()):
            if round_ == 0 and index % 2 == 0:
                session.change(uri, (2, 31), (2, 33), "learning_rate")
            elif round_ == 0:
                session.change(uri, (3, 0), (3, 0), f"sgd = tf.keras.optimizers.SGD(lr={index})\n")
            elif round_ == 1:
                session.change(uri, (1, 0), (1, 0), f"# edited {index}\n")
            else:
                session.change(uri, (1, 0), (2, 0), "")
    settings = Settings.from_mapping(OPTIONS)
    for name, uri in uris.items():
        assert session.versions[uri] == 4
        expected = expected_diagnostics(session, uri, settings)
        assert await settled(session, uri, session.versions[uri], expected) == expected, name
    assert peak_memory_mb(session) < MEMORY_BOUND_MB
