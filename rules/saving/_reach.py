"""Whether a custom Keras class can reach a save or a load (KER308, KER309, KER310).

Registering a class and accepting `**kwargs` matter only when Keras rebuilds the class from its
config. A class is taken to reach that when:
- the linted file saves, loads or rebuilds Keras objects by config: the same calls the project
  index counts for the other modules (`project.SAVING_METHODS`, `SAVING_FUNCTIONS`,
  `PICKLING_MODULES`, a `ModelCheckpoint` saving whole models), read here from the buffer
  itself, which may be unsaved;
- the class defines `get_config` or `from_config`: it is written to be serialized;
- the class is registered (`register_keras_serializable` under any spelling, a project decorator
  that calls it, `register_keras_serializable(...)(Cls)`, or passed in `custom_objects=`);
- another module of the project saves or loads (`ProjectModule.saving_sites()`); when the
  project is too big to walk, that is unknown and counts as reaching.
Except a class that only other Keras classes of the project build, inside their own methods:
a loaded model rebuilds it through its owner's `__init__` or `build` and never looks it up by
name (checked on Keras 3.15.1, JAX and TensorFlow: a registered layer that makes an
unregistered one in `__init__` and another in `build` reloads with the same outputs, and so
does a registered subclassed model that makes it through a module-level helper). That holds
when every reference to the class in the project's modules (tests apart, see
`ProjectIndex.class_references`) is in a method of a Keras layer, or of a Keras model that
defines `get_config()` or `call()` (a functional model's default config would name its layers;
a subclassed model without `get_config()` cannot be saved at all, `NotImplementedError`
whatever its layers), or in a top-level function whose references are all so (up to three
helpers deep), whose owner does not serialize what it builds of the class (the module's
`serialize_keras_object` calls are all of `self` attributes in class methods, and those of the
owner hold only objects passed in or values that do not name the class:
`ProjectIndex.may_serialize_built`), and the class is not registered. KER308 also leaves alone a class the project only derives others from: no
reference but as a base (`only_a_base`).
Without a path (standard input, an untitled buffer) there is no project: only the text counts.
The answer comes with the reason, which the finding's note shows.

While an editor re-lints only the edited statements, the file's saves and registrations are
read from all its statements (the others from the editor's earlier parses), as a whole-file lint
reads them; an edit that adds or removes one re-lints the whole file (`SAVING_TEXT`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from ..engine.context import Context
from ..engine.names import Scopes, dotted_name, statements
from ..engine.positions import CodegenDone, RecordingState
from ..engine.project import SAVING_CALL_NAMES, grow_registering, is_test_file, saving_call
from ..engine.walker import SOURCE_TEXT, child_fields, concrete_node_types

REGISTER = "register_keras_serializable"
CONFIG_METHODS = ("get_config", "from_config")

_SHARED_KEY = "saving.reach"
# Text that any save, load or pickling call (`project.SAVING_CALL_NAMES`), `custom_objects=` or
# registration other than a class's own decorator spells: the editor's re-lint of some
# statements (`engine.incremental`) re-lints the whole file after an edit to a statement that
# spells any of it, since that statement decides for the custom classes of the others.
SAVING_TEXT = re.compile(
    r"save|load|checkpoint|Checkpoint|to_json|model_from_|serialize_keras_object|clone_model|from_preset|"
    r"pickle|dill|joblib|custom_objects|^(?![ \t]*@).*" + REGISTER,
    re.MULTILINE,
)
_NEWLINE = re.compile(r"\r\n|\r|\n")
_NODE_TYPES: frozenset[type] = frozenset()


@dataclass
class _FileFacts:
    """What the linted text says, read once per lint."""

    # (call, what, its top-level statement) of each place the text saves, loads or rebuilds
    # Keras objects, in order.
    sites: list[tuple[cst.Call, str, cst.CSTNode]] = field(default_factory=list)
    # Names registered by a call (`register_keras_serializable()(Block)`) or passed in
    # `custom_objects={...}`.
    registered: dict[str, str] = field(default_factory=dict)
    # Cached answers: the note about the file's own saves, the project's.
    file_note: str | None = None
    project_note: str | None = None
    project_known: bool = False
    # Top-level functions and classes of the text that call `register_keras_serializable`,
    # directly or through another of them (None until asked).
    registering: set[str] | None = None


def _facts(ctx: Context) -> _FileFacts:
    found = ctx.shared.get(_SHARED_KEY)
    if found is None or found[0] is not ctx.module:
        found = ctx.shared[_SHARED_KEY] = (ctx.module, _Scan(ctx).run())
    return found[1]


class _Scan:
    """One walk of the text for saving calls and registrations, with the names of each
    function's own imports (as the engine's walker resolves them, without touching its state)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.scopes = Scopes(ctx.module, ctx.scopes.module)
        self.facts = _FileFacts()
        self.statement: cst.CSTNode = ctx.module

    def run(self) -> _FileFacts:
        global _NODE_TYPES
        if not _NODE_TYPES:
            _NODE_TYPES = frozenset(concrete_node_types())
        # Every statement of the file, also those an editor's re-lint of others does not walk.
        for stmt in self.ctx.module_statements:
            self.statement = stmt
            self._walk(stmt)
        return self.facts

    def _walk(self, node: cst.CSTNode) -> None:
        kind = type(node)
        if kind is cst.Call:
            self._call(node)  # type: ignore[arg-type]
        names = child_fields(kind)
        if not names:
            return
        scoped = kind is cst.FunctionDef or kind is cst.Lambda
        if scoped:
            self.scopes.push(node)  # type: ignore[arg-type]
        node_types = _NODE_TYPES
        for name in names:
            value = getattr(node, name)
            value_kind = type(value)
            if value_kind in node_types:
                self._walk(value)
            elif value_kind is tuple or value_kind is list:
                for item in value:
                    if type(item) in node_types:
                        self._walk(item)
        if scoped:
            self.scopes.pop()

    def _call(self, call: cst.Call) -> None:
        func = call.func
        if isinstance(func, cst.Attribute):
            name = func.attr.value
        elif isinstance(func, cst.Name):
            name = func.value
        elif isinstance(func, cst.Call):
            # `register_keras_serializable(...)(Block)`
            inner = dotted_name(func.func)
            if inner and inner.rsplit(".", 1)[-1] == REGISTER and call.args and isinstance(call.args[0].value, cst.Name):
                self.facts.registered.setdefault(call.args[0].value.value, f"`{REGISTER}(...)(...)`")
            return
        else:
            return
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "custom_objects" and isinstance(arg.value, cst.Dict):
                for element in arg.value.elements:
                    if isinstance(element, cst.DictElement) and isinstance(element.value, cst.Name):
                        self.facts.registered.setdefault(element.value.value, "`custom_objects=`")
        if name not in SAVING_CALL_NAMES:
            return
        # The project index's test (`project.saving_call`), so that a note reads alike from either.
        method = isinstance(func, cst.Attribute)
        what = saving_call(
            name,
            method=method,
            owner=self.scopes.qualified_name(func.value if method else func),  # type: ignore[union-attr]
            has_arguments=bool(call.args),
            weights_only=any(
                arg.keyword is not None and arg.keyword.value == "save_weights_only"
                and isinstance(arg.value, cst.Name) and arg.value.value == "True"
                for arg in call.args
            ),
        )
        if what is not None:
            self.facts.sites.append((call, what, self.statement))


