"""The project index: which classes of a project derive from Keras, across its modules.

A rule sees one file; a layer's Keras base is often in another (`class PairDistance(BaseLayer)`
with `from .base import BaseLayer`). The index answers for any module of the project, found
from the file's path: the nearest folder upward holding `pyproject.toml`, `setup.py`,
`setup.cfg` or `.git`. A module's dotted name is its path relative to that root, or to the
root's `src/` folder for files under it (`src/pkg/layers/base.py` is `pkg.layers.base`, and a
package's `__init__.py` is the package).

Modules are read with Python's `ast` (much cheaper than LibCST), only when a question needs
them, and kept until the index is told of a change (`forget`, `forget_module_list`, an
overlay): a file's version (modification time and size) is then checked again, once, and the
module read again if it changed. A file changed on disk that nothing told the index about is
not seen by the same index (the next `kerasfix check` process reads it). Project code is never
imported or run. What is resolved: top-level classes (also inside top-level `if`/`try`/`match`
blocks), their bases through the module's imports, absolute and relative (a base imported in
several branches, one per backend, derives from each: `alternatives`), and names a module
re-exports by importing them (`from .base import BaseLayer` in a package's `__init__.py`), or
by a plain alias (`Base = keras.layers.Layer`). What is not: `*` imports, bases computed by a
call or any other expression, classes built at run time, and modules outside the project.
A module that cannot be read or parsed is unknown: its classes count as not Keras.

Besides classes, each module records which of its top-level functions return the Keras
backend's name (`def backend(): return keras.config.backend()`, read by the backend guards of
other modules), which test or refuse Keras 3 (`def keras_3(): ...`, `def assert_tf_keras(): if
keras_3(): raise ...`, see `keras_version`), and three facts rules ask about the whole project:
- where it saves, loads or serializes Keras objects by their config (`model.save(...)`,
  `load_model`, `clone_model`, `serialize_keras_object`, `model_from_json`, pickling, a
  `ModelCheckpoint` that saves whole models): the saving rules advise on a custom class only
  in a project where saving happens;
- which of its top-level functions and classes wrap `register_keras_serializable` (a project's
  own `@export(...)` decorator that registers what it decorates);
- which backend each class's `train_step` is written for (`tf.GradientTape`, `torch`, or
  JAX's stateless `train_step(self, state, data)`), so a class that exists for one backend in a
  project holding the other backends' variants is checked for that backend only.
- which classes set `self._convert_input_args = False` (`keeps_inputs`): layers Keras calls with
  their inputs as they come, which run TensorFlow on every backend (keras-cv's and keras-hub's
  preprocessing layers derive from such a base in another module).
Where the project refers to a class (`class_references`) is read only when a saving rule asks:
a class that only other Keras layers build inside their own methods is rebuilt by them when a
model is loaded, never looked up by its registered name.
Whole-project questions read every module under the root once (the same cache), skipping
hidden folders, virtual environments and build output, up to `MAX_PROJECT_FILES`.

For editors: an overlay (`set_overlay(path, text)`) makes the index read an open buffer's
unsaved text instead of its file, until it is removed (the buffer closed); while an overlay
does not parse, the module keeps what its last good text said. `dependents(names)` answers which
modules' findings may change when some modules' classes or names do (the modules that import
from them or derive from their classes, through any chain), and `indexing()` reads the whole
project in small steps, for a server that indexes in the background.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import index_store, python_ast
from .python_ast import combined_outcome, dotted
from .context import KEEPS_INPUTS, is_keras_base, keras_api
from .index_store import Store, store_for
from .keras_version import KERAS_3, version_functions
from .rule import BACKENDS
from .names import absolute_module

ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")

# How far a chain of base classes is followed, and how many re-exports a name goes through.
MAX_DEPTH = 30

# Larger files are not read: a class hierarchy is never there, and ast's tree would be huge.
MAX_MODULE_BYTES = 4_000_000

# A project bigger than this is not walked whole: whole-project facts are then unknown.
MAX_PROJECT_FILES = 20_000

# Folders a project walk never enters: virtual environments, build output, caches.
SKIPPED_FOLDERS = frozenset(
    {"node_modules", "site-packages", "__pycache__", "build", "dist", "venv", "env", "_build", "htmlcov"}
)

# Calls that save, load or rebuild Keras objects from their config (the attribute or function
# name); `save` and `to_json` only as methods, the others under any spelling.
SAVING_METHODS = frozenset({"save", "to_json", "save_model"})
SAVING_FUNCTIONS = frozenset(
    {
        "save_model",
        "load_model",
        "model_from_json",
        "model_from_config",
        "model_from_yaml",
        "serialize_keras_object",
        "deserialize_keras_object",
        "clone_model",
        "save_to_preset",
        "from_preset",
    }
)
PICKLING_MODULES = frozenset({"pickle", "cloudpickle", "dill", "joblib"})
# Every call name `saving_call` may answer for (the others are skipped unread).
SAVING_CALL_NAMES = SAVING_METHODS | SAVING_FUNCTIONS | {"dump", "dumps", "ModelCheckpoint"}
# Text that must appear in a module for it to hold any of the above (a cheap first test).
_SAVING_TEXT = re.compile(
    rb"\.save\(|to_json|_model\(|model_from_|serialize_keras_object|_preset\(|ModelCheckpoint|"
    rb"pickle|dill|joblib"
)
REGISTER = "register_keras_serializable"
# APIs that only Keras 3 has (no Keras 2, standalone or `tf.keras`, had them): a module that
# uses one is written for Keras 3.
KERAS_3_APIS = ("keras.ops", "keras.config", "keras.random", "keras.tree", "keras_core")
# Text that every module `ModuleInfo.writes_for_keras_3` is true of spells: a Keras-3-only API
# (`keras.ops`, `from keras import ops`, `keras_core`, or `keras` imported under another name), a
# read of the backend (`GUARD_TEXT`), or a read of a version.
_KERAS_3_HINT = re.compile(
    rb"keras(?:_core)?\.(?:ops|config|random|tree)\b"
    rb"|from\s+keras(?:_core)?\s+import\s+(?:\([^)]*|[^\n]*)\b(?:ops|config|random|tree)\b"
    rb"|keras_core|import\s+keras\s+as\b|backend\s*\(\s*\)|KERAS_BACKEND|__version__|version\s*\("
)

# The Keras classes user code derives from, by family: (exact API names, API prefixes), where
# an API name is what `keras_api` gives (`layers.Layer` for `tf.keras.layers.Layer`).
KERAS_FAMILIES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "Layer": (frozenset({"Layer", "engine.base_layer.Layer"}), ("layers.",)),
    "Model": (
        frozenset({"Model", "models.Model", "Sequential", "models.Sequential", "engine.training.Model"}),
        (),
    ),
    "Metric": (frozenset({"Metric"}), ("metrics.",)),
    "Loss": (frozenset({"Loss"}), ("losses.",)),
    "Callback": (frozenset({"Callback"}), ("callbacks.",)),
    "Optimizer": (frozenset({"Optimizer"}), ("optimizers.",)),
    "PyDataset": (
        frozenset({"PyDataset", "utils.PyDataset", "utils.Sequence", "utils.data_utils.Sequence", "Sequence"}),
        (),
    ),
}



def keras_family_of(qualified: str | None) -> str | None:
    """The family ("Layer", "Callback", ...) of a Keras base class name, or None."""
    api = keras_api(qualified)
    if api is None:
        return None
    name = api[0]
    if name.startswith("optimizers.schedules."):
        return None
    for family, (names, prefixes) in KERAS_FAMILIES.items():
        if name in names or name.startswith(prefixes):
            return family
    return None


def find_root(path: Path) -> Path:
    """The project root of a file: the nearest folder upward with a project marker; without
    one, the folder above the file's outermost package (or the file's own folder).

    `os.path` tests answer False for paths the system refuses (a NUL byte, a name too long,
    a folder without permission): a linted file's path never makes the index raise."""
    folder = path.parent
    for candidate in (folder, *folder.parents):
        if any(os.path.exists(candidate / marker) for marker in ROOT_MARKERS):
            return candidate
    while os.path.isfile(folder / "__init__.py") and folder.parent != folder:
        folder = folder.parent
    return folder


