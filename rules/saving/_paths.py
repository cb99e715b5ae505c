"""Which saves and loads of one file use the same path, so that the rename Keras 3 needs at a
save (`"model"` -> `"model.keras"`, `"w.h5"` -> `"w.weights.h5"`) is made at its loads too.

Two path expressions are the same path only when the file proves it:
- string literals with the same value;
- a name bound exactly once in its scope (the module or a function) to a string literal: its
  path is that literal, and renaming the literal where the name is set renames every use;
- f-strings with the same text whose fields are names each bound exactly once, the same
  binding on both sides (a function's parameter `root`, never reassigned: `f"{root}/model"`);
- `os.path.join(...)` calls of such parts;
- a name bound exactly once to a directory made at run time (`tempfile.mkdtemp()`,
  `with tempfile.TemporaryDirectory() as d`, `with helper() as d` for a context manager of the
  file that yields only directories), or `.name` of a name bound once to a TemporaryDirectory:
  such a path has no literal text, and is moved to a file in the directory
  (`os.path.join(d, "model.keras")`) only with the file's loads of the same name.
Anything else (attributes, calls, a name bound twice) is not provably the same path, and a load
through it keeps its path.

A path is renamed only when every save of it in the file takes the same new name, and, for a
whole model, no SavedModel API (`tf.saved_model`, `TFSMLayer`, `model.export`) uses it: such a
file wants a SavedModel directory there, which a `.keras` file is not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import libcst as cst

from ..engine.context import Context, call_keyword, keras_api, string_value
from ..engine.edits import FixSpec, Replace, remove_arg
from ..engine.names import Scopes, import_bindings, leaf_name, target_names
from ..engine.provenance import Where
from ..engine.walker import SOURCE_TEXT, child_fields, concrete_node_types, own_yields
from ._common import (
    LEGACY_H5,
    WEIGHTS,
    WHOLE_MODEL,
    has_extension,
    model_save_path,
    path_argument,
    last_component,
    path_tail,
    rewrite_tail,
    weights_call,
    without_suffix,
)

MODEL = "model"
WEIGHTS_FILE = "weights"
# A directory given to `keras.callbacks.OrbaxCheckpoint`: Keras 3 loads models and weights
# from such a directory.
ORBAX = "orbax"

_CHECKPOINT_SUFFIXES = (".ckpt", ".tf")
# Endings of Keras 2 weight files that Keras 3 cannot write: legacy HDF5, TF checkpoints, and a
# `.keras` name (a whole-model file, not weights).
OLD_WEIGHT_SUFFIXES = (*LEGACY_H5, *_CHECKPOINT_SUFFIXES, ".keras")

_SHARED_KEY = "saving.paths"
_SAVEDMODEL_KERAS_APIS = frozenset({"layers.TFSMLayer", "export.ExportArchive"})
# A text without these words calls no SavedModel API.
_SAVEDMODEL_WORDS = ("saved_model", "TFSMLayer", "ExportArchive")
# The callee names `_Collector._uses` looks at when no SavedModel API is named.
_USE_LEAVES = frozenset(
    {"save", "save_model", "save_weights", "load_weights", "ModelCheckpoint", "load_model", "OrbaxCheckpoint", "export"}
)
_PATH_KEYWORDS = ("filepath", "export_dir", "path")

Rename = Callable[[str], str]


# ----- what each save turns its path into --------------------------------------------------


def directory_rename(extension: str) -> Rename:
    """KER301: a SavedModel directory becomes one `.keras` (or `.h5`) file."""
    return lambda text: text.rstrip("/") + extension


def legacy_h5_rename(text: str) -> str:
    """KER315: a legacy whole-model `.h5` file becomes a `.keras` file."""
    return without_suffix(text, LEGACY_H5) + ".keras"


def weights_rename(text: str) -> str:
    """KER304: any old weights name becomes a `.weights.h5` file."""
    return without_suffix(text.rstrip("/"), OLD_WEIGHT_SUFFIXES) + WEIGHTS


def needs_weights_rename(text: str, saving: bool) -> bool:
    """Whether Keras 3 rejects this weights path: any old name when saving; only checkpoint
    prefixes when loading (legacy `.h5` and `.keras` files still load)."""
    lowered = text.lower()
    if lowered.endswith(WEIGHTS):
        return False
    old = OLD_WEIGHT_SUFFIXES if saving else _CHECKPOINT_SUFFIXES
    return not has_extension(lowered) or lowered.endswith(old)


def checkpoint_rename(weights_only: bool) -> tuple[str, tuple[str, ...], Rename]:
    """KER305: the ending `ModelCheckpoint` needs, the endings it accepts, and the rename."""
    if weights_only:
        required, accepted, old = WEIGHTS, (WEIGHTS,), OLD_WEIGHT_SUFFIXES
    else:
        required, accepted, old = ".keras", (".keras", *LEGACY_H5), _CHECKPOINT_SUFFIXES
    return required, accepted, lambda text: without_suffix(text.rstrip("/"), old) + required


# ----- the plan --------------------------------------------------------------------------


@dataclass(frozen=True)
class PathRef:
    """A path expression as far as the file proves it: `key`s are equal for the same path."""

    key: tuple
    text: str  # the literal text at the end of the path (what a rename changes)
    node: cst.CSTNode  # the node a rename rewrites
    # The name and the literal it is bound to, when the path is a name: the rename is made
    # there, not at the call.
    name: str | None = None
    binding: cst.BaseExpression | None = None
    # Why the path is a directory made at run time (`tempfile.mkdtemp()`...), when it is one:
    # then `text` is empty and `node` is the whole path expression.
    directory: str | None = None


@dataclass
class Use:
    """A call that saves or loads a path (or uses it as a SavedModel)."""

    family: str  # MODEL, WEIGHTS_FILE or "savedmodel"
    call: cst.Call
    expr: cst.BaseExpression  # the path argument
    ref: PathRef
    saving: bool
    order: int
    # For saves: the rule that reports the path and the rename its fix makes (None: the rule
    # reports it without a fix, or the path needs no change).
    code: str | None = None
    rename: Rename | None = None


@dataclass
class Decision:
    """What happens to one save or load."""

    rename: Rename | None
    code: str | None = None
    note: str | None = None


@dataclass
class PathPlan:
    uses: list[Use] = field(default_factory=list)
    by_call: dict[int, Use] = field(default_factory=dict)

    def use(self, call: cst.Call) -> Use | None:
        return self.by_call.get(id(call))

    def _group(self, key: tuple) -> list[Use]:
        return [u for u in self.uses if u.ref.key == key]

    def save_decision(self, save: Use) -> Decision:
        """Whether a save's rename is made, and why not."""
        if save.rename is None:
            return Decision(None)
        blocked = self._blocked(save.family, save.ref.key)
        if blocked:
            return Decision(None, save.code, blocked)
        if save.ref.directory is not None:
            unpaired = self._unpaired(save.family, save.ref.key)
            return Decision(None if unpaired else save.rename, save.code, unpaired)
        return Decision(save.rename, save.code, self._left_alone(save))

    def load_decision(self, load: Use) -> Decision:
        """The rename a load takes so that it reads what this file's saves write, if any."""
        saves = [u for u in self._group(load.ref.key) if u.saving and u.family == load.family and u.rename]
        if not saves:
            return Decision(None)
        blocked = self._blocked(load.family, load.ref.key)
        if blocked:
            return Decision(None, note=blocked)
        if load.ref.directory is not None:
            unpaired = self._unpaired(load.family, load.ref.key)
            return Decision(None if unpaired else saves[0].rename, saves[0].code, unpaired)
        note = None
        if load.order < min(s.order for s in saves):
            note = (
                "This load comes before the save in the file: if it reads a file written "
                "by Keras 2, convert that file (load it with Keras 2, save it under the new name)."
            )
        return Decision(saves[0].rename, saves[0].code, note)

    def orbax(self, use: Use) -> bool:
        """Whether this file gives the path to `OrbaxCheckpoint`: a directory Keras 3 loads."""
        return any(u.family == ORBAX for u in self._group(use.ref.key))

    def _unpaired(self, family: str, key: tuple) -> str | None:
        """Why the saves and loads of a directory made at run time are not moved together to
        one file in it, or None. They are when the file proves they are the same directory
        (one name, bound once) and every load of it comes after a save of it."""
        if key[0] != "dir":
            return (
                "The directory is given by a call, not by a name bound once, so no load in this "
                "file provably reads it."
            )
        group = [u for u in self._group(key) if u.family == family]
        saves = [u.order for u in group if u.saving]
        loads = [u.order for u in group if not u.saving]
        if not loads:
            return "No load in this file reads the directory, so there is no fix: change its readers with the save."
        if min(loads) < min(saves):
            return (
                "A load of the directory comes before its save in this file: it may read what "
                "other code wrote there, so neither is moved."
            )
        return None

    def has_saves(self, load: Use) -> bool:
        """Whether this file saves the path a load reads."""
        return any(u.saving and u.family == load.family for u in self._group(load.ref.key))

    def saved_as(self, load: Use) -> str | None:
        """The file this file's own saves write for a load of a directory path that a save
        already moved to a file (`save("m.keras")` ... `load_model("m")`)."""
        if load.ref.key[0] != "str":
            return None
        value = load.ref.key[1].rstrip("/")
        for extension in (".keras", ".h5"):
            key = ("str", value + extension)
            if any(u.saving and u.family == load.family and u.rename is None for u in self._group(key)):
                return extension
        return None

    def saved_in(self, load: Use) -> str | None:
        """The file that a save of this file, before a load of a directory made at run time,
        already writes in that directory (`model.save(os.path.join(d, "model.keras"))` ...
        `load_model(d)`): the load follows it, as it would have followed the save's fix."""
        key = load.ref.key
        if key[0] != "dir":
            return None
        # `os.path.join` keeps a name as ("name", scope, name), an attribute by its own key.
        heads = {key, ("name", *key[1:])} if len(key) == 3 else {key}
        accepted = (WEIGHTS,) if load.family == WEIGHTS_FILE else WHOLE_MODEL
        found = set()
        for use in self.uses:
            if not use.saving or use.family != load.family or use.order > load.order:
                continue
            if use.ref.key == key:
                return None  # the directory itself is saved too: the plan's decision holds
            parts = use.ref.key[1] if use.ref.key[0] == "join" else ()
            if len(parts) == 2 and parts[0] in heads and parts[1][0] == "str" and use.rename is None:
                name = parts[1][1]
                if "/" not in name and name.lower().endswith(accepted):
                    found.add(name)
        return found.pop() if len(found) == 1 else None

    def binding_decision(self, literal: cst.BaseExpression) -> tuple[Use, Rename] | None:
        """The save whose rename is made where its path's name is set to `literal`."""
        saves = [u for u in self.uses if u.saving and u.ref.binding is literal and u.rename]
        if not saves:
            return None
        results = {s.rename(s.ref.text) for s in saves}
        if len(results) != 1 or any(self._blocked(s.family, s.ref.key) for s in saves):
            return None
        return saves[0], saves[0].rename

    def _blocked(self, family: str, key: tuple) -> str | None:
        group = self._group(key)
        if family == MODEL:
            users = [u for u in group if u.family == "savedmodel"]
            if users:
                return (
                    "The same path is used as a TensorFlow SavedModel in this file, so it is not "
                    "renamed: write that SavedModel with `model.export()`."
                )
        saves = [u for u in group if u.saving and u.family == family]
        if any(u.code and u.rename is None for u in saves):
            return "Another save of the same path in this file cannot be renamed, so none is."
        if len({u.rename(u.ref.text) for u in saves if u.rename}) > 1:
            return "The file saves this path under more than one new name: rename it by hand."
        return None

    def _left_alone(self, save: Use) -> str | None:
        """Loads of the same path kerasfix cannot follow, named in the save's note."""
        if save.ref.directory is not None:
            return None
        loads = [u for u in self.uses if not u.saving and u.family == save.family and u.ref.text == save.ref.text]
        unproven = [u for u in loads if u.ref.key != save.ref.key]
        if unproven:
            return (
                "A load in this file names the same file through an expression that cannot be "
                "proven to be this path: it keeps its old name."
            )
        return None


