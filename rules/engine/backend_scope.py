"""Which backends each block of a file runs on, read from its backend guards, from the module's
guarded framework imports, from the classes written for one backend, and from tests of the
Keras version: code that runs on Keras 2 only runs on no Keras 3 backend (`keras_version`).

Keras 3 code often keeps backend-specific helpers behind `if keras.backend.backend() ==
"tensorflow":`. Code inside such a guard only ever runs on the backends the guard admits, so a
finding there from a rule about other backends is noise, exactly as if `target-backends` had
excluded the rule.

Recognised guards (the test of an `if` / `elif` or of a conditional expression, or the subject
of a `match` whose cases name backends):
`keras.backend.backend()`, `keras.config.backend()` or `keras.src.backend.backend()` (any import
spelling; `keras_core`'s too), `os.environ["KERAS_BACKEND"]`, `os.environ.get("KERAS_BACKEND")`,
`os.getenv("KERAS_BACKEND")`, a call of a project function that returns one of those (`def
backend(): return keras.config.backend()`, in this module or imported from another one; see
the project index), or a module-level name, or a name of the enclosing function, bound once to
one of those, compared with `==` /
`!=` to a string or with `in` / `not in` to a tuple, list or set of strings, combined with
`not`, `and`, `or`. An `if` whose body always leaves (`raise`, `return`, `sys.exit()`) narrows
the rest of its block. Anything else (a helper returning a boolean such as `is_jax()`, a
function whose name does not end in `backend` (the text search that skips files without
guards looks for `backend(`), a variable assigned twice, `tf.keras`'s own `backend()`, which is
Keras 2) runs on every backend.

A module exists for one backend B (`module_backend`) when it imports a framework
(`tensorflow`, `torch`, `jax`, `flax`), every such import runs on B alone (behind a guard, or
after an early exit refusing the other backends), the guard branches holding those imports hold
nothing but imports and plain bindings (`torch = None`), and no code of the module is guarded for
backends without B (an `else:` fallback, the code after `if backend() == "tensorflow": return
...`, a conditional expression on the backend): such a module is multi-backend and its
unguarded code is checked for every backend.

A module also exists for the backends its project imports it for, when every import of it in
the project's modules (tests apart) runs under a backend guard: `if keras.backend.backend() ==
"jax": from .jax.layer import Layer` (an `if` chain or a `match` on the backend's name), or
only in modules so selected (a helper beside `jax/layer.py`), read by the project index
(`ProjectIndex.selected_backends`).

Code that runs only when a value is a TensorFlow object (`if isinstance(x, tf.Tensor):`,
`tf.is_tensor(x)`) is TensorFlow code too (`_value_backends`), read from the
findings' own ancestors.

A module also exists for TensorFlow when it takes Keras from TensorFlow (`tensorflow.keras`,
`tf.keras`) and from nowhere else, in a project written for Keras 3 (`ProjectIndex.
writes_for_keras_3`): there `tf.keras` is Keras 3 on the TensorFlow backend, kept by choice. In
a Keras 2 project the same module is code to migrate, checked for every backend.

A class exists for one backend (`step_backends`) when its own `train_step` is written for that
backend alone (`tf.GradientTape`, `torch`, or JAX's stateless `train_step(self, state, data)` /
`jax` calls, read exactly as the project index reads them), it is a Keras Layer or Model, and
the project holds a Keras class whose `train_step` is written for another backend: in another
module of the same top-level package (or, for a module at the project's root, another module at
the root), from the project index (read from disk), or in the linted buffer itself (read from
the buffer, which may be unsaved; the index's entry for the linted module is replaced by the
buffer's). A project whose steps are all written for one backend is Keras 2 code to migrate,
and nothing is narrowed.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import libcst as cst

from .context import SOURCE_TEXT, Context, Pending, string_value
from .python_ast import dotted, parse_expression
from .keras_version import K3, KERAS_3, REFUSES, VERSION_READ, VersionTests
from .names import LOCAL, Bindings, chain_name, dotted_name, function_bindings, import_bindings, statements, target_names
from .project import BACKEND_CALLS, BACKEND_ENV_KEY, ENV_GETTERS, ProjectModule, step_backend_of
from .rule import BACKENDS
from .walker import child_fields

# A file without this text has no guard: its scopes are not computed. A guard reads the backend
# through a call whose callee ends in `backend` (`keras.config.backend()`, `(backend)()`, also
# across spaces, line continuations and comments) or is a name imported `... backend as B`, or
# through `os.environ` / `os.getenv` (any import spelling names `environ` or `getenv`).
MAY_GUARD = re.compile(r"backend(?:[\s\\)]|#[^\n\r]*)*(?:\(|as\b)|environ|getenv")
# The first name of a call without arguments, and of a call that is a statement of its own: the
# calls that may test or refuse Keras 3 through a project function (`_calls_version_function`).
# (Found from each `()` backwards: a pattern tried at every word is ten times slower.)
_CALLEE_BEFORE = re.compile(r"(?<![\w.])([A-Za-z_]\w*)[\w.]*\Z")
_STATEMENT_CALL = re.compile(r"^[ \t]*([A-Za-z_]\w*)[\w.]*\(", re.MULTILINE)
# A file without this text tests no value for a TensorFlow type (`_value_backends`).
_TYPE_TEST = re.compile(r"\bisinstance\b|\bis_tensor\b")
# A file without these words imports no framework: it cannot exist for one backend by its imports.
MENTIONS_FRAMEWORK = re.compile(r"tensorflow|torch|jax|flax")
# A file without this word has no class written for one backend.
STEP = "train_step"

# The packages whose import makes code backend-specific, and the backend each belongs to.
FRAMEWORKS = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax", "flax": "jax"}

# Per-lint cache in `Context.shared`: the guards are read once for `in_backend_scope` and
# `guards_reach_other_statements`.
_SHARED_KEY = "engine.backend_scope"

_EXIT_CALLS = frozenset({"sys.exit", "os._exit"})


_T = TypeVar("_T")

ALL = BACKENDS
NONE: frozenset[str] = frozenset()
TENSORFLOW = frozenset({"tensorflow"})

# Where Keras 2 code, and Keras 3 code tied to TensorFlow, takes Keras from: TensorFlow's
# `keras` attribute (with TensorFlow >= 2.16, Keras 3 on the TensorFlow backend).
_TF_KERAS = ("tensorflow.keras", "tensorflow.compat.v1.keras", "tensorflow.compat.v2.keras", "tensorflow.python.keras")
_TF_MODULES = frozenset({"tensorflow", "tensorflow.compat.v1", "tensorflow.compat.v2"})
# Keras packages of their own: Keras 3 (and its preview), and Keras 2's `tf_keras`, which code
# imports to stay on Keras 2.
_OTHER_KERAS = ("keras", "keras_core", "tf_keras")
_OTHER_KERAS_MODULES = tuple(f"{package}." for package in _OTHER_KERAS)


@dataclass(frozen=True)
class Outcome:
    """The backends on which a test is true, and those on which it is false."""

    true: frozenset[str] = ALL
    false: frozenset[str] = ALL

    def negated(self) -> Outcome:
        return Outcome(self.false, self.true)


UNKNOWN = Outcome()
# A test of a value's TensorFlow type: true only where the value is TensorFlow's.
_ON_TENSORFLOW_VALUES = Outcome(frozenset({"tensorflow"}), ALL)


def combined(test: cst.BaseExpression, leaf: Callable[[cst.BaseExpression], Outcome]) -> Outcome:
    """A test's outcome, where `leaf` answers for a test that is no `not`, `and` or `or`: `not`
    swaps the two sides, `and` is true where both parts are and false where either is, `or` the
    other way round (`python_ast.combined_outcome` is the same over `ast`)."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return combined(test.expression, leaf).negated()
    if isinstance(test, cst.BooleanOperation):
        left, right = combined(test.left, leaf), combined(test.right, leaf)
        if isinstance(test.operator, cst.And):
            return Outcome(left.true & right.true, left.false | right.false)
        return Outcome(left.true | right.true, left.false & right.false)
    return leaf(test)


