"""Whether the code a global seed is set for goes on to draw from Keras's own generator.

Keras 3's initializers, its layers (dropout, noise) and `keras.random` ops without a seed draw
their seeds from Keras's global generator, which `tf.random.set_seed` leaves alone. TensorFlow's
own random ops, NumPy and JAX keys do not draw from it. So `tf.random.set_seed` only misses
something where Keras objects that draw are made in the code it seeds:

- a plain function: its own code, with the module's functions and the project's functions it
  calls (read through the project index), and the methods of its class it calls on `self`;
- `setUp`/`setUpClass` (and pytest's `setup_method`): every method of the test class;
- the module's top level: the whole module.

Where the seeded code is not there to read, the seed counts as seeding Keras code: a function
that only seeds (a helper its callers run before building models), a generator or fixture, a
`conftest.py`, a call to a method defined elsewhere, to a function of another package than
the standard library, NumPy, TensorFlow's non-Keras API, JAX or PyTorch.
Not followed: calls through variables (`fn = build_model; fn()`), methods of objects other
than `self`, and functions passed as arguments.
"""

from __future__ import annotations

import sys

import libcst as cst

from ..engine.context import Context
from ..engine.names import dotted_name
from ..engine.walker import code_children, is_generator

# Packages whose names are Keras's, under every spelling of it.
_KERAS_ROOTS = ("keras", "tensorflow.keras", "tf_keras", "tensorflow.python.keras", "keras_core")
# What in Keras draws from the global generator when made or called: every layer with weights or
# noise, initializers, unseeded random ops, whole applications, models built or cloned.
_DRAWING_PACKAGES = frozenset({"layers", "initializers", "random", "applications"})
# Loading a model builds its layers, whose dropout and noise take their seeds from the generator.
_DRAWING_NAMES = frozenset(
    {
        "Sequential", "models.Sequential", "models.clone_model", "models.load_model", "saving.load_model",
        "models.model_from_json", "models.model_from_config", "models.model_from_yaml",
        "saving.deserialize_keras_object", "Model.from_config", "Sequential.from_config",
    }
)
_NOT_DRAWING = frozenset({"layers.Input", "layers.InputLayer", "random.SeedGenerator"})
# Packages besides the standard library that never draw from Keras's generator.
_QUIET_ROOTS = frozenset({"builtins", "numpy", "tensorflow", "scipy", "pandas", "absl", "jax", "torch", "pytest"})
# Methods a test class gets from `unittest.TestCase`/`tf.test.TestCase` that run no model code.
_TEST_CASE_METHODS = frozenset({"evaluate", "subTest", "skipTest", "fail", "addCleanup", "enterContext", "get_temp_dir"})
_SETUP_METHODS = frozenset({"setUp", "setUpClass", "setup_method", "setup_class"})
# How deep calls into other functions are followed.
_MAX_DEPTH = 8


def keras_api_draws(qualified: str) -> bool | None:
    """Whether a Keras name draws from the global generator when called; None when the name is
    not Keras's."""
    for root in _KERAS_ROOTS:
        if qualified.startswith(root + "."):
            rest = qualified[len(root) + 1 :]
            rest = rest.removeprefix("src.")
            if rest in _NOT_DRAWING:
                return False
            return rest.partition(".")[0] in _DRAWING_PACKAGES or rest in _DRAWING_NAMES
    return None


def seeded_code_draws(ctx: Context) -> bool:
    """Whether the code seeded by the seeding call being visited may draw from Keras's
    generator (see the module's docstring)."""
    function = ctx.function
    if ctx.path and ctx.path.replace("\\", "/").rsplit("/", 1)[-1] == "conftest.py":
        return True
    if function is None:
        scope: list[cst.CSTNode] = list(ctx.module_statements)
        if _only_seeds(scope):
            return True  # a module imported for its seeding
        return _Search(ctx).draws(scope)
    if _seeds_for_callers(function) or _only_seeds([function.body]):
        return True  # seeds for its callers (a fixture, a context manager, a helper)
    method = ctx.method()
    if method is not None and function.name.value in _SETUP_METHODS:
        return _Search(ctx, method[0]).draws([method[0].body])
    return _Search(ctx, method[0] if method else None).draws([function])