def path_plan(ctx: Context) -> PathPlan:
    """The file's plan, made on first use and shared by the saving rules for this lint."""
    plan = ctx.shared.get(_SHARED_KEY)
    if plan is None or plan[0] is not ctx.module:
        plan = ctx.shared[_SHARED_KEY] = (ctx.module, _Collector(ctx).plan())
    return plan[1]


def literal_binding(node: cst.Assign | cst.AnnAssign) -> cst.BaseExpression | None:
    """The string literal of `NAME = "..."`, the kind of binding a path name may have."""
    if isinstance(node, cst.Assign):
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return None
        value = node.value
    else:
        if not isinstance(node.target, cst.Name) or node.value is None:
            return None
        value = node.value
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)) and string_value(value) is not None:
        return value
    return None


# ----- collecting the file's saves and loads ---------------------------------------------

_TEMPORARY_DIRECTORY = "tempfile.TemporaryDirectory"
_CONTEXT_MANAGER = "contextlib.contextmanager"
# How many names (`a = b`, `b = tempfile.mkdtemp()`) and helpers a directory is followed through.
_DEPTH = 8


def _names_directory(expr: cst.BaseExpression) -> bool:
    """A string or f-string whose last component has no file extension (`"runs/latest"`,
    `f"ram://{uuid4().hex}"`). An f-string needs literal text before a last component made of
    fields only (`f"{name}"` alone may be any file)."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = string_value(expr)
        return bool(value) and not has_extension(value)
    if not isinstance(expr, cst.FormattedString):
        return False
    text = "".join(part.value if isinstance(part, cst.FormattedStringText) else "\0" for part in expr.parts)
    name = last_component(text)
    literal = name.replace("\0", "")
    if "." in literal.strip("."):
        return False
    if literal:
        return True
    prefix = text.rstrip("/")[: -len(name)] if name else ""
    return bool(prefix.replace("\0", "")) and not prefix.startswith("\0")


class _Scope:
    __slots__ = ("node", "parent", "counts", "literals", "values", "entered", "defs", "is_class")

    def __init__(self, node: cst.CSTNode, parent: _Scope | None) -> None:
        self.node = node
        self.parent = parent
        self.counts: dict[str, int] = {}
        self.literals: dict[str, cst.BaseExpression] = {}
        # What a name is set to (`d = tempfile.mkdtemp()`), the context manager it is the
        # target of (`with TemporaryDirectory() as d`), the function it defines: read only
        # when the name is bound once.
        self.values: dict[str, cst.BaseExpression] = {}
        self.entered: dict[str, cst.BaseExpression] = {}
        self.defs: dict[str, cst.FunctionDef] = {}
        self.is_class = isinstance(node, cst.ClassDef)

    def bind(self, name: str, literal: cst.BaseExpression | None = None) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1
        if literal is not None:
            self.literals[name] = literal


def _bind_targets(target: cst.BaseExpression, scope: _Scope, literal: cst.BaseExpression | None = None) -> None:
    for name in target_names(target):
        scope.bind(name, literal)


def _bind_assign(node: cst.Assign, scope: _Scope) -> None:
    literal = literal_binding(node)
    for target in node.targets:
        _bind_targets(target.target, scope, literal)
    if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
        scope.values[node.targets[0].target.value] = node.value


def _bind_ann_assign(node: cst.AnnAssign, scope: _Scope) -> None:
    if node.value is not None:
        _bind_targets(node.target, scope, literal_binding(node))
        if isinstance(node.target, cst.Name):
            scope.values[node.target.value] = node.value


def _bind_target(node: cst.AugAssign | cst.For | cst.CompFor | cst.NamedExpr | cst.Del, scope: _Scope) -> None:
    _bind_targets(node.target, scope)


def _bind_with_item(node: cst.WithItem, scope: _Scope) -> None:
    if node.asname is not None:
        _bind_targets(node.asname.name, scope)
        if isinstance(node.asname.name, cst.Name):
            scope.entered[node.asname.name.value] = node.item


def _bind_handler(node: cst.ExceptHandler, scope: _Scope) -> None:
    if node.name is not None:
        _bind_targets(node.name.name, scope)


def _bind_import(node: cst.Import | cst.ImportFrom, scope: _Scope) -> None:
    for local, _ in import_bindings(node):
        scope.bind(local)


def _bind_global(node: cst.Global | cst.Nonlocal, scope: _Scope) -> None:
    # Rebound from elsewhere: never provably bound once, here or in the outer scopes.
    for item in node.names:
        current: _Scope | None = scope
        while current is not None:
            current.bind(item.name.value)
            current.bind(item.name.value)
            current = current.parent


_BINDERS: dict[type, Callable[[Any, _Scope], None]] = {
    cst.Assign: _bind_assign,
    cst.AnnAssign: _bind_ann_assign,
    cst.AugAssign: _bind_target,
    cst.For: _bind_target,
    cst.CompFor: _bind_target,
    cst.NamedExpr: _bind_target,
    cst.Del: _bind_target,
    cst.WithItem: _bind_with_item,
    cst.ExceptHandler: _bind_handler,
    cst.ExceptStarHandler: _bind_handler,
    cst.Import: _bind_import,
    cst.ImportFrom: _bind_import,
    cst.Global: _bind_global,
    cst.Nonlocal: _bind_global,
}


@lru_cache(maxsize=1)
def _node_types() -> frozenset[type]:
    return frozenset(concrete_node_types())


_NODE_TYPES = _node_types()
# The node types `_Collector._walk` handles itself; the others' child fields, as it meets them.
_SPECIAL = frozenset({cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Call, *_BINDERS})
_WALKED: dict[type, tuple[str, ...]] = {}


class _Names:
    """Import names resolved at the collector's position."""

    def __init__(self, scopes: Scopes) -> None:
        self.scopes = scopes

    def qualname(self, expr: cst.BaseExpression) -> str | None:
        return self.scopes.qualified_name(expr)

    def keras_api(self, expr: cst.BaseExpression) -> tuple[str, str] | None:
        return keras_api(self.qualname(expr))


