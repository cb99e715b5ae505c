"""Linting open documents off the message loop.

`DocumentLinter` is the one place where a document's text is linted: it keeps what the last run
learnt about the document (today the last good findings, to carry them over a syntax error).
`LintWorker` runs lints on one background thread; a document edited while it is being linted
is linted again once, with its newest text (changes in between are coalesced).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from kerasfix.rules import Finding, Settings, lint
from kerasfix.rules.model import SYNTAX_ERROR_CODE, Position, Span

from .lsp_text import Change

log = logging.getLogger("kerasfix.server")


def changed_region(old: str, new: str) -> Change:
    """The smallest single change that turns `old` into `new` (common prefix and suffix)."""
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
    suffix = low
    return Change(prefix, len(old) - prefix - suffix, len(new) - prefix - suffix)


def _moved(finding: Finding, change: Change, text: str) -> Finding | None:
    """`finding` in the text after `change`, or None if the change touched it."""
    span = change.shift(finding.span.start, finding.span.end)
    if span is None:
        return None
    if finding.fix is not None:
        for edit in finding.fix.edits:
            if change.shift(edit.start, edit.end) is None:
                return replace(finding, span=_span(text, *span), fix=None)
        moved_edits = []
        for edit in finding.fix.edits:
            start, end = change.shift(edit.start, edit.end)  # type: ignore[misc]
            moved_edits.append(replace(edit, start=start, end=end, start_pos=None, end_pos=None))
        fix = replace(finding.fix, edits=tuple(moved_edits))
        return replace(finding, span=_span(text, *span), fix=fix)
    return replace(finding, span=_span(text, *span))


def _span(text: str, start: int, end: int) -> Span:
    return Span(start, end, _position(text, start), _position(text, end))


def _position(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset)
    return Position(line, offset - (text.rfind("\n", 0, offset) + 1))


@dataclass
class LintOutcome:
    findings: list[Finding]
    # True when the text does not parse: `findings` then holds the syntax error and the last
    # good findings moved to this text.
    syntax_error: bool = False


class DocumentLinter:
    """Lints successive versions of one document."""

    def __init__(self) -> None:
        self._good_text: str | None = None
        self._good_findings: list[Finding] = []

    def lint(self, text: str, path: str | None, settings: Settings) -> LintOutcome:
        findings = lint(text, path, settings)
        syntax = [f for f in findings if f.code == SYNTAX_ERROR_CODE]
        if not syntax:
            self._good_text, self._good_findings = text, findings
            return LintOutcome(findings)
        if self._good_text is None:
            return LintOutcome(syntax, syntax_error=True)
        change = changed_region(self._good_text, text)
        carried = [moved for f in self._good_findings if (moved := _moved(f, change, text))]
        return LintOutcome(sorted(syntax + carried, key=lambda f: f.span.start), syntax_error=True)


@dataclass
class Job:
    uri: str
    version: int | None
    text: str
    path: str | None
    settings: Settings
    linter: DocumentLinter
    # The document's lint counter when this job was made: only the newest is published.
    generation: int = 0
    # Set when the document was closed or replaced: the job's result must not be published.
    cancelled: threading.Event = field(default_factory=threading.Event)


class LintWorker:
    """One background thread that lints the newest pending version of each document."""

    def __init__(self, done: Callable[[Job, LintOutcome], None]) -> None:
        self._done = done
        self._pending: dict[str, Job] = {}
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def submit(self, job: Job) -> None:
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kerasfix-lint", daemon=True)
                self._thread.start()
            self._pending[job.uri] = job  # replaces an older version still waiting
            self._wake.notify()

    def forget(self, uri: str) -> None:
        with self._wake:
            job = self._pending.pop(uri, None)
        if job is not None:
            job.cancelled.set()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._stopped:
                    self._wake.wait()
                if self._stopped:
                    return
                uri = next(iter(self._pending))
                job = self._pending.pop(uri)
            if job.cancelled.is_set():
                continue
            try:
                outcome = job.linter.lint(job.text, job.path, job.settings)
            except Exception:  # noqa: BLE001 - a crash on one text must not stop the server
                log.exception("linting %s failed", job.uri)
                continue
            self._done(job, outcome)