def in_backend_scope(ctx: Context, pending: list[Pending], text: str) -> list[Pending]:
    """The reports whose backends (the rule's, narrowed by the report's own `backends`), among
    the targeted ones, include a backend the code reported runs on; the others are dropped as
    `target-backends` would drop their rule."""
    if not pending:
        return pending
    scope = _file_scope(ctx, text)
    narrowed, module = scope.narrowed(), scope.module_backends()
    targets = ctx.settings.target_backends & module
    if not narrowed and module == ALL and all(item.backends is None for item in pending):
        kept = pending
    else:
        kept = [item for item in pending if _backends(item) & targets & narrowed.get(id(item.node), ALL)]
    if not _TYPE_TEST.search(text):
        return kept
    return [
        item
        for item in kept
        if "tensorflow" in _backends(item) & targets & narrowed.get(id(item.node), ALL)
        or _backends(item) & targets & narrowed.get(id(item.node), ALL) & _value_backends(item, ctx)
    ]


def _value_backends(item: Pending, ctx: Context) -> frozenset[str]:
    """The backends the reported code runs on, as the types of values tested on the way to it
    tell: where a test `isinstance(x, tf.Tensor)` (any TensorFlow class, or a tuple of only
    those) or `tf.is_tensor(x)` holds, in `not` / `and` / `or` as backend guards are, the code
    runs only on TensorFlow values: TensorFlow is installed and the data is TensorFlow's, as on
    the TensorFlow backend. Read from the finding's own ancestors: an `if`'s body or `else`, a
    conditional expression's value or other value, the right of an `and` / `or`."""
    path = (*item.chain, item.node)
    backends = ALL
    for above, below in zip(path, path[1:]):
        kind = type(above)
        if kind is cst.If or kind is cst.IfExp:
            outcome = combined(above.test, lambda test: _type_test(test, ctx))  # type: ignore[attr-defined]
            if outcome == UNKNOWN:
                continue
            if _holds(above.body, below):  # type: ignore[attr-defined]
                backends &= outcome.true
            elif above.orelse is not None and _holds(above.orelse, below):  # type: ignore[attr-defined]
                backends &= outcome.false
        elif kind is cst.BooleanOperation:
            outcome = combined(above.left, lambda test: _type_test(test, ctx))  # type: ignore[attr-defined]
            if outcome != UNKNOWN and _holds(above.right, below):  # type: ignore[attr-defined]
                # The right of `and` runs where the left is true; of `or`, where it is false.
                backends &= outcome.true if isinstance(above.operator, cst.And) else outcome.false  # type: ignore[attr-defined]
    return backends


def _holds(part: cst.CSTNode, node: cst.CSTNode) -> bool:
    """Whether `node` is `part` or inside it. (The chain holds the ancestors of the node a rule
    visited; the node it reported may lie deeper: the callee of a visited call.)"""
    todo = [part]
    while todo:
        item = todo.pop()
        if item is node:
            return True
        todo.extend(item.children)
    return False


def _type_test(test: cst.BaseExpression, ctx: Context) -> Outcome:
    """True on TensorFlow values only for `isinstance(x, <TensorFlow classes>)` and
    `tf.is_tensor(x)`; unknown for any other test."""
    if not isinstance(test, cst.Call):
        return UNKNOWN
    if ctx.qualname(test.func) == "tensorflow.is_tensor":
        return _ON_TENSORFLOW_VALUES if len(test.args) == 1 else UNKNOWN
    if not (isinstance(test.func, cst.Name) and test.func.value == "isinstance" and not ctx.scopes.is_bound("isinstance")):
        return UNKNOWN
    if len(test.args) != 2 or test.args[1].star:
        return UNKNOWN
    kinds = test.args[1].value
    elements = [element.value for element in kinds.elements] if isinstance(kinds, cst.Tuple) else [kinds]
    if elements and all((ctx.qualname(kind) or "").startswith("tensorflow.") for kind in elements):
        return _ON_TENSORFLOW_VALUES
    return UNKNOWN


def _ask_project(ctx: Context, question: Callable[[ProjectModule], _T], otherwise: _T) -> _T:
    """The project's answer to `question`, or `otherwise` without a project or when it cannot
    be read."""
    project = ctx.project
    if project is None:
        return otherwise
    try:
        return question(project)
    except (OSError, RecursionError, ValueError):
        return otherwise


def _selected_backends(ctx: Context) -> frozenset[str] | None:
    """The backends the project imports this module for, when it imports it only under
    backend guards (`ProjectIndex.selected_backends`)."""
    return _ask_project(ctx, ProjectModule.selected_backends, None)


