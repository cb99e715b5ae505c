"""Whether a module-level import has any use left in its file, and the edit that removes it.

Fixes of other rules (`tf.nest.flatten` -> `keras.tree.flatten`, `tfa.optimizers.AdamW` ->
`keras.optimizers.AdamW`, `K.int_shape(x)` -> `x.shape`) leave imports behind that nothing uses;
`fix()` re-lints between passes, so the pass after them sees the import unused and deletes it.

"Unused" is decided conservatively, so that deleting the import can never change what runs:

- only an import statement directly in the module body counts (one inside `try:` / `if:` / a
  function is conditional or local: `try: import tensorflow as tf` / `except ImportError:`);
- every `Name` outside import statements counts as a use, whatever it does (`del tf`,
  `global tf`, a local or a parameter that shadows `tf`, an assignment to `tf`);
- a string mentioning the name as a word counts as a use (`__all__ = ["tf"]`, a string type
  annotation `"tf.Tensor"`, `eval("tf.ones(2)")`, `getattr(module, "tf")`), docstrings excepted;
- a star import (`from tensorflow import *`) binds names nobody can list: never unused;
- in a package's `__init__.py` an import may be a re-export: the deletion is unsafe there.

An editor's re-lint of only the edited statements (`ctx.partial`) cannot see the other uses:
there the import keeps its finding and gets no fix until the next whole-file lint.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from ..engine.context import Context
from ..engine.edits import FixSpec, NodeEdit, Replace
from ..engine.names import dotted_name
from ..engine.walker import child_fields

_SHARED_KEY = "imports.used_names"

# Which aliases of an import statement a rule is about.
Concerns = Callable[[cst.ImportAlias], bool]
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class _Uses:
    names: frozenset[str]
    words_in_strings: frozenset[str]

    def used(self, name: str) -> bool:
        return name in self.names or name in self.words_in_strings


def _is_docstring(stmt: cst.SimpleStatementLine) -> bool:
    return (
        len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _local_imports(function: cst.FunctionDef, around: frozenset[str]) -> frozenset[str]:
    """The names local to `function` by an import in its own scope (not a nested function's
    or class's), or by such an import of a function `around` it, less those it declares
    `global` or `nonlocal`: Python makes them local to the whole function, so no read of them
    in it reads the module's binding."""
    bound: set[str] = set()
    declared: set[str] = set()
    todo: list[cst.CSTNode] = [function.body]
    while todo:
        node = todo.pop()
        kind = type(node)
        if kind is cst.FunctionDef or kind is cst.ClassDef or kind is cst.Lambda:
            continue
        if kind is cst.Import or kind is cst.ImportFrom:
            bound.update(name for alias in _aliases(node) if (name := _bound_name(node, alias)))  # type: ignore[arg-type]
            continue
        if kind is cst.Global or kind is cst.Nonlocal:
            declared.update(item.name.value for item in node.names)  # type: ignore[attr-defined]
            continue
        for field in child_fields(kind):
            value = getattr(node, field)
            if isinstance(value, cst.CSTNode):
                todo.append(value)
            elif isinstance(value, (tuple, list)):
                todo.extend(item for item in value if isinstance(item, cst.CSTNode))
    return frozenset((around | bound) - declared)


def collect_bindings(module: cst.Module) -> _Uses:
    names: set[str] = set()
    words: set[str] = set()
    # Each node with the names a function around it binds by its own import (the per-backend
    # `train_step` a fix writes imports `tensorflow as tf` in its TensorFlow branch).
    todo: list[tuple[cst.CSTNode, frozenset[str]]] = [(module, frozenset())]
    while todo:
        node, local = todo.pop()
        kind = type(node)
        if kind is cst.Import or kind is cst.ImportFrom:
            continue  # the names an import binds are not uses
        if kind is cst.SimpleStatementLine and _is_docstring(node):  # type: ignore[arg-type]
            continue
        if kind is cst.Name:
            if node.value not in local:  # type: ignore[attr-defined]
                names.add(node.value)  # type: ignore[attr-defined]
            continue
        if kind is cst.SimpleString:
            words.update(_WORD.findall(node.value))  # type: ignore[attr-defined]
            continue
        if kind is cst.FormattedStringText:
            words.update(_WORD.findall(node.value))  # type: ignore[attr-defined]
            continue
        if kind is cst.Attribute:
            # `x.tf` does not read the module-level `tf`; only the object before the dot can.
            todo.append((node.value, local))  # type: ignore[attr-defined]
            continue
        if kind is cst.Arg:
            # `f(tf=1)`: the keyword is not a read of `tf`.
            todo.append((node.value, local))  # type: ignore[attr-defined]
            continue
        if kind is cst.FunctionDef:
            # Decorators, defaults and annotations are read in the enclosing scope; the body in
            # the function's, where its own imports hide the module's names.
            inner = _local_imports(node, local)  # type: ignore[arg-type]
            for field in child_fields(kind):
                value = getattr(node, field)
                scope = inner if field == "body" else local
                if isinstance(value, cst.CSTNode):
                    todo.append((value, scope))
                elif isinstance(value, (tuple, list)):
                    todo.extend((item, scope) for item in value if isinstance(item, cst.CSTNode))
            continue
        for field in child_fields(kind):
            value = getattr(node, field)
            if isinstance(value, cst.CSTNode):
                todo.append((value, local))
            elif isinstance(value, (tuple, list)):
                todo.extend((item, local) for item in value if isinstance(item, cst.CSTNode))
    return _Uses(frozenset(names), frozenset(words))


def _uses(ctx: Context) -> _Uses:
    found = ctx.shared.get(_SHARED_KEY)
    if found is None:
        found = ctx.shared[_SHARED_KEY] = collect_bindings(ctx.module)
    return found


def module_level_statement(ctx: Context) -> cst.SimpleStatementLine | None:
    """The statement line holding the import being visited, if it sits directly in the module
    body (the walker's parents are then the Module and that line)."""
    parents = ctx.parents
    if len(parents) == 2 and isinstance(parents[1], cst.SimpleStatementLine):
        return parents[1]
    return None


def _aliases(node: cst.Import | cst.ImportFrom) -> list[cst.ImportAlias]:
    if isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar):
        return []
    return list(node.names)  # type: ignore[arg-type]


