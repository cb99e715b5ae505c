"""An open document's text and the conversions between the engine's positions and the client's.

The engine counts columns in code points; an editor counts them in UTF-16 code units (the LSP
default) or in UTF-8 bytes. A line with CJK text or an emoji before a finding gives different
columns in each, so every position that crosses the wire goes through `Lines`.
"""

from __future__ import annotations

import bisect
import re
from itertools import accumulate, repeat
from operator import add

from lsprotocol import types

_NEWLINE = re.compile(r"\r\n|\r|\n")
UTF8 = types.PositionEncodingKind.Utf8
UTF16 = types.PositionEncodingKind.Utf16
UTF32 = types.PositionEncodingKind.Utf32


def _units(text: str, encoding: str) -> int:
    """How many units of `encoding` the code points of `text` take."""
    if text.isascii() or encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _code_points(line: str, units: int, encoding: str) -> int:
    """The code-point column that `units` units of `encoding` reach on `line` (clamped; a
    position inside a character counts as that character's start)."""
    if line.isascii() or encoding == UTF32:
        return min(units, len(line))
    seen = 0
    for index, ch in enumerate(line):
        if seen >= units:
            return index
        code = ord(ch)
        if encoding == UTF8:
            seen += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        else:
            seen += 2 if code > 0xFFFF else 1
        if seen > units:
            return index
    return len(line)


def line_starts(text: str) -> list[int]:
    """The offset where each line begins; lines end with `\n`, `\r\n` or a lone `\r` (LSP's
    three line endings, fewer than `str.splitlines` knows)."""
    if text.count("\r") == text.count("\r\n"):
        # No lone `\r`: splitting on `\n` finds every line. This runs in C, where a regex
        # match object per line made each keystroke in a long file cost milliseconds.
        return list(accumulate(map(add, map(len, text.split("\n")[:-1]), repeat(1)), initial=0))
    return [0] + [m.end() for m in _NEWLINE.finditer(text)]


class Lines:
    """Line starts of one text, for offset <-> client position conversions."""

    def __init__(self, text: str, encoding: str = UTF16, starts: list[int] | None = None) -> None:
        self.text = text
        self.encoding = encoding
        self.starts = line_starts(text) if starts is None else starts

    def edited(self, start: int, end: int, inserted: str) -> Lines:
        """The lines of the text with `text[start:end]` replaced by `inserted`. Only the lines
        around the edit are scanned; the ones after it move by the change in length, so a
        keystroke in a long file costs little more than copying its text."""
        text = self.text[:start] + inserted + self.text[end:]
        delta = len(inserted) - (end - start)
        # A line start `s` depends on text[s - 1] and text[s] (a `\r` followed by `\n` is one
        # ending): those before `start` and after `end` are untouched by the edit.
        before = self.starts[: bisect.bisect_left(self.starts, max(start, 1))]
        new_end = end + delta
        middle = [
            match.end()
            for match in _NEWLINE.finditer(text, max(start - 1, 0), new_end + 1)
            if start <= match.end() <= new_end
        ]
        after = list(map(add, self.starts[bisect.bisect_right(self.starts, end) :], repeat(delta)))
        return Lines(text, self.encoding, before + middle + after)

    def line_text(self, line: int) -> str:
        """The line without its line ending."""
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def position(self, offset: int) -> types.Position:
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        return types.Position(line, _units(self.text[start:offset], self.encoding))

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(self.position(start), self.position(end))

    def offset(self, position: types.Position) -> int:
        if position.line >= len(self.starts):
            return len(self.text)
        line = max(position.line, 0)
        return self.starts[line] + _code_points(self.line_text(line), position.character, self.encoding)


def changed_region(old: str, new: str) -> tuple[int, int, int]:
    """The smallest single change that turns `old` into `new` (common prefix and suffix):
    `old[start:old_end]` became `new[start:new_end]`."""
    limit = min(len(old), len(new))
    low, high = 0, limit
    while low < high:  # longest common prefix, by halving: each comparison runs in C
        middle = (low + high + 1) // 2
        if old[low:middle] == new[low:middle]:
            low = middle
        else:
            high = middle - 1
    prefix = low
    low, high = 0, limit - prefix
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle : len(old) - low] == new[len(new) - middle : len(new) - low]:
            low = middle
        else:
            high = middle - 1
    return prefix, len(old) - low, len(new) - low


class ChangeRejected(ValueError):
    """A change that cannot be applied: the editor's text is not the one the server has."""


def _check_range(lines: Lines, where: types.Range) -> None:
    """Rejects ranges no editor sends for the text the server has. A character past the end of
    its line is the line's end (the protocol says so), and an end on the line after the last one
    (or further) is the end of the text, as editors spell it; but a range starting beyond the
    line after the last one edits lines the server's text does not have."""
    start, end = where.start, where.end
    if min(start.line, start.character, end.line, end.character) < 0:
        raise ChangeRejected(f"negative position in {_spell(where)}")
    if (end.line, end.character) < (start.line, start.character):
        raise ChangeRejected(f"the range {_spell(where)} ends before it starts")
    if start.line > len(lines.starts):
        raise ChangeRejected(f"the range {_spell(where)} starts past the end of the text ({len(lines.starts)} lines)")


def _spell(where: types.Range) -> str:
    return f"{where.start.line}:{where.start.character}-{where.end.line}:{where.end.character}"


def apply_change(lines: Lines, event: types.TextDocumentContentChangeEvent) -> Lines:
    """The text (with its lines) after one `didChange` content change; `ChangeRejected` when
    the change cannot apply to this text."""
    if isinstance(event, types.TextDocumentContentChangeWholeDocument):
        return Lines(event.text, lines.encoding)
    _check_range(lines, event.range)
    start = lines.offset(event.range.start)
    end = max(lines.offset(event.range.end), start)
    return lines.edited(start, end, event.text)
