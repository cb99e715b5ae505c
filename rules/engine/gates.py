"""Which rules the walker calls on a node and in a file: the gates rules declare.

Most rules act on few of the nodes of their type: a rule about `model.save(...)` acts on calls
whose callee's last name is `save`, not on the hundred thousand other calls of a large project.
Such a rule declares a gate; the walker reads the node's names once and calls only the rules
whose gates let it through, instead of calling every rule on every node for it to find out
itself. A gate must let through every node the rule can act on: it is the rule's own first test
(the rule still makes it), read by the walker. `tests/test_gates.py` lints with and without the
gates and compares the findings.

A gate is a rule method that returns the words it lets through:
- `call_leaves()`: calls whose callee is a name or an attribute chain ending in one of these
  (`reduce_sum` in `tf.reduce_sum(x)`, `Dense` in `Dense(3)`). A bare name imported under
  another name (`from keras.layers import Lambda as L`, then `L(f)`) also counts under the
  imported name, so that a rule resolving callees through imports is shown it.
- `call_keywords()`: calls that pass one of these keywords (`save_format=`). A rule with both
  call gates acts on a call that meets either.
- `import_roots()`: `import` and `from ... import` statements that import from a module whose
  top-level package is one of these (`keras`, `tensorflow`); a relative import meets no root.
- `attribute_names()`: attributes whose own (last) name is one of these (`x.metrics_names`).
- `attribute_words()`: attributes that are a whole chain (`a.b.c`, not its `a.b`, not a name in
  an import) spelling one of these anywhere: the table rules of the import and removed-API
  families. A rule with both attribute gates acts on an attribute that meets either.

A rule may also have a gate on the whole file: `applies_to(text)` says whether the file's text
may hold anything for it (a saving rule needs a saving call's name; KER523 needs binary
cross-entropy and a uniform draw). The walk of a file whose text a rule's gate refuses does not
call that rule at all. Without the text at hand (a part of a file walked alone), no rule is left
out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import ClassVar

import libcst as cst

from .context import SOURCE_TEXT, Context
from .rule import Rule

# The names `as` binds in a text (imports, and also `with` and `except`, which do no harm): only
# a bare-name callee among them can be an imported alias. `as` follows a blank, a line end or a
# backslash continuation; a comment may stand after it inside an import's brackets. The name is
# read in a lookahead, so that `as` inside a word (`alias as x`) does not hide the one after it;
# the search for the literal `as` is much faster than for a class of characters before it.
_AS_NAMES = re.compile(r"as(?=(?:\s|\\|#[^\r\n]*)+([^\W\d]\w*))")

_PART_OF_IMPORT = frozenset({cst.ImportAlias, cst.ImportFrom})


def whole_chain_words(node: cst.Attribute, parent: cst.CSTNode) -> frozenset[str] | None:
    """The attribute names of `node` when it is a whole chain under `parent`, else None."""
    kind = type(parent)
    if kind is cst.Attribute:
        if parent.value is node:  # type: ignore[attr-defined]
            return None
    elif kind in _PART_OF_IMPORT:
        return None
    names = []
    expr: cst.BaseExpression = node
    while type(expr) is cst.Attribute:
        names.append(expr.attr.value)  # type: ignore[attr-defined]
        expr = expr.value  # type: ignore[attr-defined]
    return frozenset(names)


def alias_names(ctx: Context) -> frozenset[str] | None:
    """The names the linted text may bind with `as`; None when the text is not at hand (every
    bare-name callee is then looked up)."""
    text = ctx.shared.get(SOURCE_TEXT)
    if text is None:
        return None
    return frozenset(m.group(1) for m in _AS_NAMES.finditer(text) if m.start() and text[m.start() - 1].isspace())


class _Gates:
    """The rules called on one node type, by their gates: the `first` gate picks a node's rules
    by a word of the node (the ungated rules come with any word), the `second` adds more.
    Merged rule lists keep the dispatch order, each merge made once."""

    first: ClassVar[str]
    second: ClassVar[str | None] = None

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.order = {rule: index for index, rule in enumerate(rules)}
        self._merged: dict[tuple[tuple[Rule, ...], frozenset[Rule]], tuple[Rule, ...]] = {}
        firsts = [(rule, gate(rule, self.first)) for rule in rules]
        seconds = [(rule, gate(rule, self.second) if self.second else None) for rule in rules]
        # The rules for a node no gate picks.
        self.ungated = tuple(rule for (rule, a), (_, b) in zip(firsts, seconds) if a is None and b is None)
        self.by_first = _by_word(firsts, self.ungated)
        self.by_second = _by_word(seconds)

    def with_rules(self, rules: tuple[Rule, ...], more: Iterable[Rule]) -> tuple[Rule, ...]:
        """`rules` and `more`, each once, in dispatch order."""
        extra = frozenset(more).difference(rules)
        if not extra:
            return rules
        key = (rules, extra)
        found = self._merged.get(key)
        if found is None:
            found = self._merged[key] = tuple(sorted({*rules, *extra}, key=self.order.__getitem__))
        return found


def _by_word(
    gates: Sequence[tuple[Rule, frozenset[str] | None]], also: tuple[Rule, ...] = ()
) -> dict[str, tuple[Rule, ...]]:
    """Word -> the rules whose gate holds it (and the rules `also`), in dispatch order."""
    words = set().union(*(wanted for _, wanted in gates if wanted is not None))
    order = {rule: index for index, (rule, _) in enumerate(gates)}
    table = {}
    for word in words:
        found = [rule for rule, wanted in gates if wanted is not None and word in wanted]
        table[word] = tuple(sorted({*found, *also}, key=order.__getitem__))
    return table


class CallGates(_Gates):
    """The rules called on calls, by the callee's last name and by keyword."""

    first, second = "call_leaves", "call_keywords"

    def __init__(self, rules: Sequence[Rule]) -> None:
        super().__init__(rules)
        # Last name -> its gated rules and the ungated ones; keyword -> the rules gated by it.
        self.by_leaf, self.by_keyword = self.by_first, self.by_second

    def for_alias(self, rules: tuple[Rule, ...], func: cst.Name, ctx: Context) -> tuple[Rule, ...]:
        """`rules` (picked by the callee's own name) and those of the name it was imported as."""
        qualified = ctx.qualname(func)
        if not qualified:
            return rules
        imported = qualified.rpartition(".")[2]
        if imported == func.value:
            return rules
        return self.with_rules(rules, self.by_leaf.get(imported, ()))

    def for_keywords(self, rules: tuple[Rule, ...], args: Sequence[cst.Arg]) -> tuple[Rule, ...]:
        """`rules` and those gated by the keywords the call passes."""
        more: list[Rule] = []
        for arg in args:
            keyword = arg.keyword
            if keyword is not None:
                more.extend(self.by_keyword.get(keyword.value, ()))
        return self.with_rules(rules, more) if more else rules


