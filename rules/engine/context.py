"""What a rule sees while the walker is at a node: names, enclosing definitions, and `report`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from .edits import FixSpec
from .names import Bindings, Scopes, child_blocks, dotted_name, leaf_name
from .settings import Settings

if TYPE_CHECKING:
    from .project import ProjectModule
    from .rule import Rule

# The `ctx.shared` key of the text the whole file was parsed from, set by `lint.lint`: a rule
# may test it before costly work on the tree. It is absent when only a part of a file is linted
# without the rest of its text at hand: the rule then does the work.
SOURCE_TEXT = "engine.source_text"

# The attribute a Keras 3 layer sets to False to be called with its inputs as they are (see
# `Context.keeps_inputs`); the project index reads the same (`project.KEEPS_INPUTS`).
KEEPS_INPUTS = "_convert_input_args"


def _sets_keeps_inputs(klass: cst.ClassDef) -> bool:
    """Whether a method of the class assigns `self._convert_input_args = False`."""
    todo: list[cst.CSTNode] = [
        stmt for stmt in klass.body.body if isinstance(stmt, cst.FunctionDef)
    ] if isinstance(klass.body, cst.IndentedBlock) else []
    while todo:
        node = todo.pop()
        if isinstance(node, cst.Assign):
            if isinstance(node.value, cst.Name) and node.value.value == "False" and any(
                isinstance(t.target, cst.Attribute)
                and t.target.attr.value == KEEPS_INPUTS
                and isinstance(t.target.value, cst.Name)
                and t.target.value.value == "self"
                for t in node.targets
            ):
                return True
            continue
        if isinstance(node, (cst.BaseExpression, cst.ClassDef)):
            continue
        todo.extend(node.children)
    return False

# Prefixes under which Keras 2 code reaches the Keras API. `tf_keras` is left alone on purpose:
# code that imports it has chosen to stay on Keras 2.
KERAS_PREFIXES = (
    ("tensorflow.keras.", "tf.keras"),
    ("tensorflow.compat.v2.keras.", "tf.keras"),
    ("tensorflow.compat.v1.keras.", "tf.keras"),
    ("tensorflow.python.keras.", "tf.python.keras"),
    ("keras_core.", "keras_core"),
    ("keras.", "keras"),
)


def keras_api(qualified: str | None) -> tuple[str, str] | None:
    """("layers.Dense", "tf.keras") for `tensorflow.keras.layers.Dense`; None if not Keras."""
    if not qualified:
        return None
    for prefix, origin in KERAS_PREFIXES:
        if qualified.startswith(prefix):
            return qualified[len(prefix):], origin
    if qualified in ("tensorflow.keras", "keras", "keras_core", "tensorflow.compat.v2.keras"):
        return "", "keras" if qualified == "keras" else "tf.keras"
    return None


@dataclass
class Pending:
    rule: Rule
    node: cst.CSTNode
    chain: tuple[cst.CSTNode, ...]
    message: str
    fix: FixSpec | None
    note: str | None
    end: cst.CSTNode | None = None
    # The backends this finding is about when narrower than its rule's (`Model.distribute_strategy`
    # still exists on TensorFlow): the finding is dropped where the code runs on none of them.
    backends: frozenset[str] | None = None


KERAS_BASE_CLASSES = frozenset(
    {
        "layers.Layer",
        "Layer",
        "engine.base_layer.Layer",
        "Model",
        "models.Model",
        "Sequential",
        "models.Sequential",
        "engine.training.Model",
        "layers.AbstractRNNCell",
        "layers.Wrapper",
        "layers.RNN",
    }
)


def is_keras_base(qualified: str | None) -> bool:
    """Whether a qualified name is a Keras Layer or Model base class, as the rules count them."""
    api = keras_api(qualified)
    return api is not None and (api[0] in KERAS_BASE_CLASSES or api[0].startswith("layers."))


def relative_imports(body: Sequence[cst.CSTNode]) -> dict[str, tuple[int, str | None, str]]:
    """Names bound at module level by relative imports: local name -> (level, module, name),
    so `from ..layers import base as b` gives `{"b": (2, "layers", "base")}`."""
    found: dict[str, tuple[int, str | None, str]] = {}
    for stmt in body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        if isinstance(stmt, cst.BaseCompoundStatement):
            for block in child_blocks(stmt):
                found.update(relative_imports(block))
            continue
        smalls = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else (stmt,)
        for small in smalls:
            if not isinstance(small, cst.ImportFrom) or not small.relative or isinstance(small.names, cst.ImportStar):
                continue
            module = dotted_name(small.module) if small.module is not None else None
            for alias in small.names:
                name = dotted_name(alias.name)
                if name is None:
                    continue
                asname = alias.asname.name if alias.asname is not None else None
                local = asname.value if isinstance(asname, cst.Name) else name
                found[local] = (len(small.relative), module, name)
    return found


class Context:
    """One lint run's state, shared by every rule it runs."""

    def __init__(
        self,
        module: cst.Module,
        settings: Settings,
        path: str | None,
        *,
        bindings: Bindings | None = None,
        classes: dict[str, cst.ClassDef] | None = None,
        statements: Sequence[cst.CSTNode] | None = None,
        project: ProjectModule | None = None,
    ) -> None:
        """`bindings`, `classes` and `statements` describe the whole file when `module` is only
        a part of it: `statements` are all its top-level statements, those being re-linted from
        `module`, the others from earlier parses (read them, never report on or edit them).
        `project` answers for classes of the file's other modules (none without a path)."""
        self.module = module
        # The whole file's top-level statements (`module.body` unless only a part is linted).
        self.module_statements: Sequence[cst.CSTNode] = statements if statements is not None else module.body
        # Whether `module_statements` holds the whole file even when only a part is linted.
        self.whole_statements = statements is not None or bindings is None
        self.settings = settings
        self.path = path
        self.project = project
        self._relative: dict[str, tuple[int, str | None, str]] | None = None
        self.scopes = Scopes(module, bindings)
        # Ancestors of the node being visited, the Module first.
        self.parents: list[cst.CSTNode] = []
        self.functions: list[cst.FunctionDef] = []
        self.classes: list[cst.ClassDef] = []
        self.pending: list[Pending] = []
        self.errors: list[tuple[str, BaseException]] = []
        self._current_rule: Rule | None = None
        self._module_classes: dict[str, cst.ClassDef] | None = classes
        self._layer_cache: dict[int, bool] = {}
        self._keeps_cache: dict[int, bool] = {}
        self._imports_keras: bool | None = None
        self._names: dict[int, str | None] = {}
        # Per-lint facts several rules share (keyed by the rule family's own keys).
        self.shared: dict = {}
        # Only some statements of the file are being linted (an editor's re-lint of an edit):
        # questions about the whole file ("is this import used anywhere?") have no answer.
        self.partial = bindings is not None

    # ----- names ---------------------------------------------------------------------------

    def imported_leaf(self, func: cst.BaseExpression) -> str | None:
        """A callee's last name as its module names it: `Dense` for `layers.Dense` and for
        `Dense`, and for `D` after `from keras.layers import Dense as D`; None for a callee that
        is no name or attribute chain."""
        leaf = leaf_name(func)
        if type(func) is not cst.Name:
            return leaf
        qualified = self.qualname(func)
        return qualified.rpartition(".")[2] if qualified else leaf

    def qualname(self, expr: cst.BaseExpression) -> str | None:
        """The qualified name of a Name/Attribute chain through imports, or None.

        Cached per node: several rules ask about the same callee."""
        key = id(expr)
        cache = self._names
        if key in cache:
            return cache[key]
        found = cache[key] = self.scopes.qualified_name(expr)
        return found

    def imports_keras(self) -> bool:
        """Whether the module binds anything of Keras at its top level, under any spelling
        (`import keras`, `from tensorflow import keras`, `from keras.layers import Dense`)."""
        if self._imports_keras is None:
            self._imports_keras = any(
                keras_api(qualified) is not None for qualified in self.scopes.module.values() if qualified
            )
        return self._imports_keras

    def keras_api(self, expr: cst.BaseExpression) -> tuple[str, str] | None:
        return keras_api(self.qualname(expr))

    def reference(self, qualified: str) -> tuple[str, tuple[str, ...]] | None:
        """Code that names `qualified` here, and the imports it needs.

        Reuses a module-level binding of the name or of a parent module (`from keras import ops`
        gives `ops.sum`); otherwise imports the top-level package if its name is free.
        """
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            prefix = ".".join(parts[:cut])
            local = self.scopes.local_name_for(prefix)
            if local is not None:
                return ".".join([local, *parts[cut:]]), ()
        top = parts[0]
        if not self.scopes.is_bound(top):
            return qualified, (f"import {top}",)
        if len(parts) > 2:
            holder, leaf = ".".join(parts[:-2]), parts[-2]
            if not self.scopes.is_bound(leaf):
                return f"{leaf}.{parts[-1]}", (f"from {holder} import {leaf}",)
        return None

    # ----- enclosing definitions -----------------------------------------------------------

    @property
    def function(self) -> cst.FunctionDef | None:
        return self.functions[-1] if self.functions else None

    @property
    def klass(self) -> cst.ClassDef | None:
        return self.classes[-1] if self.classes else None

    def method(self) -> tuple[cst.ClassDef, cst.FunctionDef] | None:
        """The (class, method) we are directly inside, if the innermost function is a method."""
        if not self.functions or not self.classes:
            return None
        function = self.functions[-1]
        klass = self.classes[-1]
        body = klass.body.body if isinstance(klass.body, cst.IndentedBlock) else ()
        if any(stmt is function for stmt in body):
            return klass, function
        return None

    def in_method(self, *names: str) -> cst.ClassDef | None:
        """The class, if we are inside one of its methods named `names` (nested defs count)."""
        if not self.classes:
            return None
        klass = self.classes[-1]
        body = klass.body.body if isinstance(klass.body, cst.IndentedBlock) else ()
        for function in self.functions:
            if function.name.value in names and any(stmt is function for stmt in body):
                return klass
        return None

    def module_classes(self) -> dict[str, cst.ClassDef]:
        if self._module_classes is None:
            found: dict[str, cst.ClassDef] = {}
            for stmt in self.module.body:
                if isinstance(stmt, cst.ClassDef):
                    found[stmt.name.value] = stmt
            self._module_classes = found
        return self._module_classes

    def is_keras_class(self, klass: cst.ClassDef, _depth: int = 0) -> bool:
        """Whether a class derives from a Keras Layer or Model, through classes of this module
        or of other modules of the project. Names that cannot be resolved count as not Keras."""
        key = id(klass)
        if key in self._layer_cache:
            return self._layer_cache[key]
        result = False
        for base in klass.bases:
            if base.keyword is not None:
                continue
            qualified = self.qualname(base.value)
            if is_keras_base(qualified):
                result = True
                break
            name = dotted_name(base.value)
            local = self.module_classes().get(name) if name else None
            if local is not None:
                if local is not klass and _depth < 20 and self.is_keras_class(local, _depth + 1):
                    result = True
                    break
                continue
            if self.project is None or keras_api(qualified) is not None:
                continue  # no project, or a Keras class that is no Layer or Model
            project_class = qualified or (self.relative_qualname(name) if name else None)
            if project_class and self.project.is_keras_class(project_class):
                result = True
                break
        self._layer_cache[key] = result
        return result

    def keeps_inputs(self, klass: cst.ClassDef, _depth: int = 0) -> bool:
        """Whether the class, or a class it derives from (in this module or the project), sets
        `self._convert_input_args = False` in a method: a layer Keras calls with its inputs as
        they come, not converted to the backend's tensors. Keras's `TextVectorization` and the
        preprocessing layers of keras-cv and keras-hub do so to run TensorFlow on every backend,
        as `tf.data` does."""
        key = id(klass)
        if key in self._keeps_cache:
            return self._keeps_cache[key]
        self._keeps_cache[key] = False  # a class among its own bases
        text = self.shared.get(SOURCE_TEXT)
        result = (text is None or KEEPS_INPUTS in text) and _sets_keeps_inputs(klass)
        for base in klass.bases:
            if result or _depth >= 20:
                break
            if base.keyword is not None:
                continue
            name = dotted_name(base.value)
            local = self.module_classes().get(name) if name else None
            if local is not None:
                result = local is not klass and self.keeps_inputs(local, _depth + 1)
                continue
            qualified = self.qualname(base.value)
            if self.project is None or keras_api(qualified) is not None:
                continue
            project_class = qualified or (self.relative_qualname(name) if name else None)
            result = bool(project_class) and self.project.keeps_inputs(project_class)  # type: ignore[arg-type]
        self._keeps_cache[key] = result
        return result

    def in_layer_keeping_inputs(self) -> bool:
        """Whether the node visited is in a Keras layer that takes its inputs as they come (see
        `keeps_inputs`): TensorFlow runs its code there on every backend."""
        return bool(self.functions) and any(
            self.is_keras_class(klass) and self.keeps_inputs(klass) for klass in self.classes
        )

    def relative_qualname(self, name: str) -> str | None:
        """The qualified name of `name` when its head was imported relatively (`from .base import
        BaseLayer`), found with the file's module name in its project."""
        if self.project is None:
            return None
        head, _, rest = name.partition(".")
        if not self.whole_statements:
            # Only some statements are here, never the imports: ask the file as last saved.
            target = self.project.own_names().get(head)
        else:
            if self._relative is None:
                self._relative = relative_imports(self.module_statements)
            imported = self._relative.get(head)
            target = None
            if imported is not None:
                module = self.project.relative(imported[0], imported[1])
                target = f"{module}.{imported[2]}" if module else None
        if target is None:
            return None
        return f"{target}.{rest}" if rest else target

    # ----- reporting -----------------------------------------------------------------------

    def report(
        self,
        node: cst.CSTNode,
        message: str | None = None,
        *,
        fix: FixSpec | None = None,
        note: str | None = None,
        end: cst.CSTNode | None = None,
        rule: Rule | None = None,
        backends: frozenset[str] | None = None,
    ) -> None:
        """Report a finding whose range is `node`'s text, or from `node` to the end of `end`.

        The nodes must be the one being visited or its descendants; edits in `fix` may also
        touch other nodes of the same statement. `backends` narrows the rule's backends for this
        finding alone.
        """
        owner = rule or self._current_rule
        assert owner is not None
        self.pending.append(
            Pending(owner, node, tuple(self.parents), message or owner.message, fix, note, end, backends)
        )

    def report_arg(self, arg: cst.Arg, message: str | None = None, **kwargs) -> None:
        """Report an argument without its trailing comma: `lr=1e-3`, not `lr=1e-3, `."""
        self.report(arg.keyword or arg.value, message, end=arg.value, **kwargs)


