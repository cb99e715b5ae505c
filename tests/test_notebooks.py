"""Notebooks: code cells linted as one program, findings per cell, fixes that touch nothing but
the cells' sources."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kerasfix.rules import Settings
from kerasfix.rules.notebook import Notebook, NotebookError, fix_notebook, lint_notebook, python_view
from kerasfix.server.cli import main

EXAMPLE = Path(__file__).parent / "examples" / "keras2_notebook.ipynb"
ONLY = Settings(select=("KER601", "KER101"))


def notebook(*cells: str, indent=1, sort_keys=True) -> str:
    data = {
        "cells": [
            {"cell_type": "code", "execution_count": i, "metadata": {}, "outputs": [], "source": c.splitlines(keepends=True)}
            for i, c in enumerate(cells, 1)
        ],
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(data, indent=indent, sort_keys=sort_keys, ensure_ascii=False) + "\n"


def without_sources(raw: str) -> dict:
    data = json.loads(raw)
    for cell in data["cells"]:
        cell.pop("source", None)
    return data


def test_findings_name_cell_and_position_within_it():
    found = lint_notebook(EXAMPLE.read_text(), "nb.ipynb", ONLY)
    assert [(c.cell, c.finding.code, c.finding.start.line, c.finding.start.character) for c in found] == [
        (3, "KER101", 2, 0),
        (3, "KER101", 3, 5),
        (5, "KER601", 5, 46),
    ]


def test_imports_in_an_early_cell_resolve_later_cells():
    raw = notebook("import tensorflow as tf", "x = 1", "opt = tf.keras.optimizers.Adam(lr=0.1)")
    (found,) = lint_notebook(raw, settings=Settings(select=("KER601",)))
    assert found.cell == 3 and found.finding.start.character == len("opt = tf.keras.optimizers.Adam(")


@pytest.mark.parametrize("line", ["%pip install keras", "!ls -la", "files = !ls", "%matplotlib inline", "model?", "?model"])
def test_ipython_lines_become_comments_of_the_same_length(line):
    view = python_view(line + "\nx = 1\n")
    assert len(view) == len(line) + len("\nx = 1\n")
    assert view.splitlines()[0].lstrip().startswith("#")
    assert view.endswith("x = 1\n")


def test_cell_magics():
    assert python_view("%%time\nx = tf.reduce_sum(y)\n") == "#%time\nx = tf.reduce_sum(y)\n"
    assert python_view("%%bash\necho $((1+\n") == "\n\n"


def test_magics_do_not_cause_syntax_errors():
    found = lint_notebook(EXAMPLE.read_text(), "nb.ipynb")
    assert all(c.finding.code != "KER001" for c in found)


def test_fix_changes_only_cell_sources_and_is_idempotent():
    raw = EXAMPLE.read_text()
    new, applied, remaining = fix_notebook(raw, "nb.ipynb", ONLY)
    assert applied == 3
    assert remaining == []
    assert without_sources(new) == without_sources(raw)
    cells = json.loads(new)["cells"]
    assert cells[2]["source"] == ["import numpy as np\n", "import tensorflow as tf\n", "import keras\n", "from keras import layers"]
    assert "model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss='binary_crossentropy')\n" in cells[4]["source"]
    assert cells[4]["source"][0] == "%%time\n"
    assert cells[1]["source"] == ["%pip install -q tensorflow==2.12\n", "!nvidia-smi"]
    # Same layout: only the edited lines differ.
    changed = [a for a, b in zip(raw.splitlines(), new.splitlines()) if a != b]
    assert len(raw.splitlines()) == len(new.splitlines()) and len(changed) == 3
    assert fix_notebook(new, "nb.ipynb", ONLY)[0] == new


def test_fix_keeps_a_string_source_and_another_layout():
    raw = notebook("import tensorflow as tf\nopt = tf.keras.optimizers.SGD(lr=1)", indent=2, sort_keys=False)
    data = json.loads(raw)
    data["cells"][0]["source"] = "".join(data["cells"][0]["source"])
    raw = json.dumps(data, indent=2) + "\n"
    new, applied, _ = fix_notebook(raw, settings=Settings(select=("KER601",)))
    assert applied == 1
    assert json.loads(new)["cells"][0]["source"] == "import tensorflow as tf\nopt = tf.keras.optimizers.SGD(learning_rate=1)"
    assert new == json.dumps(json.loads(new), indent=2) + "\n"


def test_unreproducible_layout_is_not_rewritten():
    raw = notebook("import tensorflow as tf\nopt = tf.keras.optimizers.SGD(lr=1)").replace('"cells": [', '"cells":   [')
    with pytest.raises(NotebookError, match="layout"):
        fix_notebook(raw, settings=Settings(select=("KER601",)))


def test_not_a_notebook():
    with pytest.raises(NotebookError):
        Notebook.parse("{not json")
    with pytest.raises(NotebookError):
        Notebook.parse('{"cells": 3}')


def test_cli_checks_notebooks_in_folders_and_fixes_them(tmp_path, capsys):
    target = tmp_path / "work" / "nb.ipynb"
    target.parent.mkdir()
    shutil.copy(EXAMPLE, target)
    assert main(["check", str(tmp_path), "--select", "KER601,KER101", "--output-format", "concise"]) == 1
    out = capsys.readouterr().out
    assert f"{target}:cell 5:6:47: KER601" in out
    assert main(["check", str(tmp_path), "--select", "KER601,KER101", "--output-format", "json"]) == 1
    items = json.loads(capsys.readouterr().out)
    assert {item["cell"] for item in items} == {3, 5}
    assert main(["check", str(target), "--select", "KER601,KER101", "--fix"]) == 0
    assert without_sources(target.read_text()) == without_sources(EXAMPLE.read_text())


def test_cli_names_a_broken_notebook(tmp_path, capsys):
    path = tmp_path / "bad.ipynb"
    path.write_text("{ not json")
    assert main(["check", str(path)]) == 2
    assert "bad.ipynb: cannot check this notebook: not valid JSON" in capsys.readouterr().err
