"""Whole-command speed of `kerasfix check --jobs 1`, as a ratio to a bare LibCST parse.

    python tests/bench_cli.py PATH [--repeat 5] [--output-format full] [-- extra check flags]

Both sides run as a fresh process of this interpreter, alternately, `--repeat` times each, and
the best time of each is compared:
- bare parse: start Python, `import libcst`, find every `*.py` under PATH, read it and
  `libcst.parse_module` it (files LibCST rejects are skipped, after the failed parse);
- check: `python -m kerasfix.server check --jobs 1 PATH`: start-up, settings, discovery, the
  project index, linting, and the report written to a pipe (read and thrown away here).

The bare side also reports the time of its parse loop alone (no start-up, no import, no file
reading), to show what interpreter start and the LibCST import weigh. Not a test: machines here
are noisy, so it prints figures for a person to read instead of asserting a time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

BARE = r"""
import sys, time
from pathlib import Path
import libcst
sys.setrecursionlimit(20_000)
files = lines = 0
inner = 0.0
for path in sorted(Path(sys.argv[1]).rglob("*.py")):
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        continue
    start = time.perf_counter()
    try:
        libcst.parse_module(text)
    except Exception:
        pass
    inner += time.perf_counter() - start
    files += 1
    lines += text.count("\n")
print(files, lines, inner)
"""


def run(command: list[str]) -> tuple[float, str, int]:
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr)
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}")
    return elapsed, done.stdout, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output-format", default="full")
    parser.add_argument("extra", nargs="*", help="more flags for `check` (after `--`)")
    args = parser.parse_args()

    bare_command = [sys.executable, "-c", BARE, args.path]
    check_command = [
        sys.executable, "-m", "kerasfix.server", "check", "--jobs", "1",
        "--output-format", args.output_format, *args.extra, args.path,
    ]
    # Warm-up: compiled bytecode and the file system cache, for both sides.
    run(bare_command)
    _, report, _ = run(check_command)

    bare_times: list[float] = []
    inner_times: list[float] = []
    check_times: list[float] = []
    files = lines = 0
    for _ in range(args.repeat):
        elapsed, out, _ = run(bare_command)
        files_, lines_, inner = out.split()
        files, lines = int(files_), int(lines_)
        bare_times.append(elapsed)
        inner_times.append(float(inner))
        elapsed, _, _ = run(check_command)
        check_times.append(elapsed)

    bare, inner, check = min(bare_times), min(inner_times), min(check_times)
    print(f"files: {files} ({lines} lines), report: {len(report):,} characters ({args.output_format})")
    print(f"bare parse, whole process: {bare:.2f}s  (parse loop alone {inner:.2f}s)")
    print(f"kerasfix check --jobs 1:   {check:.2f}s")
    print(f"ratio, whole processes:    {check / bare:.2f}x")
    print(f"ratio to the parse loop:   {check / inner:.2f}x")
    print("runs (bare / check): " + ", ".join(f"{b:.2f}/{c:.2f}" for b, c in zip(bare_times, check_times)))


if __name__ == "__main__":
    main()