class _Collector:
    """One walk of the module: the bindings of each scope, and every call that saves or loads."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.module = module = ctx.module
        self.scopes = Scopes(module)
        self.names = _Names(self.scopes)
        self.calls: list[tuple[cst.Call, _Scope, bool]] = []
        self.scope_of: dict[int, _Scope] = {}
        self._aside: Scopes | None = None
        self._helpers: dict[int, bool] = {}

    def plan(self) -> PathPlan:
        self._walk(self.module, _Scope(self.module, None), False)
        plan = PathPlan()
        # Any callee may be a SavedModel API (`tf.saved_model.save`, imported under any name)
        # only in a text that names one; elsewhere only the calls named like a save or a load
        # are looked at (resolving every callee's name is most of a plan's cost).
        text = self.ctx.shared.get(SOURCE_TEXT)
        every = text is None or any(word in text for word in _SAVEDMODEL_WORDS)
        for order, (call, scope, in_class) in enumerate(self.calls):
            if not every and leaf_name(call.func) not in _USE_LEAVES:
                continue
            # Names in the callee resolve through the functions around the call.
            functions = self._functions(scope)
            for function in functions:
                self.scopes.push(function)
            try:
                for use in self._uses(call, scope, in_class, order):
                    plan.uses.append(use)
                    plan.by_call.setdefault(id(call), use)
            finally:
                for _ in functions:
                    self.scopes.pop()
        return plan

    @staticmethod
    def _where(scope: _Scope) -> Where:
        """The position of a call in `scope`, as provenance takes it."""
        functions: list[cst.FunctionDef] = []
        klass: cst.ClassDef | None = None
        current: _Scope | None = scope
        while current is not None:
            if isinstance(current.node, cst.FunctionDef):
                functions.append(current.node)
            elif klass is None and isinstance(current.node, cst.ClassDef):
                klass = current.node
            current = current.parent
        functions.reverse()
        return Where(tuple(functions), klass)

    @staticmethod
    def _functions(scope: _Scope) -> list[cst.FunctionDef | cst.Lambda]:
        found: list[cst.FunctionDef | cst.Lambda] = []
        current: _Scope | None = scope
        while current is not None:
            if isinstance(current.node, (cst.FunctionDef, cst.Lambda)):
                found.append(current.node)
            current = current.parent
        found.reverse()
        return found

    # The walk records bindings first and resolves paths after it: a name may be set after
    # the function that uses it.
    def _walk(self, node: cst.CSTNode, scope: _Scope, in_class: bool) -> None:
        kind = type(node)
        fields = _WALKED.get(kind)
        if fields is not None:  # most nodes: neither a scope, a binding nor a call
            walk = self._walk
            for name in fields:
                value = getattr(node, name)
                value_kind = type(value)
                if value_kind is tuple or value_kind is list:
                    for item in value:
                        if type(item) in _NODE_TYPES:
                            walk(item, scope, in_class)
                elif value_kind in _NODE_TYPES:
                    walk(value, scope, in_class)
            return
        if kind is cst.FunctionDef or kind is cst.Lambda:
            if kind is cst.FunctionDef:
                scope.bind(node.name.value)
                scope.defs[node.name.value] = node
            inner = self.scope_of[id(node)] = _Scope(node, scope)
            params = node.params
            for group in (params.posonly_params, params.params, params.kwonly_params):
                for param in group:
                    inner.bind(param.name.value)
            for star in (params.star_arg, params.star_kwarg):
                if isinstance(star, cst.Param):
                    inner.bind(star.name.value)
            for child in node.children:
                self._walk(child, inner, in_class)
            return
        if kind is cst.ClassDef:
            scope.bind(node.name.value)
            inner = _Scope(node, scope)
            for child in node.children:
                self._walk(child, inner, True)
            return
        binder = _BINDERS.get(kind)
        if binder is not None:
            binder(node, scope)
        elif kind is cst.Call:
            self.calls.append((node, scope, in_class))  # type: ignore[arg-type]
        elif kind not in _SPECIAL:
            _WALKED[kind] = child_fields(kind)
        node_types = _node_types()
        # Field by field, as the engine's walker does: exact type checks, no ABC machinery.
        for name in child_fields(kind):
            value = getattr(node, name)
            value_kind = type(value)
            if value_kind in node_types:
                self._walk(value, scope, in_class)
            elif value_kind is tuple or value_kind is list:
                for item in value:
                    if type(item) in node_types:
                        self._walk(item, scope, in_class)

    # ----- resolving path expressions ----------------------------------------------------

    def _binding_scope(self, name: str, scope: _Scope) -> _Scope | None:
        current: _Scope | None = scope
        first = True
        while current is not None:
            if (first or not current.is_class) and name in current.counts:
                return current
            first = False
            current = current.parent
        return None

    def _once(self, name: str, scope: _Scope) -> _Scope | None:
        found = self._binding_scope(name, scope)
        return found if found is not None and found.counts[name] == 1 else None

    def resolve(self, expr: cst.BaseExpression, scope: _Scope) -> PathRef | None:
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
            value = string_value(expr)
            tail = path_tail(expr)
            if value is None or tail is None:
                return None
            return PathRef(("str", value), tail[0], tail[1])
        if isinstance(expr, cst.Name):
            owner = self._once(expr.value, scope)
            literal = owner.literals.get(expr.value) if owner is not None else None
            if literal is None:
                return self._directory_ref(expr, scope)
            tail = path_tail(literal)
            value = string_value(literal)
            if tail is None or value is None:
                return None
            return PathRef(("str", value), tail[0], tail[1], expr.value, literal)
        if isinstance(expr, cst.FormattedString):
            tail = path_tail(expr)
            if tail is None:
                return None
            fields = self._fields_key(expr, scope)
            # An f-string whose fields cannot be proven equal is still a path a save can rename:
            # it is just the same path as no other.
            key = ("f", self.module.code_for_node(expr), fields) if fields is not None else ("unproven", id(expr))
            return PathRef(key, tail[0], tail[1])
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            tail = path_tail(expr)
            # `root + "/model"`: a path a save can rename, the same path as no other.
            return PathRef(("unproven", id(expr)), tail[0], tail[1]) if tail is not None else None
        if isinstance(expr, cst.Call) and self.names.qualname(expr.func) == "os.path.join":
            return self._join(expr, scope)
        return self._directory_ref(expr, scope)

    def _fields_key(self, expr: cst.FormattedString, scope: _Scope) -> tuple | None:
        bound: list[tuple[int, str]] = []
        todo: list[cst.CSTNode] = list(expr.parts)
        while todo:
            part = todo.pop()
            if isinstance(part, cst.FormattedStringText):
                continue
            if not isinstance(part, cst.FormattedStringExpression) or not isinstance(part.expression, cst.Name):
                return None
            owner = self._once(part.expression.value, scope)
            if owner is None:
                return None
            bound.append((id(owner.node), part.expression.value))
            todo.extend(part.format_spec or ())
        return tuple(bound)

    def _join(self, call: cst.Call, scope: _Scope) -> PathRef | None:
        if not call.args or any(arg.keyword is not None or arg.star for arg in call.args):
            return None
        parts: list[tuple] = []
        last: PathRef | None = None
        for arg in call.args:
            if isinstance(arg.value, cst.Name):
                owner = self._once(arg.value.value, scope)
                if owner is None:
                    return None
                literal = owner.literals.get(arg.value.value)
                value = string_value(literal) if literal is not None else None
                parts.append(("str", value) if value is not None else ("name", id(owner.node), arg.value.value))
                last = None
                continue
            last = self.resolve(arg.value, scope)
            if last is None:
                return None
            parts.append(last.key)
        if last is None or last.name is not None or last.directory is not None:
            return None
        return PathRef(("join", tuple(parts)), last.text, last.node)

    # ----- directories made at run time --------------------------------------------------

    def _directory_ref(self, expr: cst.BaseExpression, scope: _Scope) -> PathRef | None:
        """A path that is a directory made at run time: `d` set once to `tempfile.mkdtemp()`,
        the target of `with tempfile.TemporaryDirectory() as d` or of a context manager of
        this file that yields a directory, `tmp.name` of `tmp = TemporaryDirectory()`, or such
        a call itself. Its key is its binding: two uses of `d` are the same directory."""
        why = self._directory(expr, scope, 0, False)
        if why is None:
            return None
        if isinstance(expr, cst.Call):
            why = why.replace(f"`{self.module.code_for_node(expr)}`", "it", 1)
        key: tuple = ("unproven", id(expr))
        if isinstance(expr, cst.Name):
            owner = self._once(expr.value, scope)
            if owner is not None:
                key = ("dir", id(owner.node), expr.value)
        elif isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = self._once(expr.value.value, scope)
            if owner is not None:
                key = ("dir", id(owner.node), expr.value.value, expr.attr.value)
        return PathRef(key, "", expr, directory=why)

    def _qualname_in(self, expr: cst.BaseExpression, scope: _Scope) -> str | None:
        """The qualified name of `expr` read in `scope` (not at the call being classified)."""
        aside = self._aside
        if aside is None:
            aside = self._aside = Scopes(self.module, self.scopes.module)
        functions = self._functions(scope)
        for function in functions:
            aside.push(function)
        try:
            return aside.qualified_name(expr)
        finally:
            for _ in functions:
                aside.pop()

    def _directory(self, expr: cst.BaseExpression, scope: _Scope, depth: int, strings: bool) -> str | None:
        """Why `expr`, read in `scope`, is a directory, or None. With `strings` (what a
        context manager yields), a string whose last component has no file extension is one."""
        if depth > _DEPTH:
            return None
        code = self.module.code_for_node
        if isinstance(expr, cst.Call):
            qualified = self._qualname_in(expr.func, scope)
            if qualified == "tempfile.mkdtemp":
                return f"`{code(expr)}` makes one and returns its name"
            if qualified == "tempfile.gettempdir":
                return f"`{code(expr)}` is the directory for temporary files"
            return None
        if isinstance(expr, cst.Attribute):
            if expr.attr.value != "name":
                return None
            made = self._temporary_directory(expr.value, scope)
            return f"the name of the one `{code(made)}` makes" if made is not None else None
        if isinstance(expr, cst.Name):
            owner = self._once(expr.value, scope)
            if owner is None:
                return None
            value = owner.values.get(expr.value)
            if value is not None:
                return self._directory(value, owner, depth + 1, strings)
            item = owner.entered.get(expr.value)
            if item is None or not isinstance(item, cst.Call):
                return None
            if self._qualname_in(item.func, owner) == _TEMPORARY_DIRECTORY:
                return f"`with {code(item)} as {expr.value}` gives the name of the one it makes"
            helper = self._context_manager(item.func, owner)
            if helper is not None and self._yields_directory(helper, depth + 1):
                return f"every value the context manager `{helper.name.value}()` yields is one"
            return None
        if strings and _names_directory(expr):
            return f"`{code(expr)}` names no file"
        return None

    def _temporary_directory(self, expr: cst.BaseExpression, scope: _Scope) -> cst.Call | None:
        """The `tempfile.TemporaryDirectory(...)` call `expr` is (or a name set once to)."""
        if isinstance(expr, cst.Name):
            owner = self._once(expr.value, scope)
            value = owner.values.get(expr.value) if owner is not None else None
            if value is None:
                return None
            expr, scope = value, owner
        if isinstance(expr, cst.Call) and self._qualname_in(expr.func, scope) == _TEMPORARY_DIRECTORY:
            return expr
        return None

    def _context_manager(self, func: cst.BaseExpression, scope: _Scope) -> cst.FunctionDef | None:
        """The function of this file `func` names, defined once, when it is decorated with
        `contextlib.contextmanager`."""
        if not isinstance(func, cst.Name):
            return None
        owner = self._once(func.value, scope)
        found = owner.defs.get(func.value) if owner is not None else None
        if found is None:
            return None
        for decorator in found.decorators:
            if self._qualname_in(decorator.decorator, owner) == _CONTEXT_MANAGER:
                return found
        return None

    def _yields_directory(self, function: cst.FunctionDef, depth: int) -> bool:
        """Whether `function` yields at least once and every `yield` of it yields a
        directory (or a name bound once to one, or a string that names no file)."""
        known = self._helpers.get(id(function))
        if known is not None:
            return known
        self._helpers[id(function)] = False  # a helper that reaches itself yields nothing known
        inner = self.scope_of.get(id(function))
        yields = list(own_yields(function.body))
        found = bool(yields) and inner is not None
        for value in yields:
            if not found:
                break
            found = value is not None and self._directory(value, inner, depth, True) is not None
        self._helpers[id(function)] = found
        return found

    # ----- classifying calls -------------------------------------------------------------

    def _uses(self, call: cst.Call, scope: _Scope, in_class: bool, order: int) -> Iterator[Use]:
        func = call.func
        leaf = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
        if leaf is None:
            return
        found: tuple[str, bool, cst.Arg | None] | None = None
        if leaf in ("save", "save_model"):
            found = (MODEL, True, model_save_path(call, self.ctx, self._where(scope)))
        elif leaf in ("save_weights", "load_weights") and weights_call(call, leaf, self.ctx, self._where(scope)):
            found = (WEIGHTS_FILE, leaf == "save_weights", path_argument(call, "filepath", 0))
        elif leaf in ("ModelCheckpoint", "load_model", "OrbaxCheckpoint"):
            api = self.names.keras_api(func)
            if api is not None and api[0] == "callbacks.ModelCheckpoint":
                found = (MODEL, True, path_argument(call, "filepath", 0))
            elif api is not None and api[0] in ("models.load_model", "saving.load_model"):
                found = (MODEL, False, path_argument(call, "filepath", 0))
            elif api is not None and api[0] == "callbacks.OrbaxCheckpoint":
                found = (ORBAX, False, path_argument(call, "directory", 0))
        if found is not None and found[2] is not None:
            family, saving, arg = found
            ref = self.resolve(arg.value, scope)
            if ref is not None and ref.directory is not None and leaf == "ModelCheckpoint":
                ref = None  # a checkpoint callback given a directory: not read here
            if ref is not None:
                use = Use(family, call, arg.value, ref, saving, order)
                if saving:
                    self._classify_save(use, leaf, in_class)
                yield use
        if self._savedmodel_api(call, leaf):
            for arg in call.args:
                if arg.keyword is None or arg.keyword.value in _PATH_KEYWORDS:
                    ref = self.resolve(arg.value, scope)
                    if ref is not None:
                        yield Use("savedmodel", call, arg.value, ref, False, order)

    def _classify_save(self, use: Use, leaf: str, in_class: bool) -> None:
        """Set the rule that reports a save's path and the rename its fix makes."""
        call, text = use.call, use.ref.text
        if leaf == "save_weights":
            if needs_weights_rename(text, saving=True):
                use.code, use.rename = "KER304", weights_rename
        elif leaf == "ModelCheckpoint":
            weights_only = call_keyword(call, "save_weights_only")
            only = weights_only is not None and isinstance(weights_only.value, cst.Name) and weights_only.value.value == "True"
            _, accepted, rename = checkpoint_rename(only)
            use.family = WEIGHTS_FILE if only else MODEL
            if not text.lower().endswith(accepted):
                use.code, use.rename = "KER305", rename
            elif not only and text.lower().endswith(LEGACY_H5):
                # Keras 3 writes a whole model to `.h5` but cannot always read it back (a model
                # compiled with `loss="mse"` fails to deserialize): the move of `model.save`.
                use.code, use.rename = "KER315", legacy_h5_rename
        elif not has_extension(text):
            use.code = "KER301"
            func = call.func
            if in_class and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
                # A model saving itself: `self.save` may be an override with its own rules.
                return
            fmt = call_keyword(call, "save_format")
            h5 = fmt is not None and string_value(fmt.value) in ("h5", "hdf5")
            use.rename = directory_rename(".h5" if h5 else ".keras")
        elif text.lower().endswith(LEGACY_H5):
            use.code, use.rename = "KER315", legacy_h5_rename

    def _savedmodel_api(self, call: cst.Call, leaf: str) -> bool:
        func = call.func
        if leaf == "export" and isinstance(func, cst.Attribute):
            return self.names.qualname(func) is None
        qualified = self.names.qualname(func)
        if qualified is None:
            return False
        if qualified.startswith("tensorflow.saved_model."):
            return True
        api = keras_api(qualified)
        return api is not None and api[0] in _SAVEDMODEL_KERAS_APIS


