"""Tests of the Keras version in use: code that runs only under Keras 2.

Libraries that support Keras 2 and Keras 3 side by side keep their Keras-2-only code behind a
test of the version (`if not keras_3():`, `if keras.__version__.startswith("2"):`), or refuse
Keras 3 outright in a class's `__init__` (`assert_tf_keras("...")`, a project helper that
raises `NotImplementedError` when Keras 3 is in use). Such code never runs on Keras 3: no
Keras 3 rule applies to it, on any backend.

Read here, on Python's `ast` (the project index reads modules with it; the engine hands over
the one test it asks about), given a `qualify` function that names a Name/Attribute chain
through the module's imports:

- a read of Keras's version: `keras.version()`, `keras.__version__` (of `keras`, `keras_core`,
  `tensorflow.keras`, `tf_keras`, or of a bare `keras` imported inside a function),
  `importlib.metadata.version("keras")`; possibly cut to its major part (`v[0]`,
  `v.split(".")[0]`, `int(...)`, `packaging.version.parse(v)`, `Version(v)`, `.major`);
- compared with Keras 3's first release: `.startswith("3")`, `>= "3.0.0"`, `< 3`, `== 3` (of
  a major part), `parse(v) >= parse("3.0")`; a comparison whose answer differs within Keras 2
  or within Keras 3 (`>= "2.13"`) is not a test of the major version and is not read;
- `hasattr(keras, "version")`: true on every Keras 3 (older Keras 2 lacks `version()`);
- `not`, `and`, `or` of those.

Project functions (`version_functions`): a top-level function that returns such a test, or a
module-level name bound once to one (`_USE_KERAS_3 = detect(); def keras_3(): return
_USE_KERAS_3`), or `True` under an `if` whose test holds only on Keras 3 and `False` elsewhere
(`if hasattr(keras, "version") and keras.version().startswith("3."): return True ... return
False`), answers "is this Keras 3?"; one whose body raises when that holds (`if keras_3(): raise
NotImplementedError(...)`) refuses Keras 3. A test may call another module's function: the
index keeps the callee's name and checks it when asked.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from .python_ast import combined_outcome

# The majors a test can hold on. A test reads as (the majors it is true on, those it is false on).
K2, K3 = 2, 3
BOTH = frozenset({K2, K3})
UNKNOWN = (BOTH, BOTH)
IS_KERAS_3 = (frozenset({K3}), frozenset({K2}))

# A function's role, as the index keeps it.
KERAS_3 = "keras3"  # returns whether Keras 3 is in use
REFUSES = "refuses"  # raises when Keras 3 is in use

# Modules whose version is the version of the Keras in use.
KERAS_MODULES = frozenset({"keras", "keras_core", "tensorflow.keras", "tensorflow.compat.v2.keras", "tf_keras"})
_METADATA_VERSION = frozenset({"importlib.metadata.version", "importlib_metadata.version"})
_PARSERS = frozenset(
    {"packaging.version.parse", "packaging.version.Version", "distutils.version.LooseVersion", "version.parse"}
)
# Text a read of the version spells (`__version__`, `version()`, `version("keras")`): a file
# without it holds no test of its own (calls of project functions are found by their names).
VERSION_READ = re.compile(r"__version__|\bversion\s*\(")

Qualify = Callable[[ast.expr], "str | None"]
Outcome = tuple[frozenset[int], frozenset[int]]


class VersionTests:
    """Reads tests of the Keras version in one module. `calls(call)` says what a call without
    arguments of a function answers (IS_KERAS_3, or UNKNOWN), `names(name)` what a bare name
    holds."""

    def __init__(self, qualify: Qualify, calls: Callable[[ast.Call], Outcome] | None = None,
                 names: Callable[[str], Outcome] | None = None) -> None:
        self.qualify = qualify
        self.calls = calls
        self.names = names

    def outcome(self, test: ast.expr) -> Outcome:
        """(the majors on which `test` is true, those on which it is false)."""
        return combined_outcome(test, self._leaf, BOTH)

    def _leaf(self, test: ast.expr) -> Outcome:
        if isinstance(test, ast.Name):
            return UNKNOWN if self.names is None else self.names(test.id)
        if isinstance(test, ast.Call):
            return self._call(test)
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            return self._compare(test.left, test.ops[0], test.comparators[0])
        return UNKNOWN

    def _call(self, call: ast.Call) -> Outcome:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "startswith" and len(call.args) == 1:
            if self._version(func.value) is not None:
                prefix = _constant(call.args[0])
                if isinstance(prefix, str) and prefix[:1] in "23" and prefix[:1]:
                    major = int(prefix[0])
                    if prefix[1:] in ("", "."):
                        return frozenset({major}), BOTH - {major}
            return UNKNOWN
        if isinstance(func, ast.Name) and func.id == "hasattr" and len(call.args) == 2:
            if self._keras_module(call.args[0]) and _constant(call.args[1]) == "version":
                return BOTH, frozenset({K2})
            return UNKNOWN
        if self.calls is not None and not call.args and not call.keywords:
            return self.calls(call)
        return UNKNOWN

    def _compare(self, left: ast.expr, op: ast.cmpop, right: ast.expr) -> Outcome:
        side = self._version(left)
        if side is None:
            side = self._version(right)
            if side is None:
                return UNKNOWN
            left, right = right, left
            op = _MIRRORED.get(type(op), op)  # type: ignore[assignment]
        bound = self._bound(right)
        if bound is None:
            return UNKNOWN
        whole = side == "whole"
        true, false = set(), set()
        for major in (K2, K3):
            answers = {_apply(op, value, bound) for value in _span(major, whole)}
            if None in answers or len(answers) != 1:
                return UNKNOWN
            (true if answers.pop() else false).add(major)
        return frozenset(true), frozenset(false)

    def _bound(self, expr: ast.expr) -> float | None:
        """The number a version is compared with (`3`, `"3.0.0"`, `parse("3")`)."""
        if isinstance(expr, ast.Call) and len(expr.args) == 1 and self.qualify(expr.func) in _PARSERS:
            expr = expr.args[0]
        value = _constant(expr)
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            parts = value.split(".")
            try:
                numbers = [int(part) for part in parts[:2]]
            except ValueError:
                return None
            return numbers[0] + (numbers[1] / 100 if len(numbers) > 1 else 0)
        return None

    def _version(self, expr: ast.expr) -> str | None:
        """"whole" for a read of Keras's version (or its parse), "major" for its major part,
        None for anything else."""
        if isinstance(expr, ast.Attribute) and expr.attr == "major":
            return "major" if self._version(expr.value) == "whole" else None
        if isinstance(expr, ast.Subscript):
            index = expr.slice
            if _constant(index) == 0:
                inner = expr.value
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "split":
                    return "major" if self._version(inner.func.value) == "whole" else None
                return "major" if self._version(inner) == "whole" else None
            return None
        if isinstance(expr, ast.Call):
            if isinstance(expr.func, ast.Name) and expr.func.id in ("int", "float") and len(expr.args) == 1:
                return "major" if self._version(expr.args[0]) == "major" else None
            if len(expr.args) == 1 and self.qualify(expr.func) in _PARSERS:
                return "whole" if self._version(expr.args[0]) == "whole" else None
            if isinstance(expr.func, ast.Attribute) and expr.func.attr == "version" and not expr.args:
                return "whole" if self._keras_module(expr.func.value) else None
            if self.qualify(expr.func) in _METADATA_VERSION and len(expr.args) == 1:
                return "whole" if _constant(expr.args[0]) in ("keras", "keras-core", "keras_core") else None
            return None
        if isinstance(expr, ast.Attribute) and expr.attr == "__version__":
            return "whole" if self._keras_module(expr.value) else None
        return None

    def _keras_module(self, expr: ast.expr) -> bool:
        qualified = self.qualify(expr)
        if qualified is None:
            # A module imported inside the function (`from tensorflow import keras`).
            return isinstance(expr, ast.Name) and expr.id in ("keras", "keras_core")
        return qualified in KERAS_MODULES


def _constant(expr: ast.expr) -> object:
    return expr.value if isinstance(expr, ast.Constant) else None


def _span(major: int, whole: bool) -> tuple[float, ...]:
    """Versions standing for a major release: its first and a late one (whole versions), or the
    major itself."""
    return (float(major), major + 0.99) if whole else (float(major),)


def _apply(op: ast.cmpop, value: float, bound: float) -> bool | None:
    kind = type(op)
    if kind is ast.Eq:
        return value == bound
    if kind is ast.NotEq:
        return value != bound
    if kind is ast.Lt:
        return value < bound
    if kind is ast.LtE:
        return value <= bound
    if kind is ast.Gt:
        return value > bound
    if kind is ast.GtE:
        return value >= bound
    return None


_MIRRORED = {ast.Lt: ast.Gt(), ast.LtE: ast.GtE(), ast.Gt: ast.Lt(), ast.GtE: ast.LtE()}


# ----- the module's own functions ----------------------------------------------------------------


def version_functions(
    body: list[ast.stmt], qualify: Qualify, functions: list[ast.FunctionDef]
) -> dict[str, tuple[str, str]]:
    """The module's top-level functions that test or refuse Keras 3: name -> (role, callee),
    the callee being the qualified name of another module's function whose answer the role
    rests on ("" when the module's own code decides). A function whose test calls two other
    modules' functions is not read."""
    own = {function.name: function for function in functions}
    roles: dict[str, tuple[str, str]] = {}
    names: dict[str, tuple[str, str]] = {}
    # The other modules' functions the function being read calls in its tests: each is taken
    # for a test of Keras 3 here, and kept to be checked.
    callees: set[str] = set()

    def calls(call: ast.Call) -> Outcome:
        func = call.func
        if isinstance(func, ast.Name) and func.id in own:
            role = roles.get(func.id)
            if role is None or role[0] != KERAS_3:
                return UNKNOWN
            if role[1]:
                callees.add(role[1])
            return IS_KERAS_3
        callee = qualify(func)
        if callee is None or "." not in callee:
            return UNKNOWN
        callees.add(callee)
        return IS_KERAS_3

    def bound(name: str) -> Outcome:
        found = names.get(name)
        if found is None:
            return UNKNOWN
        if found[1]:
            callees.add(found[1])
        return IS_KERAS_3

    tests = VersionTests(qualify, calls, bound)
    counts = _binding_counts(body)
    grew = True
    while grew:
        grew = False
        for name, function in own.items():
            if name in roles:
                continue
            callees.clear()
            role = _role(function, tests)
            if role is not None and len(callees) <= 1:
                roles[name] = (role, next(iter(callees), ""))
                grew = True
        for stmt in body:
            if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                    and counts.get(stmt.targets[0].id) == 1 and stmt.targets[0].id not in names):
                callees.clear()
                if tests.outcome(stmt.value) == IS_KERAS_3 and len(callees) <= 1:
                    names[stmt.targets[0].id] = (KERAS_3, next(iter(callees), ""))
                    grew = True
    return roles