def _backends(item: Pending) -> frozenset[str]:
    rule = item.rule.backends
    return rule if item.backends is None else rule & item.backends


def guards_reach_other_statements(ctx: Context, text: str) -> bool:
    """Whether what narrows a statement may lie in other statements, so that re-linting one
    top-level statement alone could miss it: a module-level guard that narrows the statements
    after it (an early exit), a module-level name holding the backend, a framework import
    behind a guard (the module may exist for one backend), or a class whose `train_step` is
    written for one backend (another class may be its other backends' variant).

    For a part of a file (an editor's re-lint of edited statements) the last is answered
    without the file's imports: any class with a `train_step` counts."""
    scope = _file_scope(ctx, text)
    if scope.may_guard():
        reader = scope.reader()
        if reader.backend_names:
            return True
        if any(
            isinstance(stmt, cst.If) and reader.narrows_after(stmt) or reader.refuses_keras_3(stmt)
            for stmt in ctx.module.body
        ):
            return True
        if MENTIONS_FRAMEWORK.search(text):
            scope.guards()
            if any(backends != ALL for backends, _ in reader.imports):
                return True
    if STEP in text:
        if ctx.partial:
            return any(_own_step(klass) is not None for klass in _top_level_classes(ctx.module.body))
        return bool(scope.single_backend_classes())
    return False


class _FileScope:
    """What narrows the code of one linted module, computed on the first question."""

    def __init__(self, ctx: Context, text: str) -> None:
        self.ctx = ctx
        self.text = text
        self._reader: _Reader | None = None
        self._guards: dict[int, frozenset[str]] | None = None
        self._narrowed: dict[int, frozenset[str]] | None = None
        self._module: frozenset[str] | None = None
        self._classes: dict[cst.ClassDef, frozenset[str]] | None = None
        self._may_guard: bool | None = None

    def may_guard(self) -> bool:
        """Whether the text may hold a guard: a read of the backend, of the Keras version, or
        a call of a project function that tests or refuses Keras 3."""
        if self._may_guard is None:
            text = self.text
            self._may_guard = bool(MAY_GUARD.search(text) or VERSION_READ.search(text)) or _calls_version_function(
                self.ctx, text
            )
        return self._may_guard

    def reader(self) -> _Reader:
        if self._reader is None:
            self._reader = _Reader(self.ctx, bool(VERSION_READ.search(self.text)))
        return self._reader

    def guards(self) -> dict[int, frozenset[str]]:
        """Node id -> the backends its guards let it run on, for the nodes that do not run on
        all of them."""
        if self._guards is None:
            if self.may_guard():
                reader = self.reader()
                self._guards = dict(reader.read())
                # A part of a file cannot tell what the whole module is for.
                self._module = reader.module_backend() if not self.ctx.partial else None
            else:
                self._guards = {}
            if self._module is None:
                self._module = ALL
            if self._module == ALL and _takes_keras_from_tensorflow(self.ctx) and _project_writes_for_keras_3(self.ctx):
                self._module = TENSORFLOW
            selected = _selected_backends(self.ctx)
            if selected is not None:
                self._module = (self._module & selected) or selected
        return self._guards

    def narrowed(self) -> dict[int, frozenset[str]]:
        """Node id -> the backends it runs on, for the nodes that do not run on all of them
        (by guards and by classes written for one backend; the module's own backend apart)."""
        if self._narrowed is None:
            guards = self.guards()
            classes = self.narrowed_classes()
            if not classes:
                self._narrowed = guards
            else:
                found = dict(guards)
                reader = self.reader()
                reader.narrowed = found
                for klass, backends in classes.items():
                    # Visited again: guards inside the class intersect with its backend.
                    reader.visit_top_level(klass, guards.get(id(klass), ALL) & backends)
                self._narrowed = found
        return self._narrowed

    def module_backends(self) -> frozenset[str]:
        """The backends the whole module runs on (ALL unless it exists for one backend)."""
        self.guards()
        assert self._module is not None
        return self._module

    def single_backend_classes(self) -> dict[cst.ClassDef, frozenset[str]]:
        """The module's Keras classes whose `train_step` is written for one backend alone."""
        if self._classes is None:
            self._classes = {}
            if STEP in self.text and not self.ctx.partial:
                project = self.ctx.project
                name = (project.name if project is not None else None) or ""
                package = project.package if project is not None else None
                names = _ModuleNames(self.ctx.module.body, name, package)
                for klass in _top_level_classes(self.ctx.module.body):
                    backends = step_backends(klass, names)
                    if len(backends) == 1 and self.ctx.is_keras_class(klass):
                        self._classes[klass] = backends
        return self._classes

    def narrowed_classes(self) -> dict[cst.ClassDef, frozenset[str]]:
        """The classes written for one backend in a project (this buffer included) that also
        holds another backend's variant."""
        own = self.single_backend_classes()
        if not own:
            return {}
        present: set[str] = set()
        for backends in own.values():
            present |= backends
        if len(present) < 2:
            present |= _project_variant_backends(self.ctx)
        return {klass: backends for klass, backends in own.items() if present - backends}


def _calls_version_function(ctx: Context, text: str) -> bool:
    """Whether the text spells the name of a project function it imports that tests or refuses
    Keras 3 (`ProjectModule.version_function_names`). The module's own such functions need no
    asking: one reads the version itself, or calls an imported one (the gate's other tests)."""
    project = ctx.project
    if project is None:
        return False
    # Only what the text calls as a test (`keras_3()`, `config.keras_3()`) or as a statement
    # (`assert_tf_keras("...")`) can be one: other imports are not looked up (each would read a
    # module).
    called = {match.group(1) for match in _STATEMENT_CALL.finditer(text)}
    end = text.find("()")
    while end >= 0:
        match = _CALLEE_BEFORE.search(text, max(0, end - 200), end)
        if match:
            called.add(match.group(1))
        end = text.find("()", end + 2)
    bindings: dict[str, str] = {}
    module_names = ctx.scopes.module
    for local in called:
        if local in module_names:
            found = ctx.relative_qualname(local) or module_names[local]
            if found:
                bindings[local] = found
    try:
        names = project.version_function_names(bindings)
    except (OSError, RecursionError, ValueError):
        return False
    return any(name in text for name in names)


