"""Every rule's own examples: exact ranges, exact fixed text, the result parses, is clean for the
rule, and fixing twice equals fixing once. Every `valid` snippet gives no finding."""

from __future__ import annotations

import libcst as cst
import pytest

from kerasfix.rules import Settings, all_rules, fix, lint
from kerasfix.rules.engine.model import RULE_FAILED_CODE, SYNTAX_ERROR_CODE
from kerasfix.rules.engine.settings import parse_version

RULES = [r for r in all_rules() if r.code not in (SYNTAX_ERROR_CODE, RULE_FAILED_CODE)]
EXAMPLES = [
    pytest.param(rule, i, example, id=f"{rule.code}-{i}")
    for rule in RULES
    for i, example in enumerate(rule.examples)
]
VALID = [
    pytest.param(rule, snippet, id=f"{rule.code}-valid-{i}")
    for rule in RULES
    for i, snippet in enumerate(rule.valid)
]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder holding nothing else: examples are linted as its files, so that what
    surrounds the tests (this repository's own example programs save models) cannot change
    the rules' answers."""
    root = tmp_path_factory.mktemp("examples")
    (root / "pyproject.toml").write_text("")
    return root


def only(rule) -> Settings:
    # Every backend and the oldest Keras 3 the rule is about, so version- and backend-gated
    # rules run too.
    oldest = parse_version(rule.introduced_in) if rule.introduced_in else (3, 0, 0)
    return Settings(select=(rule.code,), keras_version=oldest)


def test_every_rule_has_examples_and_docs():
    for rule in RULES:
        assert rule.examples, f"{rule.code} has no examples"
        docs = rule.docs()
        for section in ("## Why", "## Fix safety"):
            assert section in docs, f"{rule.code} docs lack {section}"


@pytest.mark.parametrize("rule, index, example", EXAMPLES)
def test_example(rule, index, example, project):
    settings = only(rule)
    source = example.source
    path = str(project / "example.py")
    findings = [f for f in lint(source, path, settings) if f.code == rule.code]
    got = sorted((f.span.start, f.span.end) for f in findings)
    expected = example.expected_ranges()
    assert [source[a:b] for a, b in got] == [source[a:b] for a, b in expected]
    assert got == expected
    result = fix(source, path, settings, unsafe=example.unsafe).source
    if example.after is None:
        assert all(f.fix is None or (f.fix.applicability.value == "unsafe" and not example.unsafe) for f in findings)
        assert result == source
        return
    assert result == example.after
    cst.parse_module(result)
    again = fix(result, path, settings, unsafe=example.unsafe).source
    assert again == result
    left = [f for f in lint(result, path, settings) if f.code == rule.code and f.fix is not None]
    assert left == [], "the fixed text still has fixable findings of the rule"
    if not example.unsafe:
        # A safe example must not need unsafe fixes, and its unsafe run gives the same text.
        assert fix(source, path, settings, unsafe=True).source == example.after


@pytest.mark.parametrize("rule, snippet", VALID)
def test_valid(rule, snippet, project):
    found = [f for f in lint(snippet, str(project / "valid.py"), only(rule)) if f.code == rule.code]
    assert found == []
