"""tests/projects/chain3: a tf.keras package whose layer and model classes derive from each other
across modules (PairDistance -> MidLayer -> BaseLayer -> tf.keras.layers.Layer, each in its own
module, joined by relative imports). Every line marked `# expect` must be reported, whether
kerasfix checks the whole folder or one file alone (the project index reads the other modules).
Lines marked `# expect-known-miss (...)` are Keras 2 constructs that kerasfix does not report
yet: tests/corpus_metrics.py counts them in the project's recall; this test leaves them out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).parent / "projects" / "chain3"


def expected() -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for path in sorted(PROJECT.rglob("*.py")):
        lines = {n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if line.rstrip().endswith("# expect")}
        if lines:
            out[path.relative_to(PROJECT).as_posix()] = lines
    return out


def reported(target: Path) -> dict[str, set[int]]:
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", str(target), "--output-format", "json",
         "--exit-zero", "--quiet"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out: dict[str, set[int]] = {}
    for item in json.loads(result.stdout):
        rel = Path(item["filename"]).resolve().relative_to(PROJECT.resolve()).as_posix()
        out.setdefault(rel, set()).update(range(item["location"]["row"], item["end_location"]["row"] + 1))
    return out


def test_the_project_has_expectations():
    found = expected()
    assert "chain3/layers/distance.py" in found
    assert sum(len(v) for v in found.values()) >= 15


def test_folder_reports_every_expected_line():
    found = reported(PROJECT)
    missing = [f"{f}:{n}" for f, lines in expected().items() for n in sorted(lines)
               if n not in found.get(f, set())]
    assert not missing, missing


@pytest.mark.parametrize("rel", sorted(expected()))
def test_file_alone_reports_its_expected_lines(rel):
    found = reported(PROJECT / rel)
    missing = sorted(expected()[rel] - found.get(rel, set()))
    assert not missing, f"{rel}: {missing}"


def test_three_deep_layer_is_a_keras_class_when_checked_alone():
    # The tf ops in PairDistance.call are model code only because the class is a Layer three
    # modules away: KER201 (tf.concat, tf.range) and the tf.gather / tf.shape traps.
    found = reported(PROJECT / "chain3" / "layers" / "distance.py")
    assert {11, 12, 13, 14} <= found.get("chain3/layers/distance.py", set())
