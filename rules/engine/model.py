"""The values the engine hands to its front ends: findings, fixes and text edits.

Everything here is plain data with offsets into the linted text (Python `str` indices, so code
points) and 0-based line/character positions. Front ends convert: the CLI prints 1-based rows and
columns, the language server converts characters to the client's position encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

# Where the rules' pages are; the `docs-url` setting gives another base (a mirror, a pinned
# version), which the front ends pass to `rule_url`.
DOCS_URL = "https://kerasfix.readthedocs.io/en/latest/rules/"


class Applicability(str, Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    HINT = "hint"


@dataclass(frozen=True, order=True)
class Position:
    """A 0-based line and a 0-based column counted in code points."""

    line: int
    character: int


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    start_pos: Position
    end_pos: Position


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``content``."""

    start: int
    end: int
    content: str
    start_pos: Position | None = None
    end_pos: Position | None = None


@dataclass(frozen=True)
class Fix:
    title: str
    applicability: Applicability
    edits: tuple[Edit, ...]

    @property
    def is_safe(self) -> bool:
        return self.applicability is Applicability.SAFE


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    message: str
    span: Span
    severity: Severity = Severity.WARNING
    fix: Fix | None = None
    deprecated: bool = False
    # Extra explanation that is not part of the one-line message (shown on hover).
    note: str | None = None
    tags: tuple[str, ...] = field(default=())
    # The backends on which the problem shows: the rule's, narrowed where the rule said this
    # finding is about fewer (`Model.distribute_strategy` still exists on TensorFlow).
    backends: frozenset[str] | None = None

    @property
    def url(self) -> str:
        return rule_url(self.code, self.name)

    @property
    def start(self) -> Position:
        return self.span.start_pos

    @property
    def end(self) -> Position:
        return self.span.end_pos


def rule_url(code: str, name: str, base: str = DOCS_URL) -> str:
    """The page of a rule under `base` (which ends with `/`)."""
    return f"{base}{code.lower()}-{name}/"


SYNTAX_ERROR_CODE = "KER001"
# Valid code that was not checked because the parser could not read it safely.
NOT_CHECKED_CODE = "KER002"
# A rule that raised on some code: that code was not checked by it.
RULE_FAILED_CODE = "KER003"