@dataclass
class ModuleInfo:
    """What the index knows of one module."""

    name: str
    # Top-level class name -> its bases' qualified names (None for a base it cannot name).
    classes: dict[str, tuple[str | None, ...]] = field(default_factory=dict)
    # Top-level name -> the qualified name it was imported or aliased as.
    names: dict[str, str] = field(default_factory=dict)
    # (line, what) of each place the module saves, loads or rebuilds Keras objects by config.
    saves: list[tuple[int, str]] = field(default_factory=list)
    # Top-level functions and classes whose code calls `register_keras_serializable`.
    registering: set[str] = field(default_factory=set)
    # Top-level class name -> the backends its own `train_step` is written for.
    step_backends: dict[str, frozenset[str]] = field(default_factory=dict)
    # Top-level classes that define `get_config()` themselves.
    configured: set[str] = field(default_factory=set)
    # Top-level classes that define `call()` themselves (a model so defined is subclassed, not
    # built by the functional API).
    calling: set[str] = field(default_factory=set)
    # Names a class's base is spelled with that the module imports from several places, one
    # per branch (`match keras.backend.backend(): case "jax": from .jax import Approximator as
    # Base ...`) -> each qualified name (`names` keeps the last).
    alternatives: dict[str, list[str]] = field(default_factory=dict)
    # Top-level functions that return the name of the Keras backend in use (`def backend():
    # return keras.config.backend()`): a call of one is a backend guard's test elsewhere.
    backend_functions: set[str] = field(default_factory=set)
    # Top-level classes whose methods set `self._convert_input_args = False`: layers that take
    # their inputs as they come (TensorFlow tensors, strings), as Keras's `TextVectorization`.
    keeps_inputs: set[str] = field(default_factory=set)
    # What the module imports under a backend guard (`if keras.backend.backend() == "jax": from
    # .jax import layer`): each imported name (a module, or a module's attribute) -> the
    # backends the import runs on, a call of another module's `...backend()` taken for a read
    # of the backend. An editor re-lints the project's open files when it changes;
    # `selected_backends` reads the guards again, checking such calls.
    backend_imports: dict[str, frozenset[str]] = field(default_factory=dict)
    # Top-level functions that test or refuse Keras 3 (`def keras_3(): return
    # keras.version().startswith("3.")`, `def assert_tf_keras(): if keras_3(): raise ...`): name ->
    # (role, the other module's function the role rests on, or ""); see `keras_version`.
    version_functions: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Whether the module uses an API that only Keras 3 has (`keras.ops`, `keras.config`,
    # `keras.random`, `keras.tree`, `keras_core`): see `writes_for_keras_3`.
    keras_3_api: bool = False
    # What the module serializes (`serialize_keras_object`), for `ProjectIndex.
    # may_serialize_built`: top-level class -> for each attribute of `self` its methods
    # serialize, what its methods assign it ("" a parameter, "*" a local name, else the names
    # the value spells); the key "" when a call serializes anything else, or anywhere else.
    serializing: dict[str, list[str]] = field(default_factory=dict)

    def writes_for_keras_3(self) -> bool:
        """Whether the module is written for Keras 3: it uses an API only Keras 3 has, reads
        the backend (a backend function, a framework import under a backend guard), or tests
        the Keras version. (A `train_step` of JAX's signature does not count: other
        frameworks' `Task` classes share it.)"""
        return bool(
            self.keras_3_api
            or self.backend_functions
            or self.backend_imports
            # A function resting on another's role counts where that one is defined.
            or any(not rests_on for _, rests_on in self.version_functions.values())
        )

    def to_data(self) -> dict[str, Any]:
        """The module's facts as JSON data (for `index_store`)."""
        return {
            "name": self.name,
            "classes": {name: list(bases) for name, bases in self.classes.items()},
            "names": self.names,
            "saves": [list(site) for site in self.saves],
            "registering": sorted(self.registering),
            "step_backends": {name: sorted(backends) for name, backends in self.step_backends.items()},
            "configured": sorted(self.configured),
            "calling": sorted(self.calling),
            "alternatives": self.alternatives,
            "backend_functions": sorted(self.backend_functions),
            "keeps_inputs": sorted(self.keeps_inputs),
            "backend_imports": {name: sorted(backends) for name, backends in self.backend_imports.items()},
            "version_functions": {name: list(role) for name, role in self.version_functions.items()},
            "keras_3_api": self.keras_3_api,
            "serializing": self.serializing,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ModuleInfo:
        return cls(
            name=str(data["name"]),
            classes={str(name): tuple(bases) for name, bases in data["classes"].items()},
            names={str(name): str(qualified) for name, qualified in data["names"].items()},
            saves=[(int(line), str(what)) for line, what in data["saves"]],
            registering=set(data["registering"]),
            step_backends={str(name): frozenset(backends) for name, backends in data["step_backends"].items()},
            configured=set(data["configured"]),
            calling=set(data["calling"]),
            alternatives={str(name): [str(q) for q in choices] for name, choices in data["alternatives"].items()},
            backend_functions=set(data["backend_functions"]),
            keeps_inputs=set(data["keeps_inputs"]),
            backend_imports={str(name): frozenset(b) for name, b in data["backend_imports"].items()},
            version_functions={
                str(name): (str(role[0]), str(role[1])) for name, role in data["version_functions"].items()
            },
            keras_3_api=bool(data["keras_3_api"]),
            serializing={str(name): [str(v) for v in values] for name, values in data["serializing"].items()},
        )

    def outline(self) -> tuple:
        """What other modules' findings depend on through imports, bases and backend helpers:
        the classes, the names and the backend functions (an edit inside a function body that
        leaves them as they are changes nothing elsewhere)."""
        return (
            self.classes,
            self.names,
            sorted(self.backend_functions),
            sorted(self.configured),
            sorted(self.calling),
            sorted(self.alternatives.items()),
            sorted(self.keeps_inputs),
            sorted(self.version_functions.items()),
        )

    def project_facts(self) -> tuple:
        """What whole-project questions read from this module (saving sites without their
        lines, registering definitions, train_step backends)."""
        return (
            sorted({what for _, what in self.saves}),
            sorted(self.registering),
            self.step_backends,
            self.backend_imports,
            self.writes_for_keras_3(),
            self.serializing,
        )


class _ModuleReader:
    """Reads one module's classes and names from its `ast`, in statement order."""

    def __init__(self, name: str, is_package: bool) -> None:
        self.info = ModuleInfo(name)
        # Names imported again with another meaning -> every meaning (see `alternatives`).
        self._choices: dict[str, set[str]] = {}
        self.is_package = is_package
        self.package = name if is_package else name.rpartition(".")[0]

    def read(self, body: list[ast.stmt], source: bytes = b"") -> ModuleInfo:
        self._read_names(body)
        if _SAVING_TEXT.search(source):
            self.info.saves = _saving_sites(body, self)
            if any("serialize_keras_object" in what for _, what in self.info.saves):
                self.info.serializing = _serializing(body)
        if REGISTER.encode() in source:
            self.info.registering = _registering(body)
        if b"backend" in source or BACKEND_ENV_KEY.encode() in source:
            self.info.backend_functions = _backend_functions(body, self)
            if GUARD_TEXT.search(source):
                guards = _ImportGuards(self, self.info.backend_functions)
                guards.block(body, BACKENDS)
                self.info.backend_imports = {
                    name: backends for name, backends in guards.imports.items() if backends != BACKENDS
                }
        if _VERSION_ROLE_TEXT.search(source):
            functions = [stmt for stmt in _top_level(body) if isinstance(stmt, ast.FunctionDef)]
            self.info.version_functions = version_functions(body, self.qualify, functions)
        if b"keras" in source:
            self.info.keras_3_api = _uses_keras_3_api(source, self.info.names)
        if KEEPS_INPUTS.encode() in source:
            self.info.keeps_inputs = {
                stmt.name for stmt in _top_level(body) if isinstance(stmt, ast.ClassDef) and keeps_inputs(stmt)
            }
        if b"train_step" in source:
            for stmt in _top_level(body):
                if isinstance(stmt, ast.ClassDef):
                    backends = _step_backends(stmt, self)
                    if backends:
                        self.info.step_backends[stmt.name] = backends
        return self.info

    def _read_names(self, body: list[ast.stmt]) -> None:
        for stmt in _top_level(body):
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        self.info.names[alias.asname] = alias.name
                    else:
                        head = alias.name.partition(".")[0]
                        self.info.names[head] = head
            elif isinstance(stmt, ast.ImportFrom):
                self._import_from(stmt)
            elif isinstance(stmt, ast.ClassDef):
                bases = tuple(self.qualify(base) for base in stmt.bases)
                for base in stmt.bases:
                    if isinstance(base, ast.Name) and base.id in self._choices:
                        self.info.alternatives[base.id] = sorted(self._choices[base.id])
                self.info.classes[stmt.name] = bases
                self.info.names.pop(stmt.name, None)
                methods = {item.name for item in stmt.body if isinstance(item, ast.FunctionDef)}
                if "get_config" in methods:
                    self.info.configured.add(stmt.name)
                if "call" in methods:
                    self.info.calling.add(stmt.name)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                value = self.qualify(stmt.value)
                if isinstance(target, ast.Name) and value and target.id not in self.info.names:
                    self.info.names[target.id] = value

    def _import_from(self, stmt: ast.ImportFrom) -> None:
        if stmt.level:
            module = absolute_module(self.package, stmt.level, stmt.module)
        else:
            module = stmt.module
        if module is None:
            return
        for alias in stmt.names:
            if alias.name == "*":
                continue
            local, qualified = alias.asname or alias.name, f"{module}.{alias.name}"
            before = self.info.names.get(local)
            if before is not None and before != qualified:
                # Bound again, in another branch: `if backend() == "jax": from .jax import
                # Layer as Base / else: from .tf import Layer as Base`.
                self._choices.setdefault(local, {before}).add(qualified)
            self.info.names[local] = qualified

    def qualify(self, expr: ast.expr) -> str | None:
        """`keras.layers.Layer` -> `tensorflow.keras.layers.Layer` through this module's names."""
        spelled = dotted(expr)
        if spelled is None:
            return None
        first, dot, rest = spelled.partition(".")
        head = f"{self.info.name}.{first}" if first in self.info.classes else self.info.names.get(first)
        if head is None:
            return None
        return f"{head}{dot}{rest}"




def _uses_keras_3_api(source: bytes, names: dict[str, str]) -> bool:
    """Whether the module imports a Keras-3-only API, or spells one after the name it imports
    `keras` (or `keras_core`) as."""
    heads: list[str] = []
    for local, qualified in names.items():
        if any(qualified == api or qualified.startswith(api + ".") for api in KERAS_3_APIS):
            return True
        if qualified in ("keras", "keras_core"):
            heads.append(re.escape(local))
    if not heads:
        return False
    spelled = rf"(?<![\w.])(?:{'|'.join(heads)})\.(?:ops|config|random|tree)\b".encode()
    return re.search(spelled, source) is not None


def keeps_inputs(klass: ast.ClassDef) -> bool:
    """Whether a method of the class sets `self._convert_input_args = False`."""
    for stmt in klass.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and node.value.value is False
                and any(
                    isinstance(target, ast.Attribute)
                    and target.attr == KEEPS_INPUTS
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                    for target in node.targets
                )
            ):
                return True
    return False


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _saving_sites(body: list[ast.stmt], reader: _ModuleReader) -> list[tuple[int, str]]:
    """Where a module saves, loads or rebuilds Keras objects from their config."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node.func)
        if name not in SAVING_CALL_NAMES:
            continue
        method = isinstance(node.func, ast.Attribute)
        owner = reader.qualify(node.func.value if method else node.func)  # type: ignore[union-attr]
        what = saving_call(
            name,
            method=method,
            owner=None if owner is not None and owner.startswith(reader.info.name) else owner,
            has_arguments=bool(node.args or node.keywords),
            weights_only=any(
                k.arg == "save_weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in node.keywords
            ),
        )
        if what is not None:
            found.append((node.lineno, what))
    found.sort()
    return found


# The calls that write a Keras object's config out with its class name.
_SERIALIZING = frozenset({"serialize_keras_object", "serialize"})


def _serializing(body: list[ast.stmt]) -> dict[str, list[str]]:
    """`ModuleInfo.serializing` of a module's top-level statements."""
    found: dict[str, list[str]] = {}
    classes = [stmt for stmt in _top_level(body) if isinstance(stmt, ast.ClassDef)]
    inside: set[int] = set()
    for klass in classes:
        attributes: set[str] = set()
        for node in ast.walk(klass):
            inside.add(id(node))
            if isinstance(node, ast.Call) and _call_name(node.func) in _SERIALIZING:
                attribute = _self_attribute(node.args[0] if node.args else None)
                if attribute is None:
                    found[""] = []
                else:
                    attributes.add(attribute)
        if not attributes:
            continue
        values: set[str] = set()
        for method in klass.body:
            if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            parameters = {arg.arg for arg in (*method.args.posonlyargs, *method.args.args, *method.args.kwonlyargs)}
            for node in ast.walk(method):
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, ast.AnnAssign) and node.value is not None:
                    targets, value = [node.target], node.value
                else:
                    continue
                if not any(_self_attribute(target) in attributes for target in targets):
                    continue
                if isinstance(value, ast.Name):
                    values.add("" if value.id in parameters else "*")
                else:
                    spelled = {part.id for part in ast.walk(value) if isinstance(part, ast.Name)}
                    spelled |= {part.attr for part in ast.walk(value) if isinstance(part, ast.Attribute)}
                    values.add(" ".join(sorted(spelled)))
        found[klass.name] = sorted(values)
    if "" not in found:
        for node in ast.walk(ast.Module(body=body, type_ignores=[])):
            if isinstance(node, ast.Call) and _call_name(node.func) in _SERIALIZING and id(node) not in inside:
                found[""] = []
                break
    return found


