"""Which Keras releases and backends each rule's claim was checked against.

`data/checked.toml` is written by the real-Keras test run (tests/keras3) and read here so that
`kerasfix rule` and hover can say where a rule was proven; `data/checked_rows.toml` says the
same of each op-table row whose rewrite a real-Keras case runs (tests/tools/gen_checked_rows.py).
"""

from __future__ import annotations

from functools import lru_cache

from .tables import load_toml


@lru_cache(maxsize=1)
def _records() -> dict[str, dict]:
    try:
        return load_toml("checked.toml").get("rule", {})
    except FileNotFoundError:
        return {}


def checked_on(code: str) -> str | None:
    record = _records().get(code)
    if not record:
        return None
    versions = ", ".join(record.get("keras", []))
    backends = ", ".join(record.get("backends", []))
    return f"Keras {versions} ({backends} backend{'s' if ',' in backends else ''})"


@lru_cache(maxsize=1)
def _rows() -> dict[str, dict]:
    try:
        return load_toml("checked_rows.toml").get("row", {})
    except FileNotFoundError:
        return {}


def row_checked_on(key: str) -> str | None:
    """Where the rewrite of the op-table row `key` (`tf.reduce_sum`, `K.int_shape`) was run
    against real Keras, or None when no case runs it."""
    record = _rows().get(key)
    if not record:
        return None
    versions = ", ".join(record.get("keras", []))
    backends = ", ".join(record.get("backends", []))
    return f"Keras {versions} ({backends})"
