"""kerasfix on real Keras 2 code: no crash, and every file it fixes (unsafe fixes included)
still parses. The corpora are downloaded into the test cache by the test command's setup step
(tests/setup_corpora.sh, run by tests/run_all.sh); a missing one fails the tests."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from corpora import CLEAN, CORPORA, CorpusMissing, fetch


def kerasfix(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kerasfix.server", *args], capture_output=True, text=True, timeout=1800
    )


@pytest.fixture(scope="module", params=sorted(CORPORA))
def corpus(request) -> tuple[str, Path]:
    try:
        return request.param, fetch(request.param)
    except CorpusMissing as error:
        missing = str(error)
    pytest.fail(missing, pytrace=False)


def test_check_runs_without_crash(corpus):
    name, folder = corpus
    result = kerasfix("check", str(folder), "--output-format", "json", "--quiet", "--exit-zero")
    assert result.returncode == 0, result.stderr[-2000:]
    findings = json.loads(result.stdout)
    assert all(item["code"].startswith("KER") for item in findings)
    assert "Traceback" not in result.stderr
    if name not in CLEAN:
        # Keras 2 code: kerasfix must find migration sites in it.
        assert findings, name


def test_unsafe_fix_output_parses(corpus, tmp_path):
    name, folder = corpus
    copy = tmp_path / name
    shutil.copytree(folder, copy)
    before = {p: p.read_bytes() for p in copy.rglob("*.py")}
    result = kerasfix("check", str(copy), "--fix", "--unsafe-fixes", "--quiet", "--exit-zero")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    changed = 0
    for path, data in before.items():
        after = path.read_bytes()
        if after == data:
            continue
        changed += 1
        text = after.decode("utf-8")
        cst.parse_module(text.lstrip("\ufeff"))
        compile(text.lstrip("\ufeff"), str(path), "exec", dont_inherit=True)
    if name not in CLEAN:
        assert changed, f"{name}: no file was fixed"