def _partial_line(ctx: Context, statement: cst.CSTNode, node: cst.CSTNode) -> int | None:
    """The 1-based line where `node` starts while only some statements are linted: from where
    the editor says its top-level statement starts, and the statement written out alone."""
    from ..engine.incremental import STATEMENT_STARTS

    starts = ctx.shared.get(STATEMENT_STARTS)
    text = ctx.shared.get(SOURCE_TEXT)
    if starts is None or text is None or id(statement) not in starts:
        return None
    within = _line_of(cst.Module(body=[statement]), node)  # type: ignore[list-item]
    if within is None:
        return None
    return len(_NEWLINE.findall(text, 0, starts[id(statement)])) + within


def _line_of(module: cst.Module, node: cst.CSTNode) -> int | None:
    """The 1-based line where `node` starts, by writing the module out up to it."""
    state = RecordingState(module, {id(node)}, [])
    try:
        module._codegen(state)
    except CodegenDone:
        pass
    start = state.starts.get(id(node))
    if start is None:
        return None
    return len(_NEWLINE.findall("".join(state.tokens[:start]))) + 1


# ----- registration ----------------------------------------------------------------------------


def registration(node: cst.ClassDef, ctx: Context) -> str | None:
    """How the class is registered for saving (for the note), or None."""
    for decorator in node.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Call):
            expr = expr.func
        name = dotted_name(expr)
        if name is None:
            continue
        if name.rsplit(".", 1)[-1] == REGISTER or _registering_decorator(expr, name, ctx):
            return f"`@{name}`"
    if ctx.parents[-1] is ctx.module:
        return _facts(ctx).registered.get(node.name.value)
    return None