class AttributeGates(_Gates):
    """The rules called on attributes, by the attribute's name and by its chain's words."""

    first, second = "attribute_names", "attribute_words"

    def __init__(self, rules: Sequence[Rule]) -> None:
        super().__init__(rules)
        # Attribute name -> its gated rules and the ungated ones; chain word -> the rules gated by it.
        self.by_name, self.by_word = self.by_first, self.by_second

    def for_chain(self, rules: tuple[Rule, ...], node: cst.Attribute, parent: cst.CSTNode) -> tuple[Rule, ...]:
        """`rules` and those gated by the words of the whole chain `node` is, if it is one."""
        words = whole_chain_words(node, parent)
        if words is None:
            return rules
        more = [rule for word in words for rule in self.by_word.get(word, ())]
        return self.with_rules(rules, more) if more else rules


class _TextGates:
    """One dispatch table's rules with a gate on the file's text, and the tables without the
    rules each file's text leaves out (a few different sets, each made once)."""

    def __init__(self, dispatch: dict[type, Sequence[Rule]]) -> None:
        self.dispatch = dispatch
        self.gated = tuple({rule: None for rules in dispatch.values() for rule in rules if hasattr(rule, "applies_to")})
        self.without: dict[frozenset[Rule], dict[type, Sequence[Rule]]] = {frozenset(): dispatch}

    def for_text(self, text: str) -> dict[type, Sequence[Rule]]:
        left_out = frozenset(rule for rule in self.gated if not rule.applies_to(text))  # type: ignore[attr-defined]
        found = self.without.get(left_out)
        if found is None:
            found = self.without[left_out] = {
                kind: kept for kind, rules in self.dispatch.items() if (kept := tuple(r for r in rules if r not in left_out))
            }
        return found


# id(dispatch table) -> its text gates (the table is kept there: an id is not reused while so).
_TEXT_GATES: dict[int, _TextGates] = {}


def for_text(dispatch: dict[type, Sequence[Rule]], ctx: Context) -> dict[type, Sequence[Rule]]:
    """`dispatch` without the rules whose `applies_to` refuses the linted text."""
    text = ctx.shared.get(SOURCE_TEXT)
    if text is None:
        return dispatch
    gates = _TEXT_GATES.get(id(dispatch))
    if gates is None or gates.dispatch is not dispatch:
        gates = _TEXT_GATES[id(dispatch)] = _TextGates(dispatch)
    return gates.for_text(text) if gates.gated else dispatch


def _root(name: cst.BaseExpression) -> str | None:
    """The first name of a dotted module name (`keras` in `keras.layers`)."""
    while type(name) is cst.Attribute:
        name = name.value  # type: ignore[attr-defined]
    return name.value if type(name) is cst.Name else None  # type: ignore[attr-defined]


class ImportGates(_Gates):
    """The rules called on `import` or on `from ... import` statements, by the top-level
    packages of the modules imported."""

    first = "import_roots"

    def __init__(self, rules: Sequence[Rule]) -> None:
        super().__init__(rules)
        # Top-level package -> its gated rules and the ungated ones.
        self.by_root = self.by_first

    def for_import(self, node: cst.Import | cst.ImportFrom) -> tuple[Rule, ...]:
        if type(node) is cst.ImportFrom:
            if node.relative or node.module is None:  # type: ignore[union-attr]
                return self.ungated
            return self.by_root.get(_root(node.module), self.ungated)  # type: ignore[arg-type, union-attr]
        rules = self.ungated
        for alias in node.names:  # type: ignore[union-attr]
            rules = self.with_rules(rules, self.by_root.get(_root(alias.name), ()))  # type: ignore[arg-type]
        return rules


_CACHE: dict[tuple[type, tuple[Rule, ...]], _Gates | None] = {}


def gates_for(kind: type[_Gates], rules: Sequence[Rule] | None) -> _Gates | None:
    """The gates of `rules` (called on one node type, in dispatch order); None when there are
    no rules or none is gated."""
    if not rules:
        return None
    key = (kind, tuple(rules))
    if key not in _CACHE:
        found = kind(key[1])
        gated = len(found.ungated) < len(key[1])  # type: ignore[attr-defined]
        _CACHE[key] = found if gated else None
    return _CACHE[key]


def gate(rule: Rule, method_name: str) -> frozenset[str] | None:
    """The words of one of the rule's gates; None when it has none."""
    method = getattr(rule, method_name, None)
    words = method() if method is not None else None
    return frozenset(words) if words is not None else None
