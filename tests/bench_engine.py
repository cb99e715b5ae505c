"""Engine speed on a corpus, as ratios to a bare `libcst.parse_module` of the same files.

    python tests/bench_engine.py PATH [PATH ...] [--repeat 3]

Prints, per step, the best of `--repeat` runs: the bare parse, `lint` with every rule, `lint`
under generated settings (1,000 per-file-ignores and 20,000 excludes, none matching, so every
file is still linted: what the patterns cost), and building the project index of the same files
from scratch (each file's classes and names, read with `ast`). Not a test: machines here are
noisy, so it prints figures for a person to read instead of asserting a time.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from dataclasses import replace
from pathlib import Path

import libcst as cst

from kerasfix.rules import Settings, lint
from kerasfix.rules.engine.project import ProjectIndex, find_root

sys.setrecursionlimit(20_000)


def load(paths: list[str]) -> list[tuple[str, str]]:
    files = []
    for root in paths:
        for path in sorted(Path(root).rglob("*.py")) if Path(root).is_dir() else [Path(root)]:
            try:
                files.append((str(path), path.read_text(encoding="utf-8")))
            except (UnicodeDecodeError, OSError):
                continue
    return files


def best(repeat: int, step) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def generated_settings(root: str) -> Settings:
    """1,000 per-file-ignores and 20,000 excludes, as tools that write pyproject.toml produce,
    none of them matching the corpus."""
    ignores = {f"generated_{i}/*.py" if i % 2 else f"generated_{i}.py": ["KER601"] for i in range(1_000)}
    excludes = [
        (f"vendored_{i}", f"third_party/lib_{i}/*.py", f"*_generated_{i}.py", f"out_{i}/model.py")[i % 4]
        for i in range(20_000)
    ]
    settings = Settings.from_mapping({"per-file-ignores": ignores, "exclude": excludes})
    return replace(settings, root=root)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = load(args.paths)
    lines = sum(text.count("\n") for _, text in files)
    parsable = []
    for path, text in files:
        try:
            cst.parse_module(text)
            parsable.append((path, text))
        except Exception:  # noqa: BLE001 - files LibCST cannot parse are left out of both sides
            continue
    settings = Settings()

    def parse_all():
        for _, text in parsable:
            cst.parse_module(text)

    findings = 0

    def lint_all():
        nonlocal findings
        findings = 0
        for path, text in parsable:
            findings += len(lint(text, path, settings))

    def lint_all_generated():
        # The settings are built afresh, as each run of `kerasfix check` does: their patterns
        # are compiled within the step.
        settings = generated_settings(str(Path(args.paths[0]).resolve()))
        for path, text in parsable:
            if not settings.is_excluded(path):
                lint(text, path, settings)

    def index_all():
        # Fresh indexes, so that every module is read and parsed again.
        # Roots are looked up once per folder, as the engine's cache of indexes does.
        indexes: dict[Path, ProjectIndex] = {}
        roots: dict[Path, Path] = {}
        for path, _ in parsable:
            absolute = Path(path).resolve()
            root = roots.get(absolute.parent)
            if root is None:
                root = roots[absolute.parent] = find_root(absolute)
            index = indexes.get(root)
            if index is None:
                index = indexes[root] = ProjectIndex(root)
            name = index.module_name(absolute)
            if name is not None:
                index.module(name)

    lint_all()  # warm-up: rule tables load once per process
    parse = best(args.repeat, parse_all)
    engine = best(args.repeat, lint_all)
    generated = best(args.repeat, lint_all_generated)
    indexing = best(args.repeat, index_all)
    print(f"files: {len(parsable)} ({lines} lines), findings: {findings}")
    print(f"bare libcst parse: {parse:.2f}s  ({lines / parse:,.0f} lines/s)")
    print(f"kerasfix lint:     {engine:.2f}s  = {engine / parse:.2f}x the bare parse")
    print(
        f"lint with 1,000 per-file-ignores and 20,000 excludes: {generated:.2f}s"
        f"  = {generated / parse:.2f}x the bare parse"
    )
    print(f"project index build: {indexing:.2f}s  = {indexing / parse:.2f}x the bare parse")


if __name__ == "__main__":
    main()
