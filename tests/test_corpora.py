"""kerasfix on real code (tests/corpora.py): no crash; every file it fixes (unsafe fixes
included) still parses and no longer has the findings the fixes addressed; on code already
migrated to Keras 3, exactly the known findings and none from a rule that reports an API Keras 3
removed. The corpora are downloaded into the test cache by the test command's setup step
(tests/setup_corpora.sh, run by tests/run_all.sh); a missing one fails the tests.

tests/test_corpus_metrics.py bounds the recall on the Keras 2 side and the number of findings on
the Keras 3 side; this file checks what those totals do not show: which rules fire on the Keras 3
side, and that fixing works on real code.

The counts below are exact: kerasfix is deterministic. When a rule change moves one, look at the
new findings (`python tests/corpora.py` prints them per rule; `python -m kerasfix.server check
<folder>` lists them) and, if they are right, write the new count here."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
import pytest

from corpora import CLEAN, CORPORA, MIGRATED, CorpusMissing, fetch

# The findings on the code its maintainers migrated to Keras 3 by hand, per rule. scikeras 0.13:
# a private `keras.src` import and a `tf.random.set_seed`; keras-tuner 1.4: its `keras_core`
# fallback imports and a private `keras.src` import. Nothing else may fire there.
MIGRATED_FINDINGS = {
    "scikeras-0.13": {"KER102": 1, "KER702": 1},
    "keras-tuner-1.4": {"KER102": 1, "KER104": 11},
}
assert set(MIGRATED_FINDINGS) == set(MIGRATED)

# Rules that report a Keras 2 namespace, argument or method Keras 3 removed (code using it does
# not run on Keras 3): they must never fire on Keras 3 code, the migrated versions and the two
# libraries written for Keras 3 alike.
NEVER_ON_KERAS3 = {
    "KER105",  # layers.experimental
    "KER108",  # removed Keras 2 namespace
    "KER109",  # mixed_precision.experimental
    "KER110",  # removed callback path
    "KER111",  # legacy / experimental optimizers
    "KER112",  # removed keras.utils path
    "KER113",  # keras.wrappers.scikit_learn
    "KER305",  # ModelCheckpoint(options=, period=)
    "KER306",  # load_weights(by_name=True)
    "KER405",  # add_weight with positional arguments
    "KER409",  # RNN time_major
    "KER410",  # removed BatchNormalization arguments
    "KER412",  # Embedding(input_length=)
    "KER414",  # attention causal=
    "KER417",  # separable convolution kernel_* arguments
    "KER509",  # fit_generator and the like
    "KER510",  # fit(workers=, use_multiprocessing=)
    "KER513",  # removed method arguments
    "KER530",  # removed callback arguments
    "KER601",  # optimizer lr=
    "KER602",  # optimizer decay=
}

# Per corpus: the findings that carry a fix, and the files `--fix --unsafe-fixes` changes.
FIXED = {
    "keras-cv": (12, 9),
    "keras-nlp": (9, 3),
    "keras-tuner-1.3": (79, 29),
    "keras-tuner-1.4": (11, 4),
    "scikeras-0.12": (59, 7),
    "scikeras-0.13": (2, 2),
    "spektral": (593, 43),
    "tf-keras": (323, 34),
    "tf-models-official": (8675, 477),
    "keras-hub": (21, 8),
    "keras-cv-0.9": (149, 29),
    "keras-rs": (0, 0),
    "bayesflow": (4, 4),
    "autokeras": (44, 8),
    "keras-tuner-1.4.7": (0, 0),
}
assert set(FIXED) == set(CORPORA)


def kerasfix(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kerasfix.server", *args], capture_output=True, text=True, timeout=1800
    )


def findings(root: Path, *paths: Path) -> list[dict]:
    """kerasfix's findings on `paths` (default: all of root), with `file` relative to root."""
    result = kerasfix("check", *map(str, paths or (root,)), "--output-format", "json", "--quiet", "--exit-zero")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    items = json.loads(result.stdout)
    for item in items:
        item["file"] = Path(item["filename"]).resolve().relative_to(root.resolve()).as_posix()
    return items


