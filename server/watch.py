"""`check --watch`: check again whenever a file that can change the findings changes, as Ruff does."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence

import watchfiles

from .files import SUFFIXES

# How often the watcher hands back control while nothing changes. The first such return starts
# the first check: by then the watcher is running, so no change made after the first report is
# missed.
_IDLE_MS = 200


class ChecksFilter(watchfiles.DefaultFilter):
    """Python files, notebooks and the configuration, outside the folders every tool ignores
    (`.git`, `__pycache__`, `.venv`, ...)."""

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        name = os.path.basename(path)
        relevant = name.endswith((*SUFFIXES, ".ipynb")) or name == "pyproject.toml"
        return relevant and super().__call__(change, path)


def announce(message: str, stream=None) -> None:
    """A line with the time in front, as Ruff's watch mode prints it."""
    stream = stream or sys.stdout
    stream.write(f"[{time.strftime('%H:%M:%S %p')}] {message}\n")
    stream.flush()


def watch(paths: Sequence[str], run: Callable[[], object]) -> int:
    """Call `run` once, then after each batch of changes under `paths`, until Ctrl-C (exit 0).

    Ctrl-C does not interrupt a check: a KeyboardInterrupt raised while the check's worker
    processes are being waited for can leave their pool deadlocked on shutdown. It stops the
    watcher instead, which ends once the check in progress (if any) is done; a second Ctrl-C
    interrupts at once."""
    stop = threading.Event()

    def on_interrupt(signum: int, frame: object) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    started = False
    try:
        for changes in watchfiles.watch(
            *paths,
            watch_filter=ChecksFilter(),
            rust_timeout=_IDLE_MS,
            yield_on_timeout=True,
            stop_event=stop,
        ):
            if stop.is_set():
                break
            if not started:
                started = True
                announce("Starting linter in watch mode...")
                run()
            elif changes:
                announce("File change detected...")
                run()
    except KeyboardInterrupt:
        pass  # the second Ctrl-C: the end of watching, not an error
    finally:
        signal.signal(signal.SIGINT, previous)
    return 0
