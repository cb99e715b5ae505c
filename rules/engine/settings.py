"""Settings: `[tool.kerasfix]` in pyproject.toml, command-line flags and editor settings.

Every source produces the same `Settings`; a bad key or value becomes a `SettingsError` that names
it, and `Settings.from_mapping(..., errors=list)` collects those errors, so a front end can report
them and go on: a bad entry of a list or table (`select[1] = "KER999"`) is dropped and the others
apply; a bad setting is ignored as a whole. Each collected error says which of the two happened.

A pyproject.toml that cannot be read at all is a `PyprojectError` (naming the file, and the line
and column where the TOML is wrong): collected like the others by `load_pyproject(path, errors)`,
so the language server shows it and goes on with the defaults; the command line stops on it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .model import DOCS_URL, Severity
from .patterns import PathPatterns
from .codes import rule_names
from .rule import BACKENDS
from .syntax import MAX_FILE_SIZE

# The newest Keras release the rules know about. "latest" means this.
LATEST_KERAS = (3, 15, 1)

_CODE = re.compile(r"^(ALL|KER\d{0,3})$")
_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?$")
# Paths whose exclusion and ignored codes each settings object remembers (a walk asks for every
# file; the server for each open document on every lint).
_PATHS_REMEMBERED = 4096
# Deeper arrays and tables than a pyproject.toml ever needs (kerasfix's own go three deep).
_MAX_NESTING = 100


class SettingsError(ValueError):
    def __init__(
        self,
        key: str,
        problem: str,
        source: str | None = None,
        usable: Any = None,
        entries: tuple[SettingsError, ...] = (),
    ) -> None:
        where = f" in {source}" if source else ""
        super().__init__(f"invalid setting `{key}`{where}: {problem}")
        self.key = key
        self.problem = problem
        self.source = source
        # What is left of the value without its bad entries (None: nothing usable), used when
        # errors are collected rather than raised: one bad code does not void the others.
        self.usable = usable
        # One error per bad entry, each saying that its entry is ignored: what is collected
        # instead of this error, which names them all and is what is raised.
        self.entries = entries


class PyprojectError(SettingsError):
    """A pyproject.toml that cannot be read: not UTF-8, not TOML, nested too deeply, unreadable.

    `line` and `column` (1-based) say where the text goes wrong, when the reader says."""

    def __init__(self, path: Path, reason: str, line: int | None = None, column: int | None = None) -> None:
        at = f", line {line}, column {column}" if line is not None and column is not None else ""
        super().__init__("tool.kerasfix", f"cannot read {path}{at}: {reason}")
        self.path = path
        self.line = line
        self.column = column


def parse_version(text: str) -> tuple[int, int, int]:
    match = _VERSION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a version like 3.0.5")
    major, minor, patch = (int(g) if g else 0 for g in match.groups())
    return (major, minor, patch)


@dataclass(frozen=True, eq=False)
class Settings:
    select: tuple[str, ...] = ("KER",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    target_backends: frozenset[str] = BACKENDS
    keras_version: tuple[int, int, int] = LATEST_KERAS
    severity: tuple[tuple[str, Severity], ...] = ()
    # Texts longer than this many characters are not checked (KER002): LibCST's memory grows
    # with the size (see rules/engine/syntax.py).
    max_file_size: int = MAX_FILE_SIZE
    # The base of the rules' documentation links (JSON `url`, SARIF `helpUri`, LSP
    # `codeDescription`); the linting itself does not read it.
    docs_url: str = DOCS_URL
    # Where the settings came from (a pyproject.toml path), for messages.
    origin: str | None = field(default=None, compare=False)
    # The folder that relative `exclude` and `per-file-ignores` patterns start from.
    root: str | None = field(default=None, compare=False)

    # ----- rule selection ------------------------------------------------------------------

    def enabled(self, code: str) -> bool:
        selected = _longest_match(code, self.select + self.extend_select)
        ignored = _longest_match(code, self.ignore)
        if selected < 0:
            return False
        return ignored < selected or ignored < 0

    def ignored_for_path(self, code: str, path: str | None) -> bool:
        if not path or not self.per_file_ignores:
            return False
        ignored = self._ignored_codes(str(path))
        # `code` is ignored when one of its prefixes (or ALL) is: as many lookups as it has letters.
        return "ALL" in ignored or any(code[:end] in ignored for end in range(len(code) + 1))

    def is_excluded(self, path: str | Path) -> bool:
        if not (self.exclude or self.extend_exclude):
            return False
        return self._excluded(str(path))

    # ----- compiled patterns and what they said about each path, built once per object ------------

    @cached_property
    def _exclude_patterns(self) -> PathPatterns:
        return PathPatterns(self.exclude + self.extend_exclude, self.root)

    @cached_property
    def _excluded(self) -> Callable[[str], bool]:
        return lru_cache(maxsize=_PATHS_REMEMBERED)(self._exclude_patterns.matches)

    @cached_property
    def _ignored_codes(self) -> Callable[[str], frozenset[str]]:
        codes_of: dict[str, frozenset[str]] = {}
        for pattern, codes in self.per_file_ignores:
            codes_of[pattern] = codes_of.get(pattern, frozenset()).union(codes)
        patterns = PathPatterns(codes_of, self.root)

        def codes_ignored_in(path: str) -> frozenset[str]:
            return frozenset().union(*(codes_of[pattern] for pattern in patterns.matching(path)))

        return lru_cache(maxsize=_PATHS_REMEMBERED)(codes_ignored_in)

    def severity_for(self, code: str, default: Severity) -> Severity:
        best, level = -1, default
        for prefix, value in self.severity:
            if code.startswith(prefix) and len(prefix) > best:
                best, level = len(prefix), value
        return level

    # ----- comparing -------------------------------------------------------------------------
    # Settings are compared on every lint (has the document's configuration changed?) and may
    # hold tens of thousands of patterns: the hash is computed once, and settings whose hashes
    # differ are unequal without looking at their patterns.

    @cached_property
    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self) if f.compare)

    @cached_property
    def _hash(self) -> int:
        return hash(self._compared)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._hash == other._hash and self._compared == other._compared

    def __getstate__(self) -> dict[str, Any]:
        # Sent to worker processes: the fields only; each process compiles its own patterns.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # ----- building ------------------------------------------------------------------------

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        base: Settings | None = None,
        source: str | None = None,
        errors: list[SettingsError] | None = None,
    ) -> Settings:
        """Settings from `[tool.kerasfix]`-shaped data (kebab-case or camelCase keys).

        With `errors` given, bad entries are collected there and skipped; without it the first
        one raises.
        """
        settings = base or cls()
        changes: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = _KEY_ALIASES.get(raw_key, raw_key)
            try:
                parser = _PARSERS.get(key)
                if parser is None:
                    known = ", ".join(sorted(_PARSERS))
                    raise SettingsError(raw_key, f"unknown key (known keys: {known})", source)
                changes[key.replace("-", "_")] = parser(raw_key, value, source)
            except SettingsError as error:
                if errors is None:
                    raise
                if error.usable is not None:
                    changes[key.replace("-", "_")] = error.usable
                errors.extend(error.entries or [_whole_setting_ignored(error)])
        if source is not None:
            changes.setdefault("origin", source)
        return replace(settings, **changes)


def _longest_match(code: str, prefixes: Iterable[str]) -> int:
    best = -1
    for prefix in prefixes:
        if prefix == "ALL":
            best = max(best, 0)
        elif code.startswith(prefix):
            best = max(best, len(prefix))
    return best


def _whole_setting_ignored(error: SettingsError) -> SettingsError:
    return SettingsError(error.key, f"{error.problem}; the setting is ignored", error.source)


def _codes(key: str, value: Any, source: str | None) -> tuple[str, ...]:
    in_text = isinstance(value, str)
    if in_text:
        value = [v for v in re.split(r"[,\s]+", value) if v]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise SettingsError(key, "expected a list of rule codes such as [\"KER2\", \"KER101\"]", source)
    codes = [v.strip().upper() for v in value]
    malformed = [v for v, code in zip(value, codes) if not _CODE.match(code)]
    unknown = _unknown_codes([c for c in codes if _CODE.match(c)])
    good = tuple(c for c in codes if _CODE.match(c) and c not in unknown)
    if not (malformed or unknown):
        return good
    entries = []
    for index, (entry, code) in enumerate(zip(value, codes)):
        if _CODE.match(code) and code not in unknown:
            continue
        label = f"{_quoted(entry)} in `{key}`" if in_text else f"`{key}[{index}]` = {_quoted(entry)}"
        why = (
            "an unknown rule code: codes look like KER201, prefixes like KER2"
            if not _CODE.match(code)
            else f"no rule's code starts with {code}"
        )
        if good:
            outcome = "that entry is ignored"
        else:
            outcome = f"that entry is ignored, and `{key}` has no other, so it is ignored as a whole"
        entries.append(SettingsError(key, f"{label} is not a rule code or prefix ({why}): {outcome}", source))
    if malformed:
        problem = f"unknown rule code(s) {', '.join(map(repr, malformed))}: codes look like KER201 or a prefix like KER2"
    else:
        problem = f"no rule has the code(s) {', '.join(unknown)}"
    raise SettingsError(key, problem, source, usable=good or None, entries=tuple(entries))


def _quoted(text: str) -> str:
    """`text` as a TOML string, as the user wrote it in pyproject.toml."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unknown_codes(codes: list[str]) -> list[str]:
    known = list(rule_names())
    return [c for c in codes if c != "ALL" and not any(k.startswith(c) for k in known)]


