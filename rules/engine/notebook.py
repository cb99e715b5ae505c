"""Jupyter notebooks: the code cells linted as one program, findings and fixes mapped to cells.

The cells are joined in order, so an import in an early cell resolves names in later ones.
IPython syntax (`%pip`, `!ls`, `%%time`, `x = !cmd`, `obj?`) is turned into comments of the
same length, so every column of a Python line is its column in the cell. Cell magics that
change the cell's language (`%%bash`, `%%writefile`, ...) blank the whole cell.

`CellProgram`, `lint_cells` and `fix_cells` work on the cells' sources alone (the language
server gets them from the editor); `lint_notebook` and `fix_notebook` read and write `.ipynb`
text. A notebook is rewritten only if serialising it back unchanged reproduces the file byte for
byte (nbformat's layout, or any other that `json.dumps` can reproduce); the outputs, metadata,
execution counts and key order stay exactly as they were.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .lint import _parses, apply_edits, lint, select_edits
from .model import SYNTAX_ERROR_CODE, Applicability, Edit, Finding, Fix, Span
from .positions import LineIndex
from .settings import Settings

# Cell magics whose body is still Python.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "python", "python3", "autoreload"}
_SHELL_ASSIGN = re.compile(r"^\s*[\w.,\s\[\]()*]+=\s*[!%]")
_BOM = "\ufeff"
_IMPORT = re.compile(r"(import|from)\s")


class NotebookError(ValueError):
    """The file is not a notebook kerasfix can read or write back."""


# ----- IPython lines -------------------------------------------------------------------------


def python_view(source: str) -> str:
    """The cell with IPython-only lines turned into same-length comments."""
    lines = source.splitlines(keepends=True)
    if not lines:
        return source
    first = lines[0].lstrip()
    if first.startswith("%%"):
        magic = first[2:].split(None, 1)[0] if first[2:].strip() else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return "".join(_blank(line) for line in lines)
        lines[0] = _comment(lines[0])
    out = []
    continued = False
    for line in lines:
        stripped = line.lstrip()
        body = line.rstrip("\r\n")
        if continued or stripped.startswith(("%", "!", "?")) or _SHELL_ASSIGN.match(line) or (
            body.rstrip().endswith("?") and not body.lstrip().startswith("#") and "?" not in body.rstrip()[:-1]
        ):
            out.append(_comment(line))
            continued = body.endswith("\\") and (continued or stripped.startswith(("%", "!")))
        else:
            out.append(line)
    return "".join(out)


def _comment(line: str) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    if not body.strip():
        return line
    indent = len(body) - len(body.lstrip())
    return " " * indent + "#" + body[indent + 1:] + ending


def _blank(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


# ----- cells as one program ------------------------------------------------------------------


@dataclass(frozen=True)
class CellEdit(Edit):
    """An edit within one cell: offsets and positions are the cell's."""

    cell: int = 0  # the cell's place among the joined cells (0-based), or its number in a notebook


@dataclass(frozen=True)
class LocatedFinding:
    cell: int  # the cell's place among the joined cells (0-based)
    # Positions within that cell. Its fix has `CellEdit`s, each in its own cell (an added
    # import may go to an earlier one); a fix that would touch an IPython line, or fall between
    # cells, is left out.
    finding: Finding