def _walk(nodes: list[cst.CSTNode]):
    todo = list(nodes)
    while todo:
        node = todo.pop()
        yield node
        todo.extend(code_children(node))


def _seeds_for_callers(function: cst.FunctionDef) -> bool:
    """A pytest fixture or a context manager: its seed holds for code that runs elsewhere."""
    for decorator in function.decorators:
        name = dotted_name(decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator)
        if name and ("fixture" in name or "contextmanager" in name):
            return True
    return is_generator(function)


def _only_seeds(nodes: list[cst.CSTNode]) -> bool:
    """Whether every call in `nodes` sets a seed (or reads settings to pass one)."""
    for node in _walk(nodes):
        if isinstance(node, cst.Call):
            leaf = dotted_name(node.func) or ""
            leaf = leaf.rpartition(".")[2]
            if "seed" not in leaf.lower() and leaf not in ("int", "str", "get", "getenv"):
                return False
    return True


class _Search:
    """A search for calls that may draw from Keras's generator, following the module's own
    functions, `self`'s methods and the project's functions."""

    def __init__(self, ctx: Context, klass: cst.ClassDef | None = None) -> None:
        self.ctx = ctx
        self.klass = klass
        self.seen: set[str] = set()
        self.functions = {
            stmt.name.value: stmt for stmt in ctx.module_statements if isinstance(stmt, cst.FunctionDef)
        }
        methods: dict[str, cst.FunctionDef] = {}
        if klass is not None and isinstance(klass.body, cst.IndentedBlock):
            methods = {stmt.name.value: stmt for stmt in klass.body.body if isinstance(stmt, cst.FunctionDef)}
        self.methods = methods

    def draws(self, nodes: list[cst.CSTNode]) -> bool:
        for node in _walk(nodes):
            if isinstance(node, cst.Call) and self._call_draws(node.func):
                return True
        return False

    def _call_draws(self, func: cst.BaseExpression) -> bool:
        ctx = self.ctx
        qualified = ctx.qualname(func)
        if qualified is None:
            name = dotted_name(func)
            if name is None:
                return False  # `f()()`, `super().setUp()`, `x[0]()`: nothing to follow
            head, _, attribute = name.partition(".")
            if head in ("self", "cls") and attribute and "." not in attribute:
                return self._method_draws(attribute)
            if not attribute and head in self.functions:
                return self._local_draws(f"def {head}", self.functions[head])
            if not attribute and head in ctx.module_classes():
                klass = ctx.module_classes()[head]
                return ctx.is_keras_class(klass) or self._local_draws(f"class {head}", klass)
            qualified = ctx.relative_qualname(name)
            if qualified is None:
                return False  # a parameter, a variable, an object's method, a builtin
        return self.callee_draws(qualified, 0)

    def _method_draws(self, name: str) -> bool:
        method = self.methods.get(name)
        if method is not None:
            return self._local_draws(f"self.{name}", method)
        # Defined in a base class elsewhere: only TestCase's own checks are known to draw nothing.
        return not (name.startswith("assert") or name in _TEST_CASE_METHODS)

    def _local_draws(self, key: str, node: cst.CSTNode) -> bool:
        if key in self.seen:
            return False
        self.seen.add(key)
        return self.draws([node])

    def callee_draws(self, qualified: str, depth: int) -> bool:
        keras = keras_api_draws(qualified)
        if keras is not None:
            return keras
        root = qualified.partition(".")[0]
        if root in sys.stdlib_module_names or root in _QUIET_ROOTS:
            return False
        project = self.ctx.project
        if project is None:
            return True  # another package's code, not readable here
        if project.is_keras_class(qualified):
            return True
        if qualified in self.seen:
            return False
        self.seen.add(qualified)
        calls = project.function_calls(qualified)
        if calls is None or depth >= _MAX_DEPTH:
            return True  # a class, or a function of another package
        return any(call is not None and self.callee_draws(call, depth + 1) for call in calls)