def _globs(key: str, value: Any, source: str | None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise SettingsError(key, "expected a list of glob patterns", source)
    return tuple(value)


def _per_file(key: str, value: Any, source: str | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, Mapping):
        raise SettingsError(key, 'expected a table of glob = ["KER..."]', source)
    out = []
    problems: list[SettingsError] = []
    for pattern, codes in value.items():
        try:
            out.append((pattern, _codes(f"{key}.{_table_key(pattern)}", codes, source)))
        except SettingsError as problem:
            problems.append(problem)
            # The pattern keeps its good codes; a pattern without any is dropped.
            if problem.usable:
                out.append((pattern, problem.usable))
    if problems:
        _raise_entries(problems, source, tuple(out) or None)
    return tuple(out)


def _table_key(key: str) -> str:
    """A key of a TOML table as it is written: bare when it can be, quoted otherwise."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _quoted(key)


def _raise_entries(problems: list[SettingsError], source: str | None, usable: tuple | None) -> None:
    """Raise the first problem of a table's entries (naming them all when collected)."""
    first = problems[0]
    entries = tuple(e for problem in problems for e in (problem.entries or [_entry_ignored(problem)]))
    raise SettingsError(first.key, first.problem, source, usable=usable, entries=entries)


def _entry_ignored(error: SettingsError) -> SettingsError:
    return SettingsError(error.key, f"{error.problem}: that entry is ignored", error.source)


def _size(key: str, value: Any, source: str | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SettingsError(key, f"expected a number of characters greater than 0, got {value!r}", source)
    return value


def _bool(key: str, value: Any, source: str | None) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(key, f"expected true or false, got {value!r}", source)
    return value


def _backends(key: str, value: Any, source: str | None) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise SettingsError(key, f"expected a non-empty list drawn from {sorted(BACKENDS)}", source)
    names = [str(v).strip().lower() for v in value]
    names = ["tensorflow" if n == "tf" else "torch" if n == "pytorch" else n for n in names]
    bad = [n for n in names if n not in BACKENDS]
    if bad:
        raise SettingsError(key, f"unknown backend(s) {', '.join(map(repr, bad))}; use {sorted(BACKENDS)}", source)
    return frozenset(names)


def _keras_version(key: str, value: Any, source: str | None) -> tuple[int, int, int]:
    if value == "latest":
        return LATEST_KERAS
    try:
        version = parse_version(str(value))
    except ValueError as error:
        raise SettingsError(key, f"{error} (or \"latest\")", source) from None
    if version[0] != 3:
        raise SettingsError(key, f"{value!r}: kerasfix targets Keras 3 (3.0.0 or newer)", source)
    return version


def _severities(key: str, value: Any, source: str | None) -> tuple[tuple[str, Severity], ...]:
    if not isinstance(value, Mapping):
        raise SettingsError(key, 'expected a table such as { KER2 = "error" }', source)
    out = []
    problems: list[SettingsError] = []
    for code, level in value.items():
        entry = f"{key}.{_table_key(code)}"
        if not _CODE.match(code.strip().upper()) or _unknown_codes([code.strip().upper()]):
            why = (
                "an unknown rule code: codes look like KER201, prefixes like KER2"
                if not _CODE.match(code.strip().upper())
                else f"no rule's code starts with {code.strip().upper()}"
            )
            problems.append(SettingsError(entry, f"{_quoted(code)} is not a rule code or prefix ({why})", source))
            continue
        try:
            out.append((code.strip().upper(), Severity(str(level).lower())))
        except ValueError:
            problems.append(SettingsError(entry, f"{level!r} is not one of error, warning, info, hint", source))
    if problems:
        # The first bad entry is raised; collected, each is reported and the good ones apply.
        _raise_entries(problems, source, tuple(out) or None)
    return tuple(out)


def _docs_url(key: str, value: Any, source: str | None) -> str:
    if not isinstance(value, str):
        raise SettingsError(key, f"expected a URL such as \"https://docs.example.org/kerasfix/\", got {value!r}", source)
    parsed = urlsplit(value.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
        raise SettingsError(key, f"{value!r} is not an http(s) URL without a query or fragment", source)
    # Rule pages are `<base><code>-<name>/`: the base is a folder.
    return parsed.geturl() if parsed.path.endswith("/") else parsed.geturl() + "/"


_PARSERS = {
    "select": _codes,
    "ignore": _codes,
    "extend-select": _codes,
    "per-file-ignores": _per_file,
    "exclude": _globs,
    "extend-exclude": _globs,
    "unsafe-fixes": _bool,
    "target-backends": _backends,
    "keras-version": _keras_version,
    "severity": _severities,
    "max-file-size": _size,
    "docs-url": _docs_url,
}

# Every `[tool.kerasfix]` key, in the order the docs list them.
KEYS = tuple(_PARSERS)


def editor_key(key: str) -> str:
    """The camelCase name editors send for a `[tool.kerasfix]` key (`unsafe-fixes`: `unsafeFixes`)."""
    return re.sub(r"-(\w)", lambda m: m.group(1).upper(), key)


# Editors send camelCase (unsafeFixes); pyproject uses kebab-case; snake_case is accepted too.
_KEY_ALIASES = {
    **{k.replace("-", "_"): k for k in _PARSERS},
    **{editor_key(k): k for k in _PARSERS},
}


# ----- pyproject.toml -----------------------------------------------------------------------


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.kerasfix] table, from `start` upwards."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        try:
            if path.is_file() and "[tool.kerasfix" in path.read_text(encoding="utf-8", errors="replace"):
                return path
        except OSError:
            continue
    return None


def load_pyproject(path: Path, errors: list[SettingsError] | None = None, base: Settings | None = None) -> Settings:
    """The settings of `path`'s `[tool.kerasfix]`. Without `errors` the first problem raises;
    with it, problems are collected there: a file that cannot be read (a `PyprojectError`) then
    gives `base` or the defaults."""
    try:
        data = _read_toml(path)
    except PyprojectError as problem:
        if errors is None:
            raise
        errors.append(problem)
        return base or Settings(root=str(path.parent))
    tool = data.get("tool", {})
    table = tool.get("kerasfix", {}) if isinstance(tool, Mapping) else tool
    if not isinstance(table, Mapping):
        problem = SettingsError("tool.kerasfix", "expected a table", str(path))
        if errors is None:
            raise problem
        errors.append(SettingsError("tool.kerasfix", "expected a table; it is ignored", str(path)))
        table = {}
    settings = Settings.from_mapping(table, base=base, source=str(path), errors=errors)
    return replace(settings, root=str(path.parent))


class _NestedTooDeeply(ValueError):
    def __init__(self) -> None:
        super().__init__("arrays or inline tables are nested too deeply to read")


# How tomllib ends its messages (Python 3.11 to 3.13; 3.14 also sets `lineno` and `colno`).
_TOML_WHERE = re.compile(r" \(at line (\d+), column (\d+)\)$")


def _read_toml(path: Path) -> dict[str, Any]:
    """The TOML data of `path`, or a `PyprojectError` saying why and where it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PyprojectError(path, error.strerror or str(error)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _line_and_column(raw, error.start)
        raise PyprojectError(path, f"not UTF-8 (byte {raw[error.start]:#04x})", line, column) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error.args[0]) if error.args else str(error)
        where = _TOML_WHERE.search(message)
        if where is None:  # "(at end of document)"
            lines = text.splitlines() or [""]
            line, column = len(lines), len(lines[-1]) + 1
            if text.endswith(("\n", "\r")):
                line, column = len(lines) + 1, 1
            message = message.removesuffix(" (at end of document)")
        else:
            line, column = int(where.group(1)), int(where.group(2))
            message = message[: where.start()]
        raise PyprojectError(path, f"not valid TOML: {message}", line, column) from None
    except RecursionError:
        # tomllib recurses for each level of arrays and inline tables: a file nested deeper than
        # Python's recursion limit is TOML kerasfix cannot read, reported as a syntax error is.
        raise PyprojectError(path, str(_NestedTooDeeply())) from None
    # The recursion limit differs between threads' moments (a lint raises it), and messages
    # print values recursively: one fixed bound keeps the outcome the same everywhere.
    if _nested_deeper_than(data, _MAX_NESTING):
        raise PyprojectError(path, str(_NestedTooDeeply()))
    return data


def _line_and_column(raw: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column (in characters of the valid text before it) of byte `offset`."""
    before = raw[:offset]
    line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    return before.count(b"\n") + 1, len(before[line_start:].decode("utf-8", errors="replace")) + 1


def _nested_deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, Mapping) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return False


def settings_for(path: Path, errors: list[SettingsError] | None = None) -> Settings:
    found = find_pyproject(path)
    if found is None:
        return Settings()
    return load_pyproject(found, errors)
