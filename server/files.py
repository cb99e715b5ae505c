"""Finding the files to check, reading them as Python reads source, and writing fixes back.

Reading keeps what a fix must preserve: the bytes are decoded with the encoding Python would use
(PEP 263 cookie or BOM), the BOM stays in the text as U+FEFF (the engine skips it), and line
endings are not translated. Writing encodes the same way, so every byte outside an edit is kept.
"""

from __future__ import annotations

import io
import os
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

# Folders that never hold the project's own code (as Ruff's default excludes).
DEFAULT_EXCLUDES = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".env", "env", "__pycache__",
        "node_modules", ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache",
        "build", "dist", "site-packages", "__pypackages__", ".eggs", ".ipynb_checkpoints",
    }
)
SUFFIXES = (".py", ".pyi")


class SourceError(Exception):
    """A file that cannot be read as Python source; the message says why."""


@dataclass(frozen=True)
class SourceFile:
    text: str
    encoding: str

    def encode(self, text: str) -> bytes:
        # The BOM is part of the text (U+FEFF), so "utf-8-sig" would write it twice.
        encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        return text.encode(encoding)


def decode(data: bytes) -> SourceFile:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "unknown encoding" in str(error):
            raise SourceError(str(error)) from None
        # No usable cookie and the first lines are not UTF-8: say which byte is wrong.
        encoding = "utf-8"
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        raise SourceError(
            f"not valid {encoding.upper()} (byte {error.start}: {data[error.start:error.start + 1]!r}); "
            "declare the encoding with a `# -*- coding: ... -*-` line"
        ) from None
    return SourceFile(text, encoding)


def read_source(path: Path) -> SourceFile:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceError("no such file (it may have been removed during the run)") from None
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except OSError as error:
        raise SourceError(error.strerror or str(error)) from None
    return decode(data)


def write_source(path: Path, source: SourceFile, text: str) -> None:
    # Write to a temporary file and rename, so an interrupted run never leaves half a file.
    tmp = path.with_name(f".{path.name}.kerasfix-tmp")
    tmp.write_bytes(source.encode(text))
    try:
        os.chmod(tmp, path.stat().st_mode & 0o7777)
    except OSError:
        pass
    os.replace(tmp, path)


def _gitignore(folder: Path) -> pathspec.PathSpec | None:
    path = folder / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def discover(
    paths: Iterable[Path],
    is_excluded,
    suffixes: tuple[str, ...] = SUFFIXES,
) -> Iterator[tuple[Path, str | None]]:
    """Yield (file, None) for each file to check, (path, reason) for a path that cannot be.

    Files named on the command line are checked whatever their name; folders are walked for
    `suffixes`, skipping default excludes, `exclude` settings and .gitignore'd entries. Symlink
    loops are detected by the real path of each folder.
    """
    for root in paths:
        if root.is_file():
            yield root, None
            continue
        if root.is_symlink() and not root.exists():
            yield root, "a broken symbolic link"
            continue
        if not root.exists():
            yield root, "no such file or directory"
            continue
        if not root.is_dir():
            yield root, "not a regular file"  # a FIFO or device would block or never end
            continue
        seen: set[str] = set()
        ignores: list[tuple[Path, pathspec.PathSpec]] = []
        for parent in [root.resolve(), *root.resolve().parents]:
            spec = _gitignore(parent)
            if spec is not None:
                ignores.append((parent, spec))
            if (parent / ".git").exists():
                break
        yield from _walk(root, is_excluded, suffixes, seen, ignores)


def _ignored(path: Path, is_dir: bool, ignores: list[tuple[Path, pathspec.PathSpec]]) -> bool:
    resolved = path.absolute()
    for base, spec in ignores:
        try:
            relative = resolved.relative_to(base).as_posix()
        except ValueError:
            continue
        if spec.match_file(relative + ("/" if is_dir else "")):
            return True
    return False


def _walk(folder: Path, is_excluded, suffixes, seen: set[str], ignores) -> Iterator[tuple[Path, str | None]]:
    try:
        real = os.path.realpath(folder)
    except OSError:
        return
    if real in seen:
        return  # a symlink loop, or the same folder reached twice
    seen.add(real)
    own = _gitignore(folder)
    if own is not None:
        ignores = [*ignores, (folder.absolute(), own)]
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except PermissionError:
        yield folder, "permission denied"
        return
    except OSError as error:
        yield folder, error.strerror or str(error)
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            if entry.name in DEFAULT_EXCLUDES or is_excluded(path) or _ignored(path, True, ignores):
                continue
            yield from _walk(path, is_excluded, suffixes, seen, ignores)
        elif entry.name.endswith(suffixes):
            if is_excluded(path) or _ignored(path, False, ignores):
                continue
            try:
                regular = entry.is_file()
            except OSError:
                regular = False
            if regular:
                yield path, None
            elif entry.is_symlink() and not path.exists():
                yield path, "a broken symbolic link"
            # Sockets, FIFOs and devices named *.py are not source files: skip them silently.
