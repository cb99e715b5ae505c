"""Name resolution through imports and aliases, without LibCST's scope analysis.

A module's imports are read once from its top-level statements (including those inside `if`,
`try` and `with` blocks); a function's own imports, parameters and assignments are read lazily,
the first time a name is looked up inside it. A name assigned or passed as a parameter inside a
function shadows the module's import of the same name; at module level an import wins over a
plain assignment, because `try: import tensorflow as tf` / `except ImportError: tf = None` is the
usual way to make an import optional.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import libcst as cst

# The value a scope stores for a name bound by something other than an import.
LOCAL = ""


def dotted_name(expr: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    # Exact type tests: `isinstance` on LibCST's classes goes through ABC machinery, and this
    # runs for most names a lint looks at.
    parts: list[str] = []
    while type(expr) is cst.Attribute:
        parts.append(expr.attr.value)  # type: ignore[attr-defined]
        expr = expr.value  # type: ignore[attr-defined]
    if type(expr) is cst.Name:
        parts.append(expr.value)  # type: ignore[attr-defined]
        parts.reverse()
        return ".".join(parts)
    return None


def name_nodes(node: cst.CSTNode) -> Iterator[cst.Name]:
    """Every `Name` node in `node`, itself included."""
    todo = [node]
    while todo:
        item = todo.pop()
        if isinstance(item, cst.Name):
            yield item
        todo.extend(item.children)


def leaf_name(func: cst.BaseExpression) -> str | None:
    """A callee's last name as written: `Dense` for `layers.Dense` and for `Dense`; None for
    any other expression (`f()()`, `x[0]()`)."""
    kind = type(func)
    if kind is cst.Attribute:
        return func.attr.value  # type: ignore[attr-defined]
    if kind is cst.Name:
        return func.value  # type: ignore[attr-defined]
    return None


def _module_path(node: cst.BaseExpression | None) -> str | None:
    if node is None:
        return None
    return dotted_name(node)


def absolute_module(package: str, level: int, module: str | None) -> str | None:
    """The module `from <dots><module> import ...` names, from inside `package`."""
    parts = package.split(".") if package else []
    if level - 1 >= len(parts):
        return None  # beyond the top-level package: Python refuses it too
    base = parts[: len(parts) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base) or None


def import_bindings(stmt: cst.Import | cst.ImportFrom, package: str | None = None) -> Iterator[tuple[str, str]]:
    """(local name, qualified name) for each name an import statement binds.

    Relative imports bind names of the user's own package: with the importing module's
    `package` they are made absolute, without it they map to LOCAL.
    """
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                yield alias.asname.name.value, full
            else:
                yield full.split(".", 1)[0], full.split(".", 1)[0]
        return
    if isinstance(stmt.names, cst.ImportStar):
        return
    relative = bool(stmt.relative)
    base = _module_path(stmt.module)
    if relative and package is not None:
        base = absolute_module(package, len(stmt.relative), base)
        relative = base is None
    for alias in stmt.names:
        name = dotted_name(alias.name)
        if name is None:
            continue
        local = (
            alias.asname.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
            else name
        )
        if relative or base is None:
            yield local, LOCAL
        else:
            yield local, f"{base}.{name}"


def target_names(target: cst.BaseExpression) -> Iterator[str]:
    """The names an assignment target binds (`a`, `a, (b, *c)`)."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from target_names(target.value)


class Bindings(dict):
    """Maps a local name to the qualified name it was imported as, or LOCAL."""

    def bind_import(self, local: str, qualified: str) -> None:
        self[local] = qualified

    def bind_local(self, local: str) -> None:
        # An import of the same name in the same scope wins (see the module docstring).
        if local not in self:
            self[local] = LOCAL


