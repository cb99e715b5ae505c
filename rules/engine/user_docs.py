"""A rule's docstring as users read it: without the project's internal references.

Docstrings cite the migration catalogue (`MB-OPS-000`, `K3-BK-001`) and the data tables in the
repository (`rules/data/ops_tf.toml`) for the people who maintain the rules; users of
`kerasfix rule`, the docs site and the editor have neither, so the rendering leaves them out.
"""

from __future__ import annotations

import re

# A migration-catalogue id: `MB-OPS-000`, `K3-BK-001`.
CATALOGUE_ID = re.compile(r"\b[A-Z][A-Z0-9]+-[A-Z]+-\d{3}\b")
# A file of the repository's rule package.
REPO_PATH = re.compile(r"`rules/[^`\s]+`")

_ID_LIST = rf"{CATALOGUE_ID.pattern}(?:(?:,\s*|\s+and\s+){CATALOGUE_ID.pattern})*"
_PROSE = [
    # "(table `rules/data/ops_backend.toml`, catalogue K3-BK-001)", "(the table `rules/...`)".
    (re.compile(rf"\s*\((?:the\s+)?table\s+{REPO_PATH.pattern}(?:,\s*catalogue\s+{_ID_LIST})?\)"), ""),
    # "the table `rules/data/ops_tf.toml` (catalogue MB-OPS-000) lists".
    (re.compile(rf"the\s+table\s+{REPO_PATH.pattern}(?:\s*\(catalogue\s+{_ID_LIST}\))?"), "kerasfix's table"),
    (re.compile(rf"\s*\(catalogue\s+{_ID_LIST}\)"), ""),
    # "... checked on Keras 3.15.1. Catalogue K3-TRN-017 (`metrics_names`)." inside a reference.
    (re.compile(rf"\s*Catalogue\s+{_ID_LIST}(?:\s*\([^)]*\))?\.?"), ""),
    (re.compile(r"\s*\(" + REPO_PATH.pattern + r"\)"), ""),
    (REPO_PATH, "kerasfix's table"),
]
# A Markdown list item with its indented continuation lines.
_ITEM = re.compile(r"^- (.*(?:\n  .*)*)(?:\n|\Z)", re.MULTILINE)


def _reference(match: re.Match[str]) -> str:
    """A list item of the References without its catalogue ids: "Catalogue MB-OPS-010;
    guide claim #10" keeps "guide claim #10"; an item of ids only goes."""
    text = match.group(1)
    if not text.startswith("Catalogue "):
        return match.group()
    # An item's end of line goes with it when it goes.
    end = "\n" if match.group().endswith("\n") else ""
    kept = [part.strip() for part in text[len("Catalogue "):].split(";")]
    kept = [part for part in kept if part and not CATALOGUE_ID.search(part)]
    if not kept:
        return ""
    return "- " + "; ".join(kept) + end


def user_docs(markdown: str) -> str:
    """`markdown` without catalogue ids and repository paths."""
    text = _ITEM.sub(_reference, markdown)
    # A section whose items all went goes too.
    text = re.sub(r"^## References\n+(?=## |\Z)", "", text, flags=re.MULTILINE)
    for pattern, replacement in _PROSE:
        text = pattern.sub(replacement, text)
    return text.strip("\n")
