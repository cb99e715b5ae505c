"""Every rule's claim and fix, proven against the real Keras 3 (see cases/).

- before: the Keras 2 program fails as the rule's docs say, on every backend the case names;
- fixed: kerasfix's own fix of that program runs there, and where the rule is about numbers it
  equals what the unchanged program computes where it still works (TensorFlow).
"""

from __future__ import annotations

import tomllib

import pytest

from keras3_cases import Case, close
from keras3_cases.registry import ALL_CASES, ORPHANS
from keras3_harness import CHECKED_TOML, ENVS, RUNNER
from kerasfix.rules import Settings, fix, lint, rule_by_code


def settings_for(case: Case) -> Settings:
    return Settings(keras_version=case.keras_version) if case.keras_version else Settings()


def fixed_source(case: Case) -> str:
    return fix(case.before, "case.py", settings_for(case), unsafe=case.unsafe).source


def has_fix(case: Case) -> bool:
    findings = lint(case.before, "case.py", settings_for(case))
    return any(
        f.code == case.rule and f.fix is not None and (case.unsafe or f.fix.applicability.value == "safe")
        for f in findings
    )


def reference_source(case: Case) -> str:
    return case.reference_program or case.before


def _params(phase: str):
    for case in ALL_CASES:
        if phase == "fixed" and not has_fix(case):
            continue
        wrong = case.before_wrong if phase == "before" else case.fix_wrong
        for env in case.envs:
            source = case.before if phase == "before" else fixed_source(case)
            runs = [(env, source, case.files)]
            if phase == "fixed" and case.reference:
                runs.append((case.reference, reference_source(case), case.files))
            marks = [pytest.mark.keras3(runs=runs, rule=case.rule, env=env, phase=phase)]
            if wrong:
                marks.append(pytest.mark.xfail(strict=True, reason=wrong))
            yield pytest.param(case, env, marks=marks, id=f"{case.id}-{env}")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in ALL_CASES])
def test_case_is_the_rules_finding(case: Case):
    """The program is one the rule reports, so the run below is about that rule."""
    assert rule_by_code(case.rule) is not None, f"no rule {case.rule}"
    codes = [f.code for f in lint(case.before, "case.py", settings_for(case))]
    assert case.rule in codes, codes
    if has_fix(case):
        fixed = fixed_source(case)
        left = [f for f in lint(fixed, "case.py", settings_for(case)) if f.code == case.rule and f.fix]
        assert fixed != case.before and left == []


@pytest.mark.parametrize("case, env", list(_params("before")))
def test_before_fails_as_documented(case: Case, env: str):
    case.before_check(RUNNER.run(env, case.before, case.files))


@pytest.mark.parametrize("case, env", list(_params("fixed")))
def test_fixed_program_runs(case: Case, env: str):
    fixed = fixed_source(case)
    result = RUNNER.run(env, fixed, case.files)
    assert result.ok, f"kerasfix's fix does not run:\n{fixed}\n{result.describe()}"
    if case.fixed_check:
        case.fixed_check(result)
    if case.reference:
        reference = RUNNER.run(case.reference, reference_source(case), case.files)
        assert reference.ok, reference.describe()
        assert close(result.result, reference.result, case.tolerance), (
            f"{ENVS[env].backend} after the fix: {result.result}\n"
            f"{ENVS[case.reference].backend} before: {reference.result} (tolerance {case.tolerance})"
        )


def test_checked_toml_is_current():
    """rules/data/checked.toml (hover's "checked on Keras ...") lists what these cases prove:
    regenerate it with KERASFIX_RECORD_CHECKED=1 when cases change."""
    recorded = tomllib.loads(CHECKED_TOML.read_text(encoding="utf-8"))["rule"]
    disproven = {
        (case.rule, env) for case in ALL_CASES for env in case.envs if case.before_wrong or case.fix_wrong
    }
    for case in ALL_CASES:
        for env in case.envs:
            if (case.rule, env) in disproven:
                continue
            entry = recorded.get(case.rule, {})
            assert ENVS[env].backend in entry.get("backends", []), (case.id, env, entry)
            assert ENVS[env].keras in entry.get("keras", []), (case.id, env, entry)


def test_every_case_names_a_rule_that_exists():
    assert ORPHANS == [], "cases whose rule is gone: rename their rule or remove them"


def test_checked_rows_are_what_the_cases_run():
    """rules/data/checked_rows.toml (`kerasfix rule`'s per-row "run under real Keras") lists the
    op-table rows these cases run: regenerate it with tests/tools/gen_checked_rows.py."""
    import subprocess
    import sys
    from pathlib import Path

    generator = Path(__file__).resolve().parents[1] / "tools" / "gen_checked_rows.py"
    result = subprocess.run([sys.executable, str(generator), "--check"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr


def test_rule_docs_say_which_table_rows_ran_under_keras():
    docs = rule_by_code("KER204").docs()
    assert "## Table rows checked" in docs and "- `tf.argmax`: Keras 3.15.1" in docs
    assert "## Table rows checked" not in rule_by_code("KER204").docs(rows=False)
