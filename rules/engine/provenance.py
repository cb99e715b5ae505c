"""Provenance: what a name or `self.attr` holds, from its assignments in its scope.

Rules ask "is this receiver a model?" instead of guessing from its name. The answer is a
`Fact`: a kind and why. The kinds:

- `MODEL`: `keras.Sequential(...)`, `keras.Model(...)` (also a functional `Model(inputs,
  outputs)`), `keras.models.load_model` / `keras.saving.load_model`, `clone_model`,
  `model_from_json` / `model_from_config`, `keras.applications.X(...)`, `X.from_config(...)` of
  a model class, a `keras_hub` / `keras_nlp` model, an instance of a class that derives from a
  Keras Model (in this module or, through the project index, another module of the project),
  `self` in such a class, `self.model` in a Keras Callback, a parameter annotated with a Model
  class, and the call of a function of this module (or a method of the class) whose `return`
  values are all models.
- `LAYER`: `keras.layers.X(...)`, `model.layers[i]`, `model.get_layer(...)`, a project Layer
  class instance, `self` in a Layer class.
- `TENSOR`: a layer or model called on something, a `keras.ops.*` / `keras.random.*` call,
  `keras.Input(...)`, functional `layers.concatenate(...)` and the like, `model.input/output`.
- `LIST`, `DICT`, `TUPLE`: displays and comprehensions (`model.layers` is a list).
- `OPTIMIZER` (`keras.optimizers.X(...)`, `optimizers.get`, `<model>.optimizer`), `METRIC`,
  `LOSS` (a loss class instance, or a loss function referenced: `keras.losses.mse`),
  `CALLBACK`, `DATASET` (`tf.data.*`, a dataset method chain such as `ds.batch(32)`,
  `keras.utils.image_dataset_from_directory` and siblings).
- `OTHER`: shown to be none of these: a literal, a builtin's result (`open(p)`), a function
  or class object, a value built by a library that is not Keras (a module neither of the
  project nor beside the linted file: `PIL.Image.open(p)`,
  `tf.train.Checkpoint()`, `np.zeros(3)`, `tf_keras.Sequential()`), a non-Keras class of the
  project or of this module, another Keras API (`to_categorical`). Libraries that build Keras
  models are not "other": `keras_hub` / `keras_nlp` / `keras_cv` models and layers are known,
  anything else of theirs and of `tensorflow_hub`, `tensorflow_model_optimization`,
  `segmentation_models`, `transformers` ... (and any package named `*keras*`) is unknown, as
  is `tf.nest.map_structure(...)`; `copy.deepcopy(x)` is what `x` is.
- `UNKNOWN`: no evidence, with the reason in `Fact.why`.

How a name's fact is found. The innermost enclosing function that binds the name answers, else
the module (a class body's names are not visible in its methods). Every binding of the name in
that scope counts, wherever it is (nested `if` / `for` / `with` / `try` blocks, before or after
the use: the analysis is flow-insensitive). `x = None` is ignored (the usual placeholder before
the real value), and so is a dataset method called on the name itself (`ds = ds.map(f)`).
All bindings agreeing on one kind give that kind; bindings of different kinds
give `UNKNOWN` ("assigned values of different kinds: model, other"); a binding whose value is not
followed (a loop target, `with ... as x`, tuple unpacking, `x += ...`, an import, `global x`)
makes the name `UNKNOWN` as well. `self.attr` is found the same way from the `self.attr = ...`
assignments in all methods of the class. Evidence by use: a name (or `self.attr`) that is
otherwise unknown, and that no binding shows to be something else, is a `MODEL` when its own
scope calls `.fit(`, `.compile(`, `.predict(` or `.evaluate(` on it; a value of a non-Keras
library is a `MODEL` when the scope calls `.compile(` on it (a Keras model from a third-party
package such as `segmentation_models.Unet(...)`).

What it does NOT follow: return values of functions of other modules (`from .models import
build; model = build()` is unknown), attributes of other objects (`trainer.model`), items of
containers (`models[0]`, `outputs["a"]`), values passed as arguments (a parameter without an
annotation is unknown), order and control flow (a name reassigned in a loop or branch to another
kind is unknown everywhere in its scope, not per line), `global` / `nonlocal` rebinding,
assignments made through `setattr`, string annotations, and the scopes of comprehensions and
lambdas (a name that is also a comprehension's variable or a lambda's parameter in the scope is
unknown in the whole scope; a walrus `(m := ...)` is an assignment of the scope). When an editor re-lints only
some top-level statements (`Context.partial`), the editor's linter hands the other statements
from its earlier parses (`Context.module_statements`), so module-level names are judged over
the whole file as in a whole-file lint; without them (a caller that gives only a part) every
module-level name is unknown.

What an unknown receiver means is each rule's choice, documented with it; the receiver checks
of the saving, layer and training rules report a value shown to be of the kind they check,
whatever its name, never a value shown to be of another kind, and for an unknown one fall back
to what they did before provenance existed (see `rules/README.md`, "Provenance").

Facts are computed lazily, per scope and once per lint run (stored in `Context.shared`), only
for the scopes of the few nodes a rule asks about.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import libcst as cst

from .context import class_methods, keras_api
from .names import LOCAL, Scopes, dotted_name, statements, target_names
from .project import keras_family_of
from .tables import load_toml
from .walker import code_children

if TYPE_CHECKING:
    from .context import Context

MODEL = "model"
LAYER = "layer"
TENSOR = "tensor"
LIST = "list"
DICT = "dict"
TUPLE = "tuple"
OPTIMIZER = "optimizer"
METRIC = "metric"
LOSS = "loss"
CALLBACK = "callback"
DATASET = "dataset"
OTHER = "other"
UNKNOWN = "unknown"

# The family names of `project.keras_family_of` and the kind of their instances.
_FAMILY_KINDS = {
    "Model": MODEL,
    "Layer": LAYER,
    "Metric": METRIC,
    "Loss": LOSS,
    "Callback": CALLBACK,
    "Optimizer": OPTIMIZER,
    "PyDataset": OTHER,
}


@lru_cache(maxsize=1)
def _layer_tensors() -> dict[str, frozenset[str]]:
    """Layer class -> its attributes that hold backend tensors, not Variables, once the layer
    is built or adapted (`data/layer_tensors.toml`)."""
    return {layer: frozenset(names) for layer, names in load_toml("layer_tensors.toml")["layers"].items()}


@lru_cache(maxsize=1)
def _computed_attributes() -> frozenset[str]:
    return frozenset().union(*_layer_tensors().values())


# Methods whose call on a value is evidence that it is a Keras model.
USE_METHODS = frozenset({"fit", "compile", "predict", "evaluate"})

_MODEL_APIS = frozenset(
    {
        "Sequential",
        "models.Sequential",
        "Model",
        "models.Model",
        "models.load_model",
        "saving.load_model",
        "models.clone_model",
        "models.model_from_json",
        "models.model_from_config",
        "models.model_from_yaml",
        "engine.sequential.Sequential",
        "engine.training.Model",
        "engine.functional.Functional",
    }
)
_INPUT_APIS = frozenset({"Input", "layers.Input", "engine.input_layer.Input"})
_FUNCTIONAL_LAYERS = frozenset(
    {"concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "dot"}
)
_DATASET_APIS = frozenset(
    {
        "utils.image_dataset_from_directory",
        "utils.text_dataset_from_directory",
        "utils.audio_dataset_from_directory",
        "utils.timeseries_dataset_from_array",
        "preprocessing.image_dataset_from_directory",
        "preprocessing.text_dataset_from_directory",
        "preprocessing.timeseries_dataset_from_array",
    }
)
# tf.data.Dataset methods that return a dataset.
_DATASET_METHODS = frozenset(
    {
        "batch", "padded_batch", "unbatch", "rebatch", "map", "filter", "shuffle", "prefetch",
        "repeat", "cache", "take", "skip", "shard", "interleave", "flat_map", "concatenate",
        "zip", "apply", "with_options", "enumerate", "window", "ragged_batch", "bucket_by_sequence_length",
        "take_while", "ignore_errors", "snapshot", "unique",
    }
)
_CLASS_CONSTRUCTORS = frozenset({"from_config", "from_preset"})
# Libraries of Keras models and layers written for Keras 3: `keras_hub.models.BertClassifier`,
# `keras_cv.models.YOLOV8Detector.from_preset(...)` are models, their tokenizers,
# preprocessors and `layers.X` layers.
_HUB_LIBRARIES = ("keras_hub.", "keras_nlp.", "keras_cv.")
_HUB_LAYER_SUFFIXES = ("Tokenizer", "Preprocessor", "ImageConverter", "AudioConverter")
# Libraries whose functions may return Keras models (`tfmot.quantization.keras.quantize_model`,
# `segmentation_models.Unet`, `hub.KerasLayer`): their values are unknown, not "other". So is
# any package whose name holds "keras", except `tf_keras` (code that uses it stays on Keras 2).
_KERAS_ECOSYSTEM = frozenset(
    {
        "tensorflow_hub", "tensorflow_model_optimization", "segmentation_models", "efficientnet",
        "classification_models", "transformers", "tensorflow_addons", "tensorflow_recommenders",
        "tensorflow_decision_forests", "tensorflow_probability", "autokeras", "vit_keras",
    }
)
# Calls whose result is their first argument (or a copy of it).
_PASS_THROUGH = frozenset({"copy.copy", "copy.deepcopy", "typing.cast"})
_BUILTIN_TYPES = frozenset(
    {"str", "int", "float", "bool", "bytes", "complex", "list", "dict", "tuple", "set", "frozenset", "object"}
)

# What calling a builtin gives (others, such as `max` or `getattr`, may give anything).
_BUILTIN_CALLS = {
    "list": LIST, "sorted": LIST, "dict": DICT, "tuple": TUPLE,
    **dict.fromkeys(
        ("set", "frozenset", "str", "int", "float", "bool", "bytes", "open", "len", "range",
         "enumerate", "zip", "repr", "format", "isinstance", "hasattr"),
        OTHER,
    ),
}

_SHARED_KEY = "engine.provenance"


@dataclass(frozen=True)
class Fact:
    """What a value is (`kind`), and why the analysis says so."""

    kind: str
    why: str
    # Built by a library that is not Keras (a `.compile()` on it still makes it a model).
    foreign: bool = False
    # The Keras API that built it, when one did (`layers.Dense` for `keras.layers.Dense(4)`).
    api: str | None = None
    # A tensor a layer or model computed from its weights: on PyTorch it requires grad.
    from_weights: bool = False
    # A layer Keras calls with its inputs as they come (`self._convert_input_args = False`, see
    # `Context.keeps_inputs`): what it returns is what its `call` makes, often a TensorFlow
    # tensor on every backend.
    keeps_inputs: bool = False

    @property
    def known(self) -> bool:
        return self.kind not in (UNKNOWN, NONE)


NONE = "none"
_NONE = Fact(NONE, "`None`")  # ignored when a name's bindings are merged
_IMPORT = Fact(UNKNOWN, "an imported name: its value is not followed")
# A name asked about while its own value is being worked out (`ds = ds.map(f)`).
_CYCLE = Fact(UNKNOWN, "defined through itself")
# `ds = ds.batch(32)`: a binding that keeps the name's kind (ignored when bindings are merged).
_SAME = Fact(NONE, "a dataset method called on the name itself")


@dataclass(frozen=True)
class Where:
    """The position a question is asked from: the enclosing functions (outermost first) and the
    innermost enclosing class."""

    functions: tuple[cst.FunctionDef, ...] = ()
    klass: cst.ClassDef | None = None


def where_of(ctx: Context) -> Where:
    return Where(tuple(ctx.functions), ctx.klass)


def provenance(ctx: Context) -> Provenance:
    """The run's provenance, made on first use."""
    found = ctx.shared.get(_SHARED_KEY)
    if found is None or found.module is not ctx.module:
        found = ctx.shared[_SHARED_KEY] = Provenance(ctx)
    return found


