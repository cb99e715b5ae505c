"""Finding the files to check, reading them as Python reads source, and writing fixes back.

Selecting (`discover`, used by `kerasfix check` and by the language server's workspace check):
files named on the command line are checked whatever their name; folders are walked for source
files, skipping the usual tool folders, `exclude` settings and .gitignore'd entries. As in Ruff,
a symlinked folder met during a walk is not entered (it usually leads to an environment or a
dependency, and what it points to inside the tree is walked anyway), while a symlinked folder
named on the command line is. Unlike Ruff, a symlinked file met during a walk is checked only
when its target lies inside the walked folder: a repository must not be able to have kerasfix
read, or with `--fix` rewrite, a file elsewhere on the machine (`config.py -> ~/.bashrc`). A file
reached twice (through a symlink or a hard link, and by its own name) is checked once.

Reading keeps what a fix must preserve: the bytes are decoded with the encoding Python would use
(PEP 263 cookie or BOM), the BOM stays in the text as U+FEFF (the engine skips it), and line
endings are not translated. Only regular files are read, and at most `MAX_SOURCE_BYTES`.

Writing encodes the same way, so every byte outside an edit is kept. A fix is written to a
fresh temporary file in the same folder (created exclusively under an unpredictable name, so a
planted file or symlink is never written through), flushed to disk and renamed over the file,
with the file's mode and (where the user may give it) owner. A symlink stays a symlink, as with
Ruff (which writes a fix in place through the link): the fix is written to its target, the same
way. A file with several hard links is rewritten in place instead, so its links stay one file.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
import tokenize
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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


# Far larger than any real source file: past it a file (or a device that never ends) is refused
# before it fills the memory.
MAX_SOURCE_BYTES = 64 * 1024 * 1024
_MAX_SOURCE_SIZE = "64 MiB"

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)

IsExcluded = Callable[[Path], bool]


# ----- reading -------------------------------------------------------------------------------


def read_source(path: Path) -> SourceFile:
    return decode(read_bytes(path))


def read_bytes(path: Path) -> bytes:
    """The bytes of a regular file of at most `MAX_SOURCE_BYTES`; SourceError for anything else."""
    try:
        # O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer, and the
        # file type is then checked on what was opened, not on a name that may change.
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC)
    except OSError as error:
        raise SourceError(_reason(error)) from None
    with os.fdopen(fd, "rb") as stream:
        _require_source(os.fstat(fd))
        try:
            data = stream.read(MAX_SOURCE_BYTES + 1)
        except OSError as error:
            raise SourceError(_reason(error)) from None
    if len(data) > MAX_SOURCE_BYTES:  # it grew after the check
        raise SourceError(_too_large())
    return data


def _require_source(info: os.stat_result) -> None:
    _require_regular(info)
    if info.st_size > MAX_SOURCE_BYTES:
        raise SourceError(_too_large())


def _require_regular(info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise SourceError("is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise SourceError("not a regular file")  # a FIFO or device would block or never end


def _too_large() -> str:
    return f"larger than {_MAX_SOURCE_SIZE}: not read as source"


def _reason(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "no such file (it may have been removed during the run)"
    if isinstance(error, IsADirectoryError):
        return "is a directory"
    if isinstance(error, PermissionError):
        return "permission denied"
    return error.strerror or str(error)


# ----- writing -------------------------------------------------------------------------------


def write_source(path: Path, source: SourceFile, text: str) -> None:
    """Write `text` over the file `source` was read from, encoded as it was."""
    write_bytes(path, source.encode(text))


def write_bytes(path: Path, data: bytes) -> None:
    # A symlink stays a symlink: the fix goes to the file it points to. Which symlinks may be
    # followed at all is decided when the files are selected (`discover`).
    target = Path(os.path.realpath(path))
    try:
        original = os.stat(target, follow_symlinks=False)
    except OSError as error:
        raise SourceError(_reason(error)) from None
    _require_regular(original)
    if original.st_nlink > 1:
        _rewrite_in_place(target, data, original)
    else:
        _replace(target, data, original)


def _replace(target: Path, data: bytes, original: os.stat_result) -> None:
    """Write a new file beside `target` and rename it over it: an interrupted run leaves the
    old file or the new one, never half of one."""
    # mkstemp creates the file with O_EXCL under a random name: a file or symlink planted in
    # the folder is never opened, let alone written through.
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".kerasfix-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            _copy_owner_and_mode(stream.fileno(), temporary, original)
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _copy_owner_and_mode(fd: int, temporary: str, original: os.stat_result) -> None:
    # The owner first: changing it clears the set-user-ID and set-group-ID bits of the mode.
    if hasattr(os, "fchown"):  # POSIX; elsewhere files have no owner to copy
        _copy_owner(fd, original)
    os.chmod(fd if os.chmod in os.supports_fd else temporary, stat.S_IMODE(original.st_mode))


def _copy_owner(fd: int, original: os.stat_result) -> None:
    """Give the new file the original's owner and group, as far as the user may: root may give
    both, another user may keep a group they are in; otherwise the new file stays theirs."""
    created = os.fstat(fd)
    if (created.st_uid, created.st_gid) == (original.st_uid, original.st_gid):
        return
    for uid, gid in ((original.st_uid, original.st_gid), (-1, original.st_gid)):
        try:
            os.fchown(fd, uid, gid)
            return
        except OSError:
            continue


def _rewrite_in_place(target: Path, data: bytes, original: os.stat_result) -> None:
    """Overwrite the file's own bytes. Renaming a new file over one of several hard links would
    split that name from the others, which would keep the old text; writing into the existing
    file keeps them one file (and keeps its owner and mode), at the cost of the rename's
    all-or-nothing guarantee."""
    # O_NOFOLLOW: the path was resolved, so a symlink there now was put there since: refuse it.
    # O_NONBLOCK: a FIFO put there fails at once instead of waiting for a reader.
    fd = os.open(target, os.O_WRONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC)
    with os.fdopen(fd, "wb") as stream:
        if not os.path.samestat(os.fstat(fd), original):
            raise SourceError("the file changed while it was being fixed; run again")
        stream.write(data)
        stream.truncate()
        stream.flush()
        os.fsync(fd)


# ----- selecting -----------------------------------------------------------------------------


def _gitignore(folder: Path) -> pathspec.PathSpec | None:
    path = folder / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    # Imported only for a folder that has a .gitignore: pathspec loads asyncio, a good part of
    # the command's start-up.
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def discover(
    paths: Iterable[Path],
    is_excluded: IsExcluded,
    suffixes: tuple[str, ...] = SUFFIXES,
) -> Iterator[tuple[Path, str | None]]:
    """Yield (file, None) for each file to check, (path, reason) for a path that cannot be.

    Files named here are checked whatever their name, through a symlink too; folders are walked
    for `suffixes` as the module docstring says. Each file is yielded once, under its first
    name (a symlinked file's after every file reached by its own name).
    """
    chosen: set[tuple[int, int]] = set()
    for root in paths:
        if root.is_file():
            if _first_time(_identity(root), chosen):
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
        yield from _Walk(root, is_excluded, suffixes, chosen).files()


def _identity(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None  # vanished: reading it will say so


def _first_time(info: os.stat_result | None, chosen: set[tuple[int, int]]) -> bool:
    """Whether the file `info` describes was not yielded yet (under another name)."""
    if info is None:
        return True
    key = (info.st_dev, info.st_ino)
    if key in chosen:
        return False
    chosen.add(key)
    return True


def _inside(real: str, tree: str) -> bool:
    try:
        return os.path.commonpath([real, tree]) == tree
    except ValueError:  # another drive
        return False


def _parent_ignores(root: Path) -> list[tuple[Path, pathspec.PathSpec]]:
    """The .gitignore files of `root`'s folder and its parents, up to the repository's top."""
    ignores: list[tuple[Path, pathspec.PathSpec]] = []
    for parent in [root.resolve(), *root.resolve().parents]:
        spec = _gitignore(parent)
        if spec is not None:
            ignores.append((parent, spec))
        if (parent / ".git").exists():
            break
    return ignores


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


class _Walk:
    """The walk of one folder named for checking, and what its subfolders share."""

    def __init__(
        self, root: Path, is_excluded: IsExcluded, suffixes: tuple[str, ...], chosen: set[tuple[int, int]]
    ) -> None:
        self.root = root
        self.tree = os.path.realpath(root)
        self.is_excluded = is_excluded
        self.suffixes = suffixes
        self.chosen = chosen
        self.folders: set[str] = set()  # real paths: a folder reached twice is walked once
        self.links: list[tuple[Path, os.stat_result]] = []

    def files(self) -> Iterator[tuple[Path, str | None]]:
        yield from self._folder(self.root, _parent_ignores(self.root))
        # Symlinked files come last, so that a file also reached by its own name is reported
        # under that name; one pointing out of the tree is not the tree's to check or rewrite.
        for link, target in self.links:
            if _inside(os.path.realpath(link), self.tree) and _first_time(target, self.chosen):
                yield link, None

    def _folder(self, folder: Path, ignores) -> Iterator[tuple[Path, str | None]]:
        try:
            real = os.path.realpath(folder)
        except OSError:
            return
        if real in self.folders:
            return  # a symlink loop, or the same folder reached twice
        self.folders.add(real)
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
            yield from self._entry(entry, ignores)

    def _entry(self, entry: os.DirEntry, ignores) -> Iterator[tuple[Path, str | None]]:
        path = Path(entry.path)
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            return
        if is_dir:
            if not (entry.name in DEFAULT_EXCLUDES or self.is_excluded(path) or _ignored(path, True, ignores)):
                yield from self._folder(path, ignores)
            return
        if not entry.name.endswith(self.suffixes) or self.is_excluded(path) or _ignored(path, False, ignores):
            return
        if is_link:
            yield from self._link(path)
            return
        try:
            regular = entry.is_file(follow_symlinks=False)
            info = entry.stat(follow_symlinks=False) if regular else None
        except OSError:
            return
        if regular and _first_time(info, self.chosen):
            yield path, None
        # Sockets, FIFOs and devices named *.py are not source files: skip them silently.

    def _link(self, path: Path) -> Iterator[tuple[Path, str | None]]:
        """A symlink named like source: a broken one is reported, one to a regular file is kept
        for the end of the walk, and one to a folder is not walked (as in Ruff)."""
        try:
            target = os.stat(path)
        except OSError:
            yield path, "a broken symbolic link"
            return
        if stat.S_ISREG(target.st_mode):
            self.links.append((path, target))
