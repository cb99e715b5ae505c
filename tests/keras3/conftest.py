"""Start every planned real-Keras run as soon as the tests are collected, and write
rules/data/checked.toml from the runs that proved a rule (KERASFIX_RECORD_CHECKED=1)."""

from __future__ import annotations

import os
from collections import defaultdict

from keras3_harness import CHECKED_TOML, ENVS, RUNNER, missing_venv, render_checked

_outcomes: dict[tuple[str, str], list[bool]] = defaultdict(list)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "keras3(runs, rule, env, phase): programs run under real Keras 3 for a rule"
    )


def pytest_collection_finish(session):
    # After -k/-m deselection: only the runs of the tests that will run are started.
    for item in session.items:
        for mark in item.iter_markers("keras3"):
            item.user_properties.append(("keras3", (mark.kwargs["rule"], mark.kwargs["env"])))
            for env, source, files in mark.kwargs["runs"]:
                if not missing_venv(ENVS[env]):
                    RUNNER.submit(env, source, files)


def pytest_runtest_logreport(report):
    if report.when != "call" and not (report.when == "setup" and report.failed):
        return
    for name, value in report.user_properties:
        if name == "keras3":
            _outcomes[value].append(report.passed)


def pytest_sessionfinish(session, exitstatus):
    RUNNER.shutdown()
    if os.environ.get("KERASFIX_RECORD_CHECKED") == "1" and exitstatus == 0 and _outcomes:
        CHECKED_TOML.write_text(render_checked(_outcomes), encoding="utf-8")
