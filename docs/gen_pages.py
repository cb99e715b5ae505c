"""Write the documentation site's Markdown pages from the project's own sources.

    python docs/gen_pages.py [OUT]      # default OUT: docs/_build/pages (mkdocs.yml's docs_dir)
    mkdocs build --strict

Nothing here is written by hand twice: each rule's page is `Rule.docs()` (what `kerasfix rule`
prints), at the path its `rule_url` links to; the command line, settings, notebook and editor
pages are sections of README.md; the language server's page is server/README.md; each editor
integration's README.md is its own page.
"""

from __future__ import annotations

import argparse
import posixpath
import re
import shutil
import sys
from pathlib import Path

from kerasfix.rules import all_rules
from kerasfix.rules.engine.model import DOCS_URL, rule_url
from kerasfix.rules.engine.settings import KEYS, editor_key

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "_build" / "pages"
# Where the rule pages go in the site: rule_url's base, relative to the site's root (site_url).
SITE_URL = "https://kerasfix.readthedocs.io/en/latest/"
RULES_FOLDER = DOCS_URL.removeprefix(SITE_URL).strip("/")

_FENCE = re.compile(r"^(```|~~~)")
_HEADING = re.compile(r"^(#{1,6}) ")
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def _outside_fences(lines: list[str]):
    """(index, line) of each line that is not inside a fenced code block."""
    fenced = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield index, line


def section(text: str, title: str) -> str:
    """The `## title` section of a Markdown text, its heading included, up to the next `## `."""
    lines = text.splitlines()
    starts = [i for i, line in _outside_fences(lines) if line.startswith("## ")]
    begin = next((i for i in starts if lines[i] == f"## {title}"), None)
    if begin is None:
        raise LookupError(f"no section `## {title}`")
    end = next((i for i in starts if i > begin), len(lines))
    return "\n".join(lines[begin:end]).strip() + "\n"


def promote(text: str) -> str:
    """Every heading one level up (`## Configuration` becomes the page's `# Configuration`)."""
    lines = text.splitlines()
    for index, line in _outside_fences(lines):
        match = _HEADING.match(line)
        if match and len(match.group(1)) > 1:
            lines[index] = line[1:]
    return "\n".join(lines) + "\n"


def relink(text: str, source: str, page: str, pages: dict[str, str]) -> str:
    """Links between repository files made links between the pages they became.

    `source` is the file the text comes from and `page` the page it goes to, both relative to
    their roots; `pages` maps repository files to pages. A link to a file that has no page
    keeps its text only: the site holds the documentation, not the repository.
    """

    def replace(match: re.Match[str]) -> str:
        bang, label, target = match.groups()
        if _SCHEME.match(target) or target.startswith(("#", "/")):
            return match.group(0)
        path, _, fragment = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
        if repo_path not in pages:
            return label
        relative = posixpath.relpath(pages[repo_path], posixpath.dirname(page) or ".")
        return f"{bang}[{label}]({relative}{'#' + fragment if fragment else ''})"

    lines = text.splitlines()
    for index, line in _outside_fences(lines):
        lines[index] = _LINK.sub(replace, line)
    return "\n".join(lines) + "\n"


def rule_page(code: str, name: str) -> str:
    """The Markdown file whose page is at `rule_url(code, name)` (mkdocs' directory URLs)."""
    return f"{RULES_FOLDER}/{rule_url(code, name).removeprefix(DOCS_URL).strip('/')}.md"


def rules_index() -> str:
    rows = ["# Rules", "", "| Code | Name | What it finds | Fix |", "|---|---|---|---|"]
    for rule in all_rules():
        link = posixpath.relpath(rule_page(rule.code, rule.name), RULES_FOLDER)
        message = rule.message.replace("|", "\\|")
        rows.append(f"| [{rule.code}]({link}) | {rule.name} | {message} | {rule.fix} |")
    return "\n".join(rows) + "\n"


def settings_keys() -> str:
    """Every key the settings parser accepts, in pyproject.toml and in an editor."""
    rows = ["## Every setting", "", "| `[tool.kerasfix]` | Editor setting |", "|---|---|"]
    for key in KEYS:
        rows.append(f"| `{key}` | `{editor_key(key)}` |")
    return "\n".join(rows) + "\n"


def pages() -> dict[str, str]:
    """Each page's path (relative to the docs folder) and Markdown."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    editors = sorted(p.parent.name for p in (ROOT / "editors").glob("*/README.md"))
    # Repository files that become pages, for the links between them.
    sources = {
        "README.md": "index.md",
        "server/README.md": "language-server.md",
        "rules/README.md": "writing-rules.md",
        **{f"editors/{name}/README.md": f"editors/{name}.md" for name in editors},
    }
    intro = readme.split("\n## The command line\n", 1)[0]
    contents = [
        "## Contents",
        "",
        "- [The command line](cli.md)",
        "- [Settings](settings.md)",
        "- [Notebooks](notebooks.md)",
        f"- [Rules]({RULES_FOLDER}/index.md)",
        "- [The language server and editors](editors/index.md)",
        "- [The language server in detail](language-server.md)",
        "- [Writing a rule](writing-rules.md)",
    ]
    from_readme = {
        "cli.md": promote(section(readme, "The command line")),
        "settings.md": promote(section(readme, "Configuration")).replace("# Configuration", "# Settings", 1)
        + "\n"
        + settings_keys(),
        "notebooks.md": promote(section(readme, "Notebooks")),
        "editors/index.md": "# The language server and editors\n\n"
        + section(readme, "The language server").split("\n", 1)[1]
        + "\n"
        + section(readme, "Editors")
        + "\n"
        + "".join(f"- [{name}]({name}.md)\n" for name in editors),
    }
    out = {
        "index.md": relink(intro + "\n" + "\n".join(contents) + "\n", "README.md", "index.md", sources),
        **{page: relink(text, "README.md", page, sources) for page, text in from_readme.items()},
    }
    for repo_path, page in sources.items():
        if repo_path != "README.md":
            text = (ROOT / repo_path).read_text(encoding="utf-8")
            out[page] = relink(text, repo_path, page, sources)
    out[f"{RULES_FOLDER}/index.md"] = rules_index()
    for rule in all_rules():
        out[rule_page(rule.code, rule.name)] = rule.docs()
    return out


def write(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    for page, text in pages().items():
        path = out / page
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help="the folder to write the pages to")
    args = parser.parse_args(argv)
    write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
