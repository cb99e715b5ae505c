"""Jupyter notebooks: the code cells linted as one program, findings and fixes mapped to cells.

The cells are joined in order, so an import in an early cell resolves names in later ones.
IPython syntax (`%pip`, `!ls`, `%%time`, `x = !cmd`, `obj?`) is turned into comments of the
same length, so every column of a Python line is its column in the cell. Cell magics that
change the cell's language (`%%bash`, `%%writefile`, ...) blank the whole cell.

A notebook is rewritten only if serialising it back unchanged reproduces the file byte for byte
(nbformat's layout, or any other that `json.dumps` can reproduce); the outputs, metadata,
execution counts and key order stay exactly as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .engine import apply_edits, lint, select_edits
from .model import SYNTAX_ERROR_CODE, Applicability, Edit, Finding, Fix, Position, Span
from .positions import LineIndex
from .settings import Settings

# Cell magics whose body is still Python.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "python", "python3", "autoreload"}
_SHELL_ASSIGN = re.compile(r"^\s*[\w.,\s\[\]()*]+=\s*[!%]")


class NotebookError(ValueError):
    """The file is not a notebook kerasfix can read or write back."""


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
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            raise NotebookError(f"not valid JSON: {error}") from None
        if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
            raise NotebookError("not a Jupyter notebook (no `cells` list)")
        language = (
            data.get("metadata", {}).get("kernelspec", {}).get("language")
            or data.get("metadata", {}).get("language_info", {}).get("name")
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

    def program(self) -> tuple[str, list[tuple[int, int, int]]]:
        return self.program_of({i: self.cell_source(i) for i in self.code_cells})

    def program_of(self, sources: dict[int, str]) -> tuple[str, list[tuple[int, int, int]]]:
        """The joined program and, per code cell, (cell index, start offset, end offset)."""
        parts: list[str] = []
        spans: list[tuple[int, int, int]] = []
        offset = 0
        for index in self.code_cells:
            text = python_view(sources[index])
            spans.append((index, offset, offset + len(text)))
            parts.append(text)
            parts.append("\n")
            offset += len(text) + 1
        return "".join(parts), spans

    def with_sources(self, sources: dict[int, str]) -> str:
        """The notebook's text with some cells' sources replaced, in the file's own layout."""
        if self.layout is None:
            raise NotebookError("its JSON layout cannot be reproduced, so it is not rewritten")
        data = json.loads(self.raw)
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
    return text + layout["end"]


def _layout(data: dict, raw: str) -> dict | None:
    end = raw[len(raw.rstrip()):]
    for indent in (1, 2, 4, 3, None, "\t"):
        for ensure_ascii in (False, True):
            for sort_keys in (False, True):
                separators = (",", ": ") if indent is not None else (", ", ": ")
                layout = {"indent": indent, "ensure_ascii": ensure_ascii, "sort_keys": sort_keys,
                          "separators": separators, "end": end}
                if _dump(data, layout) == raw:
                    return layout
    return None


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


# ----- linting -------------------------------------------------------------------------------


def _to_cell(finding: Finding, spans: list[tuple[int, int, int]], sources: dict[int, str]) -> CellFinding | None:
    for index, start, end in spans:
        if start <= finding.span.start <= end:
            source = sources[index]
            lines = LineIndex(source)
            a = finding.span.start - start
            b = min(finding.span.end - start, len(source))
            fix = finding.fix
            if fix is not None:
                edits = []
                for e in fix.edits:
                    if not start <= e.start <= e.end <= end:
                        fix = None  # an edit in another cell (an added import) is shown per file
                        break
                    edits.append(Edit(e.start - start, e.end - start, e.content,
                                      lines.position(e.start - start), lines.position(e.end - start)))
                else:
                    fix = Fix(fix.title, fix.applicability, tuple(edits))
            local = replace(finding, span=Span(a, b, lines.position(a), lines.position(b)), fix=fix)
            return CellFinding(index + 1, local)
    return None


def lint_notebook(raw: str, path: str | None = None, settings: Settings | None = None) -> list[CellFinding]:
    notebook = Notebook.parse(raw)
    sources = {i: notebook.cell_source(i) for i in notebook.code_cells}
    program, spans = notebook.program_of(sources)
    findings = lint(program, path, settings)
    out = []
    for finding in findings:
        mapped = _to_cell(finding, spans, sources)
        if mapped is not None:
            out.append(mapped)
    return out


def fix_notebook(
    raw: str, path: str | None = None, settings: Settings | None = None, *, unsafe: bool = False, max_passes: int = 10
) -> tuple[str, int, list[CellFinding]]:
    """The fixed notebook text, how many fixes were applied, and what remains.

    Fixes are chosen on the joined program (so overlapping ones wait for the next pass), and
    each edit is applied to the cell it falls in; a fix with an edit outside every cell's
    Python text is not applied."""
    notebook = Notebook.parse(raw)
    sources = {index: notebook.cell_source(index) for index in notebook.code_cells}
    applied = 0
    for _ in range(max_passes):
        program, spans = notebook.program_of(sources)
        findings = lint(program, path, settings)
        if any(f.code == SYNTAX_ERROR_CODE for f in findings):
            break
        usable = [
            f.fix
            for f in findings
            if f.fix is not None
            and (f.fix.applicability is Applicability.SAFE or unsafe)
            and all(_cell_of(e, spans, sources) is not None for e in f.fix.edits)
        ]
        edits, count = select_edits(usable)
        if not count:
            break
        per_cell: dict[int, list[Edit]] = {}
        for edit in edits:
            index, start = _cell_of(edit, spans, sources)  # type: ignore[misc]
            per_cell.setdefault(index, []).append(
                Edit(edit.start - start, edit.end - start, edit.content)
            )
        for index, cell_edits in per_cell.items():
            sources[index] = apply_edits(sources[index], cell_edits)
        applied += count
    program, spans = notebook.program_of(sources)
    remaining = []
    for finding in lint(program, path, settings):
        mapped = _to_cell(finding, spans, sources)
        if mapped is not None:
            remaining.append(mapped)
    changed = {i: s for i, s in sources.items() if s != notebook.cell_source(i)}
    if not changed:
        return raw, 0, remaining
    return notebook.with_sources(changed), applied, remaining


def _cell_of(edit: Edit, spans, sources: dict[int, str]) -> tuple[int, int] | None:
    """(cell index, the cell's start offset) for an edit inside one cell's Python lines."""
    for index, start, end in spans:
        if start <= edit.start and edit.end <= end:
            original = sources[index]
            view = python_view(original)
            if view != original:
                lines = LineIndex(view)
                for offset in (edit.start - start, edit.end - start):
                    line = lines.position(offset).line
                    if lines.line_text(line) != LineIndex(original).line_text(line):
                        return None  # never edit an IPython line
            return index, start
    return None