def _registering_decorator(expr: cst.BaseExpression, name: str, ctx: Context) -> bool:
    """Whether a decorator is a function or class of this text or of the project that calls
    `register_keras_serializable` (a project's `@export("pkg.layers.Block")`)."""
    head = name.partition(".")[0]
    if head == name and not ctx.scopes.is_bound(head):
        return False
    definitions = _top_level_definitions(ctx)
    if name in definitions:
        facts = _facts(ctx)
        if facts.registering is None:
            facts.registering = grow_registering(definitions, _mentions)
        return name in facts.registering
    project = ctx.project
    if project is None:
        return False
    try:
        qualified = ctx.qualname(expr) or ctx.relative_qualname(name)
        return qualified is not None and project.is_registering(qualified)
    except (OSError, RecursionError, ValueError):
        return False


def _top_level_definitions(ctx: Context) -> dict[str, cst.CSTNode]:
    """The text's module-level functions and classes (also in top-level `if`/`try` blocks),
    the whole file's also while an editor re-lints only some statements."""
    return {
        stmt.name.value: stmt
        for stmt in statements(ctx.module_statements)
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef))
    }


def _mentions(definition: cst.CSTNode, names: set[str]) -> bool:
    todo = [definition]
    while todo:
        node = todo.pop()
        if (isinstance(node, cst.Name) and node.value in names) or (
            isinstance(node, cst.Attribute) and node.attr.value in names
        ):
            return True
        todo.extend(node.children)
    return False


# ----- saving --------------------------------------------------------------------------------


def saving_reason(node: cst.ClassDef, ctx: Context, methods: dict, registered: str | None) -> str | None:
    """Why the class can reach a save or a load (the finding's note), or None when nothing
    shows that it can. `registered` is how the class is registered, if it is."""
    note = _file_note(ctx)
    if note is None:
        for method in CONFIG_METHODS:
            if method in methods and not _empty_config(methods[method]):
                note = f"The class defines `{method}()`: it is written to be saved and loaded."
                break
    if note is None and registered is not None:
        return f"The class is registered for saving ({registered})."
    if note is None:
        note = _project_note(ctx)
    if note is not None and registered is None and _rebuilt_by_owners(node, ctx):
        return None
    return note


def _rebuilt_by_owners(node: cst.ClassDef, ctx: Context) -> bool:
    """Whether only other Keras classes of the project build the class, in their methods (see
    the module's docstring)."""
    project = ctx.project
    if project is None or ctx.parents[-1] is not ctx.module:
        return False
    try:
        module = project.name
        if module is None:
            return False
        return _only_owners_build(project.index, f"{module}.{node.name.value}")
    except (OSError, RecursionError, ValueError):
        return False


# How many helper functions deep `_only_owners_build` follows a class's references.
_HELPER_DEPTH = 3


