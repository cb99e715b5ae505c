"""The project index, kept live by the server.

A file's findings depend on other modules of its project (a layer's Keras base class may be two
modules away: `rules/engine/project.py`). The index lives in whichever process lints, so the
server keeps the index of each engine process current and re-publishes what depends on a change:

- At startup, the engine that lints (the normal lane's) reads every module of the workspace
  folders in small steps (`index` operations of `INDEX_STEP` seconds each), only while the lint
  lanes are idle: a keystroke's lint waits for one step at most. Clients that show progress get
  `$/progress` for it in a large project.
- Open buffers are overlays: the index reads their unsaved text instead of their files (removed
  when they close). Their texts reach the engines once typing pauses (`IDLE_DELAY`), never on a
  keystroke, and every engine process (both lint lanes, the notebooks' lanes, the request
  engine for fix-all) gets them before its next operation; a restarted engine gets them all.
- Files changed, created or deleted on disk (`didChangeWatchedFiles`) are read again.
- After each change, the engine that lints compares the changed modules' classes and names
  with what it had read before, and the open documents that depend on a module whose classes or
  names changed (through imports and base classes, any chain of them) are linted again, whole:
  their diagnostics are re-published without an edit of theirs. An edit inside a function body
  re-lints nobody. A change in what whole-project questions read (where the project saves
  models, which decorators register classes, train_step backends) re-lints every open document
  of the project.

`ProjectTracker` is the engine process's side (`_Handler` operations `project`,
`project_changes` and `index`); `ProjectSync` is the server's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .lsp_engine import EngineAborted, EngineError, EngineProcess

if TYPE_CHECKING:
    from kerasfix.rules.engine.project import ProjectIndex

log = logging.getLogger("kerasfix.server")

# How long one step of the background index may read modules in the engine.
INDEX_STEP = 0.01
# A step that runs far past that (a stuck file system) is stopped with its engine.
INDEX_BUDGET = 30.0
# Larger files are not read by the background index (one of them would make a long step): they
# are read when a lint needs them.
INDEX_MAX_BYTES = 256_000
# How long applying changes to the index and finding the dependents may take.
CHANGES_BUDGET = 30.0
# The index shows progress for a project of at least this many modules, or a walk longer than
# PROGRESS_DELAY seconds: smaller ones are read in a moment.
PROGRESS_MIN_MODULES = 200
PROGRESS_DELAY = 2.0
# What the server sends for a file: its buffer's text ("open"), its buffer closed ("close"), or
# a change on disk ("changed", "created", "deleted").
OVERLAY_KINDS = ("open", "close")


# ----- inside the engine process ------------------------------------------------------------------


class ProjectTracker:
    """Applies the server's changes to this process's project indexes, finds the open files
    they concern, and reads whole projects in steps."""

    def __init__(self) -> None:
        self._indexing: _IndexRun | None = None

    def apply(self, updates: list[tuple[str, str, str | None]], track: bool) -> None:
        from kerasfix.rules.engine.project import absolute_path, project_index, record_changes

        if track:
            record_changes()
        for path, kind, text in updates:
            file = absolute_path(path)
            index = project_index(file)
            if kind == "open":
                index.set_overlay(file, text or "")
            elif kind == "close":
                index.remove_overlay(file)
            else:
                index.forget(file, created=kind == "created")
                if kind in ("created", "deleted"):
                    index.forget_module_list()

    def changes(self, open_paths: list[str]) -> tuple[list[str], bool]:
        """The open files (of `open_paths`) whose findings may have changed since the last
        call: those depending on a module whose classes or names changed, and every open file
        of a project whose whole-project facts changed; and whether any module changed so
        (open notebooks, whose imports are not indexed, are then checked again). A module is
        compared with what this process had read of it before (a module it never read
        concerned none of its lints)."""
        from kerasfix.rules.engine.project import absolute_path, indexes, project_index

        outlines: dict[Path, set[str]] = {}
        facts: set[Path] = set()
        for index in indexes():
            for name, before in index.take_changes().items():
                old, new = _shape(before), _shape(index.module(name))
                if old[0] != new[0]:
                    outlines.setdefault(index.root, set()).add(name)
                # Where the module builds project classes decides the saving rules' reports
                # on those classes (`ProjectIndex.class_references`), in other files.
                if old[1] != new[1] or index.references_changed(name):
                    facts.add(index.root)
        if not outlines and not facts:
            return [], False
        opened: dict[Path, tuple[ProjectIndex, dict[str, list[str]]]] = {}
        for path in open_paths:
            file = absolute_path(path)
            index = project_index(file)
            name = index.module_name(file)
            if name is not None and (index.root in outlines or index.root in facts):
                opened.setdefault(index.root, (index, {}))[1].setdefault(name, []).append(path)
        affected: list[str] = []
        for root, (index, modules) in opened.items():
            if root in facts:
                names = set(modules)
            else:
                names = index.dependents(outlines[root], among=set(modules))
            affected.extend(path for name in sorted(names) for path in modules[name])
        return affected, True

    def index(self, folders: list[str], budget: float) -> tuple[int, int | None, bool]:
        """Read the projects of `folders` for about `budget` seconds: (modules read, modules
        found, or None while folders are still walked, whether more remain)."""
        if self._indexing is None or self._indexing.folders != folders:
            self._indexing = _IndexRun(folders)
        return self._indexing.run(budget)


def _shape(info) -> tuple[Any, Any]:
    # A module that appears or goes (created, deleted, a buffer opened before its file exists)
    # changes both: where the project builds classes changes with it, in its own lint too.
    if info is None:
        return (None, None)
    return (info.outline(), info.project_facts())


class _IndexRun:
    def __init__(self, folders: list[str]) -> None:
        from kerasfix.rules.engine.project import absolute_path, project_index

        self.folders = folders
        roots: dict[Path, ProjectIndex] = {}
        for folder in folders:
            # The project a file directly in the folder belongs to.
            index = project_index(absolute_path(folder) / "__kerasfix_probe__.py")
            roots.setdefault(index.root, index)
        self._pending = [index.indexing(INDEX_MAX_BYTES) for index in roots.values()]
        self._read = 0  # modules read in the projects finished
        self._current: tuple[int, int | None] = (0, None)
        self._found = 0  # modules found in the projects finished

    def run(self, budget: float) -> tuple[int, int | None, bool]:
        deadline = time.monotonic() + budget
        while self._pending:
            try:
                self._current = next(self._pending[0])
            except StopIteration:
                read, found = self._current
                self._read += read
                self._found += found or 0
                self._current = (0, None)
                self._pending.pop(0)
                continue
            if time.monotonic() >= deadline:
                break
        read, found = self._current
        walking = found is None and bool(self._pending)
        total = None if walking else self._found + (found or 0)
        return self._read + read, total, bool(self._pending)


# ----- in the server -----------------------------------------------------------------------------


class ProjectSync:
    """What the server tells its engine processes about the project (see the module doc)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self._lock = threading.Lock()
        self._primary: EngineProcess | None = None
        self._engines: list[EngineProcess] = []
        # The overlays the engines have (or are being sent): path -> text.
        self._overlays: dict[str, str] = {}
        # Open documents whose text may have changed since the last flush (None: closed).
        self._dirty: dict[str, Any] = {}
        self._disk: list[tuple[str, str, str | None]] = []
        # Per engine: updates it has not received yet, keyed by (path, overlay or disk).
        self._pending: dict[EngineProcess, dict[tuple[str, bool], tuple[str, str, str | None]]] = {}
        # Open .py documents: path -> document.
        self._open: dict[str, Any] = {}
        # Whether the primary engine received tracked changes not yet asked about.
        self._changes_waiting = False
        self._folders: list[str] | None = None
        self._indexed = False
        self._started: float | None = None
        self._progress: _Progress | None = None
        self._wake: list[Any] = []

    # ----- wiring --------------------------------------------------------------------------

    def attach(self, engine: EngineProcess, primary: bool = False) -> None:
        """Keep `engine`'s index current; the primary engine (the normal lint lane's) also
        indexes the workspace and finds the dependents of changes."""
        with self._lock:
            self._engines.append(engine)
            self._pending[engine] = {}
            if primary:
                self._primary = engine
        engine.prelude = lambda fresh: self._prelude(engine, fresh)

    def on_work(self, wake) -> None:
        """`wake()` is called when there is new background work (the lint worker's poke)."""
        self._wake.append(wake)

    def _poke(self) -> None:
        for wake in self._wake:
            wake()

    # ----- from the message loop -------------------------------------------------------------

    def start(self, folders: list[Path], progress: bool) -> None:
        """Index `folders` in the background (with `$/progress` when the client shows it)."""
        with self._lock:
            self._folders = [str(folder) for folder in folders]
            self._indexed = not folders
            previous, self._progress = self._progress, (_Progress(self.server) if progress else None)
            self._started = None
        if previous is not None:
            previous.stop()
        self._poke()

    def opened(self, path: str | None, document: Any) -> None:
        if not _is_module(path):
            return
        with self._lock:
            self._open[path] = document  # type: ignore[index]
            self._dirty[path] = document  # type: ignore[index]
        self._poke()

    def edited(self, path: str | None, document: Any) -> None:
        if not _is_module(path):
            return
        with self._lock:
            self._dirty[path] = document  # type: ignore[index]
        self._poke()

    def closed(self, path: str | None) -> None:
        if not _is_module(path):
            return
        with self._lock:
            self._open.pop(path, None)  # type: ignore[arg-type]
            self._dirty[path] = None  # type: ignore[index]
        self._poke()

    def files_changed(self, changes: list[tuple[str, str]]) -> None:
        """Files (path, "changed" | "created" | "deleted") changed on disk."""
        changes = [(path, kind) for path, kind in changes if _is_module(path)]
        if not changes:
            return
        with self._lock:
            self._disk.extend((path, kind, None) for path, kind in changes)
        self._poke()

    # ----- from the lint threads -----------------------------------------------------------

    def wants(self, engine: EngineProcess) -> bool:
        """Whether `engine`'s lane has background work (asked under the worker's lock)."""
        if engine is not self._primary:
            return False
        return bool(
            self._dirty or self._disk or self._pending.get(engine) or self._changes_waiting
            or (self._folders is not None and not self._indexed)
        )

    def step(self, engine: EngineProcess) -> None:
        """One piece of background work in the primary engine: changes first, then a step
        of the index."""
        if engine is not self._primary:
            return
        self._flush()
        with self._lock:
            changes = bool(self._pending[engine]) or self._changes_waiting
            indexing = self._folders is not None and not self._indexed
            open_paths = list(self._open)
            folders = self._folders
        if changes:
            try:
                affected, changed = engine.call(("project_changes", open_paths), CHANGES_BUDGET)
            except EngineAborted:
                return  # shutting down
            except EngineError as error:
                log.warning("updating the project index: %s", error)
                return
            finally:
                with self._lock:
                    if not self._pending[engine]:
                        self._changes_waiting = False
            log.debug("the project index took in the changes: %d open documents depend on them", len(affected))
            if affected:
                self.server.call_soon(self.server.relint_paths, affected)
            if changed:
                self.server.call_soon(self.server.notebooks.relint, True)
            return
        if indexing:
            if self._started is None:
                self._started = time.monotonic()
            try:
                done, total, more = engine.call(("index", folders, INDEX_STEP), INDEX_BUDGET)
            except EngineAborted:
                done, total, more = 0, 0, False  # shutting down
            except EngineError as error:
                log.warning("indexing the workspace stopped: %s", error)
                done, total, more = 0, 0, False
            with self._lock:
                if self._folders is not folders:
                    return  # the folders changed meanwhile: the new ones are indexed next
                self._indexed = not more
                progress = self._progress
            if not more:
                log.info("indexed the workspace: %s modules", total)
            if progress is not None:
                self.server.call_soon(progress.update, done, total, more, time.monotonic() - self._started)

    def _flush(self) -> None:
        """Turn the edited documents' texts and the disk changes into each engine's updates."""
        with self._lock:
            dirty, self._dirty = self._dirty, {}
            disk, self._disk = self._disk, []
            updates: list[tuple[str, str, str | None]] = []
            for path, document in dirty.items():
                if document is None or path not in self._open:
                    if self._overlays.pop(path, None) is not None:
                        updates.append((path, "close", None))
                    continue
                text = document.text
                if self._overlays.get(path) != text:
                    self._overlays[path] = text
                    updates.append((path, "open", text))
            updates.extend(disk)
            if not updates:
                return
            for engine, pending in self._pending.items():
                if engine is not self._primary and not engine.running:
                    pending.clear()  # it gets every overlay when it starts
                    continue
                for update in updates:
                    pending[(update[0], update[1] in OVERLAY_KINDS)] = update

    def _prelude(self, engine: EngineProcess, fresh: bool) -> list[tuple]:
        """The requests `engine` needs before its next operation: the updates it lacks (every
        overlay when its process is new)."""
        with self._lock:
            pending = self._pending.get(engine)
            if pending is None:
                return []
            updates = list(pending.values())
            pending.clear()
            primary = engine is self._primary
            requests: list[tuple] = []
            if fresh:
                sent = {path for path, kind, _ in updates if kind in OVERLAY_KINDS}
                known = [(path, "open", text) for path, text in self._overlays.items() if path not in sent]
                if known:
                    requests.append(("project", known, False))
            if updates:
                requests.append(("project", updates, primary))
                if primary:
                    self._changes_waiting = True
            return requests