def call_keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional_args(call: cst.Call) -> list[cst.Arg]:
    return [a for a in call.args if a.keyword is None and not a.star]


def call_argument(call: cst.Call, index: int, keywords: tuple[str, ...]) -> cst.Arg | None:
    """The argument given by one of `keywords`, or else the `index`-th positional one."""
    for keyword in keywords:
        found = call_keyword(call, keyword)
        if found is not None:
            return found
    positional = positional_args(call)
    return positional[index] if len(positional) > index else None


def string_value(expr: cst.BaseExpression) -> str | None:
    """The value of a plain string literal (no f-string, no concatenation of non-literals)."""
    if isinstance(expr, cst.SimpleString):
        try:
            value = expr.evaluated_value
        except Exception:  # noqa: BLE001 - any odd literal simply is not a known string
            return None
        return value if isinstance(value, str) else None
    if isinstance(expr, cst.ConcatenatedString):
        left = string_value(expr.left)
        right = string_value(expr.right)
        if left is not None and right is not None:
            return left + right
    return None


def has_star_args(call: cst.Call) -> bool:
    return any(a.star for a in call.args)


Chain = Sequence[cst.CSTNode]


def class_methods(klass: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    """The functions defined directly in a class body, by name."""
    if not isinstance(klass.body, cst.IndentedBlock):
        return {}
    return {stmt.name.value: stmt for stmt in klass.body.body if isinstance(stmt, cst.FunctionDef)}


def positional_params(function: cst.FunctionDef) -> list[cst.Param]:
    params = function.params
    return [*params.posonly_params, *params.params]
