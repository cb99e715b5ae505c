"""The `kerasfix` command: `check`, `rule`, `server` (Ruff's conventions)."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from kerasfix.rules import Finding, Settings, SettingsError, all_rules, fix, lint, rule_by_code
from kerasfix.rules.engine.model import SYNTAX_ERROR_CODE
from kerasfix.rules.engine import index_store
from kerasfix.rules.engine.notebook import Notebook, NotebookError, fix_notebook, lint_notebook, python_view
from kerasfix.rules.engine.project import save_stores
from kerasfix.rules.engine.settings import PyprojectError, find_pyproject, load_pyproject

from . import output
from .files import SUFFIXES, SourceError, decode, discover, read_source, write_source
from .noqa_writer import add_noqa_comments

VERSION = "0.1.0"

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

# Below this many files more than one worker process costs more than it saves.
_PARALLEL_THRESHOLD = 8

CRASHED = (
    "the checker's process died on this file (a crash in the parser, or out of memory): it was not checked"
)


@dataclass(frozen=True)
class Outcome:
    path: str
    findings: list[Finding]
    text: str | None = None  # the text the findings' positions refer to
    new_text: str | None = None
    fixed: int = 0
    error: str | None = None
    original: str | None = None
    # For notebooks: the cell (1-based) of each finding, whose positions are within that cell,
    # and each cell's source for code frames.
    cells: list[int] | None = None
    cell_texts: dict[int, str] | None = None
    # A problem to report without dropping the findings (a notebook checked but not rewritten).
    warning: str | None = None
    # In `fix`/`diff` mode: the (code, name) of each finding before fixing, so the summary can
    # tell the findings that fixing revealed from those a check reports.
    before: tuple[tuple[str, str], ...] | None = None
    # Whether unsafe fixes are enabled for this file (`--unsafe-fixes` or its settings).
    unsafe: bool = False


def _process(path: str, settings: Settings, mode: str, unsafe: bool) -> Outcome:
    """Check (and in `fix`/`diff` mode fix) one file; runs in worker processes too."""
    if path.endswith(".ipynb"):
        return _process_notebook(path, settings, mode, unsafe)
    try:
        source = read_source(Path(path))
    except SourceError as error:
        return Outcome(path, [], error=str(error))
    return _process_text(path, source.text, settings, mode, unsafe)


def _process_notebook(path: str, settings: Settings, mode: str, unsafe: bool, raw: str | None = None) -> Outcome:
    try:
        if raw is None:
            raw = Path(path).read_bytes().decode("utf-8")
        warning = None
        before = None
        if mode == "check":
            new_raw, fixed, remaining = raw, 0, lint_notebook(raw, path, settings)
        else:
            before = tuple((c.finding.code, c.finding.name) for c in lint_notebook(raw, path, settings))
            try:
                new_raw, fixed, remaining = fix_notebook(raw, path, settings, unsafe=unsafe)
            except NotebookError as error:  # its layout cannot be written back: check only
                new_raw, fixed, remaining = raw, 0, lint_notebook(raw, path, settings)
                warning = f"not rewritten: {error}"
        notebook = Notebook.parse(new_raw)
    except (OSError, UnicodeDecodeError, NotebookError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return Outcome(path, [], error=f"cannot check this notebook: {reason}")
    texts = {i + 1: notebook.cell_source(i) for i in notebook.code_cells}
    return Outcome(
        path,
        [c.finding for c in remaining],
        new_text=new_raw if mode != "check" else None,
        fixed=fixed,
        original=raw,
        cells=[c.cell for c in remaining],
        cell_texts=texts,
        warning=warning,
        before=before,
        unsafe=unsafe,
    )


def _process_text(path: str, text: str, settings: Settings, mode: str, unsafe: bool) -> Outcome:
    if mode == "check":
        return Outcome(path, lint(text, path, settings), text, unsafe=unsafe)
    result = fix(text, path, settings, unsafe=unsafe)
    before = tuple((f.code, f.name) for f in result.initial)
    return Outcome(
        path, result.remaining, result.source, result.source, result.applied, original=text, before=before,
        unsafe=unsafe,
    )


def _process_many(batch: list[tuple[str, Settings, bool]], mode: str) -> list[Outcome]:
    outcomes = [_process(path, settings, mode, unsafe) for path, settings, unsafe in batch]
    # The project modules read for this batch, for the next batch's process and the next run.
    save_stores()
    return outcomes


# ----- settings ------------------------------------------------------------------------------


class SettingsCache:
    """The settings of each folder's nearest pyproject.toml, read once, with flags on top."""

    def __init__(self, overrides: dict, base_config: Path | None) -> None:
        self.overrides = overrides
        self.base_config = base_config
        self._by_file: dict[Path, Settings] = {}
        self._pyproject_of_folder: dict[Path, Path | None] = {}
        self.errors: list[SettingsError] = []

    def for_path(self, path: Path) -> Settings:
        config = self.base_config or self._nearest_pyproject(path if path.is_dir() else path.parent)
        key = config or Path()
        settings = self._by_file.get(key)
        if settings is None:
            errors: list[SettingsError] = []
            settings = load_pyproject(config, errors) if config else Settings()
            overrides = dict(self.overrides)
            if "extend_select" in overrides:
                # `--extend-select` adds to the configuration's own `extend-select`.
                overrides["extend_select"] = settings.extend_select + overrides["extend_select"]
            settings = replace(settings, **overrides)
            self._by_file[key] = settings
            for error in errors:
                if isinstance(error, PyprojectError):
                    # As in Ruff, a pyproject.toml that cannot be read stops the command.
                    raise error
                if str(error) not in {str(e) for e in self.errors}:
                    self.errors.append(error)
                    # The message says what is done instead (the entry or setting is ignored).
                    print(f"kerasfix: warning: {error}", file=sys.stderr)
        return settings

    def _nearest_pyproject(self, folder: Path) -> Path | None:
        # Looked up once per folder: finding it reads every pyproject.toml on the way up, and a
        # generated one with thousands of patterns is large.
        if folder not in self._pyproject_of_folder:
            self._pyproject_of_folder[folder] = find_pyproject(folder)
        return self._pyproject_of_folder[folder]


