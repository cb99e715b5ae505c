"""Write a small project for a test: a root marker and the given files."""

from __future__ import annotations

from pathlib import Path


def write_project(root: Path, files: dict[str, str], pyproject: str = "") -> Path:
    """`root` with a `pyproject.toml` and `files` (relative path -> text), folders made."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