def _binding_counts(body: list[ast.stmt]) -> dict[str, int]:
    """How often the module's top-level statements bind each name."""
    counts: dict[str, int] = {}
    for stmt in body:
        targets: list[ast.expr] = []
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
            targets = [stmt.target]
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    counts[node.id] = counts.get(node.id, 0) + 1
    return counts


def _role(function: ast.FunctionDef, tests: VersionTests) -> str | None:
    if _refuses(function.body, tests):
        return REFUSES
    if _answers_keras_3(function, tests):
        return KERAS_3
    return None


def _refuses(body: list[ast.stmt], tests: VersionTests) -> bool:
    """Whether a block (a function's body) raises when Keras 3 is in use: one of its statements
    is `if <test of Keras 3>: raise ...`."""
    for stmt in body:
        if isinstance(stmt, ast.If) and stmt.body and isinstance(stmt.body[-1], ast.Raise):
            if tests.outcome(stmt.test) == IS_KERAS_3:
                return True
    return False


def _answers_keras_3(function: ast.FunctionDef, tests: VersionTests) -> bool:
    """Whether every `return` of the function gives a test of Keras 3, or `True` under an `if`
    that holds only on Keras 3, or `False` outside one."""
    returns: list[tuple[ast.Return, bool]] = []
    _returns(function.body, False, tests, returns)
    if not returns:
        return False
    tested = False
    for node, under_test in returns:
        value = node.value
        if value is None:
            return False
        constant = _constant(value)
        if constant is True:
            if not under_test:
                return False
        elif constant is False:
            if under_test:
                return False
        elif tests.outcome(value) == IS_KERAS_3:
            tested = True
        else:
            return False
        tested = tested or under_test
    return tested


def _returns(body: list[ast.stmt], under_test: bool, tests: VersionTests, found: list) -> None:
    for stmt in body:
        if isinstance(stmt, ast.Return):
            found.append((stmt, under_test))
        elif isinstance(stmt, ast.If):
            holds = tests.outcome(stmt.test)[0] == frozenset({K3})
            _returns(stmt.body, under_test or holds, tests, found)
            _returns(stmt.orelse, under_test, tests, found)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        else:
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list):
                    _returns(inner, under_test, tests, found)
            for handler in getattr(stmt, "handlers", ()):
                _returns(handler.body, under_test, tests, found)