def _takes_keras_from_tensorflow(ctx: Context) -> bool:
    """Whether the module takes Keras from TensorFlow and from nowhere else: it imports
    `tensorflow.keras` (or a name of it), or spells `tf.keras` after its import of TensorFlow,
    and imports neither `keras`, `keras_core` nor `tf_keras`, nor a name `keras` from elsewhere (a project's
    own Keras module). Read from the module's top-level imports, those in `if` / `try` blocks
    included (a `try: import keras` / `except ImportError: from tensorflow import keras`
    shim takes Keras from both)."""
    text = ctx.shared.get(SOURCE_TEXT)
    if not isinstance(text, str) or "tensorflow" not in text or not ctx.whole_statements:
        return False
    package = ctx.project.package if ctx.project is not None else None
    from_tensorflow = False
    tensorflow_names: list[str] = []
    for stmt in statements(ctx.module_statements):
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not isinstance(small, (cst.Import, cst.ImportFrom)):
                continue
            for local, qualified in _imported(small, package):
                if qualified in _TF_MODULES:
                    tensorflow_names.append(local)
                elif any(qualified == api or qualified.startswith(api + ".") for api in _TF_KERAS):
                    from_tensorflow = True
                elif qualified in _OTHER_KERAS or qualified.startswith(_OTHER_KERAS_MODULES):
                    return False
                elif local in ("keras", "keras_core") or qualified.rpartition(".")[2] in ("keras", "keras_core"):
                    return False  # a Keras of the project's own (a compatibility shim)
    if from_tensorflow:
        return True
    spelled = [name for name in tensorflow_names if re.search(rf"(?<![\w.]){re.escape(name)}\.keras\b", text)]
    return bool(spelled) and _spells_keras_of(text, frozenset(spelled))


def _spells_keras_of(text: str, names: frozenset[str]) -> bool:
    """Whether the code (not its docstrings and comments, where `tf.keras` is often only
    mentioned) reads an attribute `keras`: the module imports no `keras` of its own (see the
    caller), so that is `<name>.keras` for one of `names`, which the text spells. Compiled by
    Python itself (C code, a fraction of LibCST's time; only the few files that get this far)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the user's invalid escapes are not ours to print
            code = compile(text, "<module>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True  # the text says so, and LibCST parsed it: trust the text
    todo = [code]
    while todo:
        item = todo.pop()
        if "keras" in item.co_names:
            return True
        todo.extend(const for const in item.co_consts if isinstance(const, type(code)))
    return False


def _imported(stmt: cst.Import | cst.ImportFrom, package: str | None) -> Iterator[tuple[str, str]]:
    """(local name, qualified name) for each name an import binds; for `from m import *`,
    ("*", m)."""
    if isinstance(stmt, cst.ImportFrom) and isinstance(stmt.names, cst.ImportStar):
        module = dotted_name(stmt.module) if stmt.module is not None else None
        if not stmt.relative and module:
            yield "*", module
        return
    yield from import_bindings(stmt, package)


def _project_writes_for_keras_3(ctx: Context) -> bool:
    """Whether the module's package is written for Keras 3 (`ProjectIndex.writes_for_keras_3`)."""
    return _ask_project(ctx, ProjectModule.writes_for_keras_3, False)


def _file_scope(ctx: Context, text: str) -> _FileScope:
    scope = ctx.shared.get(_SHARED_KEY)
    if scope is None or (scope.text is not text and scope.text != text):
        scope = ctx.shared[_SHARED_KEY] = _FileScope(ctx, text)
    return scope


def _project_variant_backends(ctx: Context) -> set[str]:
    """The backends for which another module of the linted module's top-level package (or, for
    a module at the project's root, another module at the root) holds a Keras class whose
    `train_step` is written for that backend alone. Modules are read as last saved; the linted
    module's own entry is left out: the buffer answers for it."""
    project = ctx.project
    if project is None or project.name is None:
        return set()
    found: set[str] = set()
    try:
        variants = project.step_variants()
        if not variants:
            return found
        own, group = project.name, _group(project.package or "")
        index = project.index
        for backend, classes in variants.items():
            for qualified in sorted(classes):
                module = qualified.rpartition(".")[0]
                if module == own:
                    continue
                path = index.module_file(module)
                package = module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]
                if _group(package) == group and project.is_keras_class(qualified):
                    found.add(backend)
                    break
    except (OSError, RecursionError, ValueError):
        return set()  # the project cannot be read: only the buffer's own variants count
    return found


def _group(package: str) -> str:
    """The modules whose step variants count for one another: a top-level package, or "" for
    the modules at the project's root."""
    return package.partition(".")[0]