def _self_attribute(expr: ast.expr | None) -> str | None:
    """`attr` for `self.attr`, else None."""
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
        return expr.attr
    return None


def saving_call(name: str, *, method: bool, owner: str | None, has_arguments: bool, weights_only: bool) -> str | None:
    """What a call named `name` does with Keras objects by config, in the words of a note
    (`.save(...)`, `pickle.dump(...)`), or None. `owner` is the qualified name of the receiver
    of a method (None when it is no import: a model in a variable) or of the called function;
    the project index and the saving rules' reading of the linted text both ask this."""
    if name in SAVING_FUNCTIONS:
        return f"{name}(...)"
    if name in SAVING_METHODS and method:
        # `np.save`, `torch.save`, `tf.saved_model.save` are a module's functions, not a
        # model's method; `Model.save` needs a path (`checkpoint_manager.save()` is not one).
        if owner is None and (name != "save" or has_arguments):
            return f".{name}(...)"
        return None
    if name in ("dump", "dumps"):
        head = owner.partition(".")[0] if owner else None
        return f"{head}.{name}(...)" if head in PICKLING_MODULES else None
    if name == "ModelCheckpoint" and not weights_only:
        return "ModelCheckpoint(...) saving whole models"
    return None


def grow_registering(definitions: dict[str, Any], mentions: Callable[[Any, set[str]], bool]) -> set[str]:
    """The names of `definitions` (top-level functions and classes) that call
    `register_keras_serializable`, directly or through another of them (keras-cv's export class
    calls its module's `maybe_register_serializable`, which calls Keras's function)."""
    found = {name for name, node in definitions.items() if mentions(node, {REGISTER})}
    grown = bool(found)
    while grown:
        grown = False
        for name, node in definitions.items():
            if name not in found and mentions(node, found):
                found.add(name)
                grown = True
    return found


def _mentions(definition: ast.AST, names: set[str]) -> bool:
    for node in ast.walk(definition):
        if (isinstance(node, ast.Name) and node.id in names) or (
            isinstance(node, ast.Attribute) and node.attr in names
        ):
            return True
    return False


def _registering(body: list[ast.stmt]) -> set[str]:
    definitions = {
        stmt.name: stmt for stmt in _top_level(body) if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    return grow_registering(definitions, _mentions)


def _step_backends(klass: ast.ClassDef, reader: _ModuleReader) -> frozenset[str]:
    """The backends a class's own `train_step` is written for: JAX's stateless signature
    `train_step(self, state, data)` or `jax` calls, `tf.GradientTape`, or `torch` calls."""
    found: set[str] = set()
    for stmt in klass.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or stmt.name != "train_step":
            continue
        if len(stmt.args.posonlyargs) + len(stmt.args.args) >= 3:
            found.add("jax")
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Name, ast.Attribute)):
                backend = step_backend_of(reader.qualify(node))
                if backend is not None:
                    found.add(backend)
    return frozenset(found)


# Calls whose value is the name of the Keras backend in use, and the environment variable that
# names it before Keras is imported.
BACKEND_CALLS = frozenset(
    {
        "keras.backend.backend",
        "keras.config.backend",
        "keras.src.backend.backend",
        "keras.src.backend.config.backend",
        "keras_core.backend.backend",
        "keras_core.config.backend",
    }
)
ENV_GETTERS = frozenset({"os.environ.get", "os.getenv"})
BACKEND_ENV_KEY = "KERAS_BACKEND"
# Text that every backend guard the index reads spells: a call without arguments of a function
# whose name ends in `backend` (Keras's, or the module's own `def backend():` that returns it,
# or a project function named so), or the environment variable.
GUARD_TEXT = re.compile(rb"backend\s*\(\s*\)|KERAS_BACKEND")


# Text a module whose functions test or refuse Keras 3 holds: a read of the version, or a test
# that calls a function (`if keras_3(): raise`, `return config.keras_3()`).
_VERSION_ROLE_TEXT = re.compile(rb"version|\braise\b|\breturn\s+(?:not\s+)?[\w.]+\(\s*\)")


