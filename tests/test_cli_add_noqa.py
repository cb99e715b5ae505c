"""`kerasfix check --add-noqa`: the comments written, byte for byte, and what is said about them."""

from __future__ import annotations

import json

import pytest

from kerasfix.server.cli import main

KERAS2 = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def add_noqa(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["check", "--add-noqa", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_adds_sorted_codes_then_the_check_passes_and_a_second_run_adds_nothing(tmp_path, capsys):
    (tmp_path / "a.py").write_text(KERAS2)
    assert add_noqa(capsys, "a.py") == (0, "", "Added 2 noqa directives.\n")
    expected = (
        "import tensorflow as tf  # noqa: KER107\n"
        "opt = tf.keras.optimizers.Adam(lr=1e-3)  # noqa: KER101, KER601\n"
    )
    assert (tmp_path / "a.py").read_text() == expected
    assert main(["check", "a.py"]) == 0
    assert capsys.readouterr() == ("All checks passed!\n", "")
    assert add_noqa(capsys, "a.py") == (0, "", "")
    assert (tmp_path / "a.py").read_text() == expected


def test_one_directive_is_singular(tmp_path, capsys):
    (tmp_path / "a.py").write_text(KERAS2)
    assert add_noqa(capsys, "a.py", "--select", "KER601") == (0, "", "Added 1 noqa directive.\n")
    assert (tmp_path / "a.py").read_text() == (
        "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)  # noqa: KER601\n"
    )


def test_merges_with_an_existing_comment_keeping_crlf_bom_and_tabs(tmp_path, capsys):
    original = (
        "\ufeffimport tensorflow as tf\r\n"
        "if True:\r\n"
        "\topt = tf.keras.optimizers.Adam(lr=1e-3)  # noqa: E501\r\n"
    )
    (tmp_path / "a.py").write_bytes(original.encode("utf-8"))
    assert add_noqa(capsys, "a.py") == (0, "", "Added 2 noqa directives.\n")
    assert (tmp_path / "a.py").read_bytes() == (
        "\ufeffimport tensorflow as tf  # noqa: KER107\r\n"
        "if True:\r\n"
        "\topt = tf.keras.optimizers.Adam(lr=1e-3)  # noqa: E501, KER101, KER601\r\n"
    ).encode("utf-8")


def test_a_code_already_listed_is_not_added_twice(tmp_path, capsys):
    (tmp_path / "a.py").write_text(
        "import tensorflow as tf  # noqa: KER107\nopt = tf.keras.optimizers.Adam(lr=1e-3)  # noqa: KER101\n"
    )
    assert add_noqa(capsys, "a.py") == (0, "", "Added 1 noqa directive.\n")
    assert (tmp_path / "a.py").read_text() == (
        "import tensorflow as tf  # noqa: KER107\nopt = tf.keras.optimizers.Adam(lr=1e-3)  # noqa: KER101, KER601\n"
    )


def test_a_line_ending_inside_a_string_is_left_alone_with_a_warning(tmp_path, capsys):
    text = (
        "import keras\n"
        'x = f(keras.optimizers.Adam(lr=1), """\n'
        'abc""")\n'
        's = """\n'
        'abc""" + str(keras.optimizers.Adam(lr=1))\n'
        "y = 1 + \\\n"
        "    keras.optimizers.Adam(lr=1)\n"
        "z = (1 +\n"
        "     keras.optimizers.Adam(lr=1))\n"
    )
    (tmp_path / "a.py").write_text(text)
    code, out, err = add_noqa(capsys, "a.py", "--select", "KER601")
    assert (code, out) == (0, "")
    assert err == (
        "kerasfix: warning: a.py:2: no noqa comment added: the line ends inside a string or a continuation\n"
        "Added 3 noqa directives.\n"
    )
    # A finding on the line after a backslash, or inside brackets, is silenced on its own line.
    assert (tmp_path / "a.py").read_text() == (
        "import keras\n"
        'x = f(keras.optimizers.Adam(lr=1), """\n'
        'abc""")\n'
        's = """\n'
        'abc""" + str(keras.optimizers.Adam(lr=1))  # noqa: KER601\n'
        "y = 1 + \\\n"
        "    keras.optimizers.Adam(lr=1)  # noqa: KER601\n"
        "z = (1 +\n"
        "     keras.optimizers.Adam(lr=1))  # noqa: KER601\n"
    )
    assert main(["check", "a.py", "--select", "KER601", "--output-format", "concise"]) == 1
    assert capsys.readouterr().out == (
        "a.py:2:29: KER601 [*] `lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`\n"
        "Found 1 error.\n"
        "[*] 1 fixable with the `--fix` option.\n"
    )


def notebook(*cells: dict) -> str:
    """A notebook as Jupyter writes it (one-space indent)."""
    data = {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def code(*lines: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": list(lines)}


MARKDOWN = {"cell_type": "markdown", "metadata": {}, "source": ["# keras.optimizers.Adam(lr=1)"]}


def test_notebook_cells_get_comments_and_the_check_then_passes(tmp_path, capsys):
    (tmp_path / "n.ipynb").write_text(
        notebook(
            MARKDOWN,
            code("!echo \"\"\" unquoted in a shell line\n", "import keras\n", "opt = keras.optimizers.Adam(lr=1e-3)"),
            code("x = f(keras.optimizers.Adam(lr=1), \"\"\"\n", "abc\"\"\")"),
        )
    )
    assert add_noqa(capsys, "n.ipynb", "--select", "KER601") == (
        0,
        "",
        "kerasfix: warning: n.ipynb:cell 3:1: no noqa comment added: the line ends inside a string or a continuation\n"
        "Added 1 noqa directive.\n",
    )
    assert (tmp_path / "n.ipynb").read_text() == notebook(
        MARKDOWN,
        code("!echo \"\"\" unquoted in a shell line\n", "import keras\n", "opt = keras.optimizers.Adam(lr=1e-3)  # noqa: KER601"),
        code("x = f(keras.optimizers.Adam(lr=1), \"\"\"\n", "abc\"\"\")"),
    )
    assert main(["check", "n.ipynb", "--select", "KER601", "--output-format", "concise"]) == 1
    assert capsys.readouterr().out == (
        "n.ipynb:cell 3:1:29: KER601 [*] `lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`\n"
        "Found 1 error.\n"
        "[*] 1 fixable with the `--fix` option.\n"
    )


def test_cannot_be_combined_with_fix(tmp_path, capsys):
    (tmp_path / "a.py").write_text(KERAS2)
    code, out, err = add_noqa(capsys, "--fix", "a.py")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == "kerasfix check: error: argument --fix: not allowed with argument --add-noqa"
    assert (tmp_path / "a.py").read_text() == KERAS2


def test_standard_input_is_refused(capsys, monkeypatch):
    assert add_noqa(capsys, "-") == (
        2, "", "kerasfix: error: --add-noqa writes files: it cannot read standard input\n"
    )


def test_codes_of_an_existing_comment_are_sorted_with_the_new_ones(tmp_path, capsys):
    (tmp_path / "a.py").write_text("import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)  # noqa: KER999\n")
    assert add_noqa(capsys, "a.py", "--select", "KER601,KER101") == (0, "", "Added 1 noqa directive.\n")
    assert (tmp_path / "a.py").read_text() == (
        "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)  # noqa: KER101, KER601, KER999\n"
    )