# ----- reporting -------------------------------------------------------------------------


def load_owner(plan: PathPlan, load: Use) -> str | None:
    """The rule that reports a load: KER303 for a directory given to `load_model`, KER304 for a
    checkpoint prefix given to `load_weights`, else the rule whose save renames the path; none
    for a directory the file gives to `OrbaxCheckpoint` (Keras 3 reads those)."""
    if plan.orbax(load):
        return None
    if load.family == MODEL and not has_extension(load.ref.text):
        return "KER303"
    if load.family == WEIGHTS_FILE and needs_weights_rename(load.ref.text, saving=False):
        return "KER304"
    decision = plan.load_decision(load)
    return decision.code if decision.rename else None


def _reported(ctx: Context, code: str) -> bool:
    return ctx.settings.enabled(code) and not ctx.settings.ignored_for_path(code, ctx.path)


def _new_name(use: Use, rename: Rename) -> str:
    return last_component(rename(use.ref.text))


def report_save(ctx: Context, use: Use, title: str, message: str | None = None) -> None:
    """Report a save's path, with the rename when the file's other uses of the path allow it."""
    decision = path_plan(ctx).save_decision(use)
    if use.ref.directory is not None:
        _report_directory_save(ctx, use, decision, message)
        return
    if use.ref.name is not None:
        note = decision.note
        if decision.rename is not None:
            note = f"The path is the string `{use.ref.name}` is set to: the fix renames it there."
        ctx.report(use.expr, message, note=note)
        return
    fix = None
    if decision.rename is not None:
        fix = _without_save_format(use, FixSpec.unsafe(title, rewrite_tail(use.ref.node, decision.rename)))
    ctx.report(use.expr, message, fix=fix, note=decision.note)