def _backend_functions(body: list[ast.stmt], reader: _ModuleReader) -> set[str]:
    """The module's top-level functions whose every `return` gives the backend's name: a read
    of the backend (`keras.config.backend()`, `os.environ.get("KERAS_BACKEND")`, a call of
    another such function of the module), or a string literal, with at least one read
    (`return "tensorflow" if legacy() else keras.config.backend()`)."""
    functions = {
        stmt.name: stmt for stmt in _top_level(body) if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    found: set[str] = set()
    grew = True
    while grew:
        grew = False
        for name, function in functions.items():
            if name not in found and _returns_backend(function, reader, found):
                found.add(name)
                grew = True
    return found


def _returns_backend(function: ast.FunctionDef | ast.AsyncFunctionDef, reader: _ModuleReader, known: set[str]) -> bool:
    reads = False
    returned = False
    todo: list[ast.AST] = list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue  # their returns are their own
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return False
        if isinstance(node, ast.Return):
            value = _backend_value(node.value, reader, known) if node.value is not None else None
            if value is None:
                return False
            returned = True
            reads = reads or value
            continue
        todo.extend(ast.iter_child_nodes(node))
    return returned and reads


def _backend_value(expr: ast.expr, reader: _ModuleReader, known: set[str]) -> bool | None:
    """True for a read of the backend's name, False for a string literal, None for anything
    else."""
    if isinstance(expr, ast.Constant):
        return False if isinstance(expr.value, str) else None
    if isinstance(expr, ast.IfExp):
        body, orelse = _backend_value(expr.body, reader, known), _backend_value(expr.orelse, reader, known)
        return None if body is None or orelse is None else body or orelse
    if isinstance(expr, ast.Call):
        if isinstance(expr.func, ast.Name) and expr.func.id in known:
            return True if not expr.args and not expr.keywords else None
        callee = reader.qualify(expr.func)
        if callee in BACKEND_CALLS and not expr.args and not expr.keywords:
            return True
        if callee in ENV_GETTERS and expr.args and _is_env_key(expr.args[0]):
            return True
        return None
    if isinstance(expr, ast.Subscript) and reader.qualify(expr.value) == "os.environ":
        return True if _is_env_key(expr.slice) else None
    return None


def _is_env_key(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value == BACKEND_ENV_KEY


class _ImportGuards:
    """The backends each import statement of a module runs on, read from the backend guards
    around it (`if`/`elif`/`else` and `match` on the backend's name, `not`, `and`, `or`, `==`,
    `!=`, `in`, `not in`; an `if` whose body always leaves narrows what follows), as the
    engine's `backend_scope` reads the linted module's, except names bound to the backend's
    name (`BACKEND = keras.config.backend()`), not followed here. A guard may call a function
    of another module whose name ends in `backend` (`config.backend()`): it is taken to return the
    backend's name (what the index keeps serves only to tell an editor that the imports
    changed); with `is_backend_function`, that function answers instead."""

    def __init__(
        self, reader: _ModuleReader, local: set[str], is_backend_function: Callable[[str], bool] | None = None
    ) -> None:
        self.reader = reader
        self.local = local
        self.is_backend_function = is_backend_function
        self.imports: dict[str, frozenset[str]] = {}

    def block(self, body: list[ast.stmt], backends: frozenset[str]) -> None:
        for stmt in body:
            self.statement(stmt, backends)
            if isinstance(stmt, ast.If):
                backends = backends & self._continues_on(stmt)
            elif _leaves(stmt):
                return

    def statement(self, stmt: ast.stmt, backends: frozenset[str]) -> None:
        if isinstance(stmt, ast.If):
            outcome = self.outcome(stmt.test)
            self.block(stmt.body, backends & outcome[0])
            self.block(stmt.orelse, backends & outcome[1])
        elif _MATCH is not None and isinstance(stmt, _MATCH):
            self._match(stmt, backends)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                self._note(alias.name, backends)
        elif isinstance(stmt, ast.ImportFrom):
            module = absolute_module(self.reader.package, stmt.level, stmt.module) if stmt.level else stmt.module
            if module:
                self._note(module, backends)
                for alias in stmt.names:
                    if alias.name != "*":
                        self._note(f"{module}.{alias.name}", backends)
        else:
            for name in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, name, None)
                if isinstance(inner, list):
                    self.block(inner, backends)
            for handler in getattr(stmt, "handlers", ()):
                self.block(handler.body, backends)

    def _note(self, name: str, backends: frozenset[str]) -> None:
        self.imports[name] = self.imports.get(name, frozenset()) | backends

    def _match(self, stmt: ast.stmt, backends: frozenset[str]) -> None:
        if not self.is_backend(stmt.subject):  # type: ignore[attr-defined]
            for case in stmt.cases:  # type: ignore[attr-defined]
                self.block(case.body, backends)
            return
        remaining = BACKENDS
        for case in stmt.cases:  # type: ignore[attr-defined]
            named = _pattern_strings(case.pattern)
            chosen = remaining if named is None else named & remaining
            self.block(case.body, backends & chosen)
            if case.guard is None:
                remaining = remaining - chosen

    def _continues_on(self, stmt: ast.If) -> frozenset[str]:
        """The backends on which execution reaches the statement after an if/elif/else."""
        true, false = self.outcome(stmt.test)
        through_body = frozenset() if _always_leaves(stmt.body) else true
        if not stmt.orelse:
            return through_body | false
        if len(stmt.orelse) == 1 and isinstance(stmt.orelse[0], ast.If):
            return through_body | (false & self._continues_on(stmt.orelse[0]))
        return through_body | (frozenset() if _always_leaves(stmt.orelse) else false)

    def outcome(self, test: ast.expr) -> tuple[frozenset[str], frozenset[str]]:
        """(backends on which the test is true, backends on which it is false)."""
        return combined_outcome(test, self._leaf, BACKENDS)

    def _leaf(self, test: ast.expr) -> tuple[frozenset[str], frozenset[str]]:
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, op, right = test.left, test.ops[0], test.comparators[0]
            if isinstance(op, (ast.Eq, ast.NotEq)):
                if self.is_backend(left):
                    named = _string(right)
                elif self.is_backend(right):
                    named = _string(left)
                else:
                    return BACKENDS, BACKENDS
                chosen = None if named is None else frozenset({named}) & BACKENDS
            elif isinstance(op, (ast.In, ast.NotIn)) and self.is_backend(left):
                chosen = _strings_of(right)
                chosen = None if chosen is None else chosen & BACKENDS
            else:
                return BACKENDS, BACKENDS
            if chosen is None:
                return BACKENDS, BACKENDS
            if isinstance(op, (ast.NotEq, ast.NotIn)):
                return BACKENDS - chosen, chosen
            return chosen, BACKENDS - chosen
        return BACKENDS, BACKENDS

    def is_backend(self, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Call):
            if isinstance(expr.func, ast.Name) and expr.func.id in self.local:
                return not expr.args and not expr.keywords
            if _backend_value(expr, self.reader, self.local):
                return True
            callee = self.reader.qualify(expr.func)
            if not callee or expr.args or expr.keywords or not callee.rpartition(".")[2].endswith("backend"):
                return False
            return self.is_backend_function is None or self.is_backend_function(callee)
        return isinstance(expr, ast.Subscript) and bool(_backend_value(expr, self.reader, self.local))


_MATCH = getattr(ast, "Match", None)


def _string(expr: ast.expr) -> str | None:
    return expr.value if isinstance(expr, ast.Constant) and isinstance(expr.value, str) else None


def _strings_of(expr: ast.expr) -> frozenset[str] | None:
    if not isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return None
    found = [_string(element) for element in expr.elts]
    return None if any(value is None for value in found) else frozenset(found)  # type: ignore[arg-type]


def _pattern_strings(pattern: ast.AST) -> frozenset[str] | None:
    """The strings a `case` pattern matches (`case "jax":`, `case "jax" | "torch":`); None for
    a pattern that matches anything (`case _:`, `case other:`)."""
    if type(pattern).__name__ == "MatchValue":
        value = _string(pattern.value)  # type: ignore[attr-defined]
        return frozenset() if value is None else frozenset({value})
    if type(pattern).__name__ == "MatchOr":
        found: frozenset[str] = frozenset()
        for part in pattern.patterns:  # type: ignore[attr-defined]
            named = _pattern_strings(part)
            if named is None:
                return None
            found |= named
        return found
    if type(pattern).__name__ == "MatchAs" and pattern.pattern is None:  # type: ignore[attr-defined]
        return None
    return frozenset()


def _leaves(stmt: ast.stmt) -> bool:
    if isinstance(stmt, (ast.Raise, ast.Return)):
        return True
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and dotted(stmt.value.func) in ("sys.exit", "os._exit")
    )


def _always_leaves(body: list[ast.stmt]) -> bool:
    return bool(body) and _leaves(body[-1])


def step_backend_of(qualified: str | None) -> str | None:
    """The backend a name used in a `train_step` ties it to: `jax.*`, `torch.*`, or
    TensorFlow's `GradientTape` (any spelling)."""
    if not qualified:
        return None
    head = qualified.partition(".")[0]
    if head in ("jax", "torch"):
        return head
    if qualified.endswith("GradientTape") and head in ("tensorflow", "keras"):
        return "tensorflow"
    return None