def _code_list(values: Sequence[str] | str) -> tuple[str, ...]:
    """The codes of a repeated, comma-separated option (`--ignore A,B --ignore C`), in order."""
    texts = [values] if isinstance(values, str) else values
    return tuple(c.strip().upper() for text in texts for c in text.split(",") if c.strip())


def _overrides(args: argparse.Namespace) -> dict:
    mapping: dict = {}
    if args.select:
        mapping["select"] = list(_code_list(args.select))
    if args.extend_select:
        mapping["extend-select"] = list(_code_list(args.extend_select))
    if args.ignore:
        mapping["ignore"] = list(_code_list(args.ignore))
    if args.target_backends:
        mapping["target-backends"] = [b for text in args.target_backends for b in text.split(",") if b]
    if args.keras_version:
        mapping["keras-version"] = args.keras_version
    if args.unsafe_fixes:
        mapping["unsafe-fixes"] = True
    parsed = Settings.from_mapping(mapping, source="the command line")
    changed = {}
    for key in mapping:
        field = key.replace("-", "_")
        changed[field] = getattr(parsed, field)
    return changed


# ----- progress ------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on stderr, shown only on a terminal and for many files."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.done = 0
        self.enabled = enabled and total >= 20 and sys.stderr.isatty()

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.enabled:
            width = 30
            filled = width * self.done // max(self.total, 1)
            sys.stderr.write(f"\r[{'=' * filled}{' ' * (width - filled)}] {self.done}/{self.total} files")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


# ----- commands ------------------------------------------------------------------------------


