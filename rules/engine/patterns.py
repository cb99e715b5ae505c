"""The glob patterns of `exclude` and `per-file-ignores`, compiled once for many paths.

A pattern matches a path when `fnmatch` matches it against the path as given, its file name, or
its path relative to the settings' root; a pattern also matches everything below what it names,
and a pattern without "/" matches any folder or file of that name. Projects generate thousands of
patterns, so they are indexed rather than tried in turn: a pattern without wildcards is a set
lookup, and a pattern with wildcards is only tried on text that starts with the literal text
before its first wildcard and ends with the literal text after its last. The cost of a path
depends on its length and on the few patterns that share its ends, not on the number of patterns.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePath

_WILDCARD = re.compile(r"[*?\[]")
# The literal text after a pattern's last wildcard follows its last "*", "?", "[" or "]" (a "]"
# closes a character class; cutting at a literal one only makes that text shorter).
_LAST_WILDCARD = re.compile(r"[*?\[\]][^*?\[\]]*\Z")
# fnmatch compares `os.path.normcase`d text; on Windows that turns "/" into "\".
_SEP = os.path.normcase("/")


class PathPatterns:
    """Patterns indexed for `matches` and `matching`; build once per settings object."""

    def __init__(self, patterns: Iterable[str], root: str | None = None) -> None:
        self._exact: dict[str, list[str]] = {}
        self._folders: dict[str, list[str]] = {}  # literal patterns naming what is below them
        self._names: dict[str, list[str]] = {}
        self._globs = _GlobIndex()
        self._glob_folders = _GlobIndex()
        self._root = _root(root)
        for pattern in dict.fromkeys(patterns):
            self._add(pattern)

    def _add(self, pattern: str) -> None:
        if "/" not in pattern:
            # A bare name matches any folder or file of that name, as in Ruff.
            self._names.setdefault(pattern, []).append(pattern)
        text = os.path.normcase(pattern)
        folder = os.path.normcase(pattern.rstrip("/"))
        if _WILDCARD.search(text) is None:
            self._exact.setdefault(text, []).append(pattern)
            self._folders.setdefault(folder, []).append(pattern)
        else:
            self._globs.add(text, pattern)
            self._glob_folders.add(folder, pattern)

    def matches(self, path: str | Path) -> bool:
        return next(self.matching(path), None) is not None

    def matching(self, path: str | Path) -> Iterator[str]:
        """The patterns that match `path` (a pattern may come more than once)."""
        candidates = self._candidates(str(path))
        for candidate in candidates:
            text = os.path.normcase(candidate)
            yield from self._exact.get(text, ())
            yield from self._globs.matching(text)
            # What is below a folder a pattern names: try each folder above the path.
            for folder in _folders_above(text):
                yield from self._folders.get(folder, ())
                yield from self._glob_folders.matching(folder)
        for candidate in candidates:
            for part in PurePath(candidate).parts:
                yield from self._names.get(part, ())

    def _candidates(self, path: str) -> set[str]:
        pure = PurePath(path)
        candidates = {str(pure), pure.name, pure.as_posix()}
        if self._root is not None:
            try:
                candidates.add(_resolved(path).relative_to(self._root).as_posix())
            except (ValueError, OSError):
                pass
        return candidates


class _GlobIndex:
    """Patterns with wildcards, found by the literal text around their wildcards."""

    def __init__(self) -> None:
        # literal text before the first wildcard -> literal text after the last -> patterns,
        # each as (the text to match, the pattern to report).
        self._by_head: dict[str, dict[str, list[tuple[str, str]]]] = {}
        self._longest_head = 0
        self._longest_tail: dict[str, int] = {}
        self._compiled: dict[str, re.Pattern[str]] = {}

    def add(self, text: str, pattern: str) -> None:
        wildcard = _WILDCARD.search(text)
        assert wildcard is not None, text
        head = text[: wildcard.start()]
        tail = text[_LAST_WILDCARD.search(text).start() + 1 :]
        self._by_head.setdefault(head, {}).setdefault(tail, []).append((text, pattern))
        self._longest_head = max(self._longest_head, len(head))
        self._longest_tail[head] = max(self._longest_tail.get(head, 0), len(tail))

    def matching(self, text: str) -> Iterator[str]:
        for end in range(min(self._longest_head, len(text)) + 1):
            by_tail = self._by_head.get(text[:end])
            if by_tail is not None:
                yield from self._matching_tails(text, by_tail, self._longest_tail[text[:end]])

    def _matching_tails(self, text: str, by_tail: dict[str, list[tuple[str, str]]], longest: int) -> Iterator[str]:
        for length in range(min(longest, len(text)) + 1):
            for glob, pattern in by_tail.get(text[len(text) - length :], ()):
                if self._regex(glob).match(text):
                    yield pattern

    def _regex(self, glob: str) -> re.Pattern[str]:
        # Compiled when a path first reaches the pattern: most of a long list never is.
        compiled = self._compiled.get(glob)
        if compiled is None:
            compiled = self._compiled[glob] = re.compile(fnmatch.translate(glob))
        return compiled


def _folders_above(text: str) -> Iterator[str]:
    """"a/b/c.py" -> "a", "a/b" (and "" for an absolute path: the root)."""
    for index, char in enumerate(text):
        if char == _SEP:
            yield text[:index]


def _resolved(path: str) -> Path:
    return Path(path).resolve()


def _root(root: str | None) -> Path | None:
    if not root:
        return None
    try:
        return _resolved(root)
    except OSError:
        return None  # paths are then matched as given and by name only
