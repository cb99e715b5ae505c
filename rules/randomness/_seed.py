"""Giving a layer a `keras.random.SeedGenerator` and passing it to a random op."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import libcst as cst

from ..engine.context import Context
from ..engine.edits import Insert
from ..engine.tables import load_toml
from ..training._common import add_to_init, class_attributes, constructed_api

ATTRIBUTE = "seed_generator"


@lru_cache(maxsize=1)
def keras_signatures() -> dict[str, list[str]]:
    return load_toml("randomness_ops.toml")["keras"]


@lru_cache(maxsize=1)
def tensorflow_ops() -> dict[str, dict[str, Any]]:
    return load_toml("randomness_ops.toml")["tensorflow"]


@lru_cache(maxsize=1)
def seeding_functions() -> frozenset[str]:
    return frozenset(load_toml("randomness_ops.toml")["seeding"]["functions"])


@dataclass(frozen=True)
class SeedSource:
    """How the op names the generator, the edits that create it, and the imports they need."""

    expression: str
    edits: tuple[Insert, ...]
    imports: tuple[str, ...]


def existing_generator(ctx: Context, klass: cst.ClassDef) -> str | None:
    """`self.x` when the class already assigns `self.x = keras.random.SeedGenerator(...)`."""
    for name, value in class_attributes(ctx, klass).items():
        if constructed_api(ctx, value) == "random.SeedGenerator":
            return f"self.{name}"
    return None


def seed_source(ctx: Context, klass: cst.ClassDef, seed: str = "") -> SeedSource | None:
    """The layer's seed generator, reusing one the class already has; otherwise one created in
    `__init__` from `seed` (an int literal, or nothing for a fresh random seed)."""
    found = existing_generator(ctx, klass)
    if found is not None:
        return SeedSource(found, (), ())
    if ATTRIBUTE in class_attributes(ctx, klass):
        return None
    reference = ctx.reference("keras.random.SeedGenerator")
    if reference is None:
        return None
    code, imports = reference
    edits = add_to_init(ctx, klass, f"self.{ATTRIBUTE} = {code}({seed})")
    if edits is None:
        return None
    return SeedSource(f"self.{ATTRIBUTE}", edits, imports)


def int_literal(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Integer):
        return expr.value
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return "-" + expr.expression.value if isinstance(expr.expression, cst.Integer) else None
    return None