def _run_files(
    files: list[tuple[Path, Settings]], mode: str, unsafe_flag: bool, jobs: int, show_progress: bool
) -> list[Outcome]:
    """Each file's outcome, in order, checked in worker processes (see `_run_isolated`)."""
    progress = Progress(len(files), show_progress)
    tasks = [(str(path), settings, unsafe_flag or settings.unsafe_fixes) for path, settings in files]
    try:
        outcomes = _run_isolated(tasks, mode, jobs, progress)
    except (OSError, NotImplementedError) as error:
        # No working process support here (no /dev/shm, no sem_open): check in this process.
        print(f"kerasfix: warning: cannot start worker processes ({error}); checking in this one", file=sys.stderr)
        progress = Progress(len(files), show_progress)
        outcomes = []
        for path, settings, unsafe in tasks:
            outcomes.append(_process(path, settings, mode, unsafe))
            progress.advance()
    progress.close()
    return outcomes


def _run_isolated(tasks: list[tuple[str, Settings, bool]], mode: str, jobs: int, progress: Progress) -> list[Outcome]:
    """Each task's outcome, in order, computed in worker processes even with `--jobs 1`.

    A file that crashes the parser (a native crash is a signal, not an exception) or exhausts
    memory then costs only its own result: the files left without one are checked again in
    fresh processes, in halves, until the file that kills its process is alone. That file gets
    an error naming it; every other file is reported as usual."""
    outcomes: dict[int, Outcome] = {}
    groups = [list(range(len(tasks)))] if tasks else []
    while groups:
        unfinished = _run_pool(groups.pop(), tasks, mode, jobs, outcomes, progress)
        if len(unfinished) == 1:
            outcomes[unfinished[0]] = Outcome(tasks[unfinished[0]][0], [], error=CRASHED)
            progress.advance()
        elif unfinished:
            half = len(unfinished) // 2
            groups += [unfinished[half:], unfinished[:half]]
    return [outcomes[index] for index in range(len(tasks))]