class CellProgram:
    """Code cells' sources joined into one Python program, each cell's Python view followed by
    a newline, with the conversions between program offsets and cell offsets."""

    def __init__(self, sources: Sequence[str]) -> None:
        self.sources = list(sources)
        self.views = [python_view(source) for source in self.sources]
        self.starts: list[int] = []
        offset = 0
        for view in self.views:
            self.starts.append(offset)
            offset += len(view) + 1
        self.text = "".join(view + "\n" for view in self.views)
        self._indexes: dict[tuple[int, bool], LineIndex] = {}

    def first_line(self, cell: int) -> int:
        """The program line on which a cell starts."""
        return sum(view.count("\n") + 1 for view in self.views[:cell]) if cell else 0

    def _index(self, cell: int, view: bool = False) -> LineIndex:
        index = self._indexes.get((cell, view))
        if index is None:
            index = self._indexes[cell, view] = LineIndex((self.views if view else self.sources)[cell])
        return index

    def cell_at(self, offset: int) -> int | None:
        cell = bisect.bisect_right(self.starts, offset) - 1
        return cell if cell >= 0 else None

    def cell_edit(self, edit: Edit) -> CellEdit | None:
        """The edit in its cell, or None if it spans cells or touches an IPython line (whose
        text in the program is a comment, not what the cell holds)."""
        cell = self.cell_at(edit.start)
        if cell is None:
            return None
        start = self.starts[cell]
        a, b = edit.start - start, edit.end - start
        if a == b == 0 and cell > 0 and self._ends_with_import(cell - 1) and _only_imports(edit.content):
            return self._append(cell - 1, edit.content)
        view, source = self.views[cell], self.sources[cell]
        if b > len(view):
            return None
        if view != source:
            lines = self._index(cell)
            for offset in (a, b):
                line = lines.position(offset).line
                if self._index(cell, view=True).line_text(line) != lines.line_text(line):
                    return None
        lines = self._index(cell)
        return CellEdit(a, b, edit.content, lines.position(a), lines.position(b), cell)

    def _ends_with_import(self, cell: int) -> bool:
        """Whether the cell's last line of code is a top-level import (an import the engine
        adds after it goes to this cell, not to the start of the next one)."""
        for line in reversed(self.views[cell].splitlines()):
            if line.strip() and not line.lstrip().startswith("#"):
                return _IMPORT.match(line) is not None
        return False

    def _append(self, cell: int, content: str) -> CellEdit:
        """An insertion at the end of a cell, on a line of its own (Jupyter saves a cell's last
        line without a newline)."""
        source = self.sources[cell]
        if source and not source.endswith(("\n", "\r")):
            content = "\n" + content[: -1]
        at = len(source)
        position = self._index(cell).position(at)
        return CellEdit(at, at, content, position, position, cell)

    def cell_edits(self, edits: Sequence[Edit]) -> tuple[CellEdit, ...] | None:
        mapped = tuple(self.cell_edit(edit) for edit in edits)
        return None if any(m is None for m in mapped) else mapped  # type: ignore[return-value]

    def locate(self, finding: Finding) -> LocatedFinding | None:
        cell = self.cell_at(finding.span.start)
        if cell is None:
            return None
        start, source = self.starts[cell], self.sources[cell]
        lines = self._index(cell)
        a = min(finding.span.start - start, len(source))
        b = max(min(finding.span.end - start, len(source)), a)
        edits = self.cell_edits(finding.fix.edits) if finding.fix is not None else None
        fix = None
        if finding.fix is not None and edits is not None:
            fix = Fix(finding.fix.title, finding.fix.applicability, edits)
        local = replace(finding, span=Span(a, b, lines.position(a), lines.position(b)), fix=fix)
        return LocatedFinding(cell, local)

    def apply(self, fixes: Sequence[Fix]) -> tuple[list[str], int]:
        """The cells' sources with the fixes that go together applied, and how many that is.
        Every edit of the fixes must be in a cell (`cell_edits` is not None)."""
        edits, count = select_edits(fixes)
        per_cell: dict[int, list[Edit]] = {}
        for edit in edits:
            mapped = self.cell_edit(edit)
            assert mapped is not None
            per_cell.setdefault(mapped.cell, []).append(mapped)
        sources = list(self.sources)
        for cell, cell_edits in per_cell.items():
            sources[cell] = apply_edits(sources[cell], cell_edits)
        return sources, count


def _only_imports(content: str) -> bool:
    lines = content.splitlines()
    return content.endswith("\n") and bool(lines) and all(_IMPORT.match(line) for line in lines)


def lint_cells(sources: Sequence[str], path: str | None = None, settings: Settings | None = None) -> list[LocatedFinding]:
    program = CellProgram(sources)
    located = (program.locate(finding) for finding in lint(program.text, path, settings))
    return [item for item in located if item is not None]


@dataclass
class CellsFix:
    sources: list[str]
    applied: int
    remaining: list[LocatedFinding]


def fix_cells(
    sources: Sequence[str],
    path: str | None = None,
    settings: Settings | None = None,
    *,
    unsafe: bool = False,
    max_passes: int = 10,
) -> CellsFix:
    """Apply every fix whose edits are all in the cells' Python lines, re-linting between
    passes. Fixes are chosen on the joined program (overlapping ones wait for the next pass); a
    fix after which the program no longer parses is left out."""
    program = CellProgram(sources)
    findings = lint(program.text, path, settings)
    applied = 0
    for _ in range(max_passes):
        if any(f.code == SYNTAX_ERROR_CODE for f in findings):
            break
        usable = [
            f.fix
            for f in findings
            if f.fix is not None
            and (f.fix.applicability is Applicability.SAFE or unsafe)
            and program.cell_edits(f.fix.edits) is not None
        ]
        if not usable:
            break
        candidate, count = program.apply(usable)
        if not _parses(CellProgram(candidate).text):
            candidate, count = _one_by_one(program, usable)
        if candidate == program.sources:
            break
        program = CellProgram(candidate)
        applied += count
        findings = lint(program.text, path, settings)
    located = (program.locate(finding) for finding in findings)
    return CellsFix(program.sources, applied, [item for item in located if item is not None])


def _one_by_one(program: CellProgram, fixes: list[Fix]) -> tuple[list[str], int]:
    """Keep each fix only if the program still parses with it and the fixes kept before it."""
    kept: list[Fix] = []
    current, count = program.sources, 0
    for fix in fixes:
        candidate, n = program.apply([*kept, fix])
        if n > count and _parses(CellProgram(candidate).text):
            kept.append(fix)
            current, count = candidate, n
    return current, count


