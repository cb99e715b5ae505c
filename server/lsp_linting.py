"""Linting open documents off the message loop.

`DocumentLinter` is the one place where a document's text is linted: it keeps what the last run
learnt about the document, so an edit re-lints only what it touched and a syntax error keeps
the last good findings.
`LintWorker` runs lints on one background thread; a document edited while it is being linted
is linted again once, with its newest text (changes in between are coalesced).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any
from dataclasses import dataclass, field

from kerasfix.rules import Finding, Settings
from kerasfix.rules.incremental import IncrementalLinter
from kerasfix.rules.model import SYNTAX_ERROR_CODE

log = logging.getLogger("kerasfix.server")

# How long the documents must stay unchanged before the idle work runs: typing never waits
# for it.
IDLE_DELAY = 0.3
# The lint thread holds the GIL for long stretches: with Python's default switch interval
# (5 ms) the message loop waits that long for each didChange it reads while a lint runs, and a
# flood of edits backs up in the pipe. A shorter interval keeps reading prompt.
SWITCH_INTERVAL = 0.0005


@dataclass
class LintOutcome:
    findings: list[Finding]
    # True when the text does not parse: `findings` then holds the syntax error and the last
    # good findings away from the edit, moved with it.
    syntax_error: bool = False
    # How the engine served the lint ("full", "region", "broken", ...), for logs and benchmarks.
    mode: str = ""


class DocumentLinter:
    """Lints successive versions of one document, re-linting only the top-level statements an
    edit touched (the engine's `IncrementalLinter`)."""

    def __init__(self) -> None:
        self._engine: IncrementalLinter | None = None

    def lint(self, text: str, path: str | None, settings: Settings) -> LintOutcome:
        engine = self._engine
        if engine is None or engine.path != path:
            engine = self._engine = IncrementalLinter(path, settings)
        elif engine.settings != settings:
            engine.reset(settings)
        findings = engine.lint(text)
        syntax_error = any(f.code == SYNTAX_ERROR_CODE for f in findings)
        return LintOutcome(findings, syntax_error, engine.last_mode)


@dataclass
class Job:
    uri: str
    version: int | None
    text: str
    path: str | None
    settings: Settings
    linter: DocumentLinter
    # Turns the findings into diagnostics (reusing those of unchanged findings).
    converter: Any
    # The document's lint counter when this job was made: only the newest is published.
    generation: int = 0
    # Set when the document was closed or replaced: the job's result must not be published.
    cancelled: threading.Event = field(default_factory=threading.Event)


class LintWorker:
    """One background thread that lints the newest pending version of each document."""

    def __init__(self, done: Callable[[Job, LintOutcome], None], idle: Callable[[Job], None]) -> None:
        """`done` gets each lint's result; `idle` gets the last job linted once no edit came for
        `IDLE_DELAY` seconds, for work that must not delay diagnostics."""
        self._done = done
        self._idle = idle
        self._pending: dict[str, Job] = {}
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def submit(self, job: Job) -> None:
        with self._wake:
            if self._thread is None:
                sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
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
        settled: Job | None = None  # the last job linted, until its idle work is done
        while True:
            with self._wake:
                while not self._pending and not self._stopped:
                    if settled is None:
                        self._wake.wait()
                    elif not self._wake.wait(IDLE_DELAY):
                        break  # quiet for a while: time for the idle work
                if self._stopped:
                    return
                job = self._pending.pop(next(iter(self._pending))) if self._pending else None
            if job is None:
                idle, settled = settled, None
                try:
                    self._idle(idle)  # type: ignore[arg-type]
                except Exception:  # noqa: BLE001 - only a cache for hover is lost
                    log.exception("preparing %s for hover failed", idle.uri)  # type: ignore[union-attr]
                continue
            if job.cancelled.is_set():
                continue
            try:
                outcome = job.linter.lint(job.text, job.path, job.settings)
            except Exception:  # noqa: BLE001 - a crash on one text must not stop the server
                log.exception("linting %s failed", job.uri)
                continue
            self._done(job, outcome)
            settled = job
