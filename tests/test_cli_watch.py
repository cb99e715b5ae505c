"""`kerasfix check --watch`, run as users run it: a report at start, one per change, exit 0 on Ctrl-C."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

# Generous: the machine running the tests may be busy.
TIMEOUT = 60

CLEAN = "import keras\nx = 1\n"
KERAS2 = "import keras\nx = keras.optimizers.Adam(lr=1)\n"
HEADER = re.compile(r"\[\d\d:\d\d:\d\d [AP]M\] (?P<message>.*)")
PASSED = ["All checks passed!"]
FOUND = [
    "a.py:2:27: KER601 [*] `lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`",
    "Found 1 error.",
    "[*] 1 fixable with the `--fix` option.",
]


class Watcher:
    """The `--watch` process, its standard output read line by line on a thread."""

    def __init__(self, folder: Path, *args: str) -> None:
        env = {**os.environ, "HOME": str(folder.parent / "home")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kerasfix.server", "check", "--watch", *args],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_report(self) -> tuple[str, list[str]]:
        """The message of the next header line and the lines printed after it, up to the
        summary that ends a report."""
        deadline = time.monotonic() + TIMEOUT
        header = self._line(deadline)
        match = HEADER.fullmatch(header)
        assert match is not None, header
        body = []
        while not body or body[-1] not in ("All checks passed!", "[*] 1 fixable with the `--fix` option."):
            body.append(self._line(deadline))
        return match["message"], body

    def report_with(self, body: list[str]) -> str:
        """The message of the first report whose lines are `body`, skipping the reports of
        changes seen half-written."""
        while True:
            message, lines = self.next_report()
            if lines == body:
                return message

    def _line(self, deadline: float) -> str:
        try:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail("no output from the watch process in time")
        if line is None:
            pytest.fail(f"the watch process ended: {self.process.wait(TIMEOUT)}, {self.process.stderr.read()}")
        return line

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(TIMEOUT)


@pytest.fixture
def folder(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "home").mkdir()
    return project


def test_reports_again_after_each_change_and_ends_on_ctrl_c(folder):
    (folder / "a.py").write_text(CLEAN)
    watcher = Watcher(folder, "--output-format", "concise", "--select", "KER601", ".")
    try:
        assert watcher.next_report() == ("Starting linter in watch mode...", PASSED)
        (folder / "a.py").write_text(KERAS2)
        assert watcher.report_with(FOUND) == "File change detected..."
        (folder / "a.py").write_text(CLEAN)
        assert watcher.report_with(PASSED) == "File change detected..."
        watcher.process.send_signal(signal.SIGINT)
        assert watcher.process.wait(TIMEOUT) == 0
        assert watcher.process.stderr.read() == ""
    finally:
        watcher.stop()


def test_ctrl_c_during_a_check_lets_it_finish_then_ends(folder):
    # Enough files that the first check is still running when Ctrl-C arrives.
    for number in range(400):
        (folder / f"m{number:03}.py").write_text(KERAS2)
    watcher = Watcher(folder, "--output-format", "concise", "--select", "KER601", ".")
    try:
        header = watcher._line(time.monotonic() + TIMEOUT)
        assert HEADER.fullmatch(header)["message"] == "Starting linter in watch mode..."
        watcher.process.send_signal(signal.SIGINT)
        assert watcher.process.wait(TIMEOUT) == 0
        rest = []
        while (line := watcher.lines.get(timeout=TIMEOUT)) is not None:
            rest.append(line)
        # The check that was running reported in full, and nothing went to stderr.
        assert len(rest) == 402
        assert rest[-2:] == ["Found 400 errors.", "[*] 400 fixable with the `--fix` option."]
        assert watcher.process.stderr.read() == ""
    finally:
        watcher.stop()


def test_a_change_to_pyproject_toml_checks_again_with_its_settings(folder):
    (folder / "a.py").write_text(KERAS2)
    watcher = Watcher(folder, "--output-format", "concise")
    try:
        assert watcher.report_with(FOUND) == "Starting linter in watch mode..."
        (folder / "pyproject.toml").write_text('[tool.kerasfix]\nignore = ["KER601"]\n')
        assert watcher.report_with(PASSED) == "File change detected..."
    finally:
        watcher.stop()


def test_cannot_watch_standard_input(folder):
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", "--watch", "-"],
        cwd=folder, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "kerasfix: error: --watch checks files: it cannot read standard input\n"
    )


def test_cannot_be_combined_with_add_noqa(folder):
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", "--watch", "--add-noqa", "."],
        cwd=folder, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "kerasfix: error: --watch cannot be combined with --add-noqa\n"
    )
