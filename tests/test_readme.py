"""The README's rule table is generated from the rules and must match them."""

import sys
from pathlib import Path

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
