"""The `kerasfix report` command: a migration report (HTML, or Markdown for a pull request).

It checks the files exactly as `kerasfix check` does (the same discovery, settings and worker
processes) and condenses the findings into what a migration plan needs: which backends the
project can run on and what blocks the others, the findings per rule family and per file, and
what `--fix` and `--unsafe-fixes` would change. The numbers per rule are `check --statistics`'s.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kerasfix.rules import SettingsError
from kerasfix.rules.engine.rule import BACKENDS
from kerasfix.rules.engine.settings import PyprojectError

from . import cli, output, report_html, report_markdown
from .report_summary import Checked, summarize

FORMATS = ("html", "markdown")


# ----- checking ------------------------------------------------------------------------------


def collect(args: argparse.Namespace) -> Checked:
    """Check `args.paths` as `kerasfix check` would; raises SettingsError/PyprojectError."""
    overrides = cli._overrides(args)
    config = Path(args.config) if args.config else None
    if config is not None and not config.is_file():
        raise SettingsError(f"--config {config}: no such file")
    cache = cli.SettingsCache(overrides, config)
    unchecked: list[tuple[str, str]] = []
    docs_url = cache.for_path(Path(args.paths[0] if args.paths else ".").absolute()).docs_url
    files = cli.collect_files(args.paths or ["."], cache, unchecked)
    jobs = args.jobs or os.cpu_count() or 1
    outcomes = cli._run_files(files, "check", args.unsafe_fixes, jobs, show_progress=True)
    reports = []
    for outcome in outcomes:
        if outcome.error is not None:
            unchecked.append((outcome.path, outcome.error))
            continue
        reports.append(
            output.FileReport(
                outcome.path, outcome.findings, outcome.text, outcome.cells, outcome.cell_texts, outcome.unsafe
            )
        )
    targets = frozenset().union(*(settings.target_backends for _, settings in files)) if files else BACKENDS
    return Checked(reports, unchecked, targets, docs_url)


# ----- the command ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: the current folder)")
    parser.add_argument(
        "--format", choices=FORMATS, default="html", help="html (a self-contained page) or markdown (default: html)"
    )
    parser.add_argument("--output-file", "-o", metavar="PATH", help="write the report to this file instead of stdout")
    parser.add_argument("--unsafe-fixes", action="store_true", help="count unsafe fixes as applied by --fix")
    parser.add_argument("--select", action="append", help="comma-separated codes or prefixes to enable; repeatable")
    parser.add_argument("--extend-select", action="append", help="codes to enable on top of the configuration")
    parser.add_argument("--ignore", action="append", help="comma-separated codes or prefixes to disable; repeatable")
    parser.add_argument("--target-backends", action="append", help="comma-separated subset of jax,tensorflow,torch")
    parser.add_argument("--keras-version", help="the oldest Keras 3 the code must run on (e.g. 3.0.5)")
    parser.add_argument("--config", help="a pyproject.toml to use instead of the nearest one")
    parser.add_argument("--jobs", "-j", type=int, default=0, help="processes to use (default: all cores)")


def run(args: argparse.Namespace) -> int:
    if args.jobs < 0:
        print("kerasfix: error: --jobs must be 0 (all cores) or more", file=sys.stderr)
        return cli.EXIT_ERROR
    try:
        checked = collect(args)
    except (SettingsError, PyprojectError) as error:
        print(f"kerasfix: error: {error}", file=sys.stderr)
        return cli.EXIT_ERROR
    for path, reason in checked.unchecked:
        print(f"kerasfix: error: {path}: {reason}", file=sys.stderr)
    summary = summarize(checked)
    target = Path(args.output_file) if args.output_file else None
    if args.format == "markdown":
        text = report_markdown.render(summary)
    else:
        # Links to the files are relative to where the page is.
        base = target.absolute().parent if target else Path.cwd()
        text = report_html.render(summary, checked.reports, base)
    if target is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as error:
            print(f"kerasfix: error: --output-file {target}: {error.strerror or error}", file=sys.stderr)
            return cli.EXIT_ERROR
    # As `check`: files that could not be checked make the result incomplete.
    return cli.EXIT_ERROR if checked.unchecked else cli.EXIT_CLEAN


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kerasfix report", description="Write a Keras 3 migration report.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
