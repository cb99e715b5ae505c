"""Linting open documents off the message loop.

`DocumentLinter` is the one place where a document's text is linted: it keeps what the last run
learnt about the document, so an edit re-lints only what it touched and a syntax error keeps
the last good findings. It runs in an engine process (`lsp_engine`), never in the server's.

`LintWorker` sends each document's newest text to an engine process from a background thread
and hands back the outcome; a document edited while it is being linted is linted again once,
with its newest text (changes in between are coalesced). Every lint that finishes is handed
back, also when a newer text is already waiting, so diagnostics keep up with fast typing.

Two lanes keep one document from starving the others: documents start in the normal lane; one
whose lint keeps other documents waiting for long, or runs past the lane's budget, is stopped
and moves to the slow lane, with its own process, for as long as it is open. A lint in the slow
lane that runs past its budget is stopped and reported as a finding on the document.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kerasfix.rules import Finding, Settings
from kerasfix.rules.engine.model import SYNTAX_ERROR_CODE

from .lsp_engine import EngineAborted, EngineCrashed, EngineError, EngineProcess, EngineTimeout, engine_process

if TYPE_CHECKING:
    from kerasfix.rules.engine.incremental import IncrementalLinter

log = logging.getLogger("kerasfix.server")

# How long the documents must stay unchanged before the idle work runs: typing never waits
# for it.
IDLE_DELAY = 0.3
# The lint threads convert positions while the message loop reads: with Python's default switch
# interval (5 ms) the loop waits that long for each didChange it reads, and a flood of edits
# backs up in the pipe. A shorter interval keeps reading prompt.
SWITCH_INTERVAL = 0.0005
# A lint in the normal lane that runs longer than this is stopped, and its document moves to
# the slow lane.
NORMAL_BUDGET = 5.0
# A lint still running after this long while other documents wait in the normal lane is
# stopped and its document moved to the slow lane: the others wait at most this long behind it
# (and for a new engine). A lint nobody waits behind runs on, up to NORMAL_BUDGET.
SLOW_LINT = 1.0
# A lint in the slow lane that runs longer than this is stopped and reported on the document.
SLOW_BUDGET = 60.0


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

    def lint(self, text: str, path: str | None, settings: Settings, full: bool = False) -> LintOutcome:
        engine = self._engine
        if engine is None or engine.path != path:
            # Here, in the engine's process: the server's own process never imports LibCST.
            from kerasfix.rules.engine.incremental import IncrementalLinter

            engine = self._engine = IncrementalLinter(path, settings)
        elif engine.settings != settings:
            engine.reset(settings)
        findings = engine.lint(text, full=full)
        syntax_error = any(f.code == SYNTAX_ERROR_CODE for f in findings)
        return LintOutcome(findings, syntax_error, engine.last_mode)

    def prepare(self) -> None:
        """Compute what the next edit's re-lint needs (see `IncrementalLinter.prepare`)."""
        if self._engine is not None:
            self._engine.prepare()


@dataclass
class Job:
    uri: str
    version: int | None
    text: str
    path: str | None
    settings: Settings
    # Turns the findings into diagnostics (reusing those of unchanged findings).
    converter: Any
    # The document's lint counter when this job was made: only the newest is published.
    generation: int = 0
    # Set when the document was closed or replaced: the job's result must not be published.
    cancelled: threading.Event = field(default_factory=threading.Event)
    # Lint the whole text, also when it did not change (a module it depends on did).
    full: bool = False


class _Lane:
    """A thread and its engine process, linting the newest pending version of each document."""

    def __init__(self, name: str, budget: float) -> None:
        self.name = name
        self.budget = budget
        self.engine = engine_process(name)
        self.pending: dict[str, Job] = {}
        self.forgotten: list[str] = []
        self.thread: threading.Thread | None = None


