"""The base class every rule derives from, and the examples a rule carries beside its code."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from .checked import checked_on, row_checked_on
from .model import Severity, rule_url
from .user_docs import user_docs

if TYPE_CHECKING:
    import libcst as cst

    from .context import Context

BACKENDS = frozenset({"jax", "tensorflow", "torch"})

_MARKERS = re.compile("[«»]")


@dataclass(frozen=True)
class Example:
    """A "before" snippet, with each expected finding's exact range between « and », and the text
    the rule's fix must turn it into (None when the rule offers no fix for it).

    `unsafe` says the expected text needs unsafe fixes. `keras` / `backends` describe how the
    snippet fails under real Keras 3 (used by the tests that run the examples for real).
    """

    before: str
    after: str | None = None
    unsafe: bool = False

    @property
    def source(self) -> str:
        return _MARKERS.sub("", self.before)

    def expected_ranges(self) -> list[tuple[int, int]]:
        ranges: list[tuple[int, int]] = []
        stack: list[int] = []
        removed = 0
        for match in _MARKERS.finditer(self.before):
            offset = match.start() - removed
            removed += 1
            if match.group() == "«":
                stack.append(offset)
            else:
                ranges.append((stack.pop(), offset))
        return sorted(ranges)


class Rule:
    """A rule: subclass it, set the class attributes, implement `visit` and write the docstring.

    The docstring is Markdown with the sections *Why*, *Example*, *Use instead*, *Backends*,
    *Fix safety* and *References*; `kerasfix rule`, hover and the docs all show it.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    message: ClassVar[str]
    # Node types this rule is shown; the walker calls `visit` for each.
    nodes: ClassVar[tuple[type[cst.CSTNode], ...]] = ()
    severity: ClassVar[Severity] = Severity.WARNING
    # Backends on which the problem shows; a project that targets none of them does not see it.
    backends: ClassVar[frozenset[str]] = BACKENDS
    # The Keras release that stopped having the problem; the rule is quiet for projects whose
    # oldest supported Keras is this or newer.
    fixed_in: ClassVar[str | None] = None
    # The Keras release that brought the problem; the rule is quiet for projects whose Keras
    # (`keras-version`) is older.
    introduced_in: ClassVar[str | None] = None
    # The rule is about an API that was removed (editors show such code struck through).
    deprecated: ClassVar[bool] = False
    # Findings depend on statements other than the one reported (e.g. "this import is no longer
    # used"): editors re-run the rule on whole-file lints only, not on every keystroke.
    whole_file: ClassVar[bool] = False
    # Rules that are not `whole_file` but read other statements than the one they report in say
    # which texts make an edit re-lint the whole file in an editor (`engine/incremental.py`):
    # - `cross_statement_words`: an edit whose old or new statements match (`Lambda(fn)` makes
    #   `fn` model code; the first `tf.data` of a file is the one reported);
    # - `cross_statement_bindings`: while the text matches, an edit to a statement that assigns
    #   module-level names (a KerasTensor made by `keras.Input` flows into other statements);
    # - `cross_statement_presence`: an edit that adds the text's first match or removes its last;
    # - `cross_statement_mentions`: an edit that spells, in another statement, a word one of the
    #   rule's findings covers (a layer name used again elsewhere).
    cross_statement_words: ClassVar[re.Pattern[str] | None] = None
    cross_statement_bindings: ClassVar[re.Pattern[str] | None] = None
    cross_statement_presence: ClassVar[re.Pattern[str] | None] = None
    cross_statement_mentions: ClassVar[bool] = False
    # "safe", "unsafe", "mixed" or "none": what kind of fix the rule offers, for the docs.
    fix: ClassVar[str] = "none"
    examples: ClassVar[tuple[Example, ...]] = ()
    # Code the rule must stay quiet on.
    valid: ClassVar[tuple[str, ...]] = ()

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def docs(cls, rows: bool = True) -> str:
        """The rule's Markdown page; `rows=False` leaves out the op-table rows' checks (a
        long list, for `kerasfix rule` rather than a hover)."""
        # The docstring cites the catalogue and the data tables for maintainers; users read it
        # without them.
        body = user_docs(inspect.cleandoc(cls.__doc__ or ""))
        header = f"# {cls.code} {cls.name}\n\n{cls.message}\n"
        facts = [
            f"- Fix: {_FIX_WORDS[cls.fix]}",
            f"- Backends: {', '.join(sorted(cls.backends))}",
        ]
        if cls.fixed_in:
            facts.append(
                f"- Fixed in Keras {cls.fixed_in}: reported only when `keras-version` is older"
            )
        if cls.introduced_in:
            facts.append(
                f"- Since Keras {cls.introduced_in}: reported only when `keras-version` is that or newer"
            )
        checked = checked_on(cls.code)
        if checked:
            facts.append(f"- Checked on {checked}")
        table = cls.table_rows() if rows else ()
        if table:
            body += "\n\n" + _rows_section(table)
        return f"{header}\n" + "\n".join(facts) + f"\n\n{body}\n\nDocs: {rule_url(cls.code, cls.name)}\n"

    @classmethod
    def table_rows(cls) -> tuple[tuple[str, bool], ...]:
        """For a rule driven by an op table: each row's key (`tf.reduce_sum`) and whether the
        row has a fix, for the docs to say which rewrites real Keras ran."""
        return ()


def _rows_section(rows: tuple[tuple[str, bool], ...]) -> str:
    with_fix = [key for key, fixed in rows if fixed]
    checked = [(key, row_checked_on(key)) for key in with_fix]
    run = [f"- `{key}`: {where}" for key, where in checked if where]
    not_run = [f"`{key}`" for key, where in checked if not where]
    lines = [
        "## Table rows checked",
        f"{len(run)} of the {len(with_fix)} rows with a fix are run under real Keras by a case "
        "(the TensorFlow or Keras 2 op for the reference numbers, the rewrite on the backends "
        "listed):",
        *run,
    ]
    if not_run:
        lines += ["", "Not run under Keras (checked only against the table's example): " + ", ".join(not_run) + "."]
    return "\n".join(lines)


_FIX_WORDS = {
    "safe": "safe (applied by `--fix`)",
    "unsafe": "unsafe (applied with `--unsafe-fixes`)",
    "mixed": "safe for some forms, unsafe for others",
    "none": "none: the message says what to do",
}
