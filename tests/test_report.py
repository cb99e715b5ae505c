"""`kerasfix report`: its numbers are `check --statistics`'s, the HTML page renders in a real
browser without errors or network, and the Markdown summary is exact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from corpora import fetch

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
# A small real Keras 2 project with findings of every fix safety.
CORPUS = "scikeras-0.12"


def kerasfix(*args: str, cwd: Path, module: str = "kerasfix.server") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def report(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # The module runs the command on its own, as `kerasfix report` does.
    return kerasfix(*args, cwd=cwd, module="kerasfix.server.report")


class _Page(HTMLParser):
    """What the tests read from a report page: its elements' data-* attributes, the embedded
    summary, and any element that would load something (src, stylesheets)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.loads: list[tuple[str, dict[str, str]]] = []
        self._in_json = False
        self.json_text = ""

    def handle_starttag(self, tag, attrs):
        attributes = {key: value or "" for key, value in attrs}
        self.elements.append((tag, attributes))
        if "src" in attributes or (tag == "link") or (tag == "script" and attributes.get("type") != "application/json"):
            self.loads.append((tag, attributes))
        self._in_json = attributes.get("id") == "kerasfix-report"

    def handle_endtag(self, tag):
        self._in_json = False

    def handle_data(self, data):
        if self._in_json:
            self.json_text += data

    def with_attribute(self, name: str) -> list[dict[str, str]]:
        return [attributes for _, attributes in self.elements if name in attributes]


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture(scope="module")
def corpus_report(tmp_path_factory):
    """The corpus's report page and `check --statistics --output-format json` on the same tree."""
    folder = fetch(CORPUS)
    out = tmp_path_factory.mktemp("report") / "report.html"
    made = report(str(folder), "-o", str(out), cwd=folder)
    assert (made.returncode, made.stderr) == (0, "")
    stats = kerasfix("check", str(folder), "--statistics", "--output-format", "json", "--exit-zero", cwd=folder)
    assert stats.returncode == 0, stats.stderr
    return out, json.loads(stats.stdout)


def test_report_numbers_are_the_statistics(corpus_report):
    out, statistics = corpus_report
    page = _parse(out.read_text(encoding="utf-8"))
    rules = {
        row["data-code"]: {"count": int(row["data-count"]), "fixable_count": int(row["data-fixable"])}
        for row in page.with_attribute("data-code")
    }
    expected = {row["code"]: {"count": row["count"], "fixable_count": row["fixable_count"]} for row in statistics}
    assert rules == expected
    assert len(expected) > 3  # the corpus has findings of several rules
    [lead] = page.with_attribute("data-total")
    assert int(lead["data-total"]) == sum(row["count"] for row in statistics)
    assert int(lead["data-fixable"]) == sum(row["fixable_count"] for row in statistics)
    # The per-file and per-family tables add up to the same total.
    files = [int(row["data-count"]) for row in page.with_attribute("data-file")]
    families = [int(row["data-count"]) for row in page.with_attribute("data-family")]
    assert sum(files) == sum(families) == sum(row["count"] for row in statistics)
    assert files == sorted(files, reverse=True)  # worst first
    # The embedded summary is the one the page was drawn from.
    assert json.loads(page.json_text)["statistics"] == statistics


def test_report_is_self_contained(corpus_report):
    out, _ = corpus_report
    page = _parse(out.read_text(encoding="utf-8"))
    assert page.loads == []
    assert [tag for tag, _ in page.elements].count("svg") == 2  # the family and file charts


def _chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Chromium, headless, with a fresh profile and HOME and every host name unresolvable: a
    page that tried to load anything from the network would log a failed load."""
    env = {**os.environ, "HOME": str(profile / "home")}
    return subprocess.run(
        [
            CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={profile / 'data'}",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
            *args, page.as_uri(),
        ],
        env=env, capture_output=True, text=True, timeout=120,
    )


def test_report_renders_in_chromium(corpus_report, tmp_path):
    out, statistics = corpus_report
    dom = _chromium(out, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr
    # Console messages (script errors, failed loads) are logged as `...:CONSOLE...] "text"`.
    assert [line for line in dom.stderr.splitlines() if ":CONSOLE" in line] == []
    rendered = _parse(dom.stdout)
    assert [row["data-code"] for row in rendered.with_attribute("data-code")] == [row["code"] for row in statistics]
    assert [card["data-backend"] for card in rendered.with_attribute("data-backend")] == ["jax", "torch", "tensorflow"]
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "report.png"
    screenshot.unlink(missing_ok=True)
    shot = _chromium(out, tmp_path, f"--screenshot={screenshot}", "--window-size=1280,2000")
    assert shot.returncode == 0, shot.stderr
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----- Markdown ------------------------------------------------------------------------------

TREE = {
    "pyproject.toml": "[tool.kerasfix]\n",
    "train.py": (
        "import tensorflow as tf\n"
        "from tensorflow import keras\n"
        "\n"
        "\n"
        "def loss(y, p):\n"
        "    return tf.reduce_mean(tf.square(y - p))\n"
        "\n"
        "\n"
        'model = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])\n'
        'model.save("saved_model_dir")\n'
    ),
    "pkg/model.py": "from tensorflow.keras import layers\n\nlayer = layers.Dense(2)\n",
    "clean.py": "import keras\n",
}

DOCS = "https://kerasfix.readthedocs.io/en/latest/rules/"

MARKDOWN = f"""\
## Keras 3 migration report

