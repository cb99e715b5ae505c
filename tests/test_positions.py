"""The engine's own node locating agrees with LibCST's position metadata on real code."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, WhitespaceInclusivePositionProvider

from kerasfix.rules.engine.positions import LineIndex, locate

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "rules").rglob("*.py"))[:40] + sorted((ROOT / "tests").rglob("*.py"))[:20]

TRICKY = [
    "import tensorflow as tf\n\n\n# comment\n@dec(tf.x)\n# between\n@other\nclass A(tf.B):\n    x = tf.y(1)\n",
    "if a:\n    pass\nelif tf.b(1):\n    x = tf.c(2); y = tf.d(3)\nelse:\n    z = tf.e(4)\n",
    "try:\n    import tf\nexcept E:\n    f(tf.g)\nelse:\n    h(1)\nfinally:\n    k(2)\n",
    "def f(a=tf.x):\n    '''doc'''\n    if a: return tf.y(a)\n    return [tf.z(i) for i in a]\n",
    "x = (\n    tf.a(1,\n         2)  # c\n)\nwith tf.b() as c, d():\n    for i in tf.c(): print(i)\n",
    "class A:\n    def f(self):\n        x = 1\n        # trailing comment in block\n\n    # dedented comment\n    def g(self):\n        return tf.q(self)\n",
    "match x:\n    case [a, b]:\n        tf.f(a)\n    case _:\n        tf.g(b)\n",
    "x = 1\r\ny = tf.f(x)\r\nif y:\r\n    z = tf.g(y)\r\n",
    "s = '日本語🙂'; t = tf.f(s)  # 注释\nu = tf.g('🙂🙂')\n",
    "x = tf.f(1)",
]


def _nodes_with_chains(module: cst.Module):
    out = []

    def visit(node, chain):
        out.append((node, tuple(chain)))
        chain.append(node)
        for child in node.children:
            visit(child, chain)
        chain.pop()

    visit(module, [])
    return out


def _check(text: str) -> int:
    module = cst.parse_module(text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    ranges = wrapper.resolve(WhitespaceInclusivePositionProvider)
    lines = LineIndex(text)
    wanted = [
        (node, chain)
        for node, chain in _nodes_with_chains(module)
        if isinstance(node, (cst.Call, cst.Name, cst.Arg, cst.Attribute, cst.ClassDef, cst.Comma))
    ]
    stats: dict[str, int] = {}
    found = locate(module, text, wanted, stats)
    # Only nodes outside every statement (none here) need the whole module regenerated.
    assert stats["whole_module"] == 0
    for node, _ in wanted:
        expected = ranges[node]
        start = lines.offset(_pos(expected.start))
        end = lines.offset(_pos(expected.end))
        assert found[id(node)] == (start, end), (type(node).__name__, text[start:end])
    return len(wanted)


def _pos(code_position):
    from kerasfix.rules.engine.model import Position

    return Position(code_position.line - 1, code_position.column)


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_tricky_layouts(text):
    assert _check(text) > 0


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_real_files(path):
    _check(path.read_text(encoding="utf-8"))


SCANNED = [
    *TRICKY,
    "@a\n# c\n\n@b(\n  1)\ndef f():\n    '''x\n\n    y'''\n    return 1\n",
    "x = '''a\\\n'''\ny = 'a\\\nb'\nz = \\\n  1\nw = (1,\n# c\n2)\n",
    "while a:\n    break\nelse:\n    pass\nfor i in b: pass\nelse: pass\n",
    "\f\nx = 1\n\f# c\ny = 2\r\rz = 3\r",
    "async def f():\n    async with a as b:\n        await c\n    async for x in y:\n        pass\n",
]


@pytest.mark.parametrize("source", [*SCANNED, *[path.read_text(encoding="utf-8") for path in SAMPLES]])
def test_the_scan_gives_each_statement_the_first_line_ast_gives(source):
    """Statements are located from a scan of the text, not from `ast`: both agree on every
    statement's first line (its first decorator's for a decorated definition)."""
    import ast

    from kerasfix.rules.engine import positions

    module = cst.parse_module(source)
    lines = positions._scanned_lines(module, source)
    assert lines is not None

    def compare(cst_container, ast_container) -> int:
        checked = 0
        table = positions._counterparts(cst_container, ast_container)
        assert table is not None
        for block in positions._cst_blocks(cst_container):
            for statement in block:
                if not isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                    continue  # the small statements of a one-line suite are on its header's line
                counterpart = table[id(statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else statement)]
                decorators = getattr(counterpart, "decorator_list", None)
                assert lines[id(statement)] == (decorators[0].lineno if decorators else counterpart.lineno)
                checked += 1
                if isinstance(statement, cst.BaseCompoundStatement):
                    checked += compare(statement, counterpart)
        return checked

    assert compare(module, ast.parse(source)) >= len(module.body)


@pytest.mark.parametrize("scan", ["fails", "is wrong"])
def test_a_scan_that_fails_or_errs_costs_time_never_a_position(scan, monkeypatch):
    """Without the scan's lines `ast` gives them; a wrong line is caught by comparing the
    statement's generated text with the source there."""
    from kerasfix.rules.engine import positions

    source = "import tensorflow as tf\n\nclass A:\n    def f(self):\n        return tf.f(2)\n"
    module = cst.parse_module(source)
    klass = module.body[1]
    method = klass.body.body[0]
    statement = method.body.body[0]
    wanted = statement.body[0].value
    if scan == "fails":
        monkeypatch.setattr(positions, "_scanned_lines", lambda module, source: None)
    else:
        monkeypatch.setattr(positions, "_scanned_lines", lambda module, source: {id(statement): 1})
    offsets = locate(module, source, [(wanted, (module, klass, method, statement))])
    assert source[slice(*offsets[id(wanted)])] == "tf.f(2)"
