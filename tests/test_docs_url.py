"""The `docs-url` setting: the base of the rule links in the JSON and SARIF reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kerasfix.rules import Settings, SettingsError
from kerasfix.server.cli import main

SOURCE = "import keras\nopt = keras.optimizers.Adam(lr=1e-3)\n"
BASE = "https://docs.example.org/kerasfix/"


@pytest.fixture
def root(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def run(capsys, fmt: str) -> tuple[int, object, str]:
    code = main(["check", "train.py", "--select", "KER601", "--output-format", fmt, "--jobs", "1"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def _pyproject(root: Path, url: str) -> None:
    (root / "pyproject.toml").write_text(f'[tool.kerasfix]\ndocs-url = "{url}"\n', encoding="utf-8")


def test_json_url_uses_the_pyproject_docs_url(root, capsys):
    _pyproject(root, BASE)
    code, found, err = run(capsys, "json")
    assert (code, err) == (1, "")
    assert [f["url"] for f in found] == [f"{BASE}ker601-optimizer-lr-argument/"]


def test_json_url_defaults_to_the_published_docs(root, capsys):
    code, found, err = run(capsys, "json")
    assert (code, err) == (1, "")
    assert [f["url"] for f in found] == ["https://kerasfix.readthedocs.io/en/latest/rules/ker601-optimizer-lr-argument/"]


def test_sarif_help_uri_uses_the_docs_url(root, capsys):
    # Without the trailing `/` the base is still a folder.
    _pyproject(root, BASE.rstrip("/"))
    code, document, err = run(capsys, "sarif")
    assert (code, err) == (1, "")
    [rule] = [r for r in document["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "KER601"]
    assert rule["helpUri"] == f"{BASE}ker601-optimizer-lr-argument/"


@pytest.mark.parametrize(
    "value, problem",
    [
        (42, 'expected a URL such as "https://docs.example.org/kerasfix/", got 42'),
        ("docs.example.org/kerasfix/", "'docs.example.org/kerasfix/' is not an http(s) URL without a query or fragment"),
        ("ftp://docs.example.org/", "'ftp://docs.example.org/' is not an http(s) URL without a query or fragment"),
        ("https://docs.example.org/?v=1", "'https://docs.example.org/?v=1' is not an http(s) URL without a query or fragment"),
    ],
)
def test_a_bad_docs_url_is_reported_and_the_default_kept(value, problem):
    errors: list[SettingsError] = []
    settings = Settings.from_mapping({"docsUrl": value}, source="editor settings", errors=errors)
    assert settings.docs_url == Settings().docs_url
    assert [str(e) for e in errors] == [
        f"invalid setting `docsUrl` in editor settings: {problem}; the setting is ignored"
    ]