class _Reader:
    """One pass over the module that records, for each node in a guarded region, the backends
    it runs on. Every node is listed, not only the guarded blocks: a rule may report a
    descendant of the node it visits, so the walker's parents stack does not always hold the
    guarded block.

    The pass also records what `module_backend` needs: the backends of each framework import,
    and of the code (anything but imports and plain bindings) that runs on some backends only."""

    def __init__(self, ctx: Context, reads_version: bool = True) -> None:
        self.ctx = ctx
        # Whether the file's text reads a version at all: if not, no test is read as one.
        self.reads_version = reads_version
        self.backend_names = _module_backend_names(ctx)
        self.narrowed: dict[int, frozenset[str]] = {}
        # The enclosing functions' own names: a parameter or local may shadow a backend name.
        self._locals: list[Bindings] = []
        # The enclosing functions, and the names each binds once, to the backend's name
        # (`backend = keras.backend.backend()`; None until asked).
        self._functions: list[list] = []
        # (backends, whether its guard branch holds other code) for each framework import.
        self.imports: list[tuple[frozenset[str], bool]] = []
        # The backends of each piece of guarded code outside refusals.
        self.code: set[frozenset[str]] = set()
        # Inside a branch that refuses its backends (ends in `raise` or `sys.exit()`).
        self._refusing = 0
        # For each enclosing guard branch, innermost last: whether it holds only imports and
        # plain bindings.
        self._branches: list[bool] = []

    def read(self) -> dict[int, frozenset[str]]:
        """Node id -> the backends it runs on, for the nodes that do not run on all of them."""
        self._visit(self.ctx.module, ALL)
        return self.narrowed

    def visit_top_level(self, node: cst.CSTNode, backends: frozenset[str]) -> None:
        """Record a top-level statement's nodes as running on `backends` (intersected with the
        guards inside it)."""
        self._visit(node, backends)

    def module_backend(self) -> frozenset[str] | None:
        """The one backend the module exists for (after `read`), or None: see the module's
        docstring."""
        if not self.imports:
            return None
        found = {backends for backends, _ in self.imports}
        if len(found) != 1:
            return None
        backends = next(iter(found))
        if len(backends) != 1 or any(in_code for _, in_code in self.imports):
            return None
        if any(not backends <= code for code in self.code):
            return None
        return backends

    def _visit(self, node: cst.CSTNode, backends: frozenset[str]) -> None:
        if backends != ALL:
            self.narrowed[id(node)] = backends
        kind = type(node)
        scoped = kind is cst.FunctionDef or kind is cst.Lambda
        if scoped:
            self.ctx.scopes.push(node)  # type: ignore[arg-type]
            self._locals.append(function_bindings(node))  # type: ignore[arg-type]
            self._functions.append([node, None])
        try:
            if kind is cst.ClassDef and backends and self._refusing_class(node):  # type: ignore[arg-type]
                self._visit(node, NONE)
            elif kind is cst.If:
                self._if(node, backends)  # type: ignore[arg-type]
            elif kind is cst.IfExp:
                outcome = self.outcome(node.test)  # type: ignore[attr-defined]
                self._visit(node.test, backends)  # type: ignore[attr-defined]
                if outcome != UNKNOWN and not self._refusing:
                    # Code that picks a value by backend: the module is for several backends.
                    self.code.update(part for part in (backends & outcome.true, backends & outcome.false) if part)
                self._visit(node.body, backends & outcome.true)  # type: ignore[attr-defined]
                self._visit(node.orelse, backends & outcome.false)  # type: ignore[attr-defined]
            elif kind is cst.Match and self.is_backend(node.subject):  # type: ignore[attr-defined]
                self._match(node, backends)  # type: ignore[arg-type]
            elif kind is cst.Module or kind is cst.IndentedBlock:
                self._block(node.body, backends)  # type: ignore[attr-defined]
            else:
                if kind is cst.SimpleStatementSuite:
                    self._note_code(node, backends)
                elif kind is cst.Import or kind is cst.ImportFrom:
                    # An import that runs on Keras 2 only does not tell what the module is for.
                    if backends and _imports_framework(node):  # type: ignore[arg-type]
                        self.imports.append((backends, bool(self._branches) and not self._branches[-1]))
                for child in _children(node):
                    self._visit(child, backends)
        finally:
            if scoped:
                self.ctx.scopes.pop()
                self._locals.pop()
                self._functions.pop()

    def _if(self, node: cst.If, backends: frozenset[str]) -> None:
        outcome = self.outcome(node.test)
        self._visit(node.test, backends)
        guard = outcome != UNKNOWN
        self._branch(node.body, backends & outcome.true, guard)
        orelse = node.orelse
        if isinstance(orelse, cst.Else):
            self._branch(orelse.body, backends & outcome.false, guard)
            if backends & outcome.false != ALL:
                self.narrowed[id(orelse)] = backends & outcome.false
        elif orelse is not None:
            self._visit(orelse, backends & outcome.false)

    def _match(self, node: cst.Match, backends: frozenset[str]) -> None:
        """`match keras.backend.backend():` with a `case "jax":` per backend; a case without a
        string pattern (`case _:`, `case other:`) takes the backends no case before it took."""
        self._visit(node.subject, backends)
        remaining = ALL
        for case in node.cases:
            named = _case_strings(case.pattern)
            chosen = remaining if named is None else named & remaining
            if case.guard is not None:
                self._visit(case.guard, backends & chosen)
            self._branch(case.body, backends & chosen, True)
            if case.guard is None:
                remaining = remaining - chosen

    def _branch(self, suite: cst.BaseSuite, backends: frozenset[str], guard: bool) -> None:
        """One branch of an `if`; a guard's branches are tracked for `module_backend`."""
        if not guard:
            self._visit(suite, backends)
            return
        refusing = _refuses(suite, self.ctx)
        self._branches.append(_holds_only_bindings(suite.body))
        self._refusing += refusing
        try:
            self._visit(suite, backends)
        finally:
            self._refusing -= refusing
            self._branches.pop()

    def _note_code(self, stmt: cst.CSTNode, backends: frozenset[str]) -> None:
        """Record guarded code (not an import or plain binding, nor a container whose own
        statements are recorded) outside refusals."""
        if backends == ALL or not backends or self._refusing or isinstance(stmt, (cst.If, cst.Try, cst.TryStar)):
            return
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            if all(_is_binding(small) for small in stmt.body):
                return
        self.code.add(backends)

    def _block(self, body: Sequence[cst.CSTNode], backends: frozenset[str]) -> None:
        """`if backend() != "tensorflow": raise ...` narrows every statement after it; after a
        refusal of Keras 3 (`if keras_3(): raise ...`, `assert_tf_keras(...)`) nothing runs on
        Keras 3."""
        for stmt in body:
            self._note_code(stmt, backends)
            self._visit(stmt, backends)
            if backends and self.refuses_keras_3(stmt):
                backends = NONE
            elif isinstance(stmt, cst.If):
                goes_on = self.narrows_after(stmt)
                if goes_on:
                    backends = backends & goes_on

    def refuses_keras_3(self, stmt: cst.CSTNode) -> bool:
        """Whether a statement raises when Keras 3 is in use: `if <test of Keras 3>: raise ...`,
        or a call of a project function that does (`assert_tf_keras("...")`)."""
        if isinstance(stmt, cst.If):
            if stmt.orelse is not None or not isinstance(_last_step(stmt.body), cst.Raise):
                return False
            outcome = self._version_outcome(stmt.test)
            return outcome is not None and outcome.false == NONE and outcome.true == ALL
        if isinstance(stmt, cst.SimpleStatementLine):
            return any(
                isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)
                and self._version_role(small.value.func) == REFUSES
                for small in stmt.body
            )
        return False

    def _refusing_class(self, klass: cst.ClassDef) -> bool:
        """Whether the class's `__init__` refuses Keras 3: none of its code runs there."""
        for stmt in klass.body.body:
            if (
                isinstance(stmt, cst.FunctionDef)
                and stmt.name.value == "__init__"
                and isinstance(stmt.body, cst.IndentedBlock)
            ):
                self.ctx.scopes.push(stmt)
                try:
                    return any(self.refuses_keras_3(inner) for inner in stmt.body.body)
                finally:
                    self.ctx.scopes.pop()
        return False

    def narrows_after(self, stmt: cst.If) -> frozenset[str] | None:
        """The backends the statements after an `if` run on, when the `if` narrows them (its
        body leaves on some backends); None when it does not narrow them or nothing runs on."""
        goes_on = self._continues_on(stmt)
        return goes_on if goes_on and goes_on != ALL else None

    def _continues_on(self, stmt: cst.If | cst.Else | None) -> frozenset[str]:
        """The backends on which execution reaches the statement after an if/elif/else chain."""
        if stmt is None:
            return ALL
        if isinstance(stmt, cst.Else):
            return NONE if _always_leaves(stmt.body, self.ctx) else ALL
        outcome = self.outcome(stmt.test)
        through_body = NONE if _always_leaves(stmt.body, self.ctx) else outcome.true
        return through_body | (outcome.false & self._continues_on(stmt.orelse))

    # ----- tests -------------------------------------------------------------------------------

    def outcome(self, test: cst.BaseExpression) -> Outcome:
        return combined(test, self._leaf)

    def _leaf(self, test: cst.BaseExpression) -> Outcome:
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            found = self._comparison(test.left, test.comparisons[0])
            if found != UNKNOWN:
                return found
        return self._version_outcome(test) or UNKNOWN

    def _version_outcome(self, test: cst.BaseExpression) -> Outcome | None:
        """A test of the Keras version as backends: code that runs only on Keras 2 runs on
        none of Keras 3's (`keras_version`); None for any other test."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self._version_outcome(test.expression)
            return None if inner is None else inner.negated()
        if isinstance(test, cst.Call) and not test.args:
            if self._version_role(test.func) == KERAS_3:
                return Outcome(ALL, NONE)
        if not self.reads_version or not isinstance(test, (cst.Comparison, cst.Call, cst.BooleanOperation)):
            return None
        code = self.ctx.module.code_for_node(test)
        if not VERSION_READ.search(code):
            return None
        try:
            tree = parse_expression(f"({code})")
        except (SyntaxError, ValueError):
            return None
        true, false = VersionTests(self._qualify_ast).outcome(tree)
        if (true, false) == (_BOTH_MAJORS, _BOTH_MAJORS):
            return None
        return Outcome(ALL if K3 in true else NONE, ALL if K3 in false else NONE)

    def _qualify_ast(self, expr: ast.expr) -> str | None:
        spelled = dotted(expr)
        if spelled is None:
            return None
        head, dot, rest = spelled.partition(".")
        qualified = self.ctx.scopes.lookup(head)
        return f"{qualified}{dot}{rest}" if qualified else None

    def _version_role(self, func: cst.BaseExpression) -> str | None:
        """What the project function `func` names does with the Keras version (see
        `ProjectIndex.version_role`)."""
        project = self.ctx.project
        if project is None:
            return None
        callee = self.ctx.qualname(func)
        if callee is None:
            name = dotted_name(func)
            if name is None:
                return None
            callee = self.ctx.relative_qualname(name)
            if callee is None and isinstance(func, cst.Name) and _is_module_function(self.ctx, func.value):
                callee = project.own_function(func.value)
        if callee is None:
            return None
        try:
            return project.version_role(callee)
        except (OSError, RecursionError, ValueError):
            return None

    def _comparison(self, left: cst.BaseExpression, target: cst.ComparisonTarget) -> Outcome:
        operator, right = target.operator, target.comparator
        if isinstance(operator, (cst.Equal, cst.NotEqual)):
            if self.is_backend(left):
                named = string_value(right)
            elif self.is_backend(right):
                named = string_value(left)
            else:
                return UNKNOWN
            if named is None:
                return UNKNOWN
            chosen = frozenset({named}) & ALL
        elif isinstance(operator, (cst.In, cst.NotIn)) and self.is_backend(left):
            names = _strings(right)
            if names is None:
                return UNKNOWN
            chosen = names & ALL
        else:
            return UNKNOWN
        outcome = Outcome(chosen, ALL - chosen)
        if isinstance(operator, (cst.NotEqual, cst.NotIn)):
            return outcome.negated()
        return outcome

    def is_backend(self, expr: cst.BaseExpression) -> bool:
        """Whether an expression's value is the name of the Keras 3 backend in use."""
        if isinstance(expr, cst.Name):
            name = expr.value
            if self._functions and type(self._functions[-1][0]) is cst.FunctionDef:
                innermost = self._functions[-1]
                if innermost[1] is None:
                    innermost[1] = _function_backend_names(innermost[0], self.ctx)
                if name in innermost[1]:
                    return True
            return name in self.backend_names and not any(name in own for own in self._locals)
        return _reads_backend(expr, self.ctx)