def _only_owners_build(index, qualified: str) -> bool:
    """Whether every reference to `qualified` in the project is in a method of a Keras layer, or
    of a Keras model that is not built by the functional API (it defines `get_config()`, or
    `call()`: a subclassed model), that does not serialize what it builds of the class
    (`ProjectIndex.may_serialize_built`: a module's `serialize_keras_object` of an object the
    owner was given does not count);
    or in a top-level function whose every reference is so, up to `_HELPER_DEPTH` functions
    deep (`def make_block(units): return Block(units)` called in the owner's `__init__`)."""
    todo, seen = [(qualified, 0)], {qualified}
    while todo:
        name, depth = todo.pop()
        references = index.class_references(name)
        if not references:
            return False
        for where, owner in references:
            if owner is None:
                return False
            family = index.keras_family(owner)
            if family is None and depth < _HELPER_DEPTH and index.is_function(owner):
                if owner not in seen:
                    seen.add(owner)
                    todo.append((owner, depth + 1))
                continue
            if family not in ("Layer", "Model"):
                return False
            if family == "Model" and not (index.defines_config(owner) or index.defines_call(owner)):
                return False
            info = index.module(where)
            if info is None:
                return False
            if any("serialize_keras_object" in what for _, what in info.saves) and index.may_serialize_built(owner, name):
                return False
    return True


def only_a_base(node: cst.ClassDef, ctx: Context) -> bool:
    """Whether the project refers to the class only as the base of its other classes: nothing
    builds it, so a saved model never holds it by its own name (its subclasses are checked on
    their own). False without a project, or for a project too big to walk."""
    project = ctx.project
    if project is None or ctx.parents[-1] is not ctx.module or project.name is None:
        return False
    try:
        qualified = f"{project.name}.{node.name.value}"
        return project.class_references(qualified) == [] and project.index.has_subclasses(qualified)
    except (OSError, RecursionError, ValueError):
        return False


def models_saved_note(ctx: Context) -> str | None:
    """Why whole models of this file may be saved or loaded (this file or its project does it),
    or None when nothing shows it."""
    return _file_note(ctx) or _project_note(ctx)


def _empty_config(method: cst.FunctionDef) -> bool:
    """`def get_config(self): return {}`: a test double's stub, not a config to save."""
    body = method.body.body if isinstance(method.body, cst.IndentedBlock) else ()
    if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine) or len(body[0].body) != 1:
        return False
    stmt = body[0].body[0]
    return isinstance(stmt, cst.Return) and isinstance(stmt.value, cst.Dict) and not stmt.value.elements


def _file_note(ctx: Context) -> str | None:
    facts = _facts(ctx)
    if facts.file_note is not None:
        return facts.file_note or None
    note = ""
    if facts.sites:
        call, what, statement = facts.sites[0]
        line = _partial_line(ctx, statement, call) if ctx.partial else _line_of(ctx.module, call)
        where = f"line {line}, {_code(what)}" if line is not None else _code(what)
        note = f"This file saves or loads models ({where})."
    elif ctx.partial and not ctx.whole_statements and ctx.project is not None:
        # Only some statements are here: the rest of the file as the index last read it.
        name = ctx.project.name
        info = ctx.project.index.module(name) if name else None
        if info is not None and info.saves:
            line, what = info.saves[0]
            note = f"This file saves or loads models (line {line}, {_code(what)})."
    facts.file_note = note
    return note or None


def _project_note(ctx: Context) -> str | None:
    facts = _facts(ctx)
    if facts.project_known:
        return facts.project_note
    facts.project_known = True
    project = ctx.project
    if project is None or is_test_file(ctx.path):
        return None
    try:
        sites = project.saving_sites()
    except (OSError, RecursionError, ValueError):
        sites = None
    if sites is None:
        facts.project_note = (
            "The project is too large to tell whether it saves models: reported in case it does."
        )
    elif sites:
        module, line, what = sites[0]
        more = f", and {len(sites) - 1} more" if len(sites) > 1 else ""
        facts.project_note = (
            f"The project saves or loads models ({_module_path(ctx, module)}:{line}, {_code(what)}{more})."
        )
    return facts.project_note


def _code(what: str) -> str:
    """`.save(...)`; `ModelCheckpoint(...)` saving whole models."""
    code, space, rest = what.partition(" ")
    return f"`{code}`{space}{rest}"


def _module_path(ctx: Context, module: str) -> str:
    """`pkg/train.py` for the module `pkg.train`, from the project's root."""
    project = ctx.project
    if project is None:
        return module
    index = project.index
    path = index.module_file(module)
    if path is None:
        return module
    try:
        return Path(path).relative_to(index.root).as_posix()
    except ValueError:
        return module