def assigned_value(ctx: Context, name: cst.BaseExpression) -> cst.BaseExpression | None:
    """The value a name holds at the walker's position when its scope binds it once by `name =
    <value>` (`Provenance.single_value`); None for anything but a name, and in a class body,
    whose names are the class's."""
    if not isinstance(name, cst.Name):
        return None
    for parent in reversed(ctx.parents):
        if isinstance(parent, cst.ClassDef):
            return None
        if isinstance(parent, cst.FunctionDef):
            break
    return provenance(ctx).single_value(name.value, where_of(ctx))


def fact_of(ctx: Context, expr: cst.BaseExpression, where: Where | None = None) -> Fact:
    """What `expr` holds, asked from the walker's position (or `where`)."""
    return provenance(ctx).fact(expr, where if where is not None else where_of(ctx))


def kind_of(ctx: Context, expr: cst.BaseExpression, where: Where | None = None) -> str:
    return fact_of(ctx, expr, where).kind


def class_kind(ctx: Context, klass: cst.ClassDef) -> Fact:
    """What the instances of a class are: `MODEL` for a Keras Model subclass, and so on. The
    class is one of the walker's enclosing classes (its bases resolve in the functions around
    it)."""
    chain: list[cst.FunctionDef] = []
    for parent in ctx.parents:
        if parent is klass:
            break
        if isinstance(parent, cst.FunctionDef):
            chain.append(parent)
    return provenance(ctx).class_fact(klass, tuple(chain))