def _bound_name(node: cst.Import | cst.ImportFrom, alias: cst.ImportAlias) -> str | None:
    """The name `alias` binds: `tf` for `tensorflow as tf`, `tensorflow` for `tensorflow.keras`."""
    if alias.asname is not None:
        target = alias.asname.name
        return target.value if isinstance(target, cst.Name) else None
    name = dotted_name(alias.name)
    if name is None:
        return None
    return name.split(".", 1)[0] if isinstance(node, cst.Import) else name


def unused_aliases(
    node: cst.Import | cst.ImportFrom, ctx: Context, concerns: Concerns | None = None
) -> list[cst.ImportAlias] | None:
    """The aliases of a module-level import whose names nothing in the file uses, among those
    `concerns` accepts (`import tensorflow as tf, numpy as np`: the TensorFlow one); None when
    the question cannot be answered safely (not module level, a star import, a partial
    re-lint that sees only some statements)."""
    if module_level_statement(ctx) is None or ctx.partial:
        return None
    aliases = _aliases(node)
    if not aliases:
        return None
    # The file's uses are collected (a walk of the whole tree) only once an alias concerns the
    # rule: most imports that mention a name a rule looks for are not its imports.
    uses: _Uses | None = None
    unused: list[cst.ImportAlias] = []
    for alias in aliases:
        if concerns is not None and not concerns(alias):
            continue
        name = _bound_name(node, alias)
        if name is None:
            return None
        if uses is None:
            uses = _uses(ctx)
        if not uses.used(name):
            unused.append(alias)
    return unused


def _is_package_init(ctx: Context) -> bool:
    path = (ctx.path or "").replace("\\", "/")
    return path.rsplit("/", 1)[-1] == "__init__.py"


def _removal(node: cst.Import | cst.ImportFrom, unused: list[cst.ImportAlias], ctx: Context) -> Iterator[NodeEdit]:
    statement = module_level_statement(ctx)
    assert statement is not None
    aliases = _aliases(node)
    if len(unused) == len(aliases):
        if len(statement.body) == 1:
            # From the import to the end of its line (a trailing comment goes with it); the
            # comment lines above it stay.
            yield Replace(node, "", end=statement)
        else:
            yield Replace(node, "")  # `import tf; x = 1`: the semicolon goes with it
        return
    gone = {id(a) for a in unused}
    last_kept = max(i for i, a in enumerate(aliases) if id(a) not in gone)
    for alias in aliases[:last_kept]:
        if id(alias) in gone:
            yield Replace(alias, "")  # with its comma: `import a, b, c` -> `import b, c`
    if last_kept < len(aliases) - 1:
        # The unused names at the end go with the comma before them: `import a, b` -> `import a`.
        yield Replace(aliases[last_kept].comma, "", end=aliases[-1])  # type: ignore[arg-type]


def removal_fix(
    node: cst.Import | cst.ImportFrom, ctx: Context, what: str, concerns: Concerns | None = None
) -> FixSpec | None:
    """Delete the names of `node` (among those `concerns` accepts) that nothing uses, the whole
    statement when that is all of them; None when each has a use or no answer is safe."""
    unused = unused_aliases(node, ctx, concerns)
    if not unused:
        return None
    title = f"Remove the unused import of {what}"
    edits = tuple(_removal(node, unused, ctx))
    return FixSpec.of(not _is_package_init(ctx), title, *edits)