_BOTH_MAJORS = frozenset({2, K3})


def _reads_backend(expr: cst.BaseExpression, ctx: Context) -> bool:
    if isinstance(expr, cst.Call):
        callee = ctx.qualname(expr.func)
        if callee in BACKEND_CALLS:
            return not expr.args
        if callee in ENV_GETTERS:
            return bool(expr.args) and string_value(expr.args[0].value) == BACKEND_ENV_KEY
        return not expr.args and _calls_backend_function(expr.func, callee, ctx)
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
        index = expr.slice[0].slice
        return (
            ctx.qualname(expr.value) == "os.environ"
            and isinstance(index, cst.Index)
            and string_value(index.value) == BACKEND_ENV_KEY
        )
    return False


def _calls_backend_function(func: cst.BaseExpression, callee: str | None, ctx: Context) -> bool:
    """Whether `func` is a project function returning the backend's name (see the project
    index): imported (`from .config import backend`, `config.backend`), or a top-level function
    of this module as last read by the index."""
    project = ctx.project
    if project is None:
        return False
    if callee is None:
        name = dotted_name(func)
        if name is None:
            return False
        callee = ctx.relative_qualname(name)
        if callee is None and isinstance(func, cst.Name) and _is_module_function(ctx, func.value):
            callee = project.own_function(func.value)
    return callee is not None and project.is_backend_function(callee)


def _is_module_function(ctx: Context, name: str) -> bool:
    return any(
        isinstance(stmt, cst.FunctionDef) and stmt.name.value == name for stmt in statements(ctx.module_statements)
    )


