"""The table of rule codes and names that the language server's process reads instead of the
rules (`kerasfix.rules.engine.codes`) matches the rules, and that process stays free of LibCST."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kerasfix.rules import all_rules
from kerasfix.rules.engine.codes import known_code, rule_names

TOOLS = Path(__file__).parent / "tools"


def test_the_table_is_current():
    result = subprocess.run(
        [sys.executable, str(TOOLS / "gen_rule_names.py"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert rule_names() == {rule.code: rule.name for rule in all_rules()}


def test_codes_are_found_by_code_or_name_in_any_case():
    assert known_code("ker601") == "KER601"
    assert known_code("optimizer-lr-argument") == "KER601"
    assert known_code("KER999") is None
    assert known_code("KER6") is None


def test_the_servers_process_imports_no_libcst_and_no_rule():
    # The language server's process answers `initialize` after its imports: LibCST and the rules
    # (most of a start-up) belong to its engine process only.
    probe = (
        "import sys\n"
        "from kerasfix.server import entry, lsp\n"
        "from kerasfix.rules import Settings\n"
        "Settings.from_mapping({'select': ['KER6'], 'ignore': ['KER601']})\n"
        "loaded = sorted(m for m in sys.modules if m == 'libcst' or m.startswith(('libcst.', 'kerasfix.rules.engine.registry', 'kerasfix.rules.ops', 'kerasfix.rules.saving')))\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"