# ----- .ipynb files --------------------------------------------------------------------------


@dataclass(frozen=True)
class CellFinding:
    cell: int  # 1-based number among all cells of the notebook
    finding: Finding  # positions relative to the cell's source


@dataclass
class Notebook:
    data: dict
    raw: str
    layout: dict | None  # json.dumps arguments that reproduce `raw`, or None
    code_cells: list[int]  # indexes into data["cells"]

    @classmethod
    def parse(cls, raw: str) -> Notebook:
        try:
            data = json.loads(raw.removeprefix(_BOM))
        except json.JSONDecodeError as error:
            raise NotebookError(f"not valid JSON: {error}") from None
        if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
            raise NotebookError("not a Jupyter notebook (no `cells` list)")
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        language = (
            (metadata.get("kernelspec") or {}).get("language")
            or (metadata.get("language_info") or {}).get("name")
            or "python"
        )
        if str(language).lower() != "python":
            raise NotebookError(f"a {language} notebook, not Python")
        cells = [
            i
            for i, cell in enumerate(data["cells"])
            if isinstance(cell, dict) and cell.get("cell_type") == "code"
        ]
        return cls(data, raw, _layout(data, raw), cells)

    def cell_source(self, index: int) -> str:
        source = self.data["cells"][index].get("source", "")
        return "".join(source) if isinstance(source, list) else str(source)

    def code_sources(self) -> list[str]:
        return [self.cell_source(index) for index in self.code_cells]

    def numbered(self, located: Sequence[LocatedFinding]) -> list[CellFinding]:
        """Findings (and their fixes' edits) named by their cell's number among all cells, as
        Jupyter shows them."""
        out = []
        for item in located:
            finding = item.finding
            if finding.fix is not None:
                edits = tuple(replace(e, cell=self.code_cells[e.cell] + 1) for e in finding.fix.edits)  # type: ignore[attr-defined]
                finding = replace(finding, fix=replace(finding.fix, edits=edits))
            out.append(CellFinding(self.code_cells[item.cell] + 1, finding))
        return out

    def with_sources(self, sources: dict[int, str]) -> str:
        """The notebook's text with some cells' sources replaced, in the file's own layout."""
        if self.layout is None:
            raise NotebookError("its JSON layout cannot be reproduced, so it is not rewritten")
        data = json.loads(self.raw.removeprefix(_BOM))
        for index, text in sources.items():
            cell = data["cells"][index]
            if isinstance(cell.get("source"), list):
                cell["source"] = text.splitlines(keepends=True)
            else:
                cell["source"] = text
        return _dump(data, self.layout)


def _dump(data: dict, layout: dict) -> str:
    text = json.dumps(data, indent=layout["indent"], ensure_ascii=layout["ensure_ascii"],
                      sort_keys=layout["sort_keys"], separators=layout["separators"])
    if layout["newline"] != "\n":
        text = text.replace("\n", layout["newline"])  # JSON strings hold no raw newline
    return layout["bom"] + text + layout["end"]


def _layout(data: dict, raw: str) -> dict | None:
    end = raw[len(raw.rstrip()):]
    bom = _BOM if raw.startswith(_BOM) else ""
    newline = "\r\n" if "\r\n" in raw else "\n"
    for indent in (1, 2, 4, 3, None, "\t"):
        for ensure_ascii in (False, True):
            for sort_keys in (False, True):
                separators = (",", ": ") if indent is not None else (", ", ": ")
                layout = {"indent": indent, "ensure_ascii": ensure_ascii, "sort_keys": sort_keys,
                          "separators": separators, "newline": newline, "bom": bom, "end": end}
                if _dump(data, layout) == raw:
                    return layout
    return None


def lint_notebook(raw: str, path: str | None = None, settings: Settings | None = None) -> list[CellFinding]:
    notebook = Notebook.parse(raw)
    return notebook.numbered(lint_cells(notebook.code_sources(), path, settings))


def fix_notebook(
    raw: str, path: str | None = None, settings: Settings | None = None, *, unsafe: bool = False, max_passes: int = 10
) -> tuple[str, int, list[CellFinding]]:
    """The fixed notebook text, how many fixes were applied, and what remains.

    Raises NotebookError when there is something to fix but the file's layout cannot be
    reproduced."""
    notebook = Notebook.parse(raw)
    original = notebook.code_sources()
    result = fix_cells(original, path, settings, unsafe=unsafe, max_passes=max_passes)
    changed = {
        notebook.code_cells[place]: new
        for place, (old, new) in enumerate(zip(original, result.sources))
        if old != new
    }
    remaining = notebook.numbered(result.remaining)
    if not changed:
        return raw, 0, remaining
    return notebook.with_sources(changed), result.applied, remaining
