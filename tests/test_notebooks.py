"""Notebooks: code cells linted as one program, findings per cell, fixes that touch nothing but
the cells' sources."""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from kerasfix.rules import Edit, Position, Settings
from kerasfix.rules.engine.notebook import (
    CellEdit,
    CellProgram,
    Notebook,
    NotebookError,
    fix_notebook,
    lint_notebook,
    python_view,
)
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


# ----- realistic notebooks: several cells, magics, outputs with images, three JSON layouts -------

REALISTIC = Path(__file__).parent / "examples" / "notebooks"
SELECTED = "KER101,KER201,KER301,KER413,KER504,KER520,KER601"
EXPECTED = {
    # JupyterLab layout (indent 1, sorted keys); `%pip`, `!nvidia-smi`, `%matplotlib`, `%%time`,
    # `files = !ls`; a PNG figure among the outputs.
    "mnist_classifier.ipynb": [
        (3, "KER101", 4, 1), (3, "KER101", 5, 6), (6, "KER413", 3, 42), (6, "KER601", 7, 47), (9, "KER301", 1, 12),
    ],
    # Colab layout (indent 2, Colab's key order, no final newline); `!pip`, `%load_ext`, `%tensorboard`.
    "sentiment_colab.ipynb": [
        (3, "KER101", 4, 6), (4, "KER101", 1, 25), (5, "KER101", 1, 17), (5, "KER201", 6, 18), (5, "KER201", 6, 32),
        (5, "KER201", 7, 16), (6, "KER101", 1, 10), (6, "KER101", 2, 5), (6, "KER101", 3, 5), (6, "KER101", 4, 11),
        (6, "KER101", 5, 9), (7, "KER101", 3, 32), (9, "KER301", 1, 12),
    ],
    # Saved on Windows (CRLF); `%%bash` and `%%writefile` cells, an error output with ANSI colours.
    "custom_train_step.ipynb": [
        (4, "KER101", 2, 1), (5, "KER504", 6, 20), (5, "KER504", 9, 9), (6, "KER601", 4, 46), (7, "KER520", 1, 23),
    ],
}
_SOURCE_ARRAY = re.compile(r'"source": \[\]|"source": \[.*?\n\s*\]', re.DOTALL)


def _outside_sources(raw: str) -> str:
    """The file's text with each cell's source list cut out: what a fix must never change."""
    return _SOURCE_ARRAY.sub('"source": ...', raw)


def _cells_parse(raw: str) -> None:
    program = CellProgram(Notebook.parse(raw).code_sources())
    ast.parse(program.text)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_realistic_notebook_findings_per_cell(name, capsys):
    path = REALISTIC / name
    assert main(["check", str(path), "--select", SELECTED, "--output-format", "json"]) == 1
    items = json.loads(capsys.readouterr().out)
    found = [(i["cell"], i["code"], i["location"]["row"], i["location"]["column"]) for i in items]
    assert found == EXPECTED[name]
    # With every rule on, the IPython lines cause no syntax error.
    assert all(c.finding.code != "KER001" for c in lint_notebook(path.read_text(encoding="utf-8"), str(path)))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_realistic_notebook_fix_changes_only_cell_sources(name, tmp_path, capsys):
    target = tmp_path / name
    shutil.copy(REALISTIC / name, target)
    before = target.read_bytes()
    main(["check", str(target), "--fix", "--unsafe-fixes"])
    after = target.read_bytes()
    assert after != before
    # Outputs (the PNG figures too), metadata, execution counts, nbformat version, indentation,
    # key order, line endings and the end of the file: byte for byte as they were.
    assert _outside_sources(after.decode("utf-8")) == _outside_sources(before.decode("utf-8"))
    assert after.count(b"\r\n") == (after.count(b"\n") if b"\r\n" in before else 0)
    _cells_parse(after.decode("utf-8"))
    # Every finding selected above that has a safe fix is gone, and fixing again changes nothing.
    capsys.readouterr()
    main(["check", str(target), "--select", SELECTED, "--output-format", "json"])
    left = {(i["code"], i["fix"] and i["fix"]["applicability"]) for i in json.loads(capsys.readouterr().out)}
    assert all(fix != "safe" for _, fix in left)
    main(["check", str(target), "--fix", "--unsafe-fixes"])
    assert target.read_bytes() == after


