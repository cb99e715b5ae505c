"""The precision of kerasfix on Keras 2 code holds (tests/tools/precision.py): every finding of
the seeded sample has been read and judged in tests/precision_judgements.toml, and in every rule
family at least 95% of the judged ones are true.

A change that adds findings may bring new ones into the sample: judge them with
`python tests/tools/precision.py sample`. kerasfix runs once per corpus (under a minute in all)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "tools"))
import precision  # noqa: E402

FLOOR = 0.95


@pytest.fixture(scope="module")
def judged() -> list:
    return precision.judged_sample(list(precision.KERAS2))


def test_every_sampled_finding_is_judged(judged):
    unread = [f"{item.corpus}:{item.file}:{item.row}: {item.code} {item.line}" for item, entry in judged if entry is None or entry["verdict"] == "?"]
    assert not unread, unread


def test_precision_per_family(judged):
    families = precision.by_family(judged)
    assert set(families) >= {"KER1", "KER2", "KER3", "KER4", "KER5", "KER6", "KER7"}
    low = {family: dict(counts) for family, counts in families.items() if (precision.precision(counts) or 1.0) < FLOOR}
    assert not low, low
    false = [f"{item.corpus}:{item.file}:{item.row}: {item.code}" for item, entry in judged if entry and entry["verdict"] == "FALSE"]
    assert not false, false