def _module_backend_names(ctx: Context) -> frozenset[str]:
    """Module-level names bound exactly once, to the backend's name (`BACKEND = backend()`)."""
    counts: dict[str, int] = {}
    candidates: set[str] = set()
    for stmt in statements(ctx.module.body):
        _count_bindings(stmt, counts, candidates, ctx)
    return frozenset(name for name in candidates if counts.get(name) == 1)


def _count_bindings(stmt: cst.CSTNode, counts: dict[str, int], candidates: set[str], ctx: Context) -> None:
    """Count the names a statement binds; note those it binds to the backend's name."""
    for small in _smalls(stmt):
        for name in _bound_names(small):
            counts[name] = counts.get(name, 0) + 1
        if (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
            and _reads_backend(small.value, ctx)
        ):
            candidates.add(small.targets[0].target.value)


def _function_backend_names(function: cst.FunctionDef, ctx: Context) -> frozenset[str]:
    """The names a function binds exactly once, to the backend's name (`backend =
    keras.backend.backend()`, then `match backend:`), its parameters counting as bindings."""
    counts: dict[str, int] = {}
    candidates: set[str] = set()
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        counts[param.name.value] = 1
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            counts[star.name.value] = 1
    todo: list[cst.CSTNode] = list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else []
    while todo:
        node = todo.pop()
        _count_bindings(node, counts, candidates, ctx)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.SimpleStatementLine, cst.BaseSmallStatement)):
            continue  # a nested function's or class's names are its own
        for child in _children(node):
            if isinstance(child, (cst.BaseStatement, cst.BaseSuite, cst.MatchCase, cst.ExceptHandler,
                                  cst.ExceptStarHandler, cst.Else, cst.Finally)):
                todo.append(child)
    return frozenset(name for name in candidates if counts.get(name) == 1)


def _smalls(stmt: cst.CSTNode) -> Sequence[cst.CSTNode]:
    if isinstance(stmt, cst.SimpleStatementLine):
        return stmt.body
    return (stmt,)


def _bound_names(node: cst.CSTNode) -> Iterator[str]:
    if isinstance(node, cst.Assign):
        for target in node.targets:
            yield from target_names(target.target)
    elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For)):
        yield from target_names(node.target)
    elif isinstance(node, (cst.Import, cst.ImportFrom)):
        for local, _ in import_bindings(node):
            yield local
    elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        yield node.name.value
    elif isinstance(node, cst.With):
        for item in node.items:
            if item.asname is not None:
                yield from target_names(item.asname.name)


def _last_step(suite: cst.BaseSuite) -> cst.CSTNode | None:
    """A block's last statement (the last small statement of a simple line)."""
    body = suite.body
    if not body:
        return None
    last = body[-1]
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1] if last.body else last
    return last


def _always_leaves(suite: cst.BaseSuite, ctx: Context) -> bool:
    """Whether a block ends by leaving: `raise`, `return` or `sys.exit(...)` as its last step."""
    last = _last_step(suite)
    if last is None:
        return False
    if isinstance(last, (cst.Raise, cst.Return)):
        return True
    if isinstance(last, cst.Expr) and isinstance(last.value, cst.Call):
        return ctx.qualname(last.value.func) in _EXIT_CALLS
    return False


def _case_strings(pattern: cst.MatchPattern) -> frozenset[str] | None:
    """The strings a `case` pattern matches (`"jax"`, `"jax" | "torch"`); None for one that
    matches anything (`_`, a bare name); no string for any other pattern."""
    if isinstance(pattern, cst.MatchValue):
        value = string_value(pattern.value)
        return frozenset() if value is None else frozenset({value})
    if isinstance(pattern, cst.MatchOr):
        found: frozenset[str] = frozenset()
        for element in pattern.patterns:
            named = _case_strings(element.pattern)
            if named is None:
                return None
            found |= named
        return found
    if isinstance(pattern, cst.MatchAs) and pattern.pattern is None:
        return None
    return frozenset()


def _strings(expr: cst.BaseExpression) -> frozenset[str] | None:
    if not isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        return None
    found = []
    for element in expr.elements:
        value = string_value(element.value) if isinstance(element, cst.Element) else None
        if value is None:
            return None
        found.append(value)
    return frozenset(found)


def _children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (tuple, list)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


# ----- modules that exist for one backend ------------------------------------------------------


def _imports_framework(node: cst.Import | cst.ImportFrom) -> bool:
    """Whether an import statement imports `tensorflow`, `torch`, `jax` or `flax`."""
    if isinstance(node, cst.ImportFrom):
        if node.relative or node.module is None:
            return False
        module = dotted_name(node.module)
        return module is not None and module.partition(".")[0] in FRAMEWORKS
    return any(qualified.partition(".")[0] in FRAMEWORKS for _, qualified in import_bindings(node))


_PLAIN_VALUES = (cst.Name, cst.Attribute, cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float)


def _is_binding(small: cst.CSTNode) -> bool:
    """An import, `pass`, a docstring, or a name bound to a name or a literal (`torch = None`,
    `DTYPE = tf.float32`): nothing that computes."""
    if isinstance(small, (cst.Import, cst.ImportFrom, cst.Pass, cst.Global, cst.Nonlocal)):
        return True
    if isinstance(small, cst.Expr):
        return isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString, cst.Ellipsis))
    if isinstance(small, (cst.Assign, cst.AnnAssign)):
        return small.value is None or isinstance(small.value, _PLAIN_VALUES)
    return False


def _holds_only_bindings(body: Sequence[cst.CSTNode]) -> bool:
    """Whether a block holds only imports and plain bindings, also inside `try` and `if`."""
    for stmt in body:
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            if not all(_is_binding(small) for small in stmt.body):
                return False
        elif isinstance(stmt, cst.BaseSmallStatement):
            if not _is_binding(stmt):
                return False
        elif isinstance(stmt, (cst.If, cst.Try, cst.TryStar)):
            if not all(_holds_only_bindings(block) for block in _blocks(stmt)):
                return False
        else:
            return False
    return True


