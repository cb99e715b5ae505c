"""Settings for each document: the editor's settings merged over the nearest pyproject.toml.

Each workspace folder (and each sub-project inside one) has its own `[tool.kerasfix]`: the
pyproject that applies to a file is the nearest one above it, as for `kerasfix check`. The
editor's settings (`initializationOptions` and `workspace/didChangeConfiguration`, camelCase
keys) override it. Loaded pyprojects are cached until a watched pyproject.toml changes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kerasfix.rules import Settings, SettingsError, load_pyproject
from kerasfix.rules.engine.settings import find_pyproject

PYTHON_PATH_KEYS = ("pythonPath", "python_path", "python-path")
# Keys that configure the server itself rather than the rules.
SERVER_KEYS = frozenset({*PYTHON_PATH_KEYS, "logLevel"})
SECTION = "kerasfix"
# Settings whose value is a table. Neovim encodes Lua's empty table `{}` as the JSON array
# `[]`, so an empty array there (or as the whole section) means an empty table.
TABLE_KEYS = frozenset(
    {"severity", "perFileIgnores", "per-file-ignores", "per_file_ignores"}
)


def editor_section(raw: Any) -> dict[str, Any]:
    """The kerasfix settings inside what an editor sent: `{"kerasfix": {...}}`,
    `{"settings": {...}}` (VS Code extensions' initializationOptions) or the table itself."""
    if not isinstance(raw, Mapping):
        return {}
    for key in (SECTION, "settings"):
        inner = raw.get(key)
        if key in raw and (inner is None or inner == []):
            # eglot answers workspace/configuration with null when the user set nothing;
            # Neovim sends an empty Lua table as [].
            return {}
        if isinstance(inner, Mapping):
            return editor_section(inner) if key == "settings" else _tables(inner)
    return _tables(raw)


def _tables(section: Mapping[str, Any]) -> dict[str, Any]:
    return {key: {} if key in TABLE_KEYS and value == [] else value for key, value in section.items()}


def read_python_path(editor: Mapping[str, Any]) -> tuple[str | None, SettingsError | None]:
    """The interpreter named by the `pythonPath` setting, absolute (`~` expanded), or the
    problem with it. A relative path is refused: it would be taken from the server's working
    directory, which is the workspace's folder."""
    for key in PYTHON_PATH_KEYS:
        value = editor.get(key)
        if isinstance(value, str) and value:
            expanded = os.path.expanduser(value)
            if os.path.isabs(expanded):
                return expanded, None
            problem = f"{value!r} is a relative path and is not used: give the interpreter's absolute path"
            return None, SettingsError(key, problem, "editor settings")
    return None, None


class Configuration:
    """Editor settings plus a cache of pyproject settings, safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._editor: dict[str, Any] = {}
        self._python_path: str | None = None
        self._python_path_problem: SettingsError | None = None
        self._by_folder: dict[Path, Path | None] = {}
        self._by_pyproject: dict[Path, tuple[Settings, tuple[SettingsError, ...]]] = {}
        self._merged: dict[Path | None, tuple[Settings, tuple[SettingsError, ...]]] = {}

    @property
    def editor(self) -> dict[str, Any]:
        return dict(self._editor)

    @property
    def python_path(self) -> str | None:
        """The absolute path of the interpreter whose environment hover signatures come from."""
        return self._python_path

    def set_editor(self, raw: Any) -> None:
        with self._lock:
            self._editor = editor_section(raw)
            self._python_path, self._python_path_problem = read_python_path(self._editor)
            self._merged.clear()

    def pyproject_changed(self) -> None:
        with self._lock:
            self._by_folder.clear()
            self._by_pyproject.clear()
            self._merged.clear()

    def settings_for(self, path: str | None) -> tuple[Settings, tuple[SettingsError, ...]]:
        """The settings for a file (or, without a path, the editor's over the defaults), and
        the problems found in them."""
        folder = Path(path).parent if path else None
        with self._lock:
            pyproject = self._pyproject_for(folder) if folder is not None else None
            cached = self._merged.get(pyproject)
            if cached is not None:
                return cached
            base, errors = self._load(pyproject) if pyproject is not None else (Settings(), ())
            found: list[SettingsError] = list(errors)
            if self._python_path_problem is not None:
                found.append(self._python_path_problem)
            rules_part = {k: v for k, v in self._editor.items() if k not in SERVER_KEYS}
            merged = Settings.from_mapping(rules_part, base=base, source="editor settings", errors=found)
            result = (merged, tuple(found))
            self._merged[pyproject] = result
            return result

    def _pyproject_for(self, folder: Path) -> Path | None:
        if folder not in self._by_folder:
            self._by_folder[folder] = find_pyproject(folder)
        return self._by_folder[folder]

    def _load(self, pyproject: Path) -> tuple[Settings, tuple[SettingsError, ...]]:
        cached = self._by_pyproject.get(pyproject)
        if cached is None:
            errors: list[SettingsError] = []
            settings = load_pyproject(pyproject, errors)
            cached = self._by_pyproject[pyproject] = (settings, tuple(errors))
        return cached
