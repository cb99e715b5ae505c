"""The engine in a child process, so that no text can freeze, starve or crash the server.

LibCST's native parser holds the GIL for the whole of a parse (seconds for some legal code),
recurses on the C stack, and may take a gigabyte for a large file. Run in the server's own
process, one slow document would stop the message loop (no hover, no reply to anything), and a
crash or an exhausted memory would take every open document's diagnostics with it. So the
server's process only keeps texts and answers requests; parsing, linting and fixing happen in
`EngineProcess` children:

- each call has a time budget: past it, the child is killed (the only way to stop a native
  parse) and started again on the next call;
- a child that dies (signal, out of memory) raises `EngineCrashed` for that call only;
- the child's address space is capped, so a runaway allocation is a `MemoryError` there
  rather than the machine's out-of-memory killer choosing a process;
- a call in progress can be aborted from another thread (`$/cancelRequest`).

The child keeps one `DocumentLinter` per open document, so keystrokes stay incremental.
It is started with the parent's interpreter and module path, and never with the workspace's
folder on its path.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger("kerasfix.server")

# The child's address-space cap: half the machine's memory, at least 2 GiB. The engine takes
# about 735 bytes per source byte, so a text at the engine's size limit fits with room to spare.
MIN_MEMORY_LIMIT = 2 << 30
# How often a call checks whether it was aborted or should give way to other work.
GIVE_WAY_INTERVAL = 0.1
# How long the requests a call's prelude sends (the project's changes) may take.
PRELUDE_BUDGET = 30.0


class EngineError(Exception):
    """The engine raised in the child; the message says what."""


class EngineCrashed(EngineError):
    """The child died during the call (a signal, an abort, the out-of-memory killer)."""


class EngineTimeout(EngineError):
    """The call did not finish within its budget; the child was stopped."""


class EngineAborted(EngineError):
    """The call was aborted from another thread (the request was cancelled)."""


def engine_process(name: str) -> EngineProcess:
    """An engine process where the platform has what it needs (POSIX pipes as connections);
    elsewhere (Windows) the engine runs on the calling thread, as it did before it had a
    process of its own: no isolation, but a working server."""
    return EngineProcess(name) if os.name == "posix" else InProcessEngine(name)


def _memory_limit() -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return MIN_MEMORY_LIMIT * 4
    return max(MIN_MEMORY_LIMIT, total // 2)


class EngineProcess:
    """One child process running the engine; calls are serialized (one at a time)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._to_child: Connection | None = None
        self._from_child: Connection | None = None
        self._aborted = False
        self._closed = False
        # The token of the call in progress, and tokens of calls cancelled before their turn.
        self._current: object = None
        self._cancelled: set[object] = set()
        # How many children were started: a restart after a kill shows here (logs, tests).
        self.starts = 0
        # Requests to send before each call, given whether the child is new (not started yet,
        # or started again): the project's changes it lacks (`lsp_index.ProjectSync`).
        self.prelude: Callable[[bool], list[tuple]] | None = None

    @property
    def running(self) -> bool:
        """Whether a child is there (it keeps what earlier calls told it)."""
        process = self._process
        return process is not None and process.poll() is None

    # ----- calls -----------------------------------------------------------------------------

    def call(
        self,
        request: tuple,
        budget: float | None,
        token: object = None,
        give_way: Callable[[float], bool] | None = None,
    ) -> Any:
        """Send `request` (an operation name and its arguments) and wait for the answer.

        Raises `EngineTimeout` past `budget` seconds, `EngineCrashed` if the child died,
        `EngineAborted` if `abort()` was called meanwhile (for this call's `token`, or for any
        call without one), `EngineError` for an exception in the engine. `give_way`, asked
        with the seconds spent every tenth of a second, stops the call when it answers True
        (`EngineTimeout` too): other work is waiting."""
        with self._lock:
            if self._closed:
                raise EngineAborted("the server is shutting down")
            if token is not None and token in self._cancelled:
                self._cancelled.discard(token)
                raise EngineAborted("cancelled")
            self._aborted = False
            self._current = token
            try:
                self._send_prelude()
                return self._exchange(request, budget, give_way)
            finally:
                self._current = None

    def _send_prelude(self) -> None:
        if self.prelude is None:
            return
        for request in self.prelude(not self.running):
            try:
                self._exchange(request, PRELUDE_BUDGET, None)
            except EngineAborted:
                raise
            except EngineError as error:
                log.warning("%s engine: %s failed: %s", self.name, request[0], error)

    def _exchange(self, request: tuple, budget: float | None, give_way: Callable[[float], bool] | None) -> Any:
        to_child, from_child = self._ensure_started()
        started = time.monotonic()
        try:
            to_child.send(request)
            # Waiting in short steps sees an abort that came before the child was there to kill.
            while not (ready := from_child.poll(GIVE_WAY_INTERVAL)):
                spent = time.monotonic() - started
                if self._aborted or (budget is not None and spent >= budget) or (give_way is not None and give_way(spent)):
                    break
        except (OSError, EOFError, ValueError):
            ready = True  # a broken pipe: the child is gone; recv says so below
        if self._aborted or self._closed:
            self._stop()
            raise EngineAborted("cancelled")
        if not ready:
            self._stop()
            raise EngineTimeout(f"stopped after {time.monotonic() - started:.1f} s")
        try:
            status, value = from_child.recv()
        except (OSError, EOFError, ValueError):
            status, value = "crashed", self._stop()
        if status == "ok":
            return value
        if status == "crashed":
            raise EngineCrashed(_exit_description(value))
        raise EngineError(value)

    def send(self, request: tuple) -> None:
        """A request without an answer (forgetting a closed document); dropped if no child runs."""
        with self._lock:
            if self._process is None or self._to_child is None:
                return
            try:
                self._to_child.send(request)
                self._from_child.recv()  # type: ignore[union-attr]
            except (OSError, EOFError, ValueError):
                self._stop()

    def abort(self, token: object = None) -> None:
        """Stop the call in progress (from another thread): it raises `EngineAborted`. With a
        `token`, only that call is stopped: running, or when its turn comes."""
        if token is not None and token is not self._current:
            self._cancelled.add(token)
            return
        self._aborted = True
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    async def call_async(self, request: tuple, budget: float | None) -> Any:
        """`call` from the message loop, on an executor thread; cancelling the awaiting task
        (`$/cancelRequest`) stops the call in the engine too."""
        token = object()
        future = asyncio.get_running_loop().run_in_executor(None, self.call, request, budget, token)
        try:
            return await future
        except asyncio.CancelledError:
            self.abort(token)
            raise

    def close(self) -> None:
        """Stop the child for good (server shutdown); later calls raise `EngineAborted`."""
        self._closed = True
        self.abort()
        with self._lock:
            self._stop()

    # ----- the child -------------------------------------------------------------------------

    def _ensure_started(self) -> tuple[Connection, Connection]:
        if self._process is not None and self._process.poll() is None:
            return self._to_child, self._from_child  # type: ignore[return-value]
        self._stop()
        with _prestarted_lock:
            early = _prestarted.pop(self.name, None)
        self._process = early if early is not None and early.poll() is None else _spawn(_child_command())
        self.starts += 1
        self._to_child = Connection(os.dup(self._process.stdin.fileno()), readable=False)  # type: ignore[union-attr]
        self._from_child = Connection(os.dup(self._process.stdout.fileno()), writable=False)  # type: ignore[union-attr]
        self._process.stdin.close()  # type: ignore[union-attr]
        self._process.stdout.close()  # type: ignore[union-attr]
        log.debug("started the %s engine process (pid %d)", self.name, self._process.pid)
        return self._to_child, self._from_child

    def _stop(self) -> int | None:
        """Kill and reap the child; its exit status (negative: the signal), if there was one."""
        process, self._process = self._process, None
        for connection in (self._to_child, self._from_child):
            if connection is not None:
                connection.close()
        self._to_child = self._from_child = None
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a kill is not refused
            return None


