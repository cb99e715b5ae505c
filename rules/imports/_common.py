"""What the import and removed-API rules share: the Keras 3 public API, the table of removed
paths, and a rule base class that reports a table's paths wherever they are spelled.

Paths are relative to the Keras package ("layers.Dense"), as `Context.keras_api` gives them, so
one table row covers `tf.keras.layers.X`, `keras.layers.X`, `from tensorflow.keras.layers
import X` and `layers.X` after `from keras import layers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import libcst as cst

from ..engine.context import KERAS_PREFIXES, Context, keras_api
from ..engine.edits import FixSpec, NodeEdit, Replace
from ..engine.names import dotted_name
from ..engine.rule import Rule
from ..engine.tables import load_lines, load_toml
from ..engine.walker import code_children

TABLES = ("imports_namespaces.toml", "removed_names.toml")


# ----- the Keras 3 API -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _api() -> tuple[frozenset[str], frozenset[str]]:
    """Every public name of Keras 3, and those of them that are modules (they have members)."""
    names = load_lines("keras3_api.txt")
    modules = frozenset(name.rsplit(".", 1)[0] for name in names if "." in name)
    return names, modules


def full_name(path: str) -> str:
    return f"keras.{path}" if path else "keras"


def exists(path: str) -> bool:
    """Whether `keras.<path>` works in Keras 3. Members of a class or function are not listed in
    the API, so `Model.fit` counts as existing; a missing name of a module does not."""
    names, modules = _api()
    full = full_name(path)
    if full in names:
        return True
    parts = full.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in names:
            return prefix not in modules
    return False


def is_module(path: str) -> bool:
    return full_name(path) in _api()[1]


@lru_cache(maxsize=1)
def tf_keras_only() -> frozenset[str]:
    """Paths that only the `tf.keras` compatibility namespace still serves."""
    return frozenset(name[len("keras."):] for name in load_lines("tfkeras_only.txt"))


# What the `tf.keras` namespace serves but that fails on the TensorFlow backend all the same:
# Keras 2's setters, on a Keras 3 variable (`AttributeError: 'str' object has no attribute
# 'name'`), and the "auto" reduction, which Keras 3's losses refuse (`ValueError`).
_SHIM_FAILS = frozenset({"backend.set_value", "backend.batch_set_value", "losses.Reduction.AUTO"})
# The backends where a name that only the `tf.keras` namespace serves is missing.
WITHOUT_SHIM = frozenset({"jax", "torch"})


def shim_backends(path: str, origin: str) -> frozenset[str] | None:
    """The backends on which a name Keras 3 removed fails when spelled through `tf.keras`
    (`origin`): with TensorFlow >= 2.16 the `tf.keras` namespace still serves it on the
    TensorFlow backend (`keras._tf_keras`: `backend.name_scope`, `losses.Reduction`,
    `layers.RandomWidth`, ... checked on Keras 3.15.1 with TensorFlow 2.21), so only JAX and
    PyTorch, which have no `tf.keras`. None (the rule's own backends) for any other spelling
    or name."""
    if origin != "tf.keras":
        return None
    served = tf_keras_only()
    while path:
        if path in _SHIM_FAILS:
            return None
        if path in served:
            return WITHOUT_SHIM
        path = parent(path)
    return None


# The top-level packages of the modules `module_api` knows (`tensorflow`, `keras`, ...).
KERAS_ROOTS = frozenset(prefix.partition(".")[0] for prefix, _ in KERAS_PREFIXES)


def module_api(qualified: str | None) -> tuple[str, str] | None:
    """`Context.keras_api` for a module named in an import, where the bare prefix counts too:
    `from tensorflow.python.keras import backend` names `backend` of Keras 2's private copy."""
    if not qualified:
        return None
    for prefix, origin in KERAS_PREFIXES:
        if qualified == prefix[:-1]:
            return "", origin
    return keras_api(qualified)


# ----- the table of removed paths --------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    code: str
    path: str
    to: str | None = None
    search: tuple[str, ...] = ()
    fix: str = "none"
    note: str = ""
    # The rule rewrites calls of this name itself; the callee is not reported again.
    call: bool = False


@lru_cache(maxsize=1)
def rows() -> dict[str, Row]:
    found: dict[str, Row] = {}
    for table in TABLES:
        for raw in load_toml(table)["row"]:
            row = Row(
                code=raw["code"],
                path=raw["path"],
                to=raw.get("to"),
                search=tuple(raw.get("search", ())),
                fix=raw.get("fix", "none"),
                note=raw.get("note", ""),
                call=raw.get("call", False),
            )
            if row.path in found:
                raise ValueError(f"{table}: two rows for {row.path}")
            found[row.path] = row
    return found


@lru_cache(maxsize=None)
def leaves(code: str) -> frozenset[str]:
    """The last component of each path of one rule: a chain that spells none of them cannot
    match, which is checked before resolving any name."""
    return frozenset(row.path.rsplit(".", 1)[-1] for row in rows().values() if row.code == code)


@lru_cache(maxsize=None)
def row_for(path: str) -> Row | None:
    """The most specific row covering `path` (the tables are fixed: cached per path)."""
    table = rows()
    while True:
        row = table.get(path)
        if row is not None:
            return row
        if "." not in path:
            return None
        path = path.rsplit(".", 1)[0]


@lru_cache(maxsize=None)
def replacement(row: Row, path: str) -> str | None:
    """The existing Keras 3 path that replaces `path` (covered by `row`), or None."""
    if row.to is not None:
        rest = path[len(row.path):]
        new = row.to + rest if row.to else rest.lstrip(".")
    elif row.search and path != row.path:
        leaf = path.rsplit(".", 1)[-1]
        new = next(
            (candidate for candidate in (f"{m}.{leaf}" if m else leaf for m in row.search) if exists(candidate)),
            None,
        )
    else:
        return None
    if new is None or not exists(new) or row_for(new) is not None:
        return None
    return new


def owner(path: str, origin: str) -> str | None:
    """The code of the rule that reports `path` in a more specific way than KER101."""
    if origin == "tf.python.keras" or path == "src" or path.startswith("src."):
        return "KER102"
    row = row_for(path)
    if row is not None:
        return row.code
    if path in tf_keras_only():
        return "KER103"
    return None


def parent(path: str) -> str:
    return path.rsplit(".", 1)[0] if "." in path else ""


def leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def depth(path: str) -> int:
    return path.count(".") + 1 if path else 0


# ----- chains ----------------------------------------------------------------------------------


def outermost_chain(node: cst.Attribute, ctx: Context) -> bool:
    """Whether `node` is a whole `a.b.c` expression (not its `a.b`, not a name in an import)."""
    above = ctx.parents[-1]
    if type(above) is cst.Attribute:
        return above.value is not node
    return not isinstance(above, (cst.ImportAlias, cst.ImportFrom))


def descend(expr: cst.BaseExpression, steps: int) -> cst.BaseExpression | None:
    """`a.b` from `a.b.c.d` with steps=2; None when the chain is shorter."""
    for _ in range(steps):
        if not isinstance(expr, cst.Attribute):
            return None
        expr = expr.value
    return expr


_CHAIN_KEY = "imports.chain_words"


def chain_words(node: cst.Attribute, ctx: Context) -> frozenset[str] | None:
    """The attribute names of a whole `a.b.c` chain, or None for a part of a chain; computed
    once per node for all the table rules that look at it."""
    cache = ctx.shared.get(_CHAIN_KEY)
    if cache is None:
        cache = ctx.shared[_CHAIN_KEY] = {}
    key = id(node)
    if key in cache:
        return cache[key]
    found = None
    if outermost_chain(node, ctx):
        names = []
        expr: cst.BaseExpression = node
        while isinstance(expr, cst.Attribute):
            names.append(expr.attr.value)
            expr = expr.value
        found = frozenset(names)
    cache[key] = found
    return found


def root_name(expr: cst.BaseExpression) -> cst.Name | None:
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr if isinstance(expr, cst.Name) else None


def quoted(path: str) -> str:
    return f"`{full_name(path)}`"


# ----- table-driven rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    row: Row
    path: str
    # The existing Keras 3 path that replaces `path`; None when there is none.
    new: str | None

    @property
    def fixable(self) -> bool:
        return self.new is not None and self.row.fix != "none"

    @property
    def safe(self) -> bool:
        return self.row.fix == "safe"


class TableRule(Rule):
    """Reports the paths of its rows in the table wherever they are spelled: attribute chains,
    `from ... import` and `import ... as` statements. A chain is fixed by the smallest edit
    that works: dropping a namespace (`layers.experimental.preprocessing` -> `layers`), renaming
    the last name, or else spelling the replacement as `ctx.reference` gives it. An import is
    fixed when all its names move to one public module."""

    nodes = (cst.Attribute, cst.ImportFrom, cst.Import)
    deprecated = True
    # `{old}`, `{new}` and `{note}` are filled in per finding.
    removed_message: ClassVar[str] = "{old} is not in Keras 3: {note}"
    moved_message: ClassVar[str] = "{old} is not in Keras 3: use {new}"
    # Report `Name.member` too when `Name` was imported: for names whose import cannot be
    # fixed but whose uses can.
    uses_of_imports: ClassVar[bool] = False

    def words(self) -> frozenset[str]:
        return leaves(self.code)

    def attribute_words(self) -> frozenset[str]:
        """For the walker: an attribute is visited only when its whole chain spells one of
        these (see `engine.gates`); `visit_chain` tests the same."""
        return self.words()

    def import_roots(self) -> frozenset[str]:
        """For the walker: an import is visited only when it imports from a package Keras is
        reached through (see `engine.gates`); `module_api` in `visit_from_import` and
        `visit_import` answers None for any other."""
        return KERAS_ROOTS

    def resolve(self, path: str, origin: str) -> Match | None:
        row = row_for(path)
        if row is None or row.code != self.code:
            return None
        return Match(row, path, replacement(row, path))

    def message_for(self, match: Match) -> str:
        note = match.row.note
        if match.new is not None:
            text = self.moved_message.format(old=quoted(match.path), new=quoted(match.new), note=note)
            return f"{text} ({note})" if note and "{note}" not in self.moved_message else text
        return self.removed_message.format(old=quoted(match.path), note=note or "it was removed")

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:
        if type(node) is cst.Attribute:
            # A chain that spells none of the rule's names cannot match (the cheap test first:
            # most chains of a file go no further).
            names = chain_words(node, ctx)  # type: ignore[arg-type]
            if names is None or names.isdisjoint(self.words()):
                return
        # The fallback of a shim whose other branch imports Keras 3 (`try: from keras.ops
        # import *` / `except ImportError: from keras_core.src.ops import *`).
        if "keras" in shim_alternatives(ctx):
            return
        if type(node) is cst.Attribute:
            self.visit_chain(node, ctx)  # type: ignore[arg-type]
        elif type(node) is cst.ImportFrom:
            self.visit_from_import(node, ctx)  # type: ignore[arg-type]
        elif type(node) is cst.Import:
            self.visit_import(node, ctx)  # type: ignore[arg-type]

    # ----- chains --------------------------------------------------------------------------

    def visit_chain(self, node: cst.Attribute, ctx: Context) -> None:
        names = chain_words(node, ctx)
        if names is None or names.isdisjoint(self.words()):
            return
        api = ctx.keras_api(node)
        if api is None:
            return
        match = self.resolve(*api)
        if match is None:
            return
        row_node = descend(node, depth(match.path) - depth(match.row.path))
        if not isinstance(row_node, cst.Attribute) and not self.uses_of_imports:
            # The row's name is the root of the chain: an import bound it, and the import is
            # where it is reported.
            return
        if match.row.call:
            above = ctx.parents[-1]
            if isinstance(above, cst.Call) and above.func is node:
                return
        fix = self.chain_fix(node, row_node, match, ctx) if match.fixable else None
        ctx.report(node, self.message_for(match), fix=fix, backends=shim_backends(*api))

    def chain_fix(
        self, node: cst.Attribute, row_node: cst.BaseExpression, match: Match, ctx: Context
    ) -> FixSpec | None:
        row, new = match.row, match.new
        assert new is not None
        title = f"Use {quoted(new)}"
        if row.to is not None and (row.to == "" or row.path.startswith(row.to + ".")):
            # A namespace that is dropped: keep the user's own spelling of what stays.
            kept = descend(row_node, depth(row.path) - depth(row.to))
            if kept is not None:
                return FixSpec.of(match.safe, title, Replace(row_node, kept))
        if (
            row.to is not None
            and match.path == row.path
            and parent(row.to) == parent(row.path)
            and isinstance(row_node, cst.Attribute)
        ):
            return FixSpec.of(match.safe, title, Replace(row_node.attr, leaf(row.to)))
        reference = ctx.reference(full_name(new))
        if reference is None:
            return None
        text, imports = reference
        return FixSpec.of(match.safe, title, Replace(node, text), imports=imports)

    # ----- imports -------------------------------------------------------------------------

    def visit_from_import(self, node: cst.ImportFrom, ctx: Context) -> None:
        if node.relative or node.module is None:
            return
        module = dotted_name(node.module)
        api = module_api(module)
        if api is None:
            return
        module_path, origin = api
        module_match = self.resolve(module_path, origin)
        if isinstance(node.names, cst.ImportStar):
            if module_match is not None:
                ctx.report(node.module, self.message_for(module_match), backends=shim_backends(module_path, origin))
            return
        found: list[tuple[cst.ImportAlias, Match | None]] = []
        # Names another rule's row covers (`layers.experimental.RandomFourierFeatures` is gone,
        # not moved): that rule reports them, and the module's advice is not for them.
        elsewhere: list[str] = []
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is None:
                return
            path = f"{module_path}.{name}" if module_path else name
            found.append((alias, self.resolve(path, origin)))
            other = row_for(path)
            if other is not None and other.code != self.code:
                elsewhere.append(name)
        if module_match is not None:
            if len(elsewhere) == len(found):
                return
            message = self.message_for(module_match)
            if elsewhere:
                names = ", ".join(f"`{name}`" for name in elsewhere)
                message += f"; not {names}, reported on {'its' if len(elsewhere) == 1 else 'their'} own"
            ctx.report(
                node.module, message, fix=self.module_fix(node, found), backends=shim_backends(module_path, origin)
            )
            return
        for alias, match in found:
            if match is None:
                continue
            fix = None
            if match.fixable and parent(match.new) == module_path:  # type: ignore[arg-type]
                fix = FixSpec.of(match.safe, f"Use {quoted(match.new)}", _rename_alias(alias, leaf(match.new)))  # type: ignore[arg-type]
            ctx.report(alias.name, self.message_for(match), fix=fix, backends=shim_backends(match.path, origin))

    def module_fix(
        self, node: cst.ImportFrom, found: list[tuple[cst.ImportAlias, Match | None]]
    ) -> FixSpec | None:
        """`from old.module import a, b` -> `from keras.new import a, b`, when every name has a
        replacement in one and the same module."""
        if not found or any(match is None or not match.fixable for _, match in found):
            return None
        homes = {parent(match.new) for _, match in found}  # type: ignore[arg-type]
        if len(homes) != 1:
            return None
        home = homes.pop()
        assert node.module is not None
        edits: list[NodeEdit] = [Replace(node.module, full_name(home))]
        for alias, match in found:
            new_leaf = leaf(match.new)  # type: ignore[union-attr,arg-type]
            if new_leaf != dotted_name(alias.name):
                edits.append(_rename_alias(alias, new_leaf))
        safe = all(match.safe for _, match in found)  # type: ignore[union-attr]
        return FixSpec.of(safe, f"Import from `{full_name(home)}`", *edits)

    def visit_import(self, node: cst.Import, ctx: Context) -> None:
        for alias in node.names:
            name = dotted_name(alias.name)
            api = module_api(name)
            if api is None:
                continue
            match = self.resolve(*api)
            if match is None:
                continue
            fix = None
            if match.fixable and alias.asname is not None and is_module(match.new):  # type: ignore[arg-type]
                fix = FixSpec.of(match.safe, f"Import {quoted(match.new)}", Replace(alias.name, full_name(match.new)))  # type: ignore[arg-type]
            ctx.report(alias.name, self.message_for(match), fix=fix, backends=shim_backends(*api))


def _rename_alias(alias: cst.ImportAlias, new_name: str) -> Replace:
    """`old` -> `new as old`, so the code that uses the name keeps working."""
    if alias.asname is not None:
        return Replace(alias.name, new_name)
    return Replace(alias.name, f"{new_name} as {dotted_name(alias.name)}")


# ----- compatibility shims ---------------------------------------------------------------------

_SHIM_KEY = "imports.shim_branches"
# The statements whose other branches can hold a shim's alternative (no node type derives from
# them).
_BRANCHING = frozenset({cst.If, cst.Try, cst.TryStar})


def _alternatives(node: cst.CSTNode, inner: cst.CSTNode) -> list[cst.CSTNode]:
    """The branches of an `if` / `try` that run instead of the one holding `inner`."""
    if isinstance(node, cst.If):
        return [b for b in (node.body, node.orelse) if b is not None and b is not inner]
    if isinstance(node, (cst.Try, cst.TryStar)):
        # The `try` body is the first choice; only a handler is a fallback.
        if inner in node.handlers:
            return [b for b in (node.body, node.orelse) if b is not None]
    return []


def _imported_packages(branch: cst.CSTNode) -> frozenset[str]:
    """Top-level packages that a branch imports (not inside functions or classes defined there)."""
    found: set[str] = set()
    todo = [branch]
    while todo:
        node = todo.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            continue
        if isinstance(node, cst.Import):
            found.update((dotted_name(a.name) or "").split(".")[0] for a in node.names)
            continue
        if isinstance(node, cst.ImportFrom):
            if not node.relative and node.module is not None:
                found.add((dotted_name(node.module) or "").split(".")[0])
            continue
        if isinstance(node, cst.BaseExpression):
            continue
        todo.extend(code_children(node))
    return frozenset(found)


def shim_alternatives(ctx: Context) -> frozenset[str]:
    """Packages imported by the other branches of the `if` / `try` statements around the node
    being visited. `if keras_3(): import keras` / `else: from tensorflow import keras` gives
    {"keras"} in the `else`: code there is the fallback of a compatibility shim, which runs
    only where that package is not used."""
    parents = ctx.parents
    found: frozenset[str] = frozenset()
    cache = None
    for index in range(1, len(parents) - 1):
        node = parents[index]
        if type(node) not in _BRANCHING:  # exact types: an isinstance test costs more here
            continue
        if cache is None:
            cache = ctx.shared.setdefault(_SHIM_KEY, {})
        for branch in _alternatives(node, parents[index + 1]):
            packages = cache.get(id(branch))
            if packages is None:
                packages = cache[id(branch)] = _imported_packages(branch)
            found |= packages
    return found