def test_realistic_notebook_fixed_cells(tmp_path):
    target = tmp_path / "nb.ipynb"
    shutil.copy(REALISTIC / "sentiment_colab.ipynb", target)
    assert main(["check", str(target), "--select", "KER101,KER201", "--fix"]) == 0
    cells = json.loads(target.read_text(encoding="utf-8"))["cells"]
    # The import the fixes need goes to the end of the imports cell (saved without a final newline).
    assert cells[2]["source"][-2:] == ["from keras.preprocessing.sequence import pad_sequences\n", "import keras"]
    assert cells[4]["source"][-2:] == [
        "        scores = keras.ops.softmax(keras.ops.matmul(x, self.w), axis=1)\n",
        "        return keras.ops.sum(scores * x, axis=1)",
    ]
    assert cells[1]["source"] == ["!pip install -q tensorflow-addons\n", "%load_ext tensorboard"]
    assert cells[6]["source"][0] == "%tensorboard --logdir logs\n"


def test_realistic_notebook_diff_writes_nothing_and_shows_source_lines_only(tmp_path, capsys):
    target = tmp_path / "train.ipynb"
    shutil.copy(REALISTIC / "mnist_classifier.ipynb", target)
    before = target.read_bytes()
    assert main(["check", str(target), "--diff"]) == 1
    diff = capsys.readouterr().out
    assert target.read_bytes() == before
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed and all(re.match(r'^[+-]    "', line) for line in changed)
    assert '+    "model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),\\n",' in changed


def test_json_names_the_cell_of_each_fix_edit(capsys):
    path = REALISTIC / "sentiment_colab.ipynb"
    main(["check", str(path), "--select", "KER201", "--output-format", "json"])
    first = json.loads(capsys.readouterr().out)[0]
    assert first["cell"] == 5
    edits = [(e["cell"], e["location"]["row"], e["content"]) for e in first["fix"]["edits"]]
    assert edits == [(3, 4, "\nimport keras"), (5, 6, "keras.ops.softmax")]


def test_a_notebook_whose_layout_cannot_be_rewritten_is_still_checked(tmp_path, capsys):
    target = tmp_path / "odd.ipynb"
    raw = notebook("import tensorflow as tf\nopt = tf.keras.optimizers.SGD(lr=1)").replace('"cells": [', '"cells":   [')
    target.write_text(raw)
    assert main(["check", str(target), "--select", "KER601", "--fix", "--output-format", "concise"]) == 2
    captured = capsys.readouterr()
    assert f"{target}:cell 1:2:31: KER601" in captured.out
    assert "not rewritten: its JSON layout cannot be reproduced" in captured.err
    assert target.read_text() == raw


def test_a_notebook_from_standard_input(monkeypatch, capsys):
    raw = (REALISTIC / "mnist_classifier.ipynb").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    assert main(["check", "-", "--stdin-filename", "train.ipynb", "--select", "KER601", "--output-format", "concise"]) == 1
    assert "train.ipynb:cell 6:7:47: KER601" in capsys.readouterr().out


def test_crlf_and_bom_layouts_are_reproduced():
    raw = "\ufeff" + notebook("import tensorflow as tf\nopt = tf.keras.optimizers.SGD(lr=1)").replace("\n", "\r\n")
    new, applied, _ = fix_notebook(raw, settings=Settings(select=("KER601",)))
    assert applied == 1 and new.startswith("\ufeff{\r\n") and "\n" not in new.replace("\r\n", "")
    assert new == raw.replace("(lr=", "(learning_rate=")


def test_a_fix_never_edits_an_ipython_line():
    program = CellProgram(["import tensorflow as tf\n", "!echo tf.keras.optimizers.SGD(lr=1)\nx = 1\n"])
    edit = Edit(program.starts[1] + 1, program.starts[1] + 5, "print")
    assert program.cell_edit(edit) is None
    assert program.cell_edit(Edit(program.starts[1] + 36, program.starts[1] + 37, "y")) == CellEdit(
        36, 37, "y", Position(1, 0), Position(1, 1), cell=1
    )
