"""Position conversions and the single-change diff, against independent computations."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from kerasfix.server.lsp_text import Lines, apply_change, changed_region

TEXTS = st.lists(st.sampled_from(["a", "é", "数", "😀", "\n", "\r\n", " "]), max_size=40).map("".join)
ENCODINGS = st.sampled_from(["utf-8", "utf-16", "utf-32"])


def _width(text: str, encoding: str) -> int:
    codec = {"utf-8": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}[encoding]
    unit = {"utf-8": 1, "utf-16": 2, "utf-32": 4}[encoding]
    return len(text.encode(codec)) // unit


@settings(database=None, derandomize=True)  # the same examples on every machine
@given(TEXTS, ENCODINGS, st.data())
def test_offsets_and_positions_round_trip(text: str, encoding: str, data):
    lines = Lines(text, encoding)
    offset = data.draw(st.integers(0, len(text)))
    if offset and text[offset - 1] == "\r" and text[offset : offset + 1] == "\n":
        offset -= 1  # between \r and \n is not a position
    position = lines.position(offset)
    line_start = lines.starts[position.line]
    assert position.character == _width(text[line_start:offset], encoding)
    assert lines.offset(position) == offset


def test_a_position_past_the_line_end_is_the_line_end():
    lines = Lines("数据\nx\n", "utf-16")
    assert lines.offset(types.Position(0, 99)) == 2
    assert lines.offset(types.Position(9, 0)) == len("数据\nx\n")


@settings(database=None, derandomize=True)  # the same examples on every machine
@given(TEXTS, TEXTS)
def test_changed_region_is_one_replacement(old: str, new: str):
    start, old_end, new_end = changed_region(old, new)
    assert old[:start] + new[start:new_end] + old[old_end:] == new
    assert old[:start] == new[:start] and old[old_end:] == new[new_end:]


def test_incremental_change_in_utf16_after_an_emoji():
    text = "x = '😀'; y = 1\n"
    lines = Lines(text, "utf-16")
    column = len("x = '😀'; y = ".encode("utf-16-le")) // 2
    event = types.TextDocumentContentChangePartial(
        range=types.Range(types.Position(0, column), types.Position(0, column + 1)), text="2"
    )
    assert apply_change(lines, event).text == "x = '😀'; y = 2\n"


# Lone `\r`, `\r\n` split by an edit, and the other characters `str.splitlines` would break on.
EDGY_TEXTS = st.lists(st.sampled_from(["a", "\n", "\r", "\r\n", "\x0c", "\u2028", "数"]), max_size=30).map("".join)


def _starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]


@settings(database=None, derandomize=True)  # the same examples on every machine
@given(EDGY_TEXTS, EDGY_TEXTS, st.data())
def test_lines_after_an_edit_are_those_of_the_new_text(text: str, inserted: str, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    edited = Lines(text).edited(start, end, inserted)
    assert edited.text == text[:start] + inserted + text[end:]
    assert edited.starts == _starts(edited.text)


@settings(database=None, derandomize=True)  # the same examples on every machine
@given(EDGY_TEXTS)
def test_line_starts_know_only_the_three_lsp_line_endings(text: str):
    assert Lines(text).starts == _starts(text)