@dataclass
class Fixed:
    copy: Path
    before: dict[str, bytes]  # relative path -> original text
    changed: list[str]  # relative paths of the files the fix changed
    after: list[dict]  # findings in the changed files, after the fix


def folder_of(name: str) -> Path:
    try:
        return fetch(name)
    except CorpusMissing as error:
        missing = str(error)
    pytest.fail(missing, pytrace=False)


@functools.cache
def findings_of(name: str) -> list[dict]:
    """The findings on the corpus, computed once per session."""
    return findings(folder_of(name))


@pytest.fixture(scope="module", params=sorted(CORPORA))
def corpus(request) -> tuple[str, Path]:
    return request.param, folder_of(request.param)


@pytest.fixture(scope="module")
def checked(corpus) -> list[dict]:
    return findings_of(corpus[0])


@pytest.fixture(scope="module")
def fixed(corpus, tmp_path_factory) -> Fixed:
    name, folder = corpus
    # The copy keeps the package folder's name: kerasfix resolves the package's imports of
    # itself through it, and a renamed package gives other findings.
    copy = tmp_path_factory.mktemp(name) / folder.name
    shutil.copytree(folder, copy)
    # With the project's own root files beside it: a package folder without `__init__.py` (a
    # namespace package, as keras-rs's) is found inside its project only from them.
    for marker in ("pyproject.toml", "setup.py", "setup.cfg"):
        if (folder.parent / marker).is_file():
            shutil.copy2(folder.parent / marker, copy.parent / marker)
    before = {p.relative_to(copy).as_posix(): p.read_bytes() for p in copy.rglob("*.py")}
    result = kerasfix("check", str(copy), "--fix", "--unsafe-fixes", "--quiet", "--exit-zero")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    changed = sorted(rel for rel, data in before.items() if (copy / rel).read_bytes() != data)
    after = findings(copy, *(copy / rel for rel in changed)) if changed else []
    return Fixed(copy, before, changed, after)


def test_check_runs_without_crash(corpus, checked):
    name, _ = corpus
    assert all(item["code"].startswith("KER") for item in checked)
    if name not in CLEAN:
        # Keras 2 code: kerasfix must find migration sites in it.
        assert checked, name


def test_unsafe_fix_output_parses(corpus, fixed):
    name, _ = corpus
    for rel in fixed.changed:
        text = (fixed.copy / rel).read_bytes().decode("utf-8").lstrip("\ufeff")
        cst.parse_module(text)
        compile(text, rel, "exec", dont_inherit=True)
    if name not in CLEAN:
        assert fixed.changed, f"{name}: no file was fixed"


def test_fixes_remove_the_findings_they_address(corpus, checked, fixed):
    name, _ = corpus
    fixable = [item for item in checked if item["fix"] is not None]
    assert (len(fixable), len(fixed.changed)) == FIXED[name]
    # Every file with a fixable finding was changed, and nothing else was.
    assert sorted({item["file"] for item in fixable}) == fixed.changed
    # After the fix, no finding that has a fix is left (the passes went to the end) ...
    left = [f"{i['file']}:{i['location']['row']}: {i['code']} {i['message']}" for i in fixed.after if i["fix"]]
    assert not left, left[:20]
    # ... and per file and rule, the fixed findings are gone: what is left of a rule that had
    # fixes there is at most the findings of that rule that had none.
    total = Counter((item["file"], item["code"]) for item in checked)
    fixes = Counter((item["file"], item["code"]) for item in fixable)
    after = Counter((item["file"], item["code"]) for item in fixed.after)
    kept = {key: (total[key], fixes[key], after[key]) for key in fixes if after[key] > total[key] - fixes[key]}
    assert not kept, kept


@pytest.mark.parametrize("name", CLEAN)
def test_keras3_code_has_only_the_known_findings(name):
    checked = findings_of(name)
    removed_api = [f"{i['file']}:{i['location']['row']}: {i['code']} {i['message']}"
                   for i in checked if i["code"] in NEVER_ON_KERAS3]
    assert not removed_api, removed_api
    if name in MIGRATED:
        assert dict(Counter(item["code"] for item in checked)) == MIGRATED_FINDINGS[name], [
            f"{i['file']}:{i['location']['row']}: {i['code']}" for i in checked
        ]