class LintWorker:
    """Lints the newest pending version of each document, in two lanes (see the module doc)."""

    def __init__(self, done: Callable[[Job, LintOutcome], None], idle: Callable[[Job], None], name: str = "lint") -> None:
        """`done` gets each lint's result; `idle` gets the last job linted once no edit came for
        `IDLE_DELAY` seconds, for work that must not delay diagnostics."""
        self._done = done
        self._idle = idle
        self._wake = threading.Condition()
        self._stopped = False
        self._normal = _Lane(name, NORMAL_BUDGET)
        self._slow = _Lane(f"{name}-slow", SLOW_BUDGET)
        self._slow_documents: set[str] = set()
        # Work for idle lanes (`lsp_index.ProjectSync`): asked whether it has some for a
        # lane's engine, and to do one short piece of it.
        self.background: Any = None

    def poke(self) -> None:
        """Background work arrived: idle lanes look for it (the normal lane's thread starts
        for it, also before any document is open)."""
        with self._wake:
            if self._stopped:
                return
            if self._background_wanted(self._normal):
                self._start(self._normal)
            self._wake.notify_all()

    @property
    def engines(self) -> tuple[EngineProcess, EngineProcess]:
        return self._normal.engine, self._slow.engine

    def submit(self, job: Job) -> None:
        with self._wake:
            if self._stopped:
                return
            lane = self._slow if job.uri in self._slow_documents else self._normal
            self._queue(lane, job)

    def _queue(self, lane: _Lane, job: Job) -> None:
        """Under the lock: `job` replaces any older version of its document still waiting."""
        other = self._normal if lane is self._slow else self._slow
        replaced = [older for older in (other.pending.pop(job.uri, None), lane.pending.get(job.uri)) if older is not None]
        if any(older.full for older in replaced):
            job.full = True  # a newer text must not undo a whole re-lint still waiting
        lane.pending[job.uri] = job
        self._start(lane)
        self._wake.notify_all()

    def _start(self, lane: _Lane) -> None:
        """Under the lock: the lane's thread, started on its first work."""
        if lane.thread is None:
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
            lane.thread = threading.Thread(target=self._run, args=(lane,), name=f"kerasfix-{lane.name}", daemon=True)
            lane.thread.start()

    def forget(self, uri: str) -> None:
        with self._wake:
            jobs = [lane.pending.pop(uri, None) for lane in (self._normal, self._slow)]
            self._slow_documents.discard(uri)
            for lane in (self._normal, self._slow):
                if lane.thread is not None:
                    lane.forgotten.append(uri)
            self._wake.notify_all()
        for job in jobs:
            if job is not None:
                job.cancelled.set()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify_all()
        for lane in (self._normal, self._slow):
            lane.engine.close()

    @property
    def engine(self) -> EngineProcess:
        """The normal lane's engine, where most documents are linted."""
        return self._normal.engine

    def _background_wanted(self, lane: _Lane) -> bool:
        background = self.background
        return background is not None and background.wants(lane.engine)

    def _run(self, lane: _Lane) -> None:
        settled: Job | None = None  # the last job linted, until its idle work is done
        # True once no lint was asked for IDLE_DELAY: background work runs, one short piece
        # at a time, until the next lint.
        quiet = False
        while True:
            with self._wake:
                while not lane.pending and not lane.forgotten and not self._stopped:
                    if settled is None and not self._background_wanted(lane):
                        self._wake.wait()
                    elif quiet:
                        break
                    elif not self._wake.wait(IDLE_DELAY):
                        quiet = True
                        break  # quiet for a while: time for the idle work
                if self._stopped:
                    return
                forgotten, lane.forgotten = lane.forgotten, []
                job = lane.pending.pop(next(iter(lane.pending))) if lane.pending else None
            for uri in forgotten:
                lane.engine.send(("forget", uri))
            if job is None:
                if forgotten:
                    continue
                if settled is not None:
                    idle, settled = settled, None
                    try:
                        self._idle(idle)
                    except Exception:  # noqa: BLE001 - only a cache for hover is lost
                        log.exception("preparing %s for hover failed", idle.uri)
                    continue
                try:
                    self.background.step(lane.engine)
                except Exception:  # noqa: BLE001 - the index is a help; the lints go on
                    log.exception("the project index's background work failed: it stops")
                    self.background = None
                continue
            quiet = False
            if job.cancelled.is_set():
                continue
            outcome = self._lint(lane, job)
            if outcome is None or job.cancelled.is_set():
                continue
            try:
                self._done(job, outcome)
            except Exception:  # noqa: BLE001 - a crash on one result must not stop the lane
                log.exception("publishing %s failed", job.uri)
            settled = job

    def _lint(self, lane: _Lane, job: Job) -> LintOutcome | None:
        """The outcome to publish for `job`; None when there is none (moved, stopped, failed)."""
        def give_way(spent: float) -> bool:
            return lane is self._normal and spent > SLOW_LINT and bool(lane.pending)

        try:
            outcome = lane.engine.call(
                ("lint", job.uri, job.text, job.path, job.settings, job.full), lane.budget, give_way=give_way
            )
        except EngineAborted:
            return None
        except EngineTimeout:
            if lane is self._normal:
                log.warning("linting %s was slow: it moves to the slow lane", job.uri)
                with self._wake:
                    self._slow_documents.add(job.uri)
                    newer = self._normal.pending.get(job.uri)
                    self._queue(self._slow, newer or job)
                return None
            log.warning("linting %s took longer than %g s: stopped", job.uri, lane.budget)
            return not_checked(job.text, f"checking it took longer than {lane.budget:g} seconds; it is checked again after the next edit")
        except EngineCrashed as error:
            log.error("linting %s: %s", job.uri, error)
            return not_checked(job.text, f"{error} while checking it; it is checked again after the next edit")
        except EngineError as error:
            log.error("linting %s failed: %s", job.uri, error)
            return None
        return outcome


def not_checked(text: str, why: str) -> LintOutcome:
    """The outcome for a text the engine could not check: one finding saying why."""
    from kerasfix.rules.engine.lint import unparsable

    return LintOutcome([unparsable(text, why)], mode="not checked")
