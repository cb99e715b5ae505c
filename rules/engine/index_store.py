"""The project index's modules, kept on disk between processes.

What the index reads from a module (`project.ModuleInfo`) depends only on the module's text and
its dotted name. The store keeps it under a digest of the text, one entry per module (the last
text read), so that a second `kerasfix check` of a project, or a restarted language server, reads
with `ast` only the modules whose text changed since.

One JSON file per project root in the cache folder: data only, so a store file that anyone wrote
can at worst make a finding wrong, never run code. A store written by a kerasfix whose module
reader differs (the digest of its code, `FORMAT`) is not used. Writers merge what is on disk
with what they read and replace the file at once, so processes checking the same project side by
side lose no entry of the other's but the one both rewrote.

Off unless a caller names the folder (`use_folder`): `kerasfix check` and the server do (the
`--cache-dir` option, `$KERASFIX_CACHE_DIR`, else the user's cache folder; `--no-cache` turns it
off), the engine used as a library writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

_FOLDER: Path | None = None
_FORMAT: str | None = None
# The engine modules whose code decides what a module's entry says.
_READER_MODULES = ("project.py", "names.py", "context.py", "index_store.py")


def default_folder() -> Path:
    """`$KERASFIX_CACHE_DIR`, else `$XDG_CACHE_HOME/kerasfix`, else `~/.cache/kerasfix`."""
    named = os.environ.get("KERASFIX_CACHE_DIR")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kerasfix"


def use_folder(folder: Path | None) -> None:
    """Keep the index's modules in `folder` from now on in this process (None: nowhere)."""
    global _FOLDER
    _FOLDER = folder


def folder() -> Path | None:
    return _FOLDER


def _format() -> str:
    """A digest of the code that reads modules: a store made by other code is not used."""
    global _FORMAT
    if _FORMAT is None:
        digest = hashlib.blake2b(digest_size=8)
        here = Path(__file__).parent
        for name in _READER_MODULES:
            digest.update((here / name).read_bytes())
        _FORMAT = digest.hexdigest()
    return _FORMAT


class Store:
    """The stored modules of one project root: read at the first question, written by `save`."""

    def __init__(self, root: Path, where: Path) -> None:
        name = hashlib.blake2b(str(root).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
        self.path = where / f"index-{name}.json"
        self.root = root
        self._entries: dict[str, list[Any]] | None = None
        self._new: dict[str, list[Any]] = {}

    @staticmethod
    def key(name: str, is_package: bool, data: bytes) -> tuple[str, str]:
        """(the module's entry name, the digest of its text)."""
        return f"{name}{'/__init__' if is_package else ''}", hashlib.blake2b(data, digest_size=16).hexdigest()

    def get(self, key: tuple[str, str]) -> tuple[bool, Any]:
        """(whether the store holds this text of the module, the data kept for it: what
        `ModuleInfo.to_data` gave, or None for a module that could not be read)."""
        entry = self._new.get(key[0]) or self._stored().get(key[0])
        if not isinstance(entry, list) or len(entry) != 2 or entry[0] != key[1]:
            return False, None
        return True, entry[1]

    def put(self, key: tuple[str, str], data: Any) -> None:
        self._new[key[0]] = [key[1], data]

    def save(self) -> None:
        """Write the modules read since the last save, merged with what the file holds now.
        A folder that cannot be written is left as it is: the store only saves time."""
        if not self._new:
            return
        entries = dict(self._load())
        entries.update(self._new)
        document = {"format": _format(), "root": str(self.root), "modules": entries}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".json", dir=self.path.parent)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump(document, stream, separators=(",", ":"))
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            return
        self._entries = entries
        self._new = {}

    def _stored(self) -> dict[str, list[Any]]:
        if self._entries is None:
            self._entries = self._load()
        return self._entries

    def _load(self) -> dict[str, list[Any]]:
        try:
            with open(self.path, encoding="utf-8") as stream:
                document = json.load(stream)
        except (OSError, ValueError):
            return {}
        if not isinstance(document, dict) or document.get("format") != _format() or document.get("root") != str(self.root):
            return {}
        modules = document.get("modules")
        return modules if isinstance(modules, dict) else {}


def store_for(root: Path) -> Store | None:
    """The store of a project root, or None while no folder is in use."""
    return None if _FOLDER is None else Store(root, _FOLDER)