# `try` blocks, and `try`/`except*` where Python has it (3.11 on).
_TRY_NODES = tuple(getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name))


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those in top-level `if`, `try`, `with` and `match`
    blocks."""
    for stmt in body:
        if isinstance(stmt, (ast.If, ast.With)):
            yield from _top_level(stmt.body)
            yield from _top_level(getattr(stmt, "orelse", []))
        elif _MATCH is not None and isinstance(stmt, _MATCH):
            for case in stmt.cases:  # type: ignore[attr-defined]
                yield from _top_level(case.body)
        elif isinstance(stmt, _TRY_NODES):
            yield from _top_level(stmt.body)
            for handler in stmt.handlers:
                yield from _top_level(handler.body)
            yield from _top_level(stmt.orelse)
            yield from _top_level(stmt.finalbody)
        else:
            yield stmt


def _parse_tree(path: Path, data: bytes) -> ast.Module | None:
    try:
        return python_ast.parse(data, str(path))
    except (SyntaxError, ValueError, RecursionError, MemoryError, UnicodeError):
        return None


def is_test_file(path: str | os.PathLike[str] | None) -> bool:
    """A test file (`*_test.py`, `test_*.py`, `conftest.py`): its models are built to be
    checked, not shipped."""
    name = Path(path).name if path else ""
    return name.endswith("_test.py") or name.startswith("test_") or name == "conftest.py"


def _class_references(
    tree: ast.Module, reader: _ModuleReader, heads: frozenset[str]
) -> Iterator[tuple[str, str | None]]:
    """(qualified name, owner) of each name the module refers to whose first part is one of
    `heads` (the project's top-level modules), or a class or top-level function of the module
    itself. The owner is the qualified name of the module-level class in whose method the
    reference is, or of the top-level function in whose body it is; None anywhere else (module
    level, a class body, a decorator, a default argument). A class's bases and type annotations
    are not references; in a package's `__init__.py` an import re-exports the name, a reference
    without owner."""
    module = reader.info.name
    own = reader.info.classes
    functions = {
        stmt.name for stmt in _top_level(tree.body) if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
    } - own.keys() - reader.info.names.keys()
    top_level = {id(stmt) for stmt in _top_level(tree.body)}

    def wanted(qualified: str | None) -> bool:
        return qualified is not None and (qualified.partition(".")[0] in heads or qualified.rpartition(".")[0] == module)

    def visit(node: ast.AST, owner: str | None) -> Iterator[tuple[str, str | None]]:
        todo: list[tuple[ast.AST, str | None]] = [(node, owner)]
        while todo:
            item, where = todo.pop()
            kind = type(item)
            if kind is ast.Name or kind is ast.Attribute:
                chain = item
                while type(chain) is ast.Attribute:
                    chain = chain.value  # type: ignore[attr-defined]
                if type(chain) is ast.Name:
                    qualified = reader.qualify(item)  # type: ignore[arg-type]
                    if qualified is None and chain is item and item.id in functions:  # type: ignore[attr-defined]
                        qualified = f"{module}.{item.id}"  # type: ignore[attr-defined]
                    if wanted(qualified):
                        yield qualified, where  # type: ignore[misc]
                    continue
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                function: ast.FunctionDef = item  # type: ignore[assignment]
                body_owner = where
                if id(item) in top_level and function.name in functions:
                    body_owner = f"{module}.{function.name}"
                # Its return annotation is no use of a class.
                todo.extend((expr, where) for expr in (*function.decorator_list, function.args))
                todo.extend((stmt, body_owner) for stmt in function.body)
                continue
            elif kind is ast.arg:
                continue  # a parameter's annotation is no use of a class
            elif kind is ast.AnnAssign:
                annotated: ast.AnnAssign = item  # type: ignore[assignment]
                todo.append((annotated.target, where))
                if annotated.value is not None:
                    todo.append((annotated.value, where))
                continue
            elif kind is ast.ClassDef:
                klass: ast.ClassDef = item  # type: ignore[assignment]
                methods_owner = f"{module}.{klass.name}" if where is None and klass.name in own else where
                for expr in (*klass.decorator_list, *(k.value for k in klass.keywords)):
                    todo.append((expr, where))
                for stmt in klass.body:
                    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        todo.append((stmt, methods_owner))
                    else:
                        todo.append((stmt, where))
                continue
            elif kind is ast.ImportFrom and reader.is_package and where is None:
                for alias in item.names:  # type: ignore[attr-defined]
                    qualified = reader.info.names.get(alias.asname or alias.name)
                    if wanted(qualified):
                        yield qualified, None  # type: ignore[misc]
                continue
            todo.extend((child, where) for child in ast.iter_child_nodes(item))

    yield from visit(tree, None)


_TOO_BIG: list[str] = []


class ProjectIndex:
    """The classes of one project's modules, read on demand and cached per file version."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._sources = [root / "src", root]
        # path -> ((mtime_ns, size), the module, or None when it cannot be read or parsed)
        self._modules: dict[Path, tuple[tuple[int, int], ModuleInfo | None]] = {}
        # Every module name under the root, walked at the first whole-project question.
        self._all: list[str] | None = None
        # Open buffers' texts, read instead of their files: path -> (serial, text).
        self._overlays: dict[Path, tuple[int, str]] = {}
        self._serial = 0
        # While changes are recorded (`record_changes`): path -> what the module said before
        # the first change since `take_changes` (None: it did not exist or was unreadable).
        self._previous: dict[Path, ModuleInfo | None] = {}
        # Whole-project answers, kept while no module is read again, dropped, overlaid or
        # created: (generation, answer) per question. Each lint of a class asks them, and
        # checking every file's version each time would cost a stat per module.
        self._generation = 0
        self._whole: dict[str, tuple[int, object]] = {}
        # What stays true until the index is told of a change (`forget`, `forget_module_list`,
        # an overlay set or removed) or reads a module whose file changed: the file of each
        # module name, the files whose version was checked, and the answers about classes
        # (`is_keras_class`, `keras_family`, `resolve`). A lint asks the same questions of the
        # same modules thousands of times: each would cost `isfile` tests and a `stat`.
        self._epoch = 0
        self._files: dict[str, Path | None] = {}
        self._checked: set[Path] = set()
        self._answers: dict[tuple[str, str], object] = {}
        # Modules read by earlier processes, when a cache folder is in use (`index_store`):
        # the folder's store, made again when the process names another folder.
        self._store_of: tuple[Path | None, Store | None] = (None, None)
        # Folder -> the modules directly in it (`_folder_modules`); path -> whether its text may
        # hold a backend guard (`GUARD_TEXT`), until a change.
        self._guard_text: dict[Path, bool] = {}
        # Folder -> the modules directly in it (`_folder_modules`).
        self._folders: dict[Path, list[str]] = {}
        # The modules whose `selected_backends` is being answered (an import cycle ends there),
        # and how many times a cycle was met.
        self._selecting: set[str] = set()
        self._cycles = 0
        # path -> (the module's version when read, its class references): see
        # `class_references`.
        self._references: dict[Path, tuple[object, list[tuple[str, str | None]]]] = {}

    # ----- modules and files -----------------------------------------------------------------

    def module_name(self, path: Path) -> str | None:
        """The dotted name of the module at `path`, or None when it is not a module of the root."""
        if path.suffix != ".py":
            return None
        for source in self._sources:
            try:
                relative = path.relative_to(source)
            except ValueError:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts and parts[-1] == "__init__":
                parts.pop()
            if parts and all(part.isidentifier() for part in parts):
                return ".".join(parts)
            return None
        return None

    def module_file(self, name: str) -> Path | None:
        """The file (or open buffer) of the module `name`, or None; looked up once until the
        index is told of a change (a created or deleted file, an overlay)."""
        try:
            return self._files[name]
        except KeyError:
            pass
        found = None
        relative = Path(*name.split("."))
        for source in self._sources:
            for candidate in (source / relative.with_suffix(".py"), source / relative / "__init__.py"):
                if candidate in self._overlays or os.path.isfile(candidate):
                    found = candidate
                    break
            if found is not None:
                break
        self._files[name] = found
        return found

    def module(self, name: str) -> ModuleInfo | None:
        """What the module `name` says. Its file's version (modification time and size) is
        checked once until the index is told of a change: a file changed on disk since it was
        read is read again after a `forget` (of it, or of any file), `forget_module_list` or
        an overlay, not before."""
        path = self.module_file(name)
        if path is None:
            return None
        overlay = self._overlays.get(path)
        if overlay is not None:
            return self._overlay_module(path, name, overlay)
        cached = self._modules.get(path)
        if cached is not None and path in self._checked:
            return cached[1]
        try:
            status = path.stat()
        except OSError:
            return None
        version = (status.st_mtime_ns, status.st_size)
        if cached is not None and cached[0] == version:
            self._checked.add(path)
            return cached[1]
        if cached is not None:
            self._note(path, cached[1])
            self._changed()  # answers read from its older text no longer hold
        info = self._read(path, name) if status.st_size <= MAX_MODULE_BYTES else None
        self._modules[path] = (version, info)
        self._checked.add(path)
        self._generation += 1
        return info

    def _changed(self) -> None:
        """Drop what holds only until a change: module files, checked versions, answers."""
        self._epoch += 1
        self._files.clear()
        self._guard_text.clear()
        self._checked.clear()
        self._answers.clear()

    def _answer(self, question: str, qualified: str, compute: Callable[[str], object]) -> object:
        """A question's answer about `qualified`, kept until a change (see `_changed`)."""
        key = (question, qualified)
        try:
            return self._answers[key]
        except KeyError:
            pass
        epoch = self._epoch
        answer = compute(qualified)
        if self._epoch == epoch:  # a module read again on the way: keep nothing
            self._answers[key] = answer
        return answer

    def _overlay_module(self, path: Path, name: str, overlay: tuple[int, str]) -> ModuleInfo | None:
        serial, text = overlay
        version = (-1, serial)
        cached = self._modules.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
        data = text.encode("utf-8", "surrogatepass")
        # An open buffer's text is not stored: each keystroke would make an entry.
        info = self._parse(path, name, data, store=False) if len(data) <= MAX_MODULE_BYTES else None
        if info is None and cached is not None and cached[1] is not None:
            info = cached[1]  # half-typed code: other modules see its last good text
        if cached is not None:
            self._note(path, cached[1])
        self._modules[path] = (version, info)
        self._generation += 1
        return info

    def _read(self, path: Path, name: str) -> ModuleInfo | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return self._parse(path, name, data)

    @property
    def _store(self) -> Store | None:
        where = index_store.folder()
        if self._store_of[0] != where:
            self._store_of = (where, store_for(self.root))
        return self._store_of[1]

    def _parse(self, path: Path, name: str, data: bytes, store: bool = True) -> ModuleInfo | None:
        is_package = path.name == "__init__.py"
        key = None
        kept = self._store
        if kept is not None:
            key = kept.key(name, is_package, data)
            found, stored = kept.get(key)
            if found:
                try:
                    return None if stored is None else ModuleInfo.from_data(stored)
                except (TypeError, ValueError, KeyError, AttributeError):
                    pass  # an entry this code cannot read: read the module again
        tree = _parse_tree(path, data)
        info = None if tree is None else _ModuleReader(name, is_package).read(tree.body, data)
        if kept is not None and key is not None and store:
            kept.put(key, None if info is None else info.to_data())
        return info

    def save_store(self) -> None:
        """Keep the modules read so far for the next process (when a cache folder is in use)."""
        kept = self._store_of[1]
        if kept is not None:
            kept.save()

    def _source(self, path: Path) -> bytes | None:
        """The text of the module at `path` (its open buffer's, if any), or None when it cannot
        be read."""
        overlay = self._overlays.get(path)
        try:
            return overlay[1].encode("utf-8", "surrogatepass") if overlay else path.read_bytes()
        except (OSError, UnicodeError):
            return None

    def _tree(self, path: Path) -> ast.Module | None:
        """The `ast` of the module at `path` (its open buffer's text, if any), or None."""
        data = self._source(path)
        if data is None:
            return None
        return _parse_tree(path, data) if len(data) <= MAX_MODULE_BYTES else None

    def cached(self, name: str) -> tuple[bool, ModuleInfo | None]:
        """(whether the module was read already, what it said then), without reading it."""
        path = self.module_file(name)
        if path is None:
            return True, None  # no such module: nothing to read
        cached = self._modules.get(path)
        return (False, None) if cached is None else (True, cached[1])

    # ----- open buffers and changed files -------------------------------------------------------

    def set_overlay(self, path: Path, text: str) -> None:
        """Read `text` for the module at `path` (an open buffer) instead of its file."""
        cached = self._modules.get(path)
        if cached is not None:
            self._note(path, cached[1])
        elif path not in self._overlays and not os.path.isfile(path):
            self._note(path, None)  # a module that did not exist before
        self._serial += 1
        self._overlays[path] = (self._serial, text)
        self._generation += 1
        self._changed()

    def remove_overlay(self, path: Path) -> None:
        """Read the module at `path` from its file again (its buffer was closed)."""
        if self._overlays.pop(path, None) is not None:
            self._drop(path)

    def forget(self, path: Path, created: bool = False) -> None:
        """Read the file at `path` again at the next question (it changed on disk; `created`:
        it is new); an open buffer's overlay still stands for it."""
        if path in self._overlays:
            return
        if created and path not in self._modules:
            self._note(path, None)
        self._drop(path)

    def _drop(self, path: Path) -> None:
        self._generation += 1
        self._changed()
        cached = self._modules.pop(path, None)
        if cached is not None:
            self._note(path, cached[1])

    # ----- changes, for editors -----------------------------------------------------------------

    def _note(self, path: Path, before: ModuleInfo | None) -> None:
        if _RECORDING and path not in self._previous:
            self._previous[path] = before

    def take_changes(self) -> dict[str, ModuleInfo | None]:
        """Module name -> what it said before, for the modules read again (changed on disk, in
        a buffer, created or removed) since the last call, while changes are recorded
        (`record_changes`): compare with `module(name)` to see what changed."""
        names = {path: self.module_name(path) for path in self._previous}
        for name in names.values():
            if name is not None:
                self.module(name)  # read now: a note this makes keeps the older text
        previous, self._previous = self._previous, {}
        changed: dict[str, ModuleInfo | None] = {}
        for path, before in previous.items():
            name = names.get(path) or self.module_name(path)
            if name is not None:
                changed.setdefault(name, before)
        return changed

    # ----- the whole project -----------------------------------------------------------------

    def module_names(self) -> list[str] | None:
        """Every module of the project, found by walking the root once (hidden folders,
        virtual environments and build output skipped); None for a project too big to walk."""
        if self._all is None:
            self._all = self._walk()
        if self._all is _TOO_BIG:
            return None
        extra = self._overlay_only(self._all)
        return self._all + extra if extra else self._all

    def _overlay_only(self, walked: list[str]) -> list[str]:
        """Modules of open buffers that have no file yet (or in a folder the walk skips)."""
        if not self._overlays:
            return []
        known = set(walked)
        names = (self.module_name(path) for path in self._overlays)
        return sorted({name for name in names if name is not None and name not in known})

    def forget_module_list(self) -> None:
        """Walk the root again at the next whole-project question (files were added or removed)."""
        self._all = None
        self._folders.clear()
        self._generation += 1
        self._changed()

    def _walk(self) -> list[str]:
        steps = self._walk_steps()
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value

    def _walk_steps(self) -> Iterator[None]:
        """The walk of `module_names`, yielding after each folder; returns the names."""
        names: list[str] = []
        count = 0
        for folder, folders, files in os.walk(self.root):
            yield None
            folders[:] = sorted(
                f for f in folders
                if not f.startswith(".") and f not in SKIPPED_FOLDERS
                and not os.path.isfile(os.path.join(folder, f, "pyvenv.cfg"))
            )
            for file in sorted(files):
                if not file.endswith(".py"):
                    continue
                count += 1
                if count > MAX_PROJECT_FILES:
                    return _TOO_BIG
                name = self.module_name(Path(folder, file))
                if name is not None:
                    names.append(name)
        return names

    def indexing(self, max_bytes: int | None = None) -> Iterator[tuple[int, int | None]]:
        """Read every module of the project, one step at a time: yields (modules read, modules
        found, None while the walk goes on) after each folder walked and each module read.
        Files over `max_bytes` are left for when a question needs them (one step stays short)."""
        if self._all is None:
            steps = self._walk_steps()
            while True:
                try:
                    next(steps)
                except StopIteration as done:
                    walked = done.value
                    break
                yield 0, None
            if self._all is None:
                self._all = walked
        names = self.module_names() or []
        for done, name in enumerate(names, 1):
            if max_bytes is not None:
                path = self.module_file(name)
                try:
                    if path is not None and path not in self._overlays and path.stat().st_size > max_bytes:
                        yield done, len(names)
                        continue
                except OSError:
                    pass
            self.module(name)
            yield done, len(names)

    def modules(self) -> Iterator[ModuleInfo]:
        """Every readable module of the project (none when it is too big to walk)."""
        for name in self.module_names() or ():
            info = self.module(name)
            if info is not None:
                yield info

    def _whole_project(self, question: str, compute: Callable[[], object]) -> object:
        """A whole-project answer, computed again only after a module changed (as far as the
        index was told or found by reading: a file changed on disk that nothing asked about
        since is seen at the next `forget`, `forget_module_list` or overlay)."""
        kept = self._whole.get(question)
        if kept is not None and kept[0] == self._generation:
            return kept[1]
        answer = compute()
        self._whole[question] = (self._generation, answer)
        return answer

    def saving_sites(self, exclude: str | None = None) -> list[tuple[str, int, str]] | None:
        """(module, line, what) of every place the project saves, loads or rebuilds Keras
        objects by config, leaving out the module `exclude` (the linted buffer, whose own
        text the rule reads); None when the project is too big to know."""
        every = self._whole_project("saving", self._saving_sites)
        if every is None:
            return None
        return [site for site in every if site[0] != exclude]  # type: ignore[union-attr]

    def _saving_sites(self) -> list[tuple[str, int, str]] | None:
        if self.module_names() is None:
            return None
        return [(info.name, line, what) for info in self.modules() for line, what in info.saves]

    def class_references(self, qualified: str) -> list[tuple[str, str | None]] | None:
        """(module, owner) of each place a module of the project other than a test file refers
        to the class (or top-level function) `qualified` names (after `resolve`), leaving out
        its own methods (its own body): the owner is the qualified name of the module-level
        class in whose method the reference is, or of the top-level function in whose body it
        is, None for any other place (see `_class_references`). None when the project is too
        big to walk. A module that cannot be read or parsed counts as a reference without owner
        when its text spells the name."""
        target = self.resolve(qualified)
        answer = self._whole_project("references", self._all_class_references)
        if answer is None:
            return None
        every, unread = answer  # type: ignore[misc]
        leaf = target.rpartition(".")[2].encode()
        return [(module, owner) for module, owner in every.get(target, ()) if owner != target] + [
            (name, None) for name, data in unread if leaf in data
        ]

    def has_subclasses(self, qualified: str) -> bool:
        """Whether a class of the project derives directly from the class `qualified` names."""
        bases = self._whole_project("subclassed", self._subclassed)
        return bases is not None and self.resolve(qualified) in bases  # type: ignore[operator]

    def _subclassed(self) -> frozenset[str] | None:
        if self.module_names() is None:
            return None
        found: set[str] = set()
        for info in self.modules():
            found.update(self.resolve(base) for bases in info.classes.values() for base in bases if base)
            # A base imported in several branches derives from each of them.
            found.update(self.resolve(choice) for choices in info.alternatives.values() for choice in choices)
        return frozenset(found)

    def _all_class_references(self) -> tuple[dict[str, list[tuple[str, str | None]]], list[tuple[str, bytes]]] | None:
        names = self.module_names()
        if names is None:
            return None
        heads = frozenset(name.partition(".")[0] for name in names)
        every: dict[str, list[tuple[str, str | None]]] = {}
        unread: list[tuple[str, bytes]] = []
        for name in names:
            references = self._module_references(name, heads)
            if isinstance(references, bytes):
                unread.append((name, references))
                continue
            for qualified, owner in references or ():
                every.setdefault(self.resolve(qualified), []).append((name, owner))
        return every, unread

    def _module_references(self, name: str, heads: frozenset[str]) -> list[tuple[str, str | None]] | bytes | None:
        """The class references of one module (see `_class_references`), kept per version of
        the module; None for a test file or no module; the text of a module that cannot be
        parsed."""
        path = self.module_file(name)
        if path is None or is_test_file(path):
            return None
        info = self.module(name)
        entry = self._modules.get(path)
        kept = self._references.get(path)
        if entry is not None and kept is not None and kept[0] == entry[0]:
            return kept[1]
        tree = self._tree(path) if info is not None else None
        if tree is None:
            return self._source(path) or b""
        reader = _ModuleReader(name, path.name == "__init__.py")
        reader.info = info  # type: ignore[assignment]
        references = list(_class_references(tree, reader, heads))
        if entry is not None:
            self._references[path] = (entry[0], references)
        return references

    def references_changed(self, name: str) -> bool:
        """Whether the class references of the module `name` differ from those last read for a
        saving rule (False when none were read: no finding depended on them)."""
        path = self.module_file(name)
        kept = self._references.get(path) if path is not None else None
        if kept is None:
            return False
        names = self.module_names()
        if names is None:
            return False
        heads = frozenset(module.partition(".")[0] for module in names)
        return self._module_references(name, heads) != kept[1]

    def selected_backends(self, name: str) -> frozenset[str] | None:
        """The backends the module `name` runs on when the project selects it by backend: some
        module imports it under a backend guard (`if keras.backend.backend() == "jax": from
        .jax import layer`), or a module so selected imports it (`jax/layer.py` importing
        `jax/helpers.py`), and every import of it in the project's modules (tests apart, in
        function bodies too) runs under such guards or in such modules; their backends together.
        None otherwise, for a module with an importer that cannot be parsed, for a module in an
        import cycle of such modules, and for a project too big to walk."""
        if self._selecting:
            return self._selected_within(name) or None  # asked again on the way: not kept
        self._selecting.add(name)
        try:
            answer = self._answer("selected", name, self._selected_backends)
        finally:
            self._selecting.discard(name)
        return answer or None  # type: ignore[return-value]

    def _selected_within(self, name: str) -> frozenset[str] | None:
        """`selected_backends` of a module met while answering it for another: not kept, since
        it may rest on the other's answer. A module reached again through a cycle of imports
        adds no backend (it runs only where the cycle's entry does)."""
        key = ("selected", name)
        if key in self._answers:
            return self._answers[key]  # type: ignore[return-value]
        if name in self._selecting:
            self._cycles += 1
            return frozenset()
        self._selecting.add(name)
        cycles, epoch = self._cycles, self._epoch
        try:
            answer = self._selected_backends(name)
        finally:
            self._selecting.discard(name)
        if self._cycles == cycles and self._epoch == epoch:
            self._answers[key] = answer  # it rests on no answer still being made: keep it
        return answer

    def _selected_backends(self, name: str) -> frozenset[str] | None:
        path = self.module_file(name)
        if path is None:
            return None
        leaf = name.rpartition(".")[2].encode()
        prefix = name + "."
        # A module chosen by backend is chosen near it: in its package or a package above. Only
        # when one of those imports it under a guard is the whole project searched.
        near = guarded = False
        for folder in (path.parent, *path.parent.parents):
            if near or (folder != self.root and self.root not in folder.parents):
                break
            for module in self._folder_modules(folder):
                if module == name:
                    continue
                if self._has_guard_text(module):
                    info = self.module(module)
                    if info is not None and info.backend_imports:
                        guarded = True
                        if any(key == name or key.startswith(prefix) for key in info.backend_imports):
                            near = True
                            break
        if not near and guarded:
            # A helper of a selected module sits beside it (only where some module near imports
            # under a guard can one be selected).
            near = any(self._imports_selected(module, name) for module in self._folder_modules(path.parent))
        if not near:
            return None
        union: frozenset[str] = frozenset()
        for module in self.module_names() or ():
            file = self.module_file(module)
            if module == name or file is None:
                continue
            imports = self._importer_guards(module, file, leaf, name)
            if imports is None:
                return None  # where it imports the module is unknown
            if imports and any(backends == BACKENDS for backends in imports):
                # An unguarded import runs wherever its module does.
                importer = self._selected_within(module)
                imports = [backends & (BACKENDS if importer is None else importer) for backends in imports]
            for backends in imports:
                union |= backends
            if union == BACKENDS:
                return None
        return union

    def _imports_selected(self, module: str, name: str) -> bool:
        """Whether `module` imports `name` at its top level and is itself selected by backend
        (its text is searched for `name`'s last part before it is read)."""
        path = self.module_file(module)
        data = self._source(path) if path is not None and module != name else None
        if data is None or name.rpartition(".")[2].encode() not in data:
            return False
        info = self.module(module)
        prefix = name + "."
        if info is None or not any(value == name or value.startswith(prefix) for value in info.names.values()):
            return False
        return self._selected_within(module) is not None

    def _has_guard_text(self, module: str) -> bool:
        """Whether the module's text reads the backend (`GUARD_TEXT`), kept until a change."""
        path = self.module_file(module)
        if path is None:
            return False
        guards = self._guard_text.get(path)
        if guards is None:
            data = self._source(path)
            guards = self._guard_text[path] = data is not None and GUARD_TEXT.search(data) is not None
        return guards

    def _folder_modules(self, folder: Path) -> list[str]:
        """The modules whose files are directly in `folder` (listed once until the module list
        is walked again)."""
        found = self._folders.get(folder)
        if found is None:
            try:
                files = sorted(entry.path for entry in os.scandir(folder) if entry.name.endswith(".py"))
            except OSError:
                files = []
            names = (self.module_name(Path(file)) for file in files)
            found = self._folders[folder] = [name for name in names if name is not None]
        return found

    def _importer_guards(self, module: str, path: Path, leaf: bytes, name: str) -> list[frozenset[str]] | None:
        """The backends of each import of `name` in `module` (a test file imports nothing here);
        None for a module whose text names `name` but cannot be parsed."""
        if is_test_file(path):
            return []
        data = self._source(path)
        if data is None or leaf not in data:
            return []
        info = self.module(module)
        tree = _parse_tree(path, data) if info is not None else None
        if info is None or tree is None:
            return None
        reader = _ModuleReader(module, path.name == "__init__.py")
        reader.info = info
        guards = _ImportGuards(reader, info.backend_functions, self.is_backend_function)
        guards.block(tree.body, BACKENDS)
        prefix = name + "."
        return [backends for key, backends in guards.imports.items() if key == name or key.startswith(prefix)]

    def is_registering(self, qualified: str) -> bool:
        """Whether the decorator `qualified` names is Keras's `register_keras_serializable` or
        a project function or class that calls it."""
        qualified = self.resolve(qualified)
        if qualified.rpartition(".")[2] == REGISTER:
            return True
        found = self._locate(qualified)
        return found is not None and found[1] in found[0].registering

    def writes_for_keras_3(self, group: str) -> bool:
        """Whether some module of the top-level package `group` (or, for "", some module at the
        project's root) is written for Keras 3 (`ModuleInfo.writes_for_keras_3`): then a
        module of that package that takes Keras from TensorFlow does so by choice (see
        `backend_scope`). False for a project too big to walk."""
        groups = self._whole_project("keras3", self._keras_3_groups)
        return groups is not None and group in groups  # type: ignore[operator]

    def _keras_3_groups(self) -> frozenset[str] | None:
        names = self.module_names()
        if names is None:
            return None
        found: set[str] = set()
        for name in names:
            group = self.group_of(name)
            if group in found:
                continue
            read, info = self.cached(name)
            if not read:
                # A module whose text spells none of what shows Keras 3 is not read (parsed) for
                # this question: the first lint of a Keras 2 project reads its files' bytes only.
                path = self.module_file(name)
                data = self._source(path) if path is not None else None
                if data is None or not _KERAS_3_HINT.search(data):
                    continue
                info = self.module(name)
            if info is not None and info.writes_for_keras_3():
                found.add(group)
        return frozenset(found)

    def group_of(self, name: str) -> str:
        """The top-level package of the module `name`, or "" for a module at the project's
        root."""
        head, dot, _ = name.partition(".")
        if dot:
            return head
        path = self.module_file(name)
        return name if path is not None and path.name == "__init__.py" else ""

    def step_variants(self) -> dict[str, set[str]] | None:
        """Backend -> the project classes whose `train_step` is written for it alone; None
        when the project is too big to know."""
        variants = self._whole_project("steps", self._step_variants)
        return None if variants is None else {b: set(names) for b, names in variants.items()}  # type: ignore[union-attr]

    def _step_variants(self) -> dict[str, set[str]] | None:
        if self.module_names() is None:
            return None
        variants: dict[str, set[str]] = {}
        for info in self.modules():
            for klass, backends in info.step_backends.items():
                if len(backends) == 1:
                    variants.setdefault(next(iter(backends)), set()).add(f"{info.name}.{klass}")
        return variants

    # ----- what depends on what ---------------------------------------------------------------

    def dependencies(self, name: str, _known: dict[str, bool] | None = None) -> set[str]:
        """The project modules whose classes or names the module `name` uses: those it imports
        from, and those its classes' bases are in (with the packages on the way, which may
        re-export them)."""
        info = self.module(name)
        if info is None:
            return set()
        known = {} if _known is None else _known
        found: set[str] = set()
        qualified = list(info.names.values())
        qualified.extend(base for bases in info.classes.values() for base in bases if base is not None)
        for target in qualified:
            parts = target.split(".")
            for end in range(1, len(parts) + 1):
                prefix = ".".join(parts[:end])
                exists = known.get(prefix)
                if exists is None:
                    exists = known[prefix] = self.module_file(prefix) is not None
                if exists and prefix != name:
                    found.add(prefix)
        return found

    def dependents(self, module_names, among=None) -> set[str]:
        """The modules whose findings may change when the classes or names of `module_names`
        change: those that import from them or derive from their classes, through any chain
        of project modules (the changed modules themselves are left out). With `among`, only
        those modules are considered (an editor's open files), and only the modules they reach
        are read; without it, every module of the project is (none if it is too big to walk)."""
        changed = set(module_names)
        known: dict[str, bool] = {}
        if among is None:
            users: dict[str, set[str]] = {}
            for name in self.module_names() or ():
                for dependency in self.dependencies(name, known):
                    users.setdefault(dependency, set()).add(name)
            found: set[str] = set()
            todo = list(changed)
            while todo:
                for user in users.get(todo.pop(), ()):
                    if user not in found:
                        found.add(user)
                        todo.append(user)
            return found - changed
        edges: dict[str, set[str]] = {}

        def reaches_changed(start: str) -> bool:
            seen = {start}
            todo = [start]
            while todo:
                name = todo.pop()
                following = edges.get(name)
                if following is None:
                    following = edges[name] = self.dependencies(name, known)
                if following & changed:
                    return True
                todo.extend(following - seen)
                seen |= following
            return False

        return {name for name in among if name not in changed and reaches_changed(name)}

    # ----- classes ---------------------------------------------------------------------------

    def _locate(self, qualified: str) -> tuple[ModuleInfo, str] | None:
        """The project module holding `qualified` and the name within it; None when the name is
        not in the project or its module cannot be read."""
        module_name, _, attribute = qualified.rpartition(".")
        while module_name:
            info = self.module(module_name)
            if info is not None:
                return info, attribute
            if self.module_file(module_name) is not None:
                return None  # the module exists but cannot be read
            # `pkg.layers.base.BaseLayer` may be `base.BaseLayer` of the module `pkg.layers`.
            module_name, _, head = module_name.rpartition(".")
            attribute = f"{head}.{attribute}"
        return None

    def resolve(self, qualified: str) -> str:
        """The name `qualified` stands for once the project's re-exports and aliases are
        followed: `pkg.layers.BaseLayer` -> `pkg.layers.base.BaseLayer`, and a module's
        `from tensorflow.keras.layers import Layer` -> `tensorflow.keras.layers.Layer`."""
        return self._answer("resolve", qualified, self._resolve)  # type: ignore[return-value]

    def _resolve(self, qualified: str) -> str:
        for _ in range(MAX_DEPTH):
            found = self._locate(qualified)
            if found is None:
                return qualified
            info, attribute = found
            first, _, rest = attribute.partition(".")
            target = None if first in info.classes else info.names.get(first)
            if target is None:
                return qualified
            following = f"{target}.{rest}" if rest else target
            if following == qualified:
                return qualified
            qualified = following
        return qualified

    def class_bases(self, qualified: str) -> tuple[str | None, ...] | None:
        """The bases of the project class `qualified` names (after `resolve`), or None."""
        found = self._locate(self.resolve(qualified))
        if found is None:
            return None
        info, attribute = found
        return info.classes.get(attribute)

    def derives_from(self, qualified: str, is_base: Callable[[str], bool]) -> bool:
        """Whether the class `qualified` names is, or derives through any chain of project
        classes from, a class `is_base` accepts."""
        seen: set[str] = set()
        todo = [(qualified, 0)]
        while todo:
            name, depth = todo.pop()
            name = self.resolve(name)
            if is_base(name):
                return True
            if name in seen or depth > MAX_DEPTH:
                continue
            seen.add(name)
            todo.extend((base, depth + 1) for base in self.class_bases(name) or () if base is not None)
        return False

    def function_calls(self, qualified: str) -> tuple[str | None, ...] | None:
        """The qualified names of the calls in the body of the project's top-level function
        `qualified` names (None for a callee it cannot name: a parameter, a method of an
        object, a builtin), or None when `qualified` names no project function. Read from the
        module's text when first asked, for all its functions at once: few rules need it, so
        indexing a module does not pay for it."""
        found = self._locate(self.resolve(qualified))
        if found is None:
            return None
        info, attribute = found
        calls = self._answer("calls", info.name, self._module_calls)
        return calls.get(attribute) if calls else None  # type: ignore[union-attr]

    def _module_calls(self, name: str) -> dict[str, tuple[str | None, ...]] | None:
        info = self.module(name)
        path = self.module_file(name)
        tree = self._tree(path) if info is not None and path is not None else None
        if tree is None:
            return None
        functions = [stmt for stmt in _top_level(tree.body) if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))]
        own = {function.name for function in functions} - info.names.keys()  # type: ignore[union-attr]
        reader = _ModuleReader(name, path.name == "__init__.py")  # type: ignore[union-attr]
        reader.info = info  # type: ignore[assignment]
        found: dict[str, tuple[str | None, ...]] = {}
        for function in functions:
            found[function.name] = tuple(
                f"{name}.{node.func.id}"  # a function of the same module
                if isinstance(node.func, ast.Name) and node.func.id in own
                else reader.qualify(node.func)
                for node in ast.walk(function)
                if isinstance(node, ast.Call)
            )
        return found

    def is_backend_function(self, qualified: str) -> bool:
        """Whether `qualified` names a project function that returns the Keras backend's name."""
        found = self._locate(self.resolve(qualified))
        if found is None:
            return False
        info, attribute = found
        return attribute in info.backend_functions

    def version_role(self, qualified: str, _depth: int = 0) -> str | None:
        """What the project function `qualified` names does with the Keras version: KERAS_3
        (returns whether Keras 3 is in use), REFUSES (raises when it is), or None; the other
        module's function a role rests on is checked in turn."""
        found = self._locate(self.resolve(qualified))
        if found is None:
            return None
        info, attribute = found
        role = info.version_functions.get(attribute)
        if role is None:
            return None
        kind, callee = role
        if callee and (_depth >= MAX_DEPTH or self.version_role(callee, _depth + 1) != KERAS_3):
            return None
        return kind

    def defines_config(self, qualified: str) -> bool:
        """Whether the project class `qualified` names, or a project class it derives from,
        defines `get_config()`."""
        def configured(name: str) -> bool:
            found = self._locate(name)
            return found is not None and found[1] in found[0].configured

        return self.derives_from(qualified, configured)

    def defines_call(self, qualified: str) -> bool:
        """Whether the project class `qualified` names, or a project class it derives from,
        defines `call()`: a model so defined is subclassed, not built by the functional API."""
        def calling(name: str) -> bool:
            found = self._locate(name)
            return found is not None and found[1] in found[0].calling

        return self.derives_from(qualified, calling)

    def may_serialize_built(self, owner: str, target: str) -> bool:
        """Whether the class `owner` may serialize (`serialize_keras_object`) an instance of
        `target` (a class, or a helper function that builds one) that it builds itself, as its
        module's `serializing` tells: yes when the module serializes something other than an
        attribute of `self` in a class's method, or when `owner` serializes an attribute that
        its methods assign a local name or a value spelling `target`'s name. An attribute
        assigned only a parameter (`self.image_encoder = image_encoder`, an object passed in)
        or other values (`self.mlp = MixFFN(...)`) is no instance `owner` builds of `target`."""
        module, _, klass = owner.rpartition(".")
        info = self.module(module)
        if info is None:
            return True
        if "" in info.serializing:
            return True
        leaf = target.rpartition(".")[2]
        return any(value == "*" or leaf in value.split() for value in info.serializing.get(klass, ()))

    def is_function(self, qualified: str) -> bool:
        """Whether `qualified` names a top-level function of a project module."""
        return self.function_calls(qualified) is not None

    def keeps_inputs(self, qualified: str) -> bool:
        """Whether the project class `qualified` names, or a project class it derives from, sets
        `self._convert_input_args = False` (see `KEEPS_INPUTS`)."""
        def keeping(name: str) -> bool:
            found = self._locate(name)
            return found is not None and found[1] in found[0].keeps_inputs

        return self._answer("keeps", qualified, lambda name: self.derives_from(name, keeping))  # type: ignore[return-value]

    def is_keras_class(self, qualified: str) -> bool:
        """Whether a name of the project is, or derives from, a Keras Layer or Model, as
        `Context.is_keras_class` counts them."""
        return self._answer("keras", qualified, self._is_keras_class)  # type: ignore[return-value]

    def _is_keras_class(self, qualified: str) -> bool:
        return self.derives_from(qualified, is_keras_base)

    def keras_family(self, qualified: str) -> str | None:
        """The Keras family a project class belongs to: "Layer", "Model", "Metric", "Loss",
        "Callback", "Optimizer" or "PyDataset"; None if it derives from none."""
        return self._answer("family", qualified, self._keras_family)  # type: ignore[return-value]

    def _keras_family(self, qualified: str) -> str | None:
        found: list[str] = []

        def is_base(name: str) -> bool:
            family = keras_family_of(name)
            if family is not None:
                found.append(family)
            return family is not None

        self.derives_from(qualified, is_base)
        return found[0] if found else None


