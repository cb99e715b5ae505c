"""Whole-command speed of `kerasfix check --jobs 1`, as a ratio to a bare LibCST parse.

    python tests/bench_cli.py PATH [--repeat 5] [--output-format full] [-- extra check flags]

Both sides run as a fresh process of this interpreter, alternately, `--repeat` times each, and
the best time of each is compared:
- bare parse: start Python, `import libcst`, find every `*.py` under PATH, read it and
  `libcst.parse_module` it (files LibCST rejects are skipped, after the failed parse);
- check: `python -m kerasfix.server check --jobs 1 --no-cache PATH`: start-up, settings,
  discovery, the project index read from the files (nothing kept from an earlier run), linting,
  and the report written to a pipe (read and thrown away here);
- check with its store: the same with the project index's store (`--cache-dir`, a folder of its
  own filled by the warm-up run): what a second run of the same project costs.

The bare side also reports the time of its parse loop alone (no start-up, no import, no file
reading), to show what interpreter start and the LibCST import weigh. Not a test: machines here
are noisy, so it prints figures for a person to read instead of asserting a time; the CPU
time of each process (user + system) is printed beside the wall time, as it varies less when
other work shares the machine.

Both processes get compiled bytecode as an installed package has it (pip writes `.pyc` files;
LibCST's are there already): `PYTHONDONTWRITEBYTECODE` is dropped and the bytecode goes to a
folder outside the working tree (`--pycache`). `--no-bytecode` keeps the environment as it is
(where kerasfix's own modules may be compiled from source at every start).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
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


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall time, CPU time (user + system) and standard output of one process."""
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    elapsed = time.perf_counter() - start
    after = os.times()
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr)
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return elapsed, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output-format", default="full")
    parser.add_argument("--pycache", default=os.path.join(tempfile.gettempdir(), "kerasfix-bench-pycache"))
    parser.add_argument("--no-bytecode", action="store_true", help="leave PYTHONDONTWRITEBYTECODE as it is")
    parser.add_argument("extra", nargs="*", help="more flags for `check` (after `--`)")
    args = parser.parse_args()

    env = dict(os.environ)
    if not args.no_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = args.pycache
    bare_command = [sys.executable, "-c", BARE, args.path]
    base = [
        sys.executable, "-m", "kerasfix.server", "check", "--jobs", "1",
        "--output-format", args.output_format, *args.extra, args.path,
    ]
    check_command = [*base, "--no-cache"]
    store = tempfile.mkdtemp(prefix="kerasfix-bench-store-")
    stored_command = [*base, "--cache-dir", store]
    # Warm-up: compiled bytecode and the file system cache, for both sides; the store filled.
    run(bare_command, env)
    _, _, report = run(check_command, env)
    _, _, stored_report = run(stored_command, env)
    if stored_report != report:
        raise SystemExit("the report with the store differs from the report without it")

    bare_runs: list[tuple[float, float]] = []
    check_runs: list[tuple[float, float]] = []
    stored_runs: list[tuple[float, float]] = []
    inner_times: list[float] = []
    files = lines = 0
    for _ in range(args.repeat):
        elapsed, cpu, out = run(bare_command, env)
        files_, lines_, inner = out.split()
        files, lines = int(files_), int(lines_)
        bare_runs.append((elapsed, cpu))
        inner_times.append(float(inner))
        elapsed, cpu, _ = run(check_command, env)
        check_runs.append((elapsed, cpu))
        elapsed, cpu, _ = run(stored_command, env)
        stored_runs.append((elapsed, cpu))

    bare, check = min(w for w, _ in bare_runs), min(w for w, _ in check_runs)
    bare_cpu, check_cpu = min(c for _, c in bare_runs), min(c for _, c in check_runs)
    stored, stored_cpu = min(w for w, _ in stored_runs), min(c for _, c in stored_runs)
    inner = min(inner_times)
    bytecode = "as the environment has it" if args.no_bytecode else "compiled bytecode"
    print(f"files: {files} ({lines} lines), report: {len(report):,} characters ({args.output_format}), {bytecode}")
    print(f"bare parse, whole process: {bare:.2f}s wall, {bare_cpu:.2f}s CPU  (parse loop alone {inner:.2f}s)")
    print(f"kerasfix check --jobs 1:   {check:.2f}s wall, {check_cpu:.2f}s CPU  (no store)")
    print(f"ratio, whole processes:    {check / bare:.2f}x wall, {check_cpu / bare_cpu:.2f}x CPU")
    print(f"ratio to the parse loop:   {check / inner:.2f}x")
    print(f"with the index's store:    {stored:.2f}s wall ({stored / bare:.2f}x), {stored_cpu:.2f}s CPU ({stored_cpu / bare_cpu:.2f}x)")
    print(
        "runs, wall (bare / check / with store): "
        + ", ".join(f"{b:.2f}/{c:.2f}/{w:.2f}" for (b, _), (c, _), (w, _) in zip(bare_runs, check_runs, stored_runs))
    )
    shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
