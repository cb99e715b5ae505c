"""The documentation site: generated from the sources, built by `mkdocs build --strict`, every
internal link resolving, and each rule's page where the product links to it."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from kerasfix.rules import all_rules
from kerasfix.rules.engine.model import DOCS_URL, rule_url

ROOT = Path(__file__).resolve().parents[1]
# The site's root URL, as mkdocs.yml declares it (DOCS_URL must be below it).
SITE_URL = re.search(r"^site_url: (\S+)$", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), re.M).group(1)
BUILD_TIMEOUT = 300


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built once for the module, from pages generated into a temporary folder."""
    work = tmp_path_factory.mktemp("docs")
    generated = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_pages.py"), str(work / "pages")],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT,
    )
    assert generated.returncode == 0, generated.stderr
    # The project's configuration with the folders moved into the temporary one.
    config = work / "mkdocs.yml"
    config.write_text(
        f"INHERIT: {ROOT / 'mkdocs.yml'}\ndocs_dir: {work / 'pages'}\nsite_dir: {work / 'site'}\n", encoding="utf-8"
    )
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT, cwd=work,
    )
    # `--strict`: any warning (a broken link, a missing anchor, a page outside the nav) fails.
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr, built.stderr
    return work / "site"


class _Page(HTMLParser):
    """The links, element ids, and the text of each heading and paragraph of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.blocks: list[tuple[str, str]] = []  # (tag, text) of h1-h6 and p, in order
        self._open: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        for name in ("href", "src"):
            if values.get(name) is not None and tag in ("a", "link", "script", "img"):
                self.links.append(values[name])
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "p"):
            self._open = (tag, [])

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and self._open[0] == tag:
            self.blocks.append((tag, " ".join("".join(self._open[1]).split())))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _target(site: Path, page: Path, link: str) -> tuple[Path, str] | None:
    """The built file an internal link points to and its fragment; None for an external link."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None
    if not parts.path:
        return page, parts.fragment
    path = unquote(parts.path)
    if path.startswith("/"):
        # Root-relative (the 404 page's links): below the site's path on its host.
        prefix = urlsplit(SITE_URL).path
        if not path.startswith(prefix):
            return site / "outside-the-site", parts.fragment
        target = (site / path.removeprefix(prefix)).resolve()
    else:
        target = (page.parent / path).resolve()
    if parts.path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, parts.fragment


def test_every_internal_link_resolves(site):
    pages = sorted(site.rglob("*.html"))
    parsed = {page.resolve(): _parse(page) for page in pages}
    checked, broken = 0, []
    for page, content in parsed.items():
        for link in content.links:
            found = _target(site, page, link)
            if found is None:
                continue
            target, fragment = found
            checked += 1
            if not target.is_file():
                broken.append(f"{page.relative_to(site.resolve())}: {link} (no file)")
            elif fragment and target in parsed and fragment not in parsed[target].ids:
                broken.append(f"{page.relative_to(site.resolve())}: {link} (no #{fragment})")
    assert broken == []
    # The rule pages link to one another through the nav: far more links than pages.
    assert checked > len(pages) * 10


def test_every_rule_has_its_page_where_rule_url_points(site):
    assert DOCS_URL.startswith(SITE_URL)
    rules_folder = site / DOCS_URL.removeprefix(SITE_URL)
    missing = []
    for rule in all_rules():
        path = rules_folder / rule_url(rule.code, rule.name).removeprefix(DOCS_URL) / "index.html"
        if not path.is_file():
            missing.append(rule.code)
    assert missing == []
    # One page per rule and the index: nothing else in the folder.
    assert len(list(rules_folder.glob("*/index.html"))) == len(all_rules())


def _markdown_text(text: str) -> str:
    """A one-line Markdown text as it reads once rendered: code spans without their backticks."""
    return re.sub(r"`([^`]*)`", r"\1", text)


def test_each_rule_page_shows_its_code_name_and_summary(site):
    wrong = []
    for rule in all_rules():
        path = site / DOCS_URL.removeprefix(SITE_URL) / rule_url(rule.code, rule.name).removeprefix(DOCS_URL) / "index.html"
        blocks = _parse(path).blocks
        heading = next(i for i, (tag, _) in enumerate(blocks) if tag == "h1")
        # The page's title, then the rule's message as the first paragraph (with the
        # permalink mark mkdocs adds to headings).
        shown = (blocks[heading][1], blocks[heading + 1])
        if shown != (f"{rule.code} {rule.name}¶", ("p", _markdown_text(rule.message))):
            wrong.append((rule.code, shown))
    assert wrong == []


@pytest.mark.parametrize(
    "page, title, first_heading",
    [
        ("index.html", "kerasfix", "Try it"),
        ("cli/index.html", "The command line", None),
        ("settings/index.html", "Settings", "Every setting"),
        ("notebooks/index.html", "Notebooks", None),
        ("editors/index.html", "The language server and editors", "Editors"),
        ("editors/vscode/index.html", "kerasfix for VS Code", "Settings"),
        ("language-server/index.html", "The kerasfix language server", "The project index"),
        ("rules/index.html", "Rules", None),
    ],
)
def test_the_other_pages(site, page, title, first_heading):
    blocks = _parse(site / page).blocks
    headings = [text.removesuffix("¶") for tag, text in blocks if tag in ("h1", "h2")]
    assert headings[0] == title
    if first_heading is not None:
        assert first_heading in headings[1:]


def test_the_settings_page_lists_every_setting(site):
    from kerasfix.rules.engine.settings import KEYS

    text = (site / "settings" / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr>\s*<td><code>([^<]+)</code></td>\s*<td><code>([^<]+)</code></td>", text)
    assert [key for key, _ in rows] == list(KEYS)
    assert ("docs-url", "docsUrl") in rows
