"""Loading the data files in `rules/data/` once per process."""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from importlib import resources
from collections.abc import Callable
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# The data files sit beside the rule families, in `kerasfix.rules`, not in the engine.
_DATA = resources.files(__package__.rpartition(".")[0])


@lru_cache(maxsize=None)
def load_toml(name: str) -> dict[str, Any]:
    text = _DATA.joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


@lru_cache(maxsize=None)
def load_json(name: str) -> Any:
    text = _DATA.joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=None)
def load_lines(name: str) -> frozenset[str]:
    text = _DATA.joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def preload(stop: Callable[[], bool] = lambda: False) -> None:
    """Read every data file now, unless `stop()` says to stop: for a process with time to spare
    before its first lint (a rule reads its tables the first time it needs them)."""
    loaders: dict[str, Callable[[str], Any]] = {"toml": load_toml, "json": load_json, "txt": load_lines}
    for entry in sorted(_DATA.joinpath("data").iterdir(), key=lambda entry: entry.name):
        loader = loaders.get(entry.name.rpartition(".")[2])
        if loader is None:
            continue
        if stop():
            return
        loader(entry.name)
