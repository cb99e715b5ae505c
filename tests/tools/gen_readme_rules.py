"""Regenerate the rule table in README.md from the rules themselves.

    python tests/tools/gen_readme_rules.py          # rewrite README.md
    python tests/tools/gen_readme_rules.py --check  # exit 1 if README.md is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from kerasfix.rules import all_rules

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"(<!-- rules:start -->\n).*?(<!-- rules:end -->)", re.DOTALL)
FIX = {"safe": "safe", "unsafe": "unsafe", "mixed": "safe / unsafe", "none": "-"}


def table() -> str:
    rows = ["| code | name | what it finds | fix |", "|---|---|---|---|"]
    for rule in all_rules():
        message = rule.message.replace("|", "\\|")
        rows.append(f"| {rule.code} | {rule.name} | {message} | {FIX[rule.fix]} |")
    return "\n".join(rows) + "\n"


def render(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + table() + m.group(2), text)


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv:
        return 0 if new == text else 1
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