# ----- one index per project root, per process -------------------------------------------------

_INDEXES: dict[Path, ProjectIndex] = {}
_ROOTS: dict[Path, Path] = {}
_RECORDING = False


def record_changes() -> None:
    """From now on, every index of this process remembers what its modules said before they
    changed (`ProjectIndex.take_changes`): an editor's engine finds what a change concerns."""
    global _RECORDING
    _RECORDING = True


def indexes() -> list[ProjectIndex]:
    """The project indexes of this process."""
    return list(_INDEXES.values())


def absolute_path(path: str | os.PathLike[str]) -> Path:
    try:
        return Path(os.path.abspath(path))
    except OSError:  # the working folder was removed: keep the path as it is
        return Path(path)


def save_stores() -> None:
    """Keep every index's modules read so far for the next process (see `index_store`)."""
    for index in _INDEXES.values():
        index.save_store()


def project_index(path: str | os.PathLike[str]) -> ProjectIndex:
    """The index of the project holding the file at `path` (shared by every file of the root).

    Each folder's root is looked up once per process: a project marker created later is seen
    by the next process (the next `kerasfix check`, a restarted server)."""
    absolute = absolute_path(path)
    root = _ROOTS.get(absolute.parent)
    if root is None:
        root = _ROOTS[absolute.parent] = find_root(absolute)
    index = _INDEXES.get(root)
    if index is None:
        index = _INDEXES[root] = ProjectIndex(root)
    return index