def _run_pool(
    group: list[int], tasks: list[tuple[str, Settings, bool]], mode: str, jobs: int,
    outcomes: dict[int, Outcome], progress: Progress,
) -> list[int]:
    """Check the files `group` indexes in a fresh pool, adding their outcomes to `outcomes`;
    return the indexes left without one because a worker process died."""
    size = max(1, min(32, len(group) // (jobs * 4)))
    batches = [group[i : i + size] for i in range(0, len(group), size)]
    workers = min(jobs, len(batches)) if len(group) >= _PARALLEL_THRESHOLD else 1
    unfinished: list[int] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = []
        for batch in batches:
            try:
                futures.append(pool.submit(_process_many, [tasks[i] for i in batch], mode))
            except BrokenProcessPool:
                # A worker died while batches were still being sent (a busy machine lets the
                # first ones finish early): the batches not sent are checked again too.
                unfinished += [index for rest in batches[len(futures) :] for index in rest]
                break
        for batch, future in zip(batches, futures):
            try:
                batch_outcomes = future.result()
            except BrokenProcessPool:
                unfinished += batch
                continue
            outcomes.update(zip(batch, batch_outcomes))
            progress.advance(len(batch_outcomes))
    return unfinished


def _plural(count: int, word: str, many: str | None = None) -> str:
    """`1 error`, `2 errors` (`many` for an irregular plural)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


class _Discard:
    """A stream that drops what is written: the output of `--silent`."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class _PipeSafe:
    """Standard output that ends quietly when the reader goes away (`kerasfix rule --all | head`):
    once a write meets a closed pipe, the rest of the output is dropped and the command ends
    with its usual exit code, without a traceback."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.closed_pipe = False

    def _closed(self) -> None:
        self.closed_pipe = True
        # What is still buffered goes to /dev/null when Python flushes it at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._closed()
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._closed()

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def check(args: argparse.Namespace) -> int:
    if args.watch:
        return _watch(args)
    try:
        overrides = _overrides(args)
    except SettingsError as error:
        print(f"kerasfix: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    config = Path(args.config) if args.config else None
    if config is not None and not config.is_file():
        print(f"kerasfix: error: --config {config}: no such file", file=sys.stderr)
        return EXIT_ERROR
    report_file = None
    if args.output_file:
        try:
            Path(args.output_file).parent.mkdir(parents=True, exist_ok=True)
            report_file = open(args.output_file, "w", encoding="utf-8")
        except OSError as error:
            print(f"kerasfix: error: --output-file {args.output_file}: {error.strerror or error}", file=sys.stderr)
            return EXIT_ERROR
    try:
        return _check(args, overrides, config, report_file)
    except PyprojectError as error:
        print(f"kerasfix: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if report_file is not None:
            report_file.close()


def _watch(args: argparse.Namespace) -> int:
    """Check the paths, then again on each change, until Ctrl-C."""
    paths = args.paths or ["."]
    if args.add_noqa:
        print("kerasfix: error: --watch cannot be combined with --add-noqa", file=sys.stderr)
        return EXIT_ERROR
    if args.stdin_filename or "-" in paths:
        print("kerasfix: error: --watch checks files: it cannot read standard input", file=sys.stderr)
        return EXIT_ERROR
    missing = [path for path in paths if not os.path.exists(path)]
    if missing:
        print(f"kerasfix: error: {missing[0]}: no such file or directory", file=sys.stderr)
        return EXIT_ERROR
    from .watch import watch  # its native watcher is loaded only for watch mode

    # Each run reads the configuration again, so a change to pyproject.toml takes effect.
    once = argparse.Namespace(**{**vars(args), "watch": False, "paths": paths})
    return watch(paths, lambda: check(once))


def collect_files(
    paths: list[str], cache: SettingsCache, errors: list[tuple[str, str]], force_exclude: bool = False
) -> list[tuple[Path, Settings]]:
    """The files to check under `paths`, each with its settings; a path that cannot be checked
    goes to `errors` with the reason."""
    files: list[tuple[Path, Settings]] = []
    for raw in paths:
        root = Path(raw)
        root_settings = cache.for_path(root.absolute())
        for path, problem in discover([root], root_settings.is_excluded, (*SUFFIXES, ".ipynb")):
            if problem is not None:
                errors.append((str(path), problem))
                continue
            settings = cache.for_path(path.absolute())
            # A path named on the command line is checked even when excluded, unless
            # --force-exclude (what pre-commit hooks and editors that name every file need).
            if (path != root or force_exclude) and settings.is_excluded(path):
                continue
            files.append((path, settings))
    return files


def _check(args: argparse.Namespace, overrides: dict, config: Path | None, report_file) -> int:
    cache = SettingsCache(overrides, config)
    index_store.use_folder(None if args.no_cache else Path(args.cache_dir) if args.cache_dir else index_store.default_folder())
    mode = "diff" if args.diff else "fix" if args.fix else "check"
    # As in Ruff, `--stdin-filename` without a path reads standard input.
    paths = args.paths or (["-"] if args.stdin_filename else ["."])
    errors: list[tuple[str, str]] = []
    outcomes: list[Outcome] = []
    quiet = args.quiet or args.silent

    if args.add_noqa and paths == ["-"]:
        print("kerasfix: error: --add-noqa writes files: it cannot read standard input", file=sys.stderr)
        return EXIT_ERROR
    if paths == ["-"]:
        name = args.stdin_filename or "-"
        settings = cache.for_path(Path(name).absolute() if args.stdin_filename else Path.cwd())
        try:
            text = decode(sys.stdin.buffer.read()).text
        except SourceError as error:
            if not args.silent:
                print(f"kerasfix: error: {name}: {error}", file=sys.stderr)
            return EXIT_ERROR
        if args.force_exclude and args.stdin_filename and settings.is_excluded(Path(name).absolute()):
            # An excluded file is left as it is: `--fix` hands its text back unchanged.
            if mode == "fix":
                sys.stdout.write(text)
            return EXIT_CLEAN
        unsafe = args.unsafe_fixes or settings.unsafe_fixes
        if name.endswith(".ipynb"):
            outcome = _process_notebook(name, settings, mode, unsafe, raw=text)
        else:
            outcome = _process_text(name, text, settings, mode, unsafe)
        outcomes.append(outcome)
        if mode == "fix":
            # The fixed code is the command's output, even with `--silent`.
            sys.stdout.write(outcome.new_text or text)
            sys.stdout.flush()
            stream = sys.stderr
        else:
            stream = sys.stdout
    else:
        stream = sys.stdout
        files = collect_files(paths, cache, errors, args.force_exclude)
        if not files and not errors and not args.silent:
            print("kerasfix: warning: No Python files found under the given path(s)", file=sys.stderr)
        jobs = args.jobs or os.cpu_count() or 1
        outcomes = _run_files(files, mode, args.unsafe_fixes, jobs, not quiet)
    save_stores()  # what this process read itself (standard input, no worker processes)
    if report_file is not None:
        stream = report_file
    if args.silent:
        stream = _Discard()

    if args.add_noqa:
        return _add_noqa(outcomes, errors, args.silent)

    reports: list[output.FileReport] = []
    fixed_total = 0
    diffs: list[str] = []
    applied: list[Outcome] = []
    for outcome in outcomes:
        if outcome.error is not None:
            errors.append((outcome.path, outcome.error))
            continue
        if outcome.warning is not None:
            errors.append((outcome.path, outcome.warning))
        reports.append(
            output.FileReport(
                outcome.path, outcome.findings, outcome.text, outcome.cells, outcome.cell_texts, outcome.unsafe
            )
        )
        if mode in ("fix", "diff") and outcome.fixed and outcome.new_text is not None:
            if mode == "diff":
                fixed_total += outcome.fixed
                applied.append(outcome)
                diffs.append(_diff(outcome.path, outcome.original or "", outcome.new_text))
                continue
            try:
                if paths != ["-"]:
                    source = read_source(Path(outcome.path))
                    if source.text != outcome.original:
                        raise SourceError("the file changed while it was being fixed; run again")
                    write_source(Path(outcome.path), source, outcome.new_text)
            except NotebookError as error:
                errors.append((outcome.path, f"not rewritten: {error}"))
            except (SourceError, OSError) as error:
                errors.append((outcome.path, f"cannot write the fix: {error}"))
            else:
                fixed_total += outcome.fixed
                applied.append(outcome)

    if not args.silent:
        for path, problem in errors:
            print(f"kerasfix: error: {path}: {problem}", file=sys.stderr)

    remaining = sum(len(r.findings) for r in reports)
    # Fixing runs again on the fixed code, so a fix can reveal a finding a check does not
    # report (e.g. a call fixed into one that another rule knows): such findings are counted
    # apart, so that the counts of `check`, `--diff` and `--fix` can be compared.
    revealed = sum(
        max(0, o.fixed + len(o.findings) - len(o.before)) for o in outcomes if o.before is not None and o.error is None
    )
    if mode == "diff":
        stream.write("".join(diffs))
        stream.flush()
        if not quiet:
            if fixed_total:
                after = f" ({revealed} found after fixing)" if revealed else ""
                print(
                    f"Would fix {_plural(fixed_total, 'error')} in {_plural(len(diffs), 'file')}{after}.",
                    file=sys.stderr,
                )
            else:
                print("No errors would be fixed.", file=sys.stderr)
        if errors:
            return EXIT_ERROR
        return EXIT_FINDINGS if (diffs and not args.exit_zero) else EXIT_CLEAN

    if args.statistics:
        if args.output_format == "json":
            stream.write(output.statistics_json(reports))
        else:
            stream.write(output.statistics(reports))
    else:
        # The rule links' base: the `docs-url` of the settings of the first path checked.
        docs_url = cache.for_path(Path(args.stdin_filename or paths[0]).absolute()).docs_url
        stream.write(output.render([r for r in reports if r.findings], args.output_format, VERSION, docs_url))
    if args.show_fixes and mode == "fix" and not quiet and args.output_format in ("full", "concise"):
        stream.write(_fixes_applied(applied))
    if args.output_format in ("full", "concise") and not quiet:
        _summary(remaining, fixed_total, reports, mode, stream, unchecked=len(errors), revealed=revealed)
    stream.flush()
    if errors:
        return EXIT_ERROR
    if remaining and not args.exit_zero:
        return EXIT_FINDINGS
    if args.exit_non_zero_on_fix and fixed_total:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _add_noqa(outcomes: list[Outcome], errors: list[tuple[str, str]], silent: bool) -> int:
    """Write a noqa comment for each line with findings, then say how many, as Ruff does."""
    added = 0
    warnings: list[tuple[str, str]] = []
    for outcome in outcomes:
        if outcome.error is not None:
            errors.append((outcome.path, outcome.error))
            continue
        if outcome.cells is not None:
            original = outcome.original or ""
            try:
                new_text, count, skipped = _noqa_in_cells(outcome)
            except NotebookError as error:
                errors.append((outcome.path, f"not rewritten: {error}"))
                continue
        else:
            original = outcome.text or ""
            edit = add_noqa_comments(original, outcome.findings)
            new_text, count, skipped = edit.text, edit.added, [f"{outcome.path}:{line}" for line in edit.skipped]
        for where in skipped:
            warnings.append((where, "no noqa comment added: the line ends inside a string or a continuation"))
        if new_text == original:
            continue
        try:
            source = read_source(Path(outcome.path))
            if source.text != original:
                raise SourceError("the file changed while it was being checked; run again")
            write_source(Path(outcome.path), source, new_text)
        except (SourceError, OSError) as error:
            errors.append((outcome.path, f"cannot write the noqa comments: {error}"))
        else:
            added += count
    if not silent:
        for path, problem in warnings:
            print(f"kerasfix: warning: {path}: {problem}", file=sys.stderr)
        for path, problem in errors:
            print(f"kerasfix: error: {path}: {problem}", file=sys.stderr)
        if added:
            print(f"Added {_plural(added, 'noqa directive')}.", file=sys.stderr)
    return EXIT_ERROR if errors else EXIT_CLEAN


def _noqa_in_cells(outcome: Outcome) -> tuple[str, int, list[str]]:
    """The notebook's text with noqa comments added in its code cells, how many, and the
    places (`path:cell N:line`) where none could go."""
    by_cell: dict[int, list[Finding]] = {}
    for cell, finding in zip(outcome.cells or (), outcome.findings):
        by_cell.setdefault(cell, []).append(finding)
    sources: dict[int, str] = {}
    added = 0
    skipped = []
    for cell, findings in sorted(by_cell.items()):
        text = (outcome.cell_texts or {})[cell]
        edit = add_noqa_comments(text, findings, python_view(text))
        skipped += [f"{outcome.path}:cell {cell}:{line}" for line in edit.skipped]
        if edit.text != text:
            sources[cell - 1] = edit.text
            added += edit.added
    if not sources:
        return outcome.original or "", 0, skipped
    # Raises NotebookError when the file's JSON layout cannot be written back as it was.
    return Notebook.parse(outcome.original or "").with_sources(sources), added, skipped


def _fixes_applied(applied: list[Outcome]) -> str:
    """The fixes applied, per file and rule, as Ruff's `--show-fixes` lists them."""
    total = sum(o.fixed for o in applied)
    if not total:
        return "\nNo errors fixed.\n"
    lines = ["", f"Fixed {_plural(total, 'error')}:"]
    for outcome in applied:
        before = Counter(outcome.before or ())
        after = Counter((f.code, f.name) for f in outcome.findings)
        rows = [(count, code, name) for (code, name), count in (before - after).items()]
        listed = sum(count for count, _, _ in rows)
        lines.append(f"- {outcome.path}:")
        width = len(str(max([count for count, _, _ in rows] + [outcome.fixed - listed, 1])))
        for count, code, name in sorted(rows, key=lambda row: (-row[0], row[1])):
            lines.append(f"    {count:>{width}} × {code} ({name})")
        if outcome.fixed > listed:
            lines.append(f"    {outcome.fixed - listed:>{width}} × found after fixing")
    return "".join(line + "\n" for line in lines) + "\n"


def _summary(
    remaining: int, fixed: int, reports, mode: str, stream, unchecked: int = 0, revealed: int = 0
) -> None:
    if remaining == 0 and fixed == 0:
        if unchecked:
            # The files that could not be read were not checked: "all passed" would be untrue.
            stream.write(
                f"No errors found; {_plural(unchecked, 'file')} could not be checked (the errors above say why).\n"
            )
        else:
            stream.write("All checks passed!\n")
        return
    if mode == "fix":
        after = f"; {revealed} found after fixing" if revealed else ""
        stream.write(
            f"Found {_plural(remaining + fixed, 'error')} ({fixed} fixed, {remaining} remaining{after}).\n"
        )
    else:
        stream.write(f"Found {_plural(remaining, 'error')}.\n")
    # What `--fix` would apply (unsafe fixes too where they are enabled), and what it would not.
    safe = sum(1 for r in reports for f in r.findings if output.fixable(f, r.unsafe))
    unsafe = sum(1 for r in reports for f in r.findings if f.fix is not None and not output.fixable(f, r.unsafe))
    hidden = (
        f"{_plural(unsafe, 'hidden fix', 'hidden fixes')} can be enabled with the `--unsafe-fixes` option"
    )
    if mode == "check" and safe:
        stream.write(f"[*] {safe} fixable with the `--fix` option")
        stream.write(f" ({hidden}).\n" if unsafe else ".\n")
    elif mode == "check" and unsafe:
        stream.write(f"No fixes available ({hidden}).\n")
    syntax = sum(1 for r in reports for f in r.findings if f.code == SYNTAX_ERROR_CODE)
    if syntax:
        stream.write(f"{_plural(syntax, 'file')} {'was' if syntax == 1 else 'were'} not parsed and left unchanged.\n")
    if unchecked:
        stream.write(f"{_plural(unchecked, 'file')} could not be checked (the errors above say why).\n")


def _diff(path: str, before: str, after: str) -> str:
    old, new = (path, path) if Path(path).is_absolute() else (f"a/{path}", f"b/{path}")
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), old, new)
    text = "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)
    return text


