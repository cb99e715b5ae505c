"""One traversal of the tree in which each node type dispatches to the rules that asked for it.

The walk reads node fields directly instead of using `CSTVisitor`, which rebuilds every node it
passes even when it only reads. Whitespace, comments and punctuation are not descended into: no
rule looks at them (`# noqa` comments are read from the text).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence

import libcst as cst

from .context import SOURCE_TEXT, Context  # noqa: F401 - SOURCE_TEXT: rules import it from here
from .gates import AttributeGates, CallGates, ImportGates, alias_names, for_text, gates_for
from .rule import Rule
from .syntax import RuleFailedRule, rule_failed_message

_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "colon",
        "dot",
        "equal",
        "header",
        "footer",
        "leading_lines",
        "lines_after_decorators",
        "newline",
        "trailing_whitespace",
        "operator",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "asynchronous",
        "star_tok",
        "arrow",
        "lambda_",
        "import_alias",
    }
)
_LEAVES = (cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Ellipsis)

_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node type that can hold child nodes (whitespace and leaves have none)."""
    names = _FIELDS.get(kind)
    if names is None:
        if issubclass(kind, _LEAVES):
            names = ()
        else:
            names = tuple(
                f.name
                for f in dataclasses.fields(kind)
                if f.name not in _SKIPPED_FIELDS and "whitespace" not in f.name
            )
        _FIELDS[kind] = names
    return names


def code_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The children of `node` that can hold code (names, expressions, statements), in field
    order: `node.children` without whitespace, comments and punctuation. LibCST builds
    `children` by running a visitor that rebuilds the node, many times the cost of reading its
    fields: a rule that searches a whole module uses this instead."""
    kind = type(node)
    names = _FIELDS.get(kind)
    if names is None:
        names = child_fields(kind)
    node_types = _NODE_TYPES or _node_types()
    found: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        kind_of_value = type(value)
        if kind_of_value in node_types:
            found.append(value)
        elif kind_of_value is tuple or kind_of_value is list:
            found.extend(item for item in value if type(item) in node_types)
    return found


def own_yields(node: cst.CSTNode) -> Iterator[cst.BaseExpression | None]:
    """The values of the `yield`s of a function body, not those of the functions, lambdas and
    classes inside it (`yield from` gives the `From` node)."""
    for child in code_children(node):
        if isinstance(child, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        if isinstance(child, cst.Yield):
            yield child.value  # type: ignore[misc]
        yield from own_yields(child)


def calls_in(node: cst.CSTNode) -> Iterator[cst.Call]:
    """Every call at or below `node`, in source order (through `code_children`, cheaper than a
    LibCST visitor)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if type(current) is cst.Call:
            yield current  # type: ignore[misc]
        stack.extend(reversed(code_children(current)))


def is_generator(function: cst.FunctionDef) -> bool:
    """Whether the function is a generator (its own body yields)."""
    return any(True for _ in own_yields(function.body))


def concrete_node_types() -> list[type[cst.CSTNode]]:
    """Every LibCST node class that can appear in a tree (no abstract bases)."""
    found: list[type[cst.CSTNode]] = []
    seen: set[type] = set()
    todo: list[type] = [cst.CSTNode]
    while todo:
        kind = todo.pop()
        for sub in kind.__subclasses__():
            if sub in seen:
                continue
            seen.add(sub)
            todo.append(sub)
            if not getattr(sub, "__abstractmethods__", None) and dataclasses.is_dataclass(sub):
                found.append(sub)
    return found


def build_dispatch(rules: Iterable[Rule]) -> dict[type, tuple[Rule, ...]]:
    """Node type -> the rules to call on it; a rule asking for a base class gets every subclass."""
    concrete = concrete_node_types()
    # The concrete types under each wanted type, found once, from each type's MRO: `issubclass`
    # on LibCST's abstract classes goes through ABC machinery (LibCST registers no virtual
    # subclasses), and a hundred rules ask for the same few types.
    under: dict[type, list[type]] = {}
    table: dict[type, list[Rule]] = {}
    for rule in rules:
        for wanted in rule.nodes:
            kinds = under.get(wanted)
            if kinds is None:
                kinds = under[wanted] = [kind for kind in concrete if wanted in kind.__mro__]
            for kind in kinds:
                table.setdefault(kind, []).append(rule)
    return {kind: tuple(found) for kind, found in table.items()}


_NODE_TYPES: frozenset[type] = frozenset()