# ----- one scope's bindings and uses -----------------------------------------------------------


class _Scope:
    """The bindings of one function or of the module, and the methods called on its names."""

    __slots__ = ("bindings", "params", "uses")

    def __init__(self) -> None:
        # name -> the value expressions (or a ready Fact for a binding whose value is not followed)
        self.bindings: dict[str, list[cst.BaseExpression | Fact]] = {}
        self.params: dict[str, cst.Param] = {}
        self.uses: dict[str, set[str]] | None = None

    def bind(self, name: str, value: cst.BaseExpression | Fact) -> None:
        self.bindings.setdefault(name, []).append(value)


_NOT_FOLLOWED = {
    "for": Fact(UNKNOWN, "bound by a `for` loop"),
    "with": Fact(UNKNOWN, "bound by `with ... as`"),
    "unpack": Fact(UNKNOWN, "bound by unpacking"),
    "augmented": Fact(UNKNOWN, "changed by an augmented assignment"),
    "global": Fact(UNKNOWN, "declared `global` or `nonlocal`"),
    "comprehension": Fact(UNKNOWN, "also a comprehension's variable"),
    "lambda": Fact(UNKNOWN, "also a lambda's parameter"),
}
_FUNCTION_OBJECT = Fact(OTHER, "a function or class defined here")
_EXCEPTION = Fact(OTHER, "an exception")


def _collect(body: Sequence[cst.CSTNode], scope: _Scope, attributes: dict[str, list] | None = None) -> None:
    """The bindings of a block and its nested blocks (not nested functions and classes);
    `self.x = ...` assignments go to `attributes` when it is given."""
    for stmt in statements(body):
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            scope.bind(stmt.name.value, _FUNCTION_OBJECT)
        elif isinstance(stmt, cst.For):
            for name in target_names(stmt.target):
                scope.bind(name, _NOT_FOLLOWED["for"])
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None:
                    for name in target_names(item.asname.name):
                        scope.bind(name, _NOT_FOLLOWED["with"])
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            for handler in stmt.handlers:
                if handler.name is not None and isinstance(handler.name.name, cst.Name):
                    scope.bind(handler.name.name.value, _EXCEPTION)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                _collect_small(small, scope, attributes)
        elif isinstance(stmt, cst.BaseSmallStatement):
            _collect_small(stmt, scope, attributes)


def _is_self_attribute(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self"


def _bind_target(target: cst.BaseExpression, value: cst.BaseExpression | Fact, scope: _Scope, attributes: dict[str, list] | None) -> None:
    if isinstance(target, cst.Name):
        scope.bind(target.value, value)
    elif _is_self_attribute(target):
        if attributes is not None:
            attributes.setdefault(target.attr.value, []).append(value)  # type: ignore[union-attr]
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            _bind_target(element.value, _NOT_FOLLOWED["unpack"], scope, attributes)
    elif isinstance(target, cst.StarredElement):
        _bind_target(target.value, _NOT_FOLLOWED["unpack"], scope, attributes)


def _collect_small(small: cst.BaseSmallStatement, scope: _Scope, attributes: dict[str, list] | None) -> None:
    if isinstance(small, cst.Assign):
        for target in small.targets:
            _bind_target(target.target, small.value, scope, attributes)
    elif isinstance(small, cst.AnnAssign):
        if small.value is not None:
            _bind_target(small.target, small.value, scope, attributes)
    elif isinstance(small, cst.AugAssign):
        _bind_target(small.target, _NOT_FOLLOWED["augmented"], scope, attributes)
    elif isinstance(small, (cst.Import, cst.ImportFrom)):
        if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
            return
        for alias in small.names:  # type: ignore[union-attr]
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                scope.bind(alias.asname.name.value, _IMPORT)
            else:
                name = dotted_name(alias.name)
                if name:
                    scope.bind(name.split(".", 1)[0], _IMPORT)
    elif isinstance(small, (cst.Global, cst.Nonlocal)):
        for item in small.names:
            scope.bind(item.name.value, _NOT_FOLLOWED["global"])


def _walk(nodes: Sequence[cst.CSTNode], enter_scopes: bool) -> Iterator[cst.CSTNode]:
    """Every node below `nodes`; the bodies of nested functions and classes are skipped unless
    `enter_scopes` (lambdas and comprehensions are entered)."""
    todo = list(reversed(nodes))
    while todo:
        node = todo.pop()
        yield node
        kind = type(node)
        if not enter_scopes and kind in (cst.FunctionDef, cst.ClassDef):
            continue
        todo.extend(reversed(code_children(node)))


def _expressions(nodes: Sequence[cst.CSTNode], scope: _Scope) -> None:
    """What the expressions of a scope add: the methods called on its names (`model.fit(...)`),
    walrus bindings, and the names comprehensions and lambdas bind, which make the same name of
    the scope unknown (the analysis has no scopes for them)."""
    uses: dict[str, set[str]] = {}
    for node in _walk(nodes, False):
        kind = type(node)
        if kind is cst.Call:
            func = node.func  # type: ignore[attr-defined]
            if isinstance(func, cst.Attribute) and func.attr.value in USE_METHODS and isinstance(func.value, cst.Name):
                uses.setdefault(func.value.value, set()).add(func.attr.value)
        elif kind is cst.CompFor:
            for name in target_names(node.target):  # type: ignore[attr-defined]
                scope.bind(name, _NOT_FOLLOWED["comprehension"])
        elif kind is cst.Lambda:
            for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):  # type: ignore[attr-defined]
                scope.bind(param.name.value, _NOT_FOLLOWED["lambda"])
        elif kind is cst.NamedExpr and isinstance(node.target, cst.Name):  # type: ignore[attr-defined]
            scope.bind(node.target.value, node.value)  # type: ignore[attr-defined]
    scope.uses = uses


