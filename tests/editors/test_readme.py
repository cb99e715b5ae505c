"""The README's Editors section names only what editors/ ships."""

from __future__ import annotations

import json
import re

from .conftest import EDITORS, REPO


def editors_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Editors\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_every_path_named_exists() -> None:
    paths = set(re.findall(r"`(editors/[\w./-]+)`", editors_section()))
    assert paths, "the Editors section names no shipped file"
    assert [p for p in paths if not (REPO / p).exists()] == []


def test_vscode_settings_and_commands_named_are_contributed() -> None:
    section = editors_section()
    manifest = json.loads((EDITORS / "vscode" / "package.json").read_text(encoding="utf-8"))
    settings = set(manifest["contributes"]["configuration"]["properties"])
    named = set(re.findall(r"`(kerasfix\.[a-zA-Z]+)`", section))
    assert named and named <= settings, named - settings
    titles = {f"{c['category']}: {c['title']}" for c in manifest["contributes"]["commands"]}
    quoted = set(re.findall(r'"(kerasfix:\s+[A-Z][a-z]+(?: [a-z]+)?)"', section.replace("\n", " ")))
    assert {re.sub(r"\s+", " ", q) for q in quoted} == titles


def test_neovim_and_emacs_names_are_defined() -> None:
    section = editors_section()
    lua = (EDITORS / "nvim" / "lsp" / "kerasfix.lua").read_text(encoding="utf-8")
    for name in ("KerasfixFixAll", "KerasfixCheckWorkspace", "kerasfix_fix_all_on_save"):
        assert name in section and name in lua, name
    assert "require('kerasfix').setup(" in section
    assert "function M.setup(" in (EDITORS / "nvim" / "lua" / "kerasfix.lua").read_text(encoding="utf-8")
    elisp = (EDITORS / "emacs" / "kerasfix.el").read_text(encoding="utf-8")
    for name in ("kerasfix-fix-all", "kerasfix-settings", "kerasfix-fix-all-on-save"):
        assert name in section, name
        assert re.search(rf"\(def(?:un|custom) {re.escape(name)}\b", elisp), name