def save_format_of(use: Use) -> cst.Arg | None:
    """The `save_format=` of a whole-model save: once the path has its extension, Keras 3 only
    warns about it, and the extension decides the format."""
    return call_keyword(use.call, "save_format") if use.saving and use.family == MODEL else None


def _without_save_format(use: Use, fix: FixSpec) -> FixSpec:
    """The save's fix, which drops its `save_format=` too: the rename gives the path the
    extension that decides the format, and one finding with one fix covers both (KER302 leaves
    such a save to KER301)."""
    arg = save_format_of(use)
    if arg is None:
        return fix
    return FixSpec(f"{fix.title}, without `save_format`", fix.applicability, (*fix.edits, remove_arg(use.call, arg)), fix.imports)


def report_load(ctx: Context, load: Use, message: str | None = None, fallback: Rename | None = None) -> None:
    """Report a load, renamed as this file's saves of the same path are (or by `fallback`)."""
    plan = path_plan(ctx)
    decision = plan.load_decision(load)
    if decision.code is not None and not _reported(ctx, decision.code):
        # The save keeps its path, so must the load.
        decision = Decision(None, note=f"Enable {decision.code} to rename this load with the save of the same path.")
    if load.ref.directory is not None:
        _report_directory_load(ctx, load, decision, message)
        return
    rename, note = decision.rename, decision.note
    if rename is not None:
        note = note or f"This file saves the same path under a new name: the fix loads `{_new_name(load, rename)}`."
    elif not plan.has_saves(load):
        rename = fallback
    if rename is None or load.ref.name is not None:
        if load.ref.name is not None and decision.rename is not None:
            note = f"The path is the string `{load.ref.name}` is set to: the fix of the save renames it there."
        ctx.report(load.expr, message, note=note)
        return
    title = f"Load `{_new_name(load, rename)}`"
    ctx.report(load.expr, message, fix=FixSpec.unsafe(title, rewrite_tail(load.ref.node, rename)), note=note)