def _self_attribute_uses(nodes: Sequence[cst.CSTNode]) -> dict[str, set[str]]:
    """`{"model": {"fit"}}` for `self.model.fit(...)` anywhere in `nodes`."""
    found: dict[str, set[str]] = {}
    for node in _walk(nodes, True):
        if type(node) is not cst.Call:
            continue
        func = node.func  # type: ignore[attr-defined]
        if isinstance(func, cst.Attribute) and func.attr.value in USE_METHODS and _is_self_attribute(func.value):
            found.setdefault(func.value.attr.value, set()).add(func.attr.value)  # type: ignore[union-attr]
    return found


def _body(node: cst.FunctionDef | cst.ClassDef) -> Sequence[cst.CSTNode]:
    return node.body.body if isinstance(node.body, cst.IndentedBlock) else (node.body,)  # type: ignore[return-value]


def _unwrap_annotation(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """`keras.Model` from `Optional[keras.Model]` or `keras.Model | None`."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
        left, right = expr.left, expr.right
        if isinstance(right, cst.Name) and right.value == "None":
            return _unwrap_annotation(left)
        if isinstance(left, cst.Name) and left.value == "None":
            return _unwrap_annotation(right)
        return None
    if isinstance(expr, cst.Subscript):
        head = dotted_name(expr.value)
        if head in ("Optional", "typing.Optional", "t.Optional") and len(expr.slice) == 1:
            element = expr.slice[0].slice
            if isinstance(element, cst.Index):
                return _unwrap_annotation(element.value)
        return None
    return expr if isinstance(expr, (cst.Name, cst.Attribute)) else None


# ----- the analysis ------------------------------------------------------------------------------


class Provenance:
    """One lint run's provenance: facts per scope, computed when first asked."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.module = ctx.module
        # Names resolve through our own scope chain (the walker's may be elsewhere).
        self._scopes = Scopes(ctx.module, ctx.scopes.module)
        self._chain: tuple[cst.FunctionDef, ...] = ()
        self._scope_cache: dict[int, _Scope] = {}
        self._attributes: dict[int, tuple[dict[str, list], dict[str, set[str]] | None]] = {}
        self._names: dict[tuple[int, str], Fact] = {}
        self._classes: dict[int, Fact] = {}
        self._returns: dict[tuple[int, int], Fact] = {}
        self._active: set[tuple] = set()
        self._module_functions: dict[str, cst.FunctionDef] | None = None
        self._own_modules: dict[str, bool] = {}

    # ----- names ---------------------------------------------------------------------------

    def qualname(self, expr: cst.BaseExpression, where: Where) -> str | None:
        """The qualified name of an import (`np.save` -> `numpy.save`) at the position `where`."""
        return self._qualname(expr, where.functions)

    def _qualname(self, expr: cst.BaseExpression, chain: tuple[cst.FunctionDef, ...]) -> str | None:
        scopes = self._scopes
        for function in chain:
            scopes.push(function)
        try:
            return scopes.qualified_name(expr)
        finally:
            for _ in chain:
                scopes.pop()

    def _project_name(self, expr: cst.BaseExpression, chain: tuple[cst.FunctionDef, ...]) -> str | None:
        """The qualified name of an expression naming something, also through relative imports."""
        qualified = self._qualname(expr, chain)
        if qualified is not None or self.ctx.project is None:
            return qualified
        name = dotted_name(expr)
        if name is None:
            return None
        head = name.split(".", 1)[0]
        if any(head in self._scopes._bindings(f) for f in chain):
            return None
        if self._scopes.module.get(head) != LOCAL:
            return None
        return self.ctx.relative_qualname(name)

    # ----- scopes ----------------------------------------------------------------------------

    def _scope(self, function: cst.FunctionDef | None) -> _Scope:
        key = id(function) if function is not None else 0
        found = self._scope_cache.get(key)
        if found is None:
            found = self._scope_cache[key] = _Scope()
            if function is None:
                _collect(self.ctx.module_statements, found)
                _expressions(self.ctx.module_statements, found)
            else:
                params = function.params
                for group in (params.posonly_params, params.params, params.kwonly_params):
                    for param in group:
                        found.params[param.name.value] = param
                for star in (params.star_arg, params.star_kwarg):
                    if isinstance(star, cst.Param):
                        found.params[star.name.value] = star
                _collect(_body(function), found)
                _expressions(_body(function), found)
        return found

    def _uses(self, function: cst.FunctionDef | None, scope: _Scope) -> dict[str, set[str]]:
        return scope.uses or {}

    def fact(self, expr: cst.BaseExpression, where: Where) -> Fact:
        if isinstance(expr, cst.Name):
            return self._name_fact(expr.value, where)
        if isinstance(expr, cst.Attribute):
            return self._attribute_fact(expr, where)
        return self.value_fact(expr, where.functions, where.klass)

    def single_value(self, name: str, where: Where) -> cst.BaseExpression | None:
        """The value a name holds where asked when its scope binds it once, by `name =
        <value>` (a `name = None` placeholder aside): `inputs` in `inputs = {...};
        keras.Model(inputs, out)`. None for a parameter, a binding whose value is not followed
        (see the module's docs), a name bound more than once, and a module-level name while
        only some statements are re-linted."""
        for function in reversed(where.functions):
            scope = self._scope(function)
            if name in scope.params:
                return None
            if name in scope.bindings:
                return _single(scope.bindings[name])
        if not self.ctx.whole_statements:
            return None
        return _single(self._scope(None).bindings.get(name, ()))

    def _name_fact(self, name: str, where: Where) -> Fact:
        chain = where.functions
        if name == "self" and where.klass is not None and chain and self._is_method_chain(where):
            return self.class_fact(where.klass, self._class_chain(where))
        for depth in range(len(chain) - 1, -1, -1):
            function = chain[depth]
            scope = self._scope(function)
            if name in scope.params or name in scope.bindings:
                return self._scope_name(name, function, scope, chain[: depth + 1], where.klass)
        scope = self._scope(None)
        if name in scope.bindings:
            if not self.ctx.whole_statements:
                return Fact(UNKNOWN, "a module-level name while only some statements are re-linted")
            return self._scope_name(name, None, scope, (), where.klass)
        if not self.ctx.whole_statements and name in self._scopes.module:
            return Fact(UNKNOWN, "bound in statements that are not being re-linted")
        if hasattr(builtins, name):
            return Fact(OTHER, f"the builtin `{name}`")
        return Fact(UNKNOWN, f"`{name}` is not bound in this module")

    def _is_method_chain(self, where: Where) -> bool:
        return self._method_index(where) is not None

    @staticmethod
    def _method_index(where: Where) -> int | None:
        """The index in `where.functions` of the method of `where.klass` we are in."""
        klass = where.klass
        body = klass.body.body if klass is not None and isinstance(klass.body, cst.IndentedBlock) else ()
        for index, function in enumerate(where.functions):
            if any(stmt is function for stmt in body):
                return index
        return None

    def _class_chain(self, where: Where) -> tuple[cst.FunctionDef, ...]:
        """The functions around the class of `where` (those before its method)."""
        index = self._method_index(where)
        return where.functions[:index] if index is not None else ()

    def _scope_name(
        self,
        name: str,
        function: cst.FunctionDef | None,
        scope: _Scope,
        chain: tuple[cst.FunctionDef, ...],
        klass: cst.ClassDef | None,
    ) -> Fact:
        key = (id(function) if function is not None else 0, name)
        found = self._names.get(key)
        if found is not None:
            return found
        guard = ("name", key)
        if guard in self._active:
            return _CYCLE
        self._active.add(guard)
        try:
            facts: list[Fact] = []
            param = scope.params.get(name)
            if param is not None:
                facts.append(self._param_fact(param, chain))
            for value in scope.bindings.get(name, ()):
                facts.append(value if isinstance(value, Fact) else self.value_fact(value, chain, klass))
            found = _merge(facts)
            if not found.known and not any(f.known and f.kind != MODEL for f in facts):
                uses = self._uses(function, scope).get(name)
                if uses:
                    found = Fact(MODEL, f"`.{sorted(uses)[0]}()` is called on it")
            elif found.foreign and "compile" in self._uses(function, scope).get(name, ()):
                found = Fact(MODEL, "`.compile()` is called on it")
        finally:
            self._active.discard(guard)
        self._names[key] = found
        return found

    def _param_fact(self, param: cst.Param, chain: tuple[cst.FunctionDef, ...]) -> Fact:
        if param.annotation is None:
            return Fact(UNKNOWN, "a parameter without annotation")
        annotation = _unwrap_annotation(param.annotation.annotation)
        if annotation is None:
            return Fact(UNKNOWN, "a parameter with an annotation that is not followed")
        return self._type_fact(annotation, chain[:-1], f"annotated `{dotted_name(annotation)}`")

    # ----- self.attr and classes -------------------------------------------------------------

    def _class_attributes(self, klass: cst.ClassDef) -> tuple[dict[str, list], dict[str, set[str]] | None]:
        """`attr -> [(method, value), ...]` for the `self.attr = value` of every method."""
        key = id(klass)
        found = self._attributes.get(key)
        if found is None:
            attributes: dict[str, list] = {}
            for method in class_methods(klass).values():
                own: dict[str, list] = {}
                _collect(_body(method), _Scope(), own)
                for attr, values in own.items():
                    attributes.setdefault(attr, []).extend((method, value) for value in values)
            found = self._attributes[key] = (attributes, None)
        return found

    def assigns_self_attribute(self, klass: cst.ClassDef, attr: str) -> bool:
        """Whether a method of `klass` assigns `self.<attr>`."""
        return attr in self._class_attributes(klass)[0]

    def _attribute_uses(self, klass: cst.ClassDef) -> dict[str, set[str]]:
        attributes, uses = self._class_attributes(klass)
        if uses is None:
            uses = _self_attribute_uses(list(class_methods(klass).values()))
            self._attributes[id(klass)] = (attributes, uses)
        return uses

    def _attribute_fact(self, expr: cst.Attribute, where: Where) -> Fact:
        attr = expr.attr.value
        holder = expr.value
        if _is_self_attribute(expr) and where.klass is not None and self._is_method_chain(where):
            self.class_fact(where.klass, self._class_chain(where))
            return self._self_attribute(where.klass, attr)
        qualified = self._qualname(expr, where.functions)
        if qualified is not None:
            return self._imported_fact(qualified)
        if attr == "optimizer":
            owner = self.fact(holder, where)
            if owner.kind in (MODEL, UNKNOWN):
                return Fact(OPTIMIZER, "the `optimizer` of a model")
            return Fact(UNKNOWN, "an attribute of another object")
        if attr in ("layers", "metrics", "weights", "variables", "trainable_weights", "trainable_variables"):
            owner = self.fact(holder, where)
            if owner.kind in (MODEL, LAYER):
                return Fact(LIST, f"the `{attr}` of a {owner.kind}")
        if attr in ("input", "output", "inputs", "outputs"):
            owner = self.fact(holder, where)
            if owner.kind in (MODEL, LAYER):
                return Fact(TENSOR, f"the `{attr}` of a {owner.kind}")
        if attr in _computed_attributes():
            owner = self.fact(holder, where)
            layer = (owner.api or "").rpartition(".")[2]
            if owner.kind == LAYER and attr in _layer_tensors().get(layer, ()):
                return Fact(TENSOR, f"the `{attr}` a `{layer}` layer computes, a backend tensor")
        return Fact(UNKNOWN, "an attribute of another object")

    def _self_attribute(self, klass: cst.ClassDef, attr: str) -> Fact:
        key = (id(klass), "self." + attr)
        found = self._names.get(key)  # type: ignore[arg-type]
        if found is not None:
            return found
        guard = ("attr", key)
        if guard in self._active:
            return Fact(UNKNOWN, f"`self.{attr}` is defined through itself")
        self._active.add(guard)
        try:
            attributes, _ = self._class_attributes(klass)
            values = attributes.get(attr, [])
            facts: list[Fact] = []
            for method, value in values:
                facts.append(value if isinstance(value, Fact) else self.value_fact(value, (method,), klass))
            found = _merge(facts) if facts else Fact(UNKNOWN, f"`self.{attr}` is not assigned in the class")
            if not any(f.kind != NONE for f in facts):
                found = self._keras_attribute(klass, attr) or found
            if not found.known and not any(f.known for f in facts):
                uses = self._attribute_uses(klass).get(attr)
                if uses:
                    found = Fact(MODEL, f"`.{sorted(uses)[0]}()` is called on it")
        finally:
            self._active.discard(guard)
        self._names[key] = found  # type: ignore[index]
        return found

    def _keras_attribute(self, klass: cst.ClassDef, attr: str) -> Fact | None:
        """Attributes Keras itself sets: a Model's `optimizer`, a Callback's `model`."""
        kind = self.class_fact(klass).kind
        if attr == "optimizer" and kind == MODEL:
            return Fact(OPTIMIZER, "`self.optimizer` of a Keras Model")
        if attr == "model" and kind == CALLBACK:
            return Fact(MODEL, "`self.model` of a Keras Callback")
        if attr in ("layers", "metrics") and kind in (MODEL, LAYER):
            return Fact(LIST, f"`self.{attr}` of a Keras {kind}")
        return None

    def class_fact(self, klass: cst.ClassDef, chain: tuple[cst.FunctionDef, ...] = ()) -> Fact:
        """What the instances of `klass` are; `chain` holds the functions around it (the first
        question about a class must give them: the answer is kept)."""
        key = id(klass)
        found = self._classes.get(key)
        if found is None:
            guard = ("class", key)
            if guard in self._active:
                return Fact(UNKNOWN, "a class that derives from itself")
            self._active.add(guard)
            try:
                found = self._classes[key] = self._class_fact(klass, chain)
            finally:
                self._active.discard(guard)
        return found

    def _class_fact(self, klass: cst.ClassDef, chain: tuple[cst.FunctionDef, ...]) -> Fact:
        bases = [b for b in klass.bases if b.keyword is None]
        if not bases:
            return Fact(OTHER, f"an instance of `{klass.name.value}`, a plain class")
        unknown: Fact | None = None
        for base in bases:
            fact = self._type_fact(base.value, chain, f"an instance of `{klass.name.value}`")
            if fact.known and fact.kind != OTHER:
                if fact.kind == LAYER and not fact.keeps_inputs and self.ctx.keeps_inputs(klass):
                    return Fact(LAYER, fact.why, keeps_inputs=True)
                return fact
            if not fact.known:
                unknown = fact
        if unknown is not None:
            return unknown
        return Fact(OTHER, f"an instance of `{klass.name.value}`, not a Keras class")

    def _type_fact(self, expr: cst.BaseExpression, chain: tuple[cst.FunctionDef, ...], why: str) -> Fact:
        """What an instance of the class `expr` names is."""
        name = dotted_name(expr)
        if name is None:
            return Fact(UNKNOWN, "a class given by an expression")
        qualified = self._project_name(expr, chain)
        family = keras_family_of(qualified)
        if family is not None:
            return Fact(_FAMILY_KINDS[family], f"{why} (a Keras {family})")
        if qualified is None:
            local = self.ctx.module_classes().get(name)
            if local is not None:
                fact = self.class_fact(local)
                return Fact(fact.kind, why if fact.known else fact.why, keeps_inputs=fact.keeps_inputs)
            if name in _BUILTIN_TYPES:
                return Fact(OTHER, f"{why} (`{name}`)")
            return Fact(UNKNOWN, f"`{name}` is not a class this module resolves")
        if keras_api(qualified) is not None:
            return Fact(OTHER, f"{why} (a Keras class of no checked family)")
        library = _library_fact(qualified)
        if library is not None:
            return library
        project = self.ctx.project
        if project is not None:
            index = project.index
            family = index.keras_family(qualified)
            if family is not None:
                kind = _FAMILY_KINDS[family]
                keeps = kind == LAYER and index.keeps_inputs(qualified)
                return Fact(kind, f"{why} (a Keras {family} of the project)", keeps_inputs=keeps)
            if index.class_bases(qualified) is not None:
                return Fact(OTHER, f"{why} (a project class that is not Keras)")
        if self._in_project(qualified):
            return Fact(UNKNOWN, f"`{qualified}` is not a class the project index resolves")
        return Fact(OTHER, f"{why} (a class of `{qualified.split('.', 1)[0]}`)")

    def _in_project(self, qualified: str) -> bool:
        """Whether the top-level module of `qualified` is the user's own: a module of the
        project, or one beside the linted file (a script's `from utils import build` runs with
        the script's folder on the path, wherever the project root is)."""
        top = qualified.split(".", 1)[0]
        found = self._own_modules.get(top)
        if found is None:
            found = False
            project = self.ctx.project
            if project is not None:
                found = project.index.module_file(top) is not None
            if not found and self.ctx.path and self.ctx.path != "-":
                folder = os.path.dirname(os.path.abspath(self.ctx.path))
                found = os.path.isfile(os.path.join(folder, top + ".py")) or os.path.isfile(
                    os.path.join(folder, top, "__init__.py")
                )
            self._own_modules[top] = found
        return found

    # ----- values ----------------------------------------------------------------------------

    def value_fact(self, value: cst.BaseExpression, chain: tuple[cst.FunctionDef, ...], klass: cst.ClassDef | None) -> Fact:
        """What an expression evaluated in the scope `chain` (in a method of `klass`) is."""
        if isinstance(value, cst.Name):
            if value.value == "None":
                return _NONE
            if value.value in ("True", "False"):
                return Fact(OTHER, "a literal")
            qualified = self._qualname(value, chain)
            if qualified is not None:
                return self._imported_fact(qualified)
            return self._name_fact(value.value, Where(chain, klass))
        if isinstance(value, (cst.List, cst.ListComp)):
            return Fact(LIST, "a list")
        if isinstance(value, (cst.Dict, cst.DictComp)):
            return Fact(DICT, "a dict")
        if isinstance(value, cst.Tuple):
            return Fact(TUPLE, "a tuple")
        if isinstance(value, (cst.BaseString, cst.Integer, cst.Float, cst.Imaginary, cst.Set, cst.SetComp,
                              cst.Lambda, cst.Comparison, cst.GeneratorExp, cst.Ellipsis)):
            return Fact(OTHER, "a literal, lambda or comparison")
        if isinstance(value, cst.IfExp):
            return _merge([self.value_fact(value.body, chain, klass), self.value_fact(value.orelse, chain, klass)])
        if isinstance(value, cst.Attribute):
            return self.fact(value, Where(chain, klass))
        if isinstance(value, cst.Subscript):
            inner = value.value
            if isinstance(inner, cst.Attribute) and inner.attr.value == "layers":
                if any(isinstance(element.slice, cst.Slice) for element in value.slice):
                    return Fact(LIST, "a slice of a model's `layers`")
                return Fact(LAYER, "an item of a model's `layers`")
            return Fact(UNKNOWN, "an item of a container")
        if isinstance(value, cst.Call):
            return self._call_fact(value, chain, klass)
        return Fact(UNKNOWN, "an expression that is not followed")

    def _imported_fact(self, qualified: str) -> Fact:
        """An imported name used as a value (not called)."""
        api = keras_api(qualified)
        if api is not None:
            name = api[0]
            leaf = name.rsplit(".", 1)[-1]
            if name.startswith("losses.") and leaf[:1].islower() and leaf != "get":
                return Fact(LOSS, f"the loss function `{name}`")
            if name.startswith("metrics.") and leaf[:1].islower() and leaf != "get":
                return Fact(METRIC, f"the metric function `{name}`")
            return Fact(OTHER, f"the Keras API `{name}` itself")
        return _IMPORT

    def _call_fact(self, call: cst.Call, chain: tuple[cst.FunctionDef, ...], klass: cst.ClassDef | None) -> Fact:
        func = call.func
        where = Where(chain, klass)
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "get_layer":
                return Fact(LAYER, "`get_layer()`")
            if method in _CLASS_CONSTRUCTORS:
                cls = self._type_fact(func.value, chain, f"`{method}()` of a class")
                if cls.known:
                    return cls
            if isinstance(func.value, cst.Name) and func.value.value == "self" and klass is not None:
                target = class_methods(klass).get(method)
                if target is not None:
                    return self.returns(target, (), klass)
        qualified = self._project_name(func, chain) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if qualified is not None:
            return self._qualified_call(qualified, call, chain, klass)
        if isinstance(func, cst.Name) and func.value == "super" and not call.args and klass is not None:
            where_class = Where(chain, klass)
            if self._is_method_chain(where_class) and not self._scopes.is_bound("super"):
                return self.class_fact(klass, self._class_chain(where_class))
        if isinstance(func, cst.Name):
            local_class = self._local_class(func.value, chain)
            if local_class is not None:
                fact = self.class_fact(local_class)
                if not fact.known:
                    return fact
                return Fact(fact.kind, f"an instance of `{local_class.name.value}`", keeps_inputs=fact.keeps_inputs)
            function = self._local_function(func.value, chain)
            if function is not None:
                return self.returns(function, (), None)
        if isinstance(func, cst.Attribute) and func.attr.value in _DATASET_METHODS:
            holder = self.fact(func.value, where)
            if holder.kind == DATASET:
                return Fact(DATASET, f"`.{func.attr.value}()` of a dataset")
            if holder is _CYCLE:
                # `ds = ds.map(f)`: the name keeps the kind of its other values.
                return _SAME
        callee = self.fact(func, where) if isinstance(func, (cst.Name, cst.Attribute)) else self.value_fact(func, chain, klass)
        if isinstance(func, cst.Name) and callee.why == f"the builtin `{func.value}`":
            made = _BUILTIN_CALLS.get(func.value)
            if made is not None:
                return Fact(made, f"`{func.value}(...)`")
        if callee.kind in (LAYER, MODEL):
            if callee.keeps_inputs:
                return Fact(UNKNOWN, "a layer that takes its inputs as they come: it returns what its `call` makes")
            return Fact(TENSOR, f"a {callee.kind} called on a value", from_weights=True)
        return Fact(UNKNOWN, "a call whose result is not followed")

    def _local_class(self, name: str, chain: tuple[cst.FunctionDef, ...]) -> cst.ClassDef | None:
        for function in reversed(chain):
            if name in self._scope(function).bindings or name in self._scope(function).params:
                return None  # shadowed (a class defined in a function is not followed)
        return self.ctx.module_classes().get(name)

    def _local_function(self, name: str, chain: tuple[cst.FunctionDef, ...]) -> cst.FunctionDef | None:
        for function in reversed(chain):
            if name in self._scope(function).bindings or name in self._scope(function).params:
                return None
        if not self.ctx.whole_statements:
            return None  # the module's other statements are not here
        if self._module_functions is None:
            self._module_functions = {
                stmt.name.value: stmt for stmt in self.ctx.module_statements if isinstance(stmt, cst.FunctionDef)
            }
            # A name bound twice at module level (`def f` and `f = ...`) is not one function.
            bindings = self._scope(None).bindings
            for doubled in [n for n in self._module_functions if len(bindings.get(n, ())) > 1]:
                del self._module_functions[doubled]
        return self._module_functions.get(name)

    def _qualified_call(
        self, qualified: str, call: cst.Call, chain: tuple[cst.FunctionDef, ...], klass: cst.ClassDef | None
    ) -> Fact:
        func = call.func
        api = keras_api(qualified)
        if api is not None:
            return _keras_call(api[0])
        for compat in ("tensorflow.compat.v2.", "tensorflow.compat.v1."):
            if qualified.startswith(compat):
                qualified = "tensorflow." + qualified[len(compat):]
        top = qualified.split(".", 1)[0]
        if qualified.startswith("tensorflow.data."):
            return Fact(DATASET, "a `tf.data` dataset")
        library = _library_fact(qualified)
        if library is not None:
            return library
        if qualified in _PASS_THROUGH:
            first = call.args[0].value if call.args and call.args[0].keyword is None and not call.args[0].star else None
            if qualified == "typing.cast" and len(call.args) > 1:
                first = call.args[1].value
            return self.value_fact(first, chain, klass) if first is not None else Fact(UNKNOWN, f"`{qualified}()`")
        if qualified.startswith("tensorflow.nest.") or qualified == "tensorflow.identity":
            return Fact(UNKNOWN, f"`{qualified}()` returns what it is given")
        if self._in_project(qualified):
            cls = self._type_fact(func, chain, "an instance of a project class")
            if cls.known:
                return cls
            return Fact(UNKNOWN, "the result of a function of another module")
        return Fact(OTHER, f"built by `{top}`, not Keras", foreign=True)

    def returns(self, function: cst.FunctionDef, outer: tuple[cst.FunctionDef, ...], klass: cst.ClassDef | None) -> Fact:
        """What a function of this module returns: the merged facts of its `return` values."""
        key = (id(function), id(klass) if klass is not None else 0)
        found = self._returns.get(key)
        if found is not None:
            return found
        guard = ("returns", key)
        if guard in self._active:
            return Fact(UNKNOWN, "a recursive function")
        self._active.add(guard)
        try:
            chain = (*outer, function)
            facts: list[Fact] = []
            for stmt in statements(_body(function)):
                smalls = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else (stmt,)
                for small in smalls:
                    if isinstance(small, cst.Return):
                        facts.append(self.value_fact(small.value, chain, klass) if small.value is not None else _NONE)
                    elif isinstance(small, cst.Expr) and isinstance(small.value, (cst.Yield,)):
                        facts.append(Fact(OTHER, "a generator"))
            merged = _merge(facts) if facts else Fact(OTHER, "returns nothing")
            name = function.name.value
            found = Fact(merged.kind, f"returned by `{name}()`" if merged.known else f"`{name}()`: {merged.why}")
        finally:
            self._active.discard(guard)
        self._returns[key] = found
        return found


def _keras_call(name: str) -> Fact:
    """What calling the Keras API `name` (`layers.Dense`, `ops.sum`) gives."""
    leaf = name.rsplit(".", 1)[-1]
    upper = leaf[:1].isupper()
    spelled = f"`keras.{name}(...)`"
    if name in _MODEL_APIS or (name.startswith("applications.") and upper):
        return Fact(MODEL, spelled)
    if leaf in _CLASS_CONSTRUCTORS:
        family = keras_family_of("keras." + name.rsplit(".", 1)[0])
        if family is not None:
            return Fact(_FAMILY_KINDS[family], spelled)
    if name in _INPUT_APIS:
        return Fact(TENSOR, spelled)
    if name in _DATASET_APIS:
        return Fact(DATASET, spelled)
    if name.startswith("layers."):
        if upper:
            return Fact(LAYER, spelled, api=name)
        return Fact(TENSOR if leaf in _FUNCTIONAL_LAYERS else OTHER, spelled)
    if name.startswith(("ops.", "random.")) and not upper:
        return Fact(TENSOR, spelled)
    if name.startswith("optimizers.") and not name.startswith("optimizers.schedules."):
        if upper or leaf == "get":
            return Fact(OPTIMIZER, spelled)
    for prefix, kind in (("metrics.", METRIC), ("losses.", LOSS)):
        if name.startswith(prefix):
            if upper or leaf == "get":
                return Fact(kind, spelled)
            return Fact(TENSOR, spelled)
    if name.startswith("callbacks.") and upper:
        return Fact(CALLBACK, spelled)
    return Fact(OTHER, spelled)


def _library_fact(qualified: str) -> Fact | None:
    """What a class or function of a library built on Keras gives: `keras_hub.models.X` (also
    `.from_preset(...)`) is a model, `keras_cv.layers.X` a layer; anything else of such a
    library is unknown. None for other libraries."""
    parts = qualified.split(".")
    library = parts[0]
    if qualified.startswith(_HUB_LIBRARIES):
        if len(parts) > 2 and parts[1] in ("models", "layers") and parts[2][:1].isupper():
            kind = LAYER if parts[1] == "layers" or parts[2].endswith(_HUB_LAYER_SUFFIXES) else MODEL
            return Fact(kind, f"a `{library}` {kind}")
        return Fact(UNKNOWN, f"a value of `{library}`, a library of Keras models")
    if library in _KERAS_ECOSYSTEM or ("keras" in library and library != "tf_keras"):
        return Fact(UNKNOWN, f"a value of `{library}`, a library that may build Keras models")
    return None


def _single(values: Sequence[cst.BaseExpression | Fact]) -> cst.BaseExpression | None:
    if any(isinstance(value, Fact) for value in values):
        return None
    values = [v for v in values if not (isinstance(v, cst.Name) and v.value == "None")]
    return values[0] if len(values) == 1 else None  # type: ignore[return-value]


def _merge(facts: Sequence[Fact]) -> Fact:
    """One fact for all the bindings of a name: their common kind, else unknown."""
    facts = [f for f in facts if f.kind != NONE]
    if not facts:
        return Fact(UNKNOWN, "only `None` is assigned")
    kinds = sorted({f.kind for f in facts if f.known})
    if len(kinds) > 1:
        return Fact(UNKNOWN, "assigned values of different kinds: " + ", ".join(kinds))
    unknown = next((f for f in facts if not f.known), None)
    if unknown is not None:
        if kinds:
            return Fact(UNKNOWN, f"assigned a {kinds[0]} and a value not followed ({unknown.why})")
        return unknown
    return facts[0]