def collect_bindings(body: Sequence[cst.CSTNode], bindings: Bindings, declared_global: set[str]) -> None:
    """Bindings made by statements of one scope, not descending into nested scopes' bodies."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                _collect_small(small, bindings, declared_global)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            bindings.bind_local(stmt.name.value)
        elif isinstance(stmt, cst.BaseCompoundStatement):
            if isinstance(stmt, cst.For):
                for name in target_names(stmt.target):
                    bindings.bind_local(name)
            elif isinstance(stmt, cst.With):
                for item in stmt.items:
                    if item.asname is not None:
                        for name in target_names(item.asname.name):
                            bindings.bind_local(name)
            elif isinstance(stmt, (cst.Try, cst.TryStar)):
                for handler in stmt.handlers:
                    if handler.name is not None and isinstance(handler.name.name, cst.Name):
                        bindings.bind_local(handler.name.name.value)
            for block in child_blocks(stmt):
                collect_bindings(block, bindings, declared_global)
        elif isinstance(stmt, cst.BaseSmallStatement):
            # The body of `if x: import y` (a SimpleStatementSuite) holds small statements.
            _collect_small(stmt, bindings, declared_global)


def _collect_small(small: cst.BaseSmallStatement, bindings: Bindings, declared_global: set[str]) -> None:
    if isinstance(small, (cst.Import, cst.ImportFrom)):
        for local, qualified in import_bindings(small):
            if qualified:
                bindings.bind_import(local, qualified)
            else:
                bindings.bind_local(local)
    elif isinstance(small, cst.Assign):
        for target in small.targets:
            for name in target_names(target.target):
                bindings.bind_local(name)
    elif isinstance(small, (cst.AugAssign, cst.AnnAssign)):
        for name in target_names(small.target):
            bindings.bind_local(name)
    elif isinstance(small, (cst.Global, cst.Nonlocal)):
        for item in small.names:
            declared_global.add(item.name.value)


def child_blocks(stmt: cst.BaseCompoundStatement) -> Iterator[Sequence[cst.CSTNode]]:
    """The statement lists nested directly in a compound statement."""
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.BaseSuite):
        yield body.body
    if isinstance(stmt, (cst.Try, cst.TryStar)):
        for handler in stmt.handlers:
            yield handler.body.body
        if stmt.finalbody is not None:
            yield stmt.finalbody.body.body
    if isinstance(stmt, cst.Match):
        for case in stmt.cases:
            yield case.body.body
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If):
        yield (orelse,)
    elif orelse is not None:
        yield orelse.body.body


def statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Every statement of a block and of the blocks nested in it, not entering nested `def`s
    and classes (their statements belong to another scope)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        if isinstance(stmt, cst.BaseCompoundStatement):
            for block in child_blocks(stmt):
                yield from statements(block)



def module_bindings(module: cst.Module) -> Bindings:
    bindings = Bindings()
    collect_bindings(module.body, bindings, set())
    return bindings


def _param_names(params: cst.Parameters) -> Iterable[str]:
    for group in (params.posonly_params, params.params, params.kwonly_params):
        for param in group:
            yield param.name.value
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            yield star.name.value


def function_bindings(node: cst.FunctionDef | cst.Lambda) -> Bindings:
    bindings = Bindings()
    for name in _param_names(node.params):
        bindings[name] = LOCAL
    if isinstance(node, cst.FunctionDef):
        declared_global: set[str] = set()
        collect_bindings(node.body.body, bindings, declared_global)
        for name in declared_global:
            bindings.pop(name, None)
    return bindings


def chain_name(expr: cst.BaseExpression, head_of: Callable[[str], str | None]) -> str | None:
    """The qualified name of a chain `a.b.c` whose first name `head_of` qualifies (`a` ->
    `pkg.a` gives `pkg.a.b.c`); None for any other expression or an unknown first name."""
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if not isinstance(expr, cst.Name):
        return None
    head = head_of(expr.value)
    if not head:
        return None
    if not parts:
        return head
    parts.append(head)
    parts.reverse()
    return ".".join(parts)


class Scopes:
    """The chain of scopes at the walker's current position: module first, innermost last."""

    __slots__ = ("module", "_functions", "_cache", "_by_qualified")

    def __init__(self, module: cst.Module, bindings: Bindings | None = None) -> None:
        # `bindings` is given when `module` is only a part of a file (incremental re-lint).
        self.module = module_bindings(module) if bindings is None else bindings
        self._functions: list[cst.FunctionDef | cst.Lambda] = []
        self._cache: dict[int, Bindings] = {}
        self._by_qualified: dict[str, list[str]] | None = None

    def push(self, node: cst.FunctionDef | cst.Lambda) -> None:
        self._functions.append(node)

    def pop(self) -> None:
        self._functions.pop()

    def _bindings(self, node: cst.FunctionDef | cst.Lambda) -> Bindings:
        key = id(node)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = function_bindings(node)
        return found

    def lookup(self, name: str) -> str | None:
        """Qualified name an identifier refers to here; None if it is not an import."""
        for function in reversed(self._functions):
            bound = self._bindings(function).get(name)
            if bound is not None:
                return bound or None
        return self.module.get(name) or None

    def is_bound(self, name: str) -> bool:
        """Whether the name means anything here (a builtin does not count)."""
        if name in self.module:
            return True
        return any(name in self._bindings(f) for f in self._functions)

    def qualified_name(self, expr: cst.BaseExpression) -> str | None:
        """`tf.keras.layers.Dense` -> `tensorflow.keras.layers.Dense`, or None."""
        return chain_name(expr, self.lookup)

    def local_name_for(self, qualified: str) -> str | None:
        """A module-level name already bound to exactly this qualified name, if any."""
        if self._by_qualified is None:
            # Built once: a module with thousands of names must not be scanned per question.
            index: dict[str, list[str]] = {}
            for local, bound in self.module.items():
                if bound:
                    index.setdefault(bound, []).append(local)
            self._by_qualified = index
        for local in self._by_qualified.get(qualified, ()):
            if not any(local in self._bindings(f) for f in self._functions):
                return local
        return None