def _file_in(use: Use, rename: Rename | None) -> str:
    """The file a directory's save and its loads move to: `model.keras` (`model.h5` for
    `save_format="h5"`), `model.weights.h5` for weights."""
    if use.family == WEIGHTS_FILE:
        return "model" + WEIGHTS
    return "model" + (rename("") if rename is not None else ".keras")


def _in_directory(ctx: Context, use: Use, filename: str) -> tuple[str, tuple[str, ...]]:
    """The path of `filename` in the directory `use` names, and the import it needs:
    `os.path.join(d, "model.keras")`, or `f"{d}/model.keras"` where `os` is another name."""
    label = ctx.module.code_for_node(use.ref.node)
    if ctx.scopes.lookup("os") == "os":
        return f'os.path.join({label}, "{filename}")', ()
    if not ctx.scopes.is_bound("os"):
        return f'os.path.join({label}, "{filename}")', ("import os",)
    return f'f"{{{label}}}/{filename}"', ()


def _report_directory_save(ctx: Context, use: Use, decision: Decision, message: str | None) -> None:
    """A save to a directory made at run time: moved to one file in it when this file's loads
    of the same directory (all after a save) move with it; otherwise reported with the way."""
    label = ctx.module.code_for_node(use.ref.node)
    note = f"`{label}` is a directory: {use.ref.directory}."
    fix = None
    loads_code = "KER303" if use.family == MODEL else "KER304"
    if decision.rename is not None and not _reported(ctx, loads_code):
        decision = Decision(None, note=f"Enable {loads_code} to move this file's loads of `{label}` with the save.")
    if decision.rename is not None:
        filename = _file_in(use, decision.rename)
        path, imports = _in_directory(ctx, use, filename)
        note += f" The fix saves `{filename}` in it, and this file's loads of `{label}` load that file."
        fix = _without_save_format(
            use, FixSpec.unsafe(f"Save to `{filename}` in `{label}`", Replace(use.ref.node, path), imports=imports)
        )
    else:
        path = _in_directory(ctx, use, _file_in(use, None))[0]
        if use.family == WEIGHTS_FILE:
            note += (
                f" Save the weights to a `.weights.h5` file in it, e.g. `{path}`, and load that "
                "file where the directory is read."
            )
        else:
            note += (
                f" Save the model to a `.keras` file in it, e.g. `{path}`, and load that file where the "
                f"directory is read; or export a SavedModel there with `model.export({label})`."
            )
        if decision.note:
            note += " " + decision.note
    ctx.report(use.expr, message, fix=fix, note=note)