def rule(args: argparse.Namespace) -> int:
    if args.all:
        for item in all_rules():
            sys.stdout.write(item.docs() + "\n")
        sys.stdout.flush()
        return EXIT_CLEAN
    if not args.code:
        print("kerasfix: error: give a rule code (e.g. KER201) or --all", file=sys.stderr)
        return EXIT_ERROR
    found = rule_by_code(args.code)
    if found is None:
        print(f"kerasfix: error: no rule {args.code!r}; `kerasfix rule --all` lists them", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(found.docs())
    sys.stdout.flush()
    return EXIT_CLEAN


def server(rest: Sequence[str]) -> int:
    from . import lsp

    return lsp.main(list(rest))


# ----- argument parsing ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kerasfix",
        description="Find and fix Keras 2 -> Keras 3 migration problems and multi-backend pitfalls.",
    )
    parser.add_argument("--version", "-V", action="version", version=f"kerasfix {VERSION}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    c = commands.add_parser("check", help="check files and folders (the default command)")
    c.add_argument("paths", nargs="*", metavar="PATH", help="files or folders; `-` reads standard input")
    # As in Ruff, `--add-noqa` cannot be combined with fixing.
    writes = c.add_mutually_exclusive_group()
    writes.add_argument("--fix", action="store_true", help="apply safe fixes, writing the files")
    writes.add_argument(
        "--add-noqa", action="store_true", help="add a `# noqa: CODE` comment to each line with findings"
    )
    c.add_argument(
        "--watch", "-w", action="store_true", help="check again whenever a Python file or the configuration changes"
    )
    c.add_argument("--unsafe-fixes", action="store_true", help="apply unsafe fixes too")
    writes.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    c.add_argument("--show-fixes", action="store_true", help="with --fix: list the fixes applied, per file and rule")
    c.add_argument(
        "--force-exclude",
        action="store_true",
        help="apply exclude and extend-exclude to paths named on the command line and --stdin-filename too",
    )
    c.add_argument(
        "--exit-non-zero-on-fix", action="store_true", help="exit 1 when a fix was applied, even if nothing remains"
    )
    # Repeated options add up, as comma-separated lists do.
    c.add_argument(
        "--select", action="append", help="comma-separated codes or prefixes to enable (e.g. KER2,KER601); repeatable"
    )
    c.add_argument("--extend-select", action="append", help="codes to enable on top of the configuration; repeatable")
    c.add_argument("--ignore", action="append", help="comma-separated codes or prefixes to disable; repeatable")
    c.add_argument("--target-backends", action="append", help="comma-separated subset of jax,tensorflow,torch")
    c.add_argument("--keras-version", help="the oldest Keras 3 the code must run on (e.g. 3.0.5)")
    c.add_argument(
        "--output-format",
        choices=output.FORMATS,
        default="full",
        metavar="FORMAT",
        help=f"how findings are printed: {', '.join(output.FORMATS)} (default: full)",
    )
    c.add_argument("--output-file", "-o", metavar="PATH", help="write the report to this file instead of stdout")
    c.add_argument("--statistics", action="store_true", help="count findings per rule")
    c.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    c.add_argument(
        "--stdin-filename", help="the file name to use for standard input (read when no PATH is given)"
    )
    c.add_argument("--config", help="a pyproject.toml to use instead of the nearest one")
    c.add_argument("--jobs", "-j", type=int, default=0, help="processes to use (default: all cores)")
    c.add_argument(
        "--cache-dir", metavar="PATH",
        help="where to keep what was read of the project's modules between runs "
        "(default: $KERASFIX_CACHE_DIR, else ~/.cache/kerasfix)",
    )
    c.add_argument("--no-cache", action="store_true", help="read every project module afresh; keep nothing")
    c.add_argument("--quiet", "-q", action="store_true", help="print findings only: no progress, no summary")
    c.add_argument("--silent", "-s", action="store_true", help="print nothing; only the exit code tells")

    r = commands.add_parser("rule", help="explain a rule")
    r.add_argument("code", nargs="?", help="a rule code such as KER201, or its name")
    r.add_argument("--all", action="store_true", help="print every rule's docs")

    from . import report

    report.add_arguments(commands.add_parser("report", help="write a migration report (HTML or Markdown)"))

    s = commands.add_parser("server", help="run the language server on stdio", add_help=False)
    s.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "server":
        return server(argv[1:])
    parser = build_parser()
    if not argv or (argv[0] not in ("check", "rule", "report", "server", "-h", "--help", "--version", "-V")):
        argv = ["check", *argv]
    stdout = sys.stdout
    sys.stdout = _PipeSafe(stdout)
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:
            return EXIT_ERROR if exit_.code not in (0, None) else EXIT_CLEAN
        if args.command == "rule":
            return rule(args)
        if args.command == "report":
            from . import report

            return report.run(args)
        if args.jobs is not None and args.jobs < 0:
            print("kerasfix: error: --jobs must be 0 (all cores) or more", file=sys.stderr)
            return EXIT_ERROR
        try:
            return check(args)
        except KeyboardInterrupt:
            return 130
    finally:
        sys.stdout.flush()
        sys.stdout = stdout


if __name__ == "__main__":
    sys.exit(main())