class ProjectModule:
    """The project around one linted file, found on the first question: the engine hands one
    to each `Context`, so that files whose classes never need it cost nothing."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._index: ProjectIndex | None = None
        self._name: str | None = None

    @property
    def index(self) -> ProjectIndex:
        if self._index is None:
            self._index = project_index(self.path)
            self._name = self._index.module_name(absolute_path(self.path))
        return self._index

    @property
    def name(self) -> str | None:
        """The file's dotted module name in its project, if it has one."""
        _ = self.index
        return self._name

    @property
    def package(self) -> str | None:
        name = self.name
        if name is None:
            return None
        return name if Path(self.path).name == "__init__.py" else name.rpartition(".")[0]

    def relative(self, level: int, module: str | None) -> str | None:
        """The absolute name of `from <dots><module>` written in this file."""
        package = self.package
        return None if package is None else absolute_module(package, level, module)

    def own_names(self) -> dict[str, str]:
        """This file's top-level names as last saved (for a part of a file being re-linted)."""
        name = self.name
        info = self.index.module(name) if name else None
        return info.names if info is not None else {}

    def is_keras_class(self, qualified: str) -> bool:
        return self.index.is_keras_class(qualified)

    def is_backend_function(self, qualified: str) -> bool:
        return self.index.is_backend_function(qualified)

    def function_calls(self, qualified: str) -> tuple[str | None, ...] | None:
        return self.index.function_calls(qualified)

    def defines_config(self, qualified: str) -> bool:
        return self.index.defines_config(qualified)

    def keeps_inputs(self, qualified: str) -> bool:
        return self.index.keeps_inputs(qualified)

    def own_function(self, name: str) -> str | None:
        """The qualified name of a top-level function `name` of this file."""
        module = self.name
        return f"{module}.{name}" if module else None

    def saving_sites(self) -> list[tuple[str, int, str]] | None:
        """Where the rest of the project saves or loads Keras objects (see `ProjectIndex`)."""
        return self.index.saving_sites(exclude=self.name)

    def is_registering(self, qualified: str) -> bool:
        return self.index.is_registering(qualified)

    def class_references(self, qualified: str) -> list[tuple[str, str | None]] | None:
        return self.index.class_references(qualified)

    def step_variants(self) -> dict[str, set[str]] | None:
        return self.index.step_variants()

    def writes_for_keras_3(self) -> bool:
        """Whether the project's modules of this file's top-level package (or at its root, for
        a file there) include one written for Keras 3."""
        package = self.package
        if package is None:
            return False
        return self.index.writes_for_keras_3(package.partition(".")[0])

    def version_role(self, qualified: str) -> str | None:
        return self.index.version_role(qualified)

    def version_function_names(self, bindings: dict[str, str]) -> set[str]:
        """The names under which a module may call an imported function that tests or refuses
        Keras 3 (`keras_version`), given its top-level `bindings` (local name -> qualified
        name): the functions of the project modules it imports, and the functions it imports
        (by their local names), as the index reads them. Only those modules are read: a lint
        never waits for the whole project, nor reads its own module."""
        name = self.name
        if name is None:
            return set()
        index = self.index
        head = name.partition(".")[0]
        candidates: list[tuple[str, str]] = []
        for local, qualified in bindings.items():
            if qualified.partition(".")[0] != head:
                continue
            imported = index.module(qualified)
            if imported is None:
                candidates.append((local, qualified))  # a function, or nothing of the kind
            else:
                candidates.extend((function, f"{qualified}.{function}") for function in imported.version_functions)
        return {spelled for spelled, qualified in candidates if index.version_role(qualified)}

    def selected_backends(self) -> frozenset[str] | None:
        """The backends this module runs on when the project imports it only under backend
        guards (see `ProjectIndex.selected_backends`)."""
        name = self.name
        return self.index.selected_backends(name) if name else None


def project_for(path: str | None) -> ProjectModule | None:
    """The project of a linted file; None without a path (standard input, untitled buffers)."""
    if not path or path == "-":
        return None
    return ProjectModule(path)