def _report_directory_load(ctx: Context, load: Use, decision: Decision, message: str | None) -> None:
    """A load of a directory made at run time: it follows this file's save of the same
    directory to its file, if that save is moved; otherwise reported with the way."""
    label = ctx.module.code_for_node(load.ref.node)
    note = f"`{label}` is a directory: {load.ref.directory}."
    fix = None
    saved = path_plan(ctx).saved_in(load) if decision.rename is None else None
    if saved is not None:
        path, imports = _in_directory(ctx, load, saved)
        note += f" This file saves `{saved}` in it before this load: the fix loads that file."
        fix = FixSpec.unsafe(f"Load `{saved}` in `{label}`", Replace(load.ref.node, path), imports=imports)
    elif decision.rename is not None:
        filename = _file_in(load, decision.rename)
        path, imports = _in_directory(ctx, load, filename)
        note += f" This file saves to `{label}` too: the fix loads `{filename}` in it, the file the save's fix writes."
        fix = FixSpec.unsafe(f"Load `{filename}` in `{label}`", Replace(load.ref.node, path), imports=imports)
    else:
        path = _in_directory(ctx, load, _file_in(load, None))[0]
        if load.family == WEIGHTS_FILE:
            note += (
                " Keras 3 loads weights from a `.weights.h5` file (or a `.keras` or legacy `.h5` one), "
                f"not from a directory: save them to one in it, e.g. `{path}`, and load that file."
            )
        else:
            note += (
                " Keras 3 loads a model from a `.keras` file, not from a directory: save it to one in "
                f"it, e.g. `{path}`, and load that file; or load a SavedModel there for inference with "
                "`keras.layers.TFSMLayer`."
            )
        if decision.note:
            note += " " + decision.note
    ctx.report(load.expr, message, fix=fix, note=note)


