"""The README's rule table is generated from the rules and must match them; its `kerasfix`
examples show what kerasfix prints."""

import re
import shlex
import sys
from pathlib import Path

import pytest

from kerasfix.server.cli import main

sys.path.insert(0, str(Path(__file__).parent / "tools"))

import gen_readme_rules  # noqa: E402


def test_rule_table_is_current():
    text = gen_readme_rules.README.read_text(encoding="utf-8")
    assert gen_readme_rules.render(text) == text, "run: python tests/tools/gen_readme_rules.py"


def test_readme_commands_match_ci():
    readme = gen_readme_rules.README.read_text(encoding="utf-8")
    ci = (gen_readme_rules.README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash tests/run_all.sh" in readme
    assert "tests/run_all.sh" in ci


def console_examples(readme: str) -> list[tuple[str, list[str]]]:
    """Each ```console block that runs kerasfix: its command and the output it shows."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", readme, flags=re.S):
        first, *shown = block.splitlines()
        if first.startswith("$ kerasfix "):
            examples.append((first.removeprefix("$ "), shown))
    return examples


EXAMPLES = console_examples(gen_readme_rules.README.read_text(encoding="utf-8"))


def test_the_first_example_shows_the_whole_output():
    assert EXAMPLES, "the README shows no `$ kerasfix ...` example"
    # The first example opens the README: it shows the whole output, not an excerpt.
    assert "..." not in EXAMPLES[0][1]


@pytest.mark.parametrize("command, shown", EXAMPLES, ids=[command for command, _ in EXAMPLES])
def test_console_examples_show_what_kerasfix_prints(command, shown, monkeypatch, capsys):
    monkeypatch.chdir(gen_readme_rules.README.parent)
    main(shlex.split(command)[1:])
    printed = capsys.readouterr().out.splitlines()
    if "..." in shown:
        # An excerpt: the lines before `...` are the first ones printed.
        head = shown[: shown.index("...")]
        assert printed[: len(head)] == head
    else:
        assert printed == shown