7 findings in 2 of 3 files checked: 3 fixable with `--fix`, 3 more with `--unsafe-fixes`, 1 to fix by hand.

### Backends

| Backend | Status | Findings | Manual | Blocked by |
| --- | --- | --: | --: | --- |
| JAX | Blocked: 1 finding needs manual work | 7 | 1 | [KER107]({DOCS}ker107-unconditional-tensorflow-import/) (1) |
| PyTorch | Not targeted | - | - | - |
| TensorFlow | Ready once --unsafe-fixes is applied | 2 | 0 | - |

### Rule families

| Family | Findings | `--fix` | `--unsafe-fixes` | Manual |
| --- | --: | --: | --: | --: |
| KER1xx imports and namespaces | 3 | 2 | 0 | 1 |
| KER2xx TensorFlow ops | 2 | 0 | 2 | 0 |
| KER3xx saving and loading | 1 | 0 | 1 | 0 |
| KER4xx layers and state | 1 | 1 | 0 | 0 |

### Top files

| File | Findings | `--fix` | `--unsafe-fixes` | Manual |
| --- | --: | --: | --: | --: |
| `train.py` | 6 | 2 | 3 | 1 |
| `pkg/model.py` | 1 | 1 | 0 | 0 |

### Rules

| Rule | Name | Findings | Fixable |
| --- | --- | --: | --: |
| [KER101]({DOCS}ker101-tf-keras-namespace/) | tf-keras-namespace | 2 | 2 |
| [KER225]({DOCS}ker225-tf-op-outside-model/) | tf-op-outside-model | 2 | 0 |
| [KER107]({DOCS}ker107-unconditional-tensorflow-import/) | unconditional-tensorflow-import | 1 | 0 |
| [KER301]({DOCS}ker301-save-to-directory/) | save-to-directory | 1 | 0 |
| [KER413]({DOCS}ker413-layer-input-shape-argument/) | layer-input-shape-argument | 1 | 1 |
"""


def test_markdown_summary_is_exact(tmp_path):
    for name, text in TREE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    result = report(".", "--format", "markdown", "--target-backends", "jax,tensorflow", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == MARKDOWN
    # -o writes the same text to a file.
    written = report(".", "--format", "markdown", "--target-backends", "jax,tensorflow", "-o", "r.md", cwd=tmp_path)
    assert (written.returncode, written.stdout, (tmp_path / "r.md").read_text()) == (0, "", MARKDOWN)
    # `kerasfix report` (and `python -m kerasfix report`) is the same command.
    for module in ("kerasfix.server", "kerasfix"):
        command = kerasfix("report", ".", "--format", "markdown", "--target-backends", "jax,tensorflow", cwd=tmp_path, module=module)
        assert (command.returncode, command.stdout, command.stderr) == (0, MARKDOWN, "")


def test_html_escapes_text_and_links_findings_and_rules(tmp_path):
    """Text from the project is escaped, each finding links to its file and line relative to
    the page, and rules link to their pages under the `docs-url` setting."""
    (tmp_path / "pyproject.toml").write_text('[tool.kerasfix]\ndocs-url = "https://mirror.example/kerasfix/"\n')
    (tmp_path / "odd<u>#1.py").write_text("from tensorflow import keras\n\nlayer = keras.layers.Dense(1)\n")
    result = report(".", "-o", "out/report.html", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    page = _parse((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))
    assert "u" not in [tag for tag, _ in page.elements]
    assert [row["data-file"] for row in page.with_attribute("data-file")] == ["odd<u>#1.py"]
    hrefs = [attributes["href"] for tag, attributes in page.elements if tag == "a"]
    assert [href for href in hrefs if "#L" in href] == ["../odd%3Cu%3E%231.py#L1"]
    rules = {href for href in hrefs if "://" in href}
    assert rules == {"https://mirror.example/kerasfix/ker101-tf-keras-namespace/"}


def test_markdown_of_a_clean_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.kerasfix]\n")
    (tmp_path / "a.py").write_text("import keras\n")
    result = report(".", "--format", "markdown", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "## Keras 3 migration report\n"
        "\n"
        "0 findings in 0 of 1 file checked: 0 fixable with `--fix`, 0 more with `--unsafe-fixes`, 0 to fix by hand.\n"
        "\n"
        "### Backends\n"
        "\n"
        "| Backend | Status | Findings | Manual | Blocked by |\n"
        "| --- | --- | --: | --: | --- |\n"
        "| JAX | Ready: no findings | 0 | 0 | - |\n"
        "| PyTorch | Ready: no findings | 0 | 0 | - |\n"
        "| TensorFlow | Ready: no findings | 0 | 0 | - |\n"
    )


def test_a_path_that_cannot_be_checked_is_reported_and_fails(tmp_path):
    result = report("missing", "--format", "markdown", "-o", "r.md", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, "kerasfix: error: missing: no such file or directory\n")
    assert (tmp_path / "r.md").read_text().endswith("### Not checked\n\n- `missing`: no such file or directory\n")