def _blocks(stmt: cst.If | cst.Try | cst.TryStar) -> Iterator[Sequence[cst.CSTNode]]:
    yield stmt.body.body
    if isinstance(stmt, (cst.Try, cst.TryStar)):
        for handler in stmt.handlers:
            yield handler.body.body
        if stmt.finalbody is not None:
            yield stmt.finalbody.body.body
    orelse = stmt.orelse
    if isinstance(orelse, cst.If):
        yield (orelse,)
    elif orelse is not None:
        yield orelse.body.body


def _refuses(suite: cst.BaseSuite, ctx: Context) -> bool:
    """Whether a block ends by refusing to go on: `raise` or `sys.exit(...)` (not `return`,
    which hands the backends it runs on a result of their own)."""
    last = _last_step(suite)
    if last is None:
        return False
    if isinstance(last, cst.Raise):
        return True
    if isinstance(last, cst.Expr) and isinstance(last.value, cst.Call):
        return ctx.qualname(last.value.func) in _EXIT_CALLS
    return False


# ----- classes that exist for one backend ------------------------------------------------------
#
# The detection mirrors the project index's (`project._step_backends` over Python's `ast`) node
# for node, so that the linted buffer and the index agree on every class
# (tests/test_backend_classes.py compares the two on the same sources).


def _top_level(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Module-level statements (small statements one by one), including those in top-level
    `if`, `try` and `with` blocks, as the project index reads them."""
    for stmt in body:
        if isinstance(stmt, cst.If):
            yield from _top_level(stmt.body.body)
            orelse = stmt.orelse
            if isinstance(orelse, cst.If):
                yield from _top_level((orelse,))
            elif orelse is not None:
                yield from _top_level(orelse.body.body)
        elif isinstance(stmt, cst.With):
            yield from _top_level(stmt.body.body)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            yield from _top_level(stmt.body.body)
            for handler in stmt.handlers:
                yield from _top_level(handler.body.body)
            if stmt.orelse is not None:
                yield from _top_level(stmt.orelse.body.body)
            if stmt.finalbody is not None:
                yield from _top_level(stmt.finalbody.body.body)
        elif isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            yield from stmt.body
        else:
            yield stmt


def _top_level_classes(body: Sequence[cst.CSTNode]) -> Iterator[cst.ClassDef]:
    for stmt in _top_level(body):
        if isinstance(stmt, cst.ClassDef):
            yield stmt


class _ModuleNames:
    """A module's top-level names as the project index reads them: imports (relative ones made
    absolute), classes, and plain aliases (`Tape = tf.GradientTape`)."""

    def __init__(self, body: Sequence[cst.CSTNode], name: str, package: str | None) -> None:
        self.name = name
        self.package = package
        self.names: dict[str, str] = {}
        self.classes: set[str] = set()
        for stmt in _top_level(body):
            if isinstance(stmt, (cst.Import, cst.ImportFrom)):
                for local, qualified in import_bindings(stmt, package):
                    if qualified != LOCAL:
                        self.names[local] = qualified
            elif isinstance(stmt, cst.ClassDef):
                self.classes.add(stmt.name.value)
                self.names.pop(stmt.name.value, None)
            elif isinstance(stmt, cst.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0].target
                value = self.qualify(stmt.value)
                if isinstance(target, cst.Name) and value and target.value not in self.names:
                    self.names[target.value] = value

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        return chain_name(expr, self._head)

    def _head(self, name: str) -> str | None:
        return f"{self.name}.{name}" if name in self.classes else self.names.get(name)


def _own_step(klass: cst.ClassDef) -> cst.FunctionDef | None:
    """The class's own `train_step` (the last one defined directly in its body)."""
    found = None
    if isinstance(klass.body, cst.IndentedBlock):
        for stmt in klass.body.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == STEP:
                found = stmt
    return found


def step_backends(klass: cst.ClassDef, names: _ModuleNames) -> frozenset[str]:
    """The backends a class's own `train_step` is written for: JAX's stateless signature
    `train_step(self, state, data)` or `jax` calls, `tf.GradientTape`, or `torch` calls."""
    found: set[str] = set()
    if not isinstance(klass.body, cst.IndentedBlock):
        return frozenset()
    for stmt in klass.body.body:
        if not isinstance(stmt, cst.FunctionDef) or stmt.name.value != STEP:
            continue
        if len(stmt.params.posonly_params) + len(stmt.params.params) >= 3:
            found.add("jax")
        for node in _expression_names(stmt):
            backend = step_backend_of(names.qualify(node))
            if backend is not None:
                found.add(backend)
    return frozenset(found)


def module_step_backends(module: cst.Module, name: str, package: str | None) -> dict[str, frozenset[str]]:
    """Top-level class name -> the backends its own `train_step` is written for (classes with
    none left out), as the project index's `ModuleInfo.step_backends` holds them."""
    names = _ModuleNames(module.body, name, package)
    found: dict[str, frozenset[str]] = {}
    for klass in _top_level_classes(module.body):
        backends = step_backends(klass, names)
        if backends:
            found[klass.name.value] = backends
    return found


# Fields holding an identifier that Python's `ast` keeps as a plain string, not a `Name`: they
# are not names in use.
_IDENTIFIER_FIELDS: dict[type, frozenset[str]] = {
    cst.FunctionDef: frozenset({"name"}),
    cst.ClassDef: frozenset({"name"}),
    cst.Param: frozenset({"name"}),
    cst.Arg: frozenset({"keyword"}),
    cst.ExceptHandler: frozenset({"name"}),
    cst.ExceptStarHandler: frozenset({"name"}),
    cst.MatchAs: frozenset({"name"}),
    cst.MatchStar: frozenset({"name"}),
    cst.MatchMapping: frozenset({"rest"}),
    cst.MatchKeywordElement: frozenset({"key"}),
}
_NAMELESS = (cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal)


def _expression_names(root: cst.CSTNode) -> Iterator[cst.Name | cst.Attribute]:
    """Every `Name` and `Attribute` that `ast.walk` would meet under `root`."""
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is cst.Name:
            yield node  # type: ignore[misc]
            continue
        if kind is cst.Attribute:
            yield node  # type: ignore[misc]
            stack.append(node.value)  # type: ignore[attr-defined]
            continue
        if isinstance(node, _NAMELESS):
            continue
        skipped = _IDENTIFIER_FIELDS.get(kind, frozenset())
        for field in child_fields(kind):
            if field in skipped:
                continue
            value = getattr(node, field)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif isinstance(value, (tuple, list)):
                stack.extend(item for item in value if isinstance(item, cst.CSTNode))