class InProcessEngine(EngineProcess):
    """The engine's operations run on the calling thread, in the server's process. Budgets and
    aborts cannot stop a running parse here; an aborted call's answer is dropped."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._handler: _Handler | None = None

    @property
    def running(self) -> bool:
        return self._handler is not None

    def _exchange(self, request: tuple, budget: float | None, give_way: Callable[[float], bool] | None) -> Any:
        if self._handler is None:
            self._handler = _Handler()
        operation, *arguments = request
        try:
            answer = getattr(self._handler, operation)(*arguments)
        except MemoryError:
            raise EngineCrashed("the checking ran out of memory") from None
        except Exception as error:  # noqa: BLE001 - reported to the caller, as from a process
            raise EngineError(f"{type(error).__name__}: {error}") from None
        if self._aborted or self._closed:
            raise EngineAborted("cancelled")
        return answer

    def send(self, request: tuple) -> None:
        with self._lock:
            if self._handler is not None:
                operation, *arguments = request
                getattr(self._handler, operation)(*arguments)

    def abort(self, token: object = None) -> None:
        if token is not None and token is not self._current:
            self._cancelled.add(token)
            return
        self._aborted = True


def _child_command() -> list[str]:
    return [sys.executable, "-c", _BOOT, repr(_module_path()), str(_memory_limit()), str(os.getpid())]


# Children started before the server's own imports (`prestart`), waiting for their engine.
_prestarted: dict[str, subprocess.Popen[bytes]] = {}
_prestarted_lock = threading.Lock()


def prestart(name: str) -> None:
    """Start the child of the engine called `name` now, before the server has imported the
    protocol (about half of its start-up): the child imports and warms the engine meanwhile, on
    the other core, and the first `EngineProcess(name)` to need a child takes this one."""
    if os.name != "posix":
        return
    with _prestarted_lock:
        if name not in _prestarted:
            _prestarted[name] = _spawn(_child_command())


_spawn_requests: queue.SimpleQueue = queue.SimpleQueue()
_spawner: threading.Thread | None = None
_spawner_lock = threading.Lock()


def _spawn(command: list[str]) -> subprocess.Popen[bytes]:
    """Start a child from one thread that lives as long as the server: Linux sends the child
    its parent-death signal when the thread that started it ends, not only the process."""
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = threading.Thread(target=_run_spawner, name="kerasfix-spawner", daemon=True)
            _spawner.start()
    done: concurrent.futures.Future[subprocess.Popen[bytes]] = concurrent.futures.Future()
    _spawn_requests.put((command, done))
    return done.result()


def _run_spawner() -> None:
    while True:
        command, done = _spawn_requests.get()
        try:
            # The child's stray output (warnings) goes where the server's log goes.
            done.set_result(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True))
        except BaseException as error:  # noqa: BLE001 - handed to the thread that asked
            done.set_exception(error)


def _exit_description(status: int | None) -> str:
    if status is None:
        return "the checking process stopped"
    if status < 0:
        import signal

        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"the checking process crashed ({name})"
    return f"the checking process exited with status {status}"


def _module_path() -> list[str]:
    """The parent's module path without the working folder: the server runs in the user's
    workspace, whose files must never be imported."""
    try:
        here = os.getcwd()
    except OSError:  # started in a folder since deleted: no entry can name it
        return [entry for entry in sys.path if entry and os.path.isabs(entry)]
    return [entry for entry in sys.path if entry and os.path.abspath(entry) != here]


# The child's first line sets its module path before anything is imported (`python -c` puts the
# working folder first, and even the standard library's pure-Python modules could be shadowed
# from there), then starts the loop.
_BOOT = (
    "import sys; sys.path[:] = eval(sys.argv[1], {'__builtins__': {}}); "
    "from kerasfix.server.lsp_engine import child_main; child_main(int(sys.argv[2]), int(sys.argv[3]))"
)


# ----- inside the child ---------------------------------------------------------------------


def child_main(memory_limit: int, parent: int) -> None:
    _die_with(parent)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    except (ImportError, ValueError, OSError):
        pass
    requests = Connection(os.dup(0), writable=False)
    answers = Connection(os.dup(1), readable=False)
    # Nothing else may write to the answers' pipe: stray prints go to stderr.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from kerasfix.rules.engine import index_store

    # Project modules read by earlier servers and `kerasfix check` runs are not read again.
    index_store.use_folder(index_store.default_folder())
    handler = _Handler()
    # Import and load everything a lint needs while no request is waiting yet: a child is
    # started before its first call (`prestart`, `warm_up`), so the first lint finds it ready.
    # As in the server's process (`entry.py`): no collection while LibCST and the rules load,
    # then what they loaded stays out of later collections, which lints make often.
    gc.disable()
    try:
        handler.warm(requests)
    except Exception:  # noqa: BLE001 - the first real call reports what is broken
        pass
    finally:
        gc.collect()  # the warm-up lint's own garbage, before the rest is kept for good
        gc.freeze()
        gc.enable()
    while True:
        try:
            request = requests.recv()
        except (EOFError, OSError):
            return  # the server is gone
        operation, *arguments = request
        try:
            answer: tuple[str, Any] = ("ok", getattr(handler, operation)(*arguments))
        except MemoryError:
            answer = ("error", "the checking process ran out of memory")
        except Exception as error:  # noqa: BLE001 - reported to the server, which logs it
            import traceback

            answer = ("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
        try:
            answers.send(answer)
        except (OSError, ValueError):
            return
        if operation == "lint" and not requests.poll():
            # The findings are on their way: while no other request waits, get the document's
            # linter ready for the next edit.
            try:
                handler.prepare(arguments[0])
            except Exception:  # noqa: BLE001 - the next lint computes it, or reports what fails
                pass


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when the server's process ends, however it ends: a
    child stuck in a native parse never reads the end of its pipe, and would spin on alone."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        return  # not Linux: the pipe's end still stops a child that is not stuck
    if os.getppid() != parent:  # the server ended before the request was made
        os._exit(0)


class _Handler:
    """The operations a server can ask of its engine process."""

    def __init__(self) -> None:
        from .lsp_linting import DocumentLinter

        self._linters: dict[str, DocumentLinter] = {}
        self._new_linter = DocumentLinter
        self._project: Any = None

    def prepare(self, key: str) -> None:
        linter = self._linters.get(key)
        if linter is not None:
            linter.prepare()

    def lint(self, key: str, text: str, path: str | None, settings, full: bool = False) -> Any:
        """Lint a document's newest text (`full`: all of it, also when it did not change:
        a module it depends on did)."""
        linter = self._linters.get(key)
        if linter is None:
            linter = self._linters[key] = self._new_linter()
        return linter.lint(text, path, settings, full=full)

    @property
    def tracker(self) -> Any:
        if self._project is None:
            from .lsp_index import ProjectTracker

            self._project = ProjectTracker()
        return self._project

    def project(self, updates: list, track: bool) -> None:
        """Apply changes to the project index: open buffers' texts, closed buffers, files
        changed on disk (`track`: remember what the changed modules said before)."""
        self.tracker.apply(updates, track)

    def project_changes(self, open_paths: list[str]) -> tuple[list[str], bool]:
        """The open files whose findings may have changed with the changes applied since, and
        whether any module's classes, names or project facts changed."""
        return self.tracker.changes(open_paths)

    def index(self, folders: list[str], budget: float) -> tuple:
        """Read the workspace folders' projects for about `budget` seconds; once they are all
        read, keep what was read for the next server (see `index_store`)."""
        answer = self.tracker.index(folders, budget)
        if not answer[2]:
            from kerasfix.rules.engine.project import save_stores

            save_stores()
        return answer

    def forget(self, key: str) -> None:
        self._linters.pop(key, None)

    def fix(self, text: str, path: str | None, settings, unsafe: bool) -> str:
        from kerasfix.rules import fix

        return fix(text, path, settings, unsafe=unsafe).source

    def fix_cells(self, texts: list[str], path: str | None, settings, unsafe: bool) -> list[str]:
        from kerasfix.rules.engine.notebook import fix_cells

        return list(fix_cells(texts, path, settings, unsafe=unsafe).sources)

    def lint_file(self, path: str, settings) -> tuple[str, list] | str:
        """A workspace file's text and findings, or why it cannot be read."""
        from pathlib import Path

        from kerasfix.rules import lint

        from .files import SourceError, read_source

        try:
            source = read_source(Path(path))
        except SourceError as error:
            return str(error)
        return source.text, lint(source.text, path, settings)

    def warm(self, requests: Connection | None = None) -> None:
        """Import and run everything a lint needs once, before the first document arrives,
        and read the rules' data tables (a first lint would read those it needs), until a
        request waits on `requests`."""
        from kerasfix.rules import Settings, lint
        from kerasfix.rules.engine.tables import preload

        lint("import tensorflow as tf\nx = tf.reduce_sum(tf.ones(3))\n", "warm.py", Settings())
        preload(stop=requests.poll if requests is not None else lambda: False)


def warm_up(*engines: EngineProcess) -> None:
    """Start the engines, one after the other, on a background thread."""

    def run() -> None:
        for engine in engines:
            try:
                engine.call(("warm",), None)
            except EngineError as error:
                log.warning("starting the %s engine: %s", engine.name, error)

    threading.Thread(target=run, name="kerasfix-warm-up", daemon=True).start()