def _node_types() -> frozenset[type]:
    global _NODE_TYPES
    if not _NODE_TYPES:
        _NODE_TYPES = frozenset(concrete_node_types())
    return _NODE_TYPES


_RULE_FAILED = RuleFailedRule()


def walk(module: cst.Module, ctx: Context, dispatch: dict[type, Sequence[Rule]]) -> None:
    # A set lookup on the exact type: `isinstance(x, cst.CSTNode)` goes through ABC machinery.
    node_types = _NODE_TYPES or _node_types()
    parents = ctx.parents
    scopes = ctx.scopes
    functions = ctx.functions
    classes = ctx.classes
    errors = ctx.errors

    # Which rules to call in this file, and on a call or an attribute: see `gates`.
    dispatch = for_text(dispatch, ctx)
    attributes: AttributeGates | None = gates_for(AttributeGates, dispatch.get(cst.Attribute))  # type: ignore[assignment]
    if attributes is not None:
        by_name, unnamed, by_word = attributes.by_name, attributes.ungated, attributes.by_word
    imports_from: ImportGates | None = gates_for(ImportGates, dispatch.get(cst.ImportFrom))  # type: ignore[assignment]
    imports: ImportGates | None = gates_for(ImportGates, dispatch.get(cst.Import))  # type: ignore[assignment]
    calls: CallGates | None = gates_for(CallGates, dispatch.get(cst.Call))  # type: ignore[assignment]
    if calls is not None:
        by_leaf, ungated, by_keyword = calls.by_leaf, calls.ungated, calls.by_keyword
        aliases = alias_names(ctx)

    def visit(node: cst.CSTNode) -> None:
        kind = type(node)
        rules = dispatch.get(kind)
        if rules:
            if kind is cst.Attribute and attributes is not None:
                rules = by_name.get(node.attr.value, unnamed)  # type: ignore[attr-defined]
                if by_word:
                    rules = attributes.for_chain(rules, node, parents[-1])  # type: ignore[arg-type]
            elif kind is cst.Call and calls is not None:
                func = node.func  # type: ignore[attr-defined]
                func_kind = type(func)
                if func_kind is cst.Attribute:
                    rules = by_leaf.get(func.attr.value, ungated)
                elif func_kind is cst.Name:
                    rules = by_leaf.get(func.value, ungated)
                    if aliases is None or func.value in aliases:
                        rules = calls.for_alias(rules, func, ctx)
                else:
                    rules = ungated
                if by_keyword:
                    for arg in node.args:  # type: ignore[attr-defined]
                        keyword = arg.keyword
                        if keyword is not None and keyword.value in by_keyword:
                            rules = calls.for_keywords(rules, node.args)  # type: ignore[attr-defined]
                            break
            elif kind is cst.ImportFrom and imports_from is not None:
                rules = imports_from.for_import(node)  # type: ignore[arg-type]
            elif kind is cst.Import and imports is not None:
                rules = imports.for_import(node)  # type: ignore[arg-type]
            for rule in rules:
                ctx._current_rule = rule
                try:
                    rule.visit(node, ctx)
                except RecursionError:
                    raise
                except Exception as error:  # noqa: BLE001 - one broken rule must not stop the rest
                    errors.append((rule.code, error))
                    # Said where it happened: a finding the rule would have made may be missing.
                    ctx.report(node, rule_failed_message(rule.code, error), rule=_RULE_FAILED)
        names = _FIELDS.get(kind)
        if names is None:
            names = child_fields(kind)
        if not names:
            return
        scoped = kind is cst.FunctionDef or kind is cst.Lambda
        if scoped:
            scopes.push(node)  # type: ignore[arg-type]
            if kind is cst.FunctionDef:
                functions.append(node)  # type: ignore[arg-type]
        elif kind is cst.ClassDef:
            classes.append(node)  # type: ignore[arg-type]
        parents.append(node)
        for name in names:
            value = getattr(node, name)
            kind_of_value = type(value)
            if kind_of_value in node_types:
                visit(value)
            elif kind_of_value is tuple or kind_of_value is list:
                for item in value:
                    if type(item) in node_types:
                        visit(item)
        parents.pop()
        if scoped:
            scopes.pop()
            if kind is cst.FunctionDef:
                functions.pop()
        elif kind is cst.ClassDef:
            classes.pop()

    try:
        visit(module)
    finally:
        # `visit` reaches itself through its closure: without this the cycle keeps the whole
        # tree alive after the lint, for the garbage collector to find and free much later.
        del visit

