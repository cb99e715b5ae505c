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