def report_binding(ctx: Context, node: cst.Assign | cst.AnnAssign, code: str, title: str) -> None:
    """Report `PATH = "..."` when a save of rule `code` writes to `PATH`: the rename is made
    here, once for every use of the name."""
    if not _may_save(ctx):
        return  # no save in the file: the plan would hold none
    literal = literal_binding(node)
    if literal is None:
        return
    tail = path_tail(literal)
    if tail is None or not _rename_candidate(tail[0]):
        return
    found = path_plan(ctx).binding_decision(literal)
    if found is None or found[0].code != code:
        return
    save, rename = found
    name = save.ref.name
    ctx.report(
        literal,
        note=f"`{name}` is the path a save in this file writes; renaming it here renames every use of `{name}`.",
        fix=FixSpec.unsafe(title, rewrite_tail(tail[1], rename)),
    )


@lru_cache(maxsize=4)
def may_save_or_load(text: str) -> bool:
    """Whether the text may hold a call that saves or loads a model or its weights: it spells
    a callee name of the calls a file's plan holds (`save`, `save_model`, `save_weights`,
    `load_model`, `load_weights`, `ModelCheckpoint`). Substring tests: a regular expression
    with a word boundary first is tried at every position of the text, many times slower.
    Kept for the last few texts: each saving rule asks about the same one."""
    return "save" in text or "load_model" in text or "load_weights" in text or "ModelCheckpoint" in text


# The names a call that saves is made by (`_Collector._uses`): a file that never calls one
# (the word followed by its parenthesis; "save" in a docstring is not a call) has no save for
# a path's binding to be renamed with. The word's start is tested apart: a regular expression
# that begins with a word boundary is tried at every position of the text, several times slower.
_SAVING_CALL = re.compile(r"(?:save(?:_model|_weights)?|ModelCheckpoint)\s*\(")
_MAY_SAVE_KEY = "saving.may_save"


def _names_saving_call(text: str) -> bool:
    for match in _SAVING_CALL.finditer(text):
        start = match.start()
        if not start or not (text[start - 1].isalnum() or text[start - 1] == "_"):
            return True
    return False


def _may_save(ctx: Context) -> bool:
    """Cheap test before the file's plan is made for a binding: whether the linted text names
    a saving call at all (always True when the text is unknown, in a region re-lint)."""
    found = ctx.shared.get(_MAY_SAVE_KEY)
    if found is None:
        text = ctx.shared.get(SOURCE_TEXT)
        found = ctx.shared[_MAY_SAVE_KEY] = text is None or _names_saving_call(text)
    return found


def _rename_candidate(text: str) -> bool:
    """Cheap test before the file's plan is made: could a save rename this path?"""
    lowered = text.lower()
    return not has_extension(lowered) or lowered.endswith(OLD_WEIGHT_SUFFIXES)