def _is_module(path: str | None) -> bool:
    return bool(path) and path.endswith(".py")  # type: ignore[union-attr]


class _Progress:
    """`$/progress` for the background index of a large project (see PROGRESS_MIN_MODULES)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.token: str | None = None
        self.begun = False
        self.ended = False
        self.last: tuple[int, int | None, bool] | None = None
        self.percentage = -1

    def update(self, done: int, total: int | None, more: bool, elapsed: float) -> None:
        """On the message loop, after each step."""
        self.last = (done, total, more)
        if self.token is None:
            large = total >= PROGRESS_MIN_MODULES if total is not None else elapsed >= PROGRESS_DELAY
            if not more or not large:
                return  # read in a moment: nothing worth a progress bar
            self.token = f"kerasfix-index-{next(self.server.tokens)}"
            asyncio.ensure_future(self._begin())
            return
        if self.begun:
            self._send()

    async def _begin(self) -> None:
        from lsprotocol import types

        try:
            await self.server.work_done_progress.create_async(self.token)
        except Exception:  # noqa: BLE001 - the client refused: no progress bar
            log.debug("the client refused a progress token", exc_info=True)
            return
        self.server.work_done_progress.begin(
            self.token,
            types.WorkDoneProgressBegin(title="kerasfix: indexing the project", percentage=0, cancellable=False),
        )
        self.begun = True
        self._send()

    def stop(self) -> None:
        """The index starts again (the workspace folders changed): end this bar, if begun."""
        if self.token is None or self.ended:
            return
        self.last = (0, 0, False)
        if self.begun:
            self._send()
        # Otherwise `_begin` ends it as soon as it has begun it.

    def _send(self) -> None:
        from lsprotocol import types

        if self.ended or self.last is None or self.server.shutting_down:
            return
        done, total, more = self.last
        if not more:
            self.ended = True
            message = f"{total} modules" if total else "stopped"
            self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            return
        percentage = done * 100 // total if total else 0
        if percentage == self.percentage:
            return
        self.percentage = percentage
        message = f"{done}/{total} modules" if total is not None else "listing modules"
        self.server.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=message, percentage=percentage))
