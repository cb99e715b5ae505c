"""`# noqa` and `# noqa: KER201, KER305` comments, Ruff's and flake8's convention."""

from __future__ import annotations

import re

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def noqa_codes(line: str) -> frozenset[str] | None:
    """None when the line has no noqa comment; an empty set for a bare `# noqa` (all codes)."""
    if "#" not in line:
        return None
    match = _NOQA.search(line)
    if match is None:
        return None
    codes = match.group("codes")
    if not codes:
        return frozenset()
    return frozenset(c.upper() for c in _CODE.findall(codes))


def suppressed(line: str, code: str) -> bool:
    codes = noqa_codes(line)
    return codes is not None and (not codes or code in codes)


def add_noqa(line: str, code: str) -> str:
    """The line with `code` added to its noqa comment (or a new comment), keeping the ending;
    the codes of the comment sorted and each listed once, as Ruff writes them."""
    stripped = line.rstrip("\r\n")
    ending = line[len(stripped):]
    match = _NOQA.search(stripped)
    if match is not None:
        codes = match.group("codes")
        if not codes:
            return line  # a bare noqa already silences everything
        present = [c.upper() for c in _CODE.findall(codes)]
        if code in present:
            return line
        new = f"# noqa: {', '.join(sorted({*present, code}))}"
        return stripped[: match.start()] + new + stripped[match.end():] + ending
    return f"{stripped}  # noqa: {code}{ending}"
