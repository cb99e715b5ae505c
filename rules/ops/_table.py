"""The op tables (`data/ops_tf.toml`, `data/ops_backend.toml`) and the fixes built from a row.

A row maps one TensorFlow op (or one Keras 2 `K.*` function) to its Keras 3 spelling: which
positional arguments mean the same, which keywords are renamed, what argument must be added
because the defaults differ, and, for the few ops whose arguments change shape, a named
transform. `build_fix` turns a row and a call into the smallest edits: the callee, single
keywords, single argument values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import libcst as cst

from ..engine.context import Context, call_keyword, has_star_args, positional_args, string_value
from ..engine.edits import FixSpec, Insert, NodeEdit, Replace, append_arg, rename_keyword
from ..engine.names import dotted_name, leaf_name  # noqa: F401 - leaf_name: the ops rules import it from here
from ..engine.tables import load_toml

GENERIC = "KER201"
# Codes for traps that depend on how the op is called, not only on which op it is.
WHERE_ONE_ARG = "KER212"
SPLIT_SIZES = "KER210"
SORT_DIRECTION = "KER215"
MATMUL_FLAGS = "KER214"
INT_MEAN = "KER211"

_MATMUL_FLAGS = ("transpose_a", "transpose_b", "adjoint_a", "adjoint_b")


@dataclass(frozen=True)
class Row:
    names: tuple[str, ...]
    target: str
    rule: str = GENERIC
    safety: str = "safe"
    positional: int = 0
    keep: frozenset[str] = frozenset()
    rename: tuple[tuple[str, str], ...] = ()
    add: str = ""
    add_slot: int = 99
    transform: str = ""
    slot: int = 0
    unsafe_drop: frozenset[str] = frozenset()
    # TensorFlow's parameter names in order: a positional argument past `positional` is passed
    # by keyword (its renamed name) where the Keras op's parameters come in another order.
    params: tuple[str, ...] = ()
    note: str = ""
    # The note for a call that gives its axis, where `note` is about the default axis.
    axis_given_note: str = ""
    renames: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def _row(entry: dict, names_key: str) -> Row:
    rename = tuple(sorted(entry.get("rename", {}).items()))
    return Row(
        names=tuple(entry[names_key]),
        target=entry["target"],
        rule=entry.get("rule", GENERIC),
        safety=entry.get("safety", "safe"),
        positional=entry.get("positional", 0),
        keep=frozenset(entry.get("keep", ())),
        rename=rename,
        add=entry.get("add", ""),
        add_slot=entry.get("add_slot", 99),
        transform=entry.get("transform", ""),
        slot=entry.get("slot", 0),
        unsafe_drop=frozenset(entry.get("unsafe_drop", ())),
        params=tuple(entry.get("params", ())),
        note=entry.get("note", ""),
        axis_given_note=entry.get("axis_given_note", ""),
        renames=dict(rename),
    )


@lru_cache(maxsize=1)
def tf_rows() -> dict[str, Row]:
    """`tensorflow.reduce_sum` -> its row, for every spelling of every op."""
    found: dict[str, Row] = {}
    for entry in load_toml("ops_tf.toml")["op"]:
        row = _row(entry, "tf")
        for name in row.names:
            found[f"tensorflow.{name}"] = row
    return found


@lru_cache(maxsize=1)
def backend_rows() -> dict[str, Row]:
    """`int_shape` -> its row (names under `keras.backend`)."""
    found: dict[str, Row] = {}
    for entry in load_toml("ops_backend.toml")["fn"]:
        row = _row(entry, "fn")
        for name in row.names:
            found[name] = row
    return found


@lru_cache(maxsize=None)
def tf_leaves(code: str | None = None) -> frozenset[str]:
    """Last names (`reduce_sum`) of the ops a code may report; every op's when `code` is None.

    Rules look at the callee's last name before resolving anything."""
    leaves = set()
    for qualified, row in tf_rows().items():
        if code is None or row.rule == code or _may_become(row, code):
            leaves.add(qualified.rsplit(".", 1)[1])
    return frozenset(leaves)


def _may_become(row: Row, code: str) -> bool:
    return (code, row.transform) in {
        (WHERE_ONE_ARG, "where"),
        (SPLIT_SIZES, "split"),
        (SORT_DIRECTION, "direction"),
        (MATMUL_FLAGS, "matmul"),
        (INT_MEAN, "int_mean"),
    }


@lru_cache(maxsize=1)
def only_tf_prefixes() -> tuple[str, ...]:
    return tuple(f"tensorflow.{p}" for p in load_toml("ops_tf.toml")["only_tf"]["prefixes"])


@lru_cache(maxsize=1)
def only_tf_words() -> frozenset[str]:
    """The last name of each TF-only family (`strings`, `ragged`, `py_func`): a callee whose
    dotted name has none of them cannot be in one."""
    return frozenset(p.rstrip(".").rsplit(".", 1)[-1] for p in load_toml("ops_tf.toml")["only_tf"]["prefixes"])


@lru_cache(maxsize=1)
def resize_methods() -> dict[str, str]:
    return dict(load_toml("ops_tf.toml")["resize_methods"])


@lru_cache(maxsize=1)
def nest_safety() -> dict[str, bool]:
    table = load_toml("ops_tf.toml")["nest"]
    return {**{n: False for n in table["unsafe"]}, **{n: True for n in table["safe"]}}


@lru_cache(maxsize=1)
def keras_keyword_renames() -> dict[str, dict[str, str]]:
    """`ops.transpose` -> {"perm": "axes"}: TF keywords that hand-ported code passes to keras.ops."""
    found: dict[str, dict[str, str]] = {}
    for row in {id(r): r for r in tf_rows().values()}.values():
        if not row.target.startswith("ops."):
            continue
        for old, new in row.rename:
            if old != new:
                found.setdefault(row.target, {})[old] = new
    return found


def normalize_tf(qualified: str | None) -> str | None:
    """`tensorflow.compat.v2.math.abs` -> `tensorflow.math.abs`; None for non-TF names."""
    if not qualified or not qualified.startswith("tensorflow."):
        return None
    for prefix in ("tensorflow.compat.v2.", "tensorflow.compat.v1."):
        if qualified.startswith(prefix) and qualified not in tf_rows():
            return "tensorflow." + qualified[len(prefix):]
    return qualified


# ----- which code reports a call ------------------------------------------------------------


def argument(call: cst.Call, slot: int, *keywords: str) -> cst.Arg | None:
    """The argument at positional `slot`, or given as one of `keywords`."""
    positional = positional_args(call)
    if slot < len(positional):
        return positional[slot]
    for keyword in keywords:
        found = call_keyword(call, keyword)
        if found is not None:
            return found
    return None


def _is_int_cast(expr: cst.BaseExpression) -> bool:
    if not isinstance(expr, cst.Call) or leaf_name(expr.func) != "cast":
        return False
    dtype = argument(expr, 1, "dtype")
    if dtype is None:
        return False
    return (_dtype_string(dtype.value) or "").startswith(("int", "uint"))


def _dtype_string(expr: cst.BaseExpression) -> str | None:
    """"int32" for `tf.int32`, `"int32"` or `np.int32`."""
    text = string_value(expr)
    if text is not None:
        return text
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def _one_argument_where(call: cst.Call) -> bool:
    return argument(call, 1, "x") is None and argument(call, 2, "y") is None


def code_for(call: cst.Call, row: Row) -> str:
    """The code that reports this call: the row's own, or a trap's that depends on the call."""
    transform = row.transform
    if transform == "where":
        if _one_argument_where(call):
            return WHERE_ONE_ARG
    elif transform == "split":
        sizes = argument(call, 1, "num_or_size_splits")
        if sizes is not None and isinstance(sizes.value, (cst.List, cst.Tuple)):
            return SPLIT_SIZES
    elif transform == "direction":
        if call_keyword(call, "direction") is not None:
            return SORT_DIRECTION
    elif transform == "matmul":
        if any(call_keyword(call, flag) for flag in _MATMUL_FLAGS):
            return MATMUL_FLAGS
    elif transform == "int_mean":
        first = argument(call, 0, "input_tensor")
        if first is not None and _is_int_cast(first.value):
            return INT_MEAN
    return row.rule


# ----- building fixes -----------------------------------------------------------------------


class Rewrite:
    """The edits of one fix while it is being built."""

    def __init__(self, call: cst.Call, row: Row, ctx: Context) -> None:
        self.call = call
        self.row = row
        self.ctx = ctx
        self.target = row.target
        self.unsafe = row.safety == "unsafe"
        self.edits: list[NodeEdit] = []
        self.removed: list[cst.Arg] = []
        self.imports: list[str] = []
        # Text that replaces the callee; by default the reference to the target.
        self.callee: str | None = None

    def name(self, qualified: str) -> str | None:
        """How to spell `keras.<qualified>` here, noting the import it needs."""
        found = self.ctx.reference(f"keras.{qualified}")
        if found is None:
            return None
        text, imports = found
        for line in imports:
            if line not in self.imports:
                self.imports.append(line)
        return text

    def code(self, node: cst.CSTNode) -> str:
        return self.ctx.module.code_for_node(node)


def _atom(rewrite: Rewrite, expr: cst.BaseExpression) -> str:
    """The expression's code, parenthesized unless it is a name, attribute, call or subscript."""
    text = rewrite.code(expr)
    if isinstance(expr, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) or expr.lpar:
        return text
    return f"({text})"


def _removal_edits(call: cst.Call, removed: list[cst.Arg]) -> list[NodeEdit]:
    """Remove arguments with their commas: the trailing run in one edit, the others each alone."""
    if not removed:
        return []
    args = list(call.args)
    gone = {id(a) for a in removed}
    kept_before = [a for a in args if id(a) not in gone]
    edits: list[NodeEdit] = []
    tail_start = len(args)
    while tail_start > 0 and id(args[tail_start - 1]) in gone:
        tail_start -= 1
    for arg in args[:tail_start]:
        if id(arg) in gone:
            edits.append(Replace(arg, ""))
    if tail_start < len(args):
        last = args[-1]
        previous = args[tail_start - 1] if tail_start > 0 else None
        if previous is not None and isinstance(previous.comma, cst.Comma) and kept_before:
            edits.append(Replace(previous.comma, "", end=last))
        else:
            edits.append(Replace(args[tail_start], "", end=last))
    return edits


def _int_literal(expr: cst.BaseExpression) -> int | None:
    if isinstance(expr, cst.Integer):
        return int(expr.value, 0)
    if (
        isinstance(expr, cst.UnaryOperation)
        and isinstance(expr.operator, cst.Minus)
        and isinstance(expr.expression, cst.Integer)
    ):
        return -int(expr.expression.value, 0)
    return None


def _spatial(expr: cst.BaseExpression) -> str | None:
    """TF's `[1, s, s, 1]` (batch and channel entries 1) -> `s`, `[1, a, b, 1]` -> `(a, b)`;
    an int stays. None for anything else (a variable, another layout)."""
    number = _int_literal(expr)
    if number is not None:
        return "" if number >= 1 else None
    if not isinstance(expr, (cst.List, cst.Tuple)):
        return None
    values = [_int_literal(e.value) if not isinstance(e, cst.StarredElement) else None for e in expr.elements]
    if len(values) < 3 or None in values or values[0] != 1 or values[-1] != 1:
        return None
    inner = values[1:-1]
    if len(set(inner)) == 1:
        return str(inner[0])
    return "(" + ", ".join(str(v) for v in inner) + ")"


def _rewrite_spatial(rewrite: Rewrite, arg: cst.Arg | None) -> bool:
    if arg is None:
        return True
    text = _spatial(arg.value)
    if text is None:
        return False
    if text:
        rewrite.edits.append(Replace(arg.value, text))
    return True


def _lower_string(rewrite: Rewrite, arg: cst.Arg | None) -> bool:
    if arg is None:
        return True
    if not isinstance(arg.value, cst.SimpleString) or string_value(arg.value) is None:
        return False
    raw = arg.value.value
    if raw != raw.lower():
        rewrite.edits.append(Replace(arg.value, raw.lower()))
    return True


def _t_strides(rewrite: Rewrite) -> bool:
    return _rewrite_spatial(rewrite, argument(rewrite.call, rewrite.row.slot, "strides", "stride"))


def _t_pad_mode(rewrite: Rewrite) -> bool:
    return _lower_string(rewrite, argument(rewrite.call, rewrite.row.slot, "mode"))


def _t_patches(rewrite: Rewrite) -> bool:
    call = rewrite.call
    return (
        _rewrite_spatial(rewrite, argument(call, 1, "sizes"))
        and _rewrite_spatial(rewrite, argument(call, 2, "strides"))
        and _rewrite_spatial(rewrite, argument(call, 3, "rates"))
        and _lower_string(rewrite, argument(call, 4, "padding"))
    )


def _t_pool(rewrite: Rewrite) -> bool:
    """`tf.nn.max_pool2d(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")` -> `keras.ops.max_pool(x, 3, 2,
    "same")`. With "SAME" padding that is uneven, `keras.ops.average_pool` on PyTorch averages
    over other windows than TensorFlow: that rewrite is unsafe."""
    call = rewrite.call
    padding = argument(call, 3, "padding")
    if padding is None or not isinstance(padding.value, cst.SimpleString):
        return False
    if (string_value(padding.value) or "").lower() not in ("same", "valid"):
        return False
    if rewrite.target == "ops.average_pool" and (string_value(padding.value) or "").lower() == "same":
        rewrite.unsafe = True
    return (
        _rewrite_spatial(rewrite, argument(call, 1, "ksize"))
        and _rewrite_spatial(rewrite, argument(call, 2, "strides"))
        and _lower_string(rewrite, padding)
    )


def _t_axis_tuple(rewrite: Rewrite) -> bool:
    """A literal list of axes -> a tuple: JAX takes the axes of `keras.ops.norm` as a static
    argument, which must be hashable (`axis=[1, 2]` fails: "Non-hashable static arguments")."""
    axis = argument(rewrite.call, 1, "axis")
    if axis is not None and isinstance(axis.value, cst.List):
        if any(isinstance(e, cst.StarredElement) for e in axis.value.elements):
            return False
        elements = [rewrite.code(e.value) for e in axis.value.elements]
        text = "(" + ", ".join(elements) + ("," if len(elements) == 1 else "") + ")"
        rewrite.edits.append(Replace(axis.value, text))
    return True


def _tensors(*slots: tuple[int, str]) -> Callable[[Rewrite], bool]:
    """Literal lists at these (slot, keyword) arguments -> tensors: `keras.ops.segment_*` read
    `segment_ids.shape` and `keras.ops.scatter` reads `updates.dtype` while Keras infers a
    layer's output (a list fails: "'list' object has no attribute 'shape'")."""

    def transform(rewrite: Rewrite) -> bool:
        for slot, keyword in slots:
            arg = argument(rewrite.call, slot, keyword)
            if arg is None or not isinstance(arg.value, (cst.List, cst.Tuple)):
                continue
            convert = rewrite.name("ops.convert_to_tensor")
            if convert is None:
                return False
            rewrite.edits.append(Insert(arg.value, f"{convert}("))
            rewrite.edits.append(Insert(arg.value, ")", after=True))
        return True

    return transform


def _t_slice_sizes(rewrite: Rewrite) -> bool:
    """`tf.slice(x, begin, size)`: a size of -1 ("to the end") works in `keras.ops.slice` on JAX
    but gives an empty slice on PyTorch; safe only for literal sizes that are all >= 0."""
    size = argument(rewrite.call, 2, "size")
    if size is None:
        return False
    value = size.value
    numbers = None
    if isinstance(value, (cst.List, cst.Tuple)):
        numbers = [None if isinstance(e, cst.StarredElement) else _int_literal(e.value) for e in value.elements]
    if numbers is None or None in numbers or any(n < 0 for n in numbers):  # type: ignore[operator]
        rewrite.unsafe = True
    return True


def _t_resize_method(rewrite: Rewrite) -> bool:
    method = call_keyword(rewrite.call, "method")
    if method is None:
        return True
    value = method.value
    text = string_value(value)
    if text is not None:
        return text in resize_methods().values()
    qualified = rewrite.ctx.qualname(value) or ""
    if qualified.startswith("tensorflow.image.ResizeMethod."):
        member = resize_methods().get(qualified.rsplit(".", 1)[1])
        if member is not None:
            rewrite.edits.append(Replace(value, f'"{member}"'))
            return True
    return False


def _t_band_part(rewrite: Rewrite) -> bool:
    positional = positional_args(rewrite.call)
    if len(positional) != 3 or len(rewrite.call.args) != 3:
        return False
    bands = (_int_literal(positional[1].value), _int_literal(positional[2].value))
    if bands == (-1, 0):
        rewrite.target = "ops.tril"
    elif bands == (0, -1):
        rewrite.target = "ops.triu"
    else:
        return False
    rewrite.edits.append(Replace(positional[0].comma, "", end=positional[2]))
    return True


def _t_shape(rewrite: Rewrite) -> bool:
    parent = rewrite.ctx.parents[-1] if rewrite.ctx.parents else None
    # `tf.shape(x)[0]` is a number either way; the whole shape is a tensor in TF, a tuple here.
    rewrite.unsafe = not (isinstance(parent, cst.Subscript) and parent.value is rewrite.call)
    return True


def _t_boolean_mask(rewrite: Rewrite) -> bool:
    positional = positional_args(rewrite.call)
    if len(positional) != 2 or len(rewrite.call.args) != 2:
        return False
    tensor, mask = positional
    rewrite.edits.append(Replace(rewrite.call, f"{_atom(rewrite, tensor.value)}[{rewrite.code(mask.value)}]"))
    rewrite.callee = ""
    return True


def _t_split(rewrite: Rewrite) -> bool:
    sizes = argument(rewrite.call, 1, "num_or_size_splits")
    if sizes is None:
        return False
    value = sizes.value
    if _int_literal(value) is not None:
        return True
    if isinstance(value, (cst.List, cst.Tuple)):
        numbers = [_int_literal(e.value) for e in value.elements if not isinstance(e, cst.StarredElement)]
        if len(numbers) != len(value.elements) or None in numbers or len(numbers) < 1:
            return False
        # Only the last size may be -1 ("the rest"): it is the one the indices leave out.
        if any(size < 0 for size in numbers[:-1]):
            return False
        indices, total = [], 0
        for size in numbers[:-1]:
            total += size
            indices.append(str(total))
        rewrite.edits.append(Replace(value, "[" + ", ".join(indices) + "]"))
    # A variable may hold a list of sizes: the same call then splits differently.
    rewrite.unsafe = True
    return True


def _t_where(rewrite: Rewrite) -> bool:
    return not _one_argument_where(rewrite.call)


def _t_direction(rewrite: Rewrite) -> bool:
    call = rewrite.call
    direction = call_keyword(call, "direction")
    if direction is None:
        return True
    order = string_value(direction.value)
    if order not in ("ASCENDING", "DESCENDING"):
        return False
    rewrite.removed.append(direction)
    if order == "ASCENDING":
        return True
    axis = argument(call, 1, "axis")
    if axis is None:
        axis_text = "-1"
    elif isinstance(axis.value, cst.Name) or _int_literal(axis.value) is not None:
        axis_text = rewrite.code(axis.value)
    else:
        return False
    flip = rewrite.name("ops.flip")
    target = rewrite.name(rewrite.target)
    if flip is None or target is None:
        return False
    rewrite.callee = f"{flip}({target}"
    rewrite.edits.append(Insert(call, f", axis={axis_text})", after=True))
    # Equal keys keep their order in a stable sort; flipping reverses it.
    rewrite.unsafe = rewrite.unsafe or rewrite.target == "ops.argsort"
    return True


def _t_matmul(rewrite: Rewrite) -> bool:
    call = rewrite.call
    for flag in _MATMUL_FLAGS:
        arg = call_keyword(call, flag)
        if arg is None:
            continue
        if not isinstance(arg.value, cst.Name) or arg.value.value not in ("True", "False"):
            return False
        rewrite.removed.append(arg)
        if arg.value.value == "False":
            continue
        operand = argument(call, 0 if flag.endswith("_a") else 1, "a" if flag.endswith("_a") else "b")
        if operand is None:
            return False
        swap = rewrite.name("ops.swapaxes")
        if swap is None:
            return False
        before, after = f"{swap}(", ", -1, -2)"
        if flag.startswith("adjoint"):
            conjugate = rewrite.name("ops.conjugate")
            if conjugate is None:
                return False
            before, after = f"{conjugate}({before}", after + ")"
        rewrite.edits.append(Insert(operand.value, before))
        rewrite.edits.append(Insert(operand.value, after, after=True))
    return True


def _t_int_mean(rewrite: Rewrite) -> bool:
    first = argument(rewrite.call, 0, "input_tensor")
    if first is None or not _is_int_cast(first.value):
        return True
    dtype = _dtype_string(argument(first.value, 1, "dtype").value)  # type: ignore[union-attr]
    cast = rewrite.name("ops.cast")
    target = rewrite.name(rewrite.target)
    if cast is None or target is None:
        return False
    # keras.ops.mean returns a float; casting back truncates as TF's integer mean does.
    rewrite.callee = f"{cast}({target}"
    rewrite.edits.append(Insert(rewrite.call, f', "{dtype}")', after=True))
    rewrite.unsafe = True
    return True


def _t_complex_pair(rewrite: Rewrite) -> bool:
    first = argument(rewrite.call, 0, "input")
    if first is None or not isinstance(first.value, cst.Call):
        return False
    inner = first.value
    qualified = rewrite.ctx.qualname(inner.func)
    if qualified not in ("tensorflow.complex", "tensorflow.dtypes.complex"):
        return False
    if len(positional_args(inner)) != 2 or len(inner.args) != 2:
        return False
    # `tf.complex(re, im)` -> `(re, im)`: the call's own parentheses become the tuple's.
    rewrite.edits.append(Replace(inner.func, ""))
    return True


# Parents under which an expression needs no parentheses of its own.
_BARE_EXPRESSION_PARENTS = (cst.Arg, cst.Assign, cst.AnnAssign, cst.Return, cst.Element, cst.DictElement, cst.Expr)


def _is_none(arg: cst.Arg | None) -> bool:
    return arg is None or (isinstance(arg.value, cst.Name) and arg.value.value == "None")


def _array_value(arg: cst.Arg, rewrite: Rewrite) -> bool:
    """A literal list or tuple, or a NumPy call."""
    value = arg.value
    if isinstance(value, (cst.List, cst.Tuple)):
        return True
    if isinstance(value, cst.Call):
        qualified = rewrite.ctx.qualname(value.func)
        return qualified is not None and qualified.startswith("numpy.")
    return False


def _t_bn_formula(rewrite: Rewrite) -> bool:
    """`tf.nn.batch_normalization(x, mean, variance, offset, scale, eps)` -> TensorFlow's own
    formula, `(x - mean) * rsqrt(variance + eps) * scale + offset`: it broadcasts every
    argument as TensorFlow does, where `keras.ops.batch_normalization` needs one value per
    feature."""
    call = rewrite.call
    x, mean, variance = (argument(call, i, k) for i, k in enumerate(("x", "mean", "variance")))
    offset = argument(call, 3, "offset")
    scale = argument(call, 4, "scale")
    epsilon = argument(call, 5, "variance_epsilon")
    if x is None or _is_none(mean) or _is_none(variance) or _is_none(epsilon):
        return False
    rsqrt = rewrite.name("ops.rsqrt")
    if rsqrt is None:
        return False
    # A NumPy array or a list there works through TensorFlow's op, but `tensor - array` fails on
    # PyTorch once the tensor carries gradients (in fit): not a safe rewrite.
    if any(_array_value(arg, rewrite) for arg in (mean, variance, offset, scale) if not _is_none(arg)):
        rewrite.unsafe = True

    def atom(arg: cst.Arg) -> str:
        if isinstance(arg.value, (cst.Integer, cst.Float)):
            return rewrite.code(arg.value)
        return _atom(rewrite, arg.value)

    text = f"({atom(x)} - {atom(mean)}) * {rsqrt}({atom(variance)} + {atom(epsilon)})"
    if not _is_none(scale):
        text += f" * {atom(scale)}"
    if not _is_none(offset):
        text += f" + {atom(offset)}"
    parent = rewrite.ctx.parents[-1] if rewrite.ctx.parents else None
    if not isinstance(parent, _BARE_EXPRESSION_PARENTS) and not call.lpar:
        text = f"({text})"
    # The whole call is replaced: keyword renames and the dropped `name=` are part of it.
    rewrite.edits = [Replace(call, text)]
    rewrite.removed.clear()
    rewrite.callee = ""
    return True


def _t_attr_shape(rewrite: Rewrite) -> bool:
    positional = positional_args(rewrite.call)
    if len(positional) != 1 or len(rewrite.call.args) != 1:
        return False
    rewrite.edits.append(Replace(rewrite.call, f"{_atom(rewrite, positional[0].value)}.shape"))
    rewrite.callee = ""
    return True


def _method(name: str) -> Callable[[Rewrite], bool]:
    def transform(rewrite: Rewrite) -> bool:
        positional = positional_args(rewrite.call)
        if len(positional) != 2 or len(rewrite.call.args) != 2:
            return False
        variable, value = positional
        text = f"{_atom(rewrite, variable.value)}.{name}({rewrite.code(value.value)})"
        rewrite.edits.append(Replace(rewrite.call, text))
        rewrite.callee = ""
        return True

    return transform


def _t_floatx(rewrite: Rewrite) -> bool:
    floatx = rewrite.name("config.floatx")
    if floatx is None or len(rewrite.call.args) != 1:
        return False
    rewrite.edits.append(append_arg(rewrite.call, f"{floatx}()"))
    return True


def _t_switch(rewrite: Rewrite) -> bool:
    branches = [argument(rewrite.call, 1, "then_expression"), argument(rewrite.call, 2, "else_expression")]
    return all(b is not None and not isinstance(b.value, cst.Lambda) for b in branches)


def _t_batch_flatten(rewrite: Rewrite) -> bool:
    positional = positional_args(rewrite.call)
    if len(positional) != 1 or len(rewrite.call.args) != 1:
        return False
    tensor = positional[0].value
    if not isinstance(tensor, (cst.Name, cst.Attribute)):
        return False
    shape = rewrite.name("ops.shape")
    if shape is None:
        return False
    rewrite.edits.append(append_arg(rewrite.call, f"({shape}({rewrite.code(tensor)})[0], -1)"))
    return True


def _t_flatten(rewrite: Rewrite) -> bool:
    if len(rewrite.call.args) != 1:
        return False
    rewrite.edits.append(append_arg(rewrite.call, "(-1,)"))
    return True


def _t_clip_bounds(rewrite: Rewrite) -> bool:
    """`K.clip` took None for no bound; `keras.ops.clip` raises on it (TensorFlow, PyTorch): an
    infinite bound keeps the meaning."""
    for slot, keyword, bound in ((1, "min_value", 'float("-inf")'), (2, "max_value", 'float("inf")')):
        arg = argument(rewrite.call, slot, keyword)
        if arg is not None and _is_none(arg):
            rewrite.edits.append(Replace(arg.value, bound))
    return True


_TRANSFORMS: dict[str, Callable[[Rewrite], bool]] = {
    "strides": _t_strides,
    "pool": _t_pool,
    "axis_tuple": _t_axis_tuple,
    "slice_sizes": _t_slice_sizes,
    "segment_ids": _tensors((1, "segment_ids")),
    "scatter_lists": _tensors((0, "indices"), (1, "updates")),
    "pad_mode": _t_pad_mode,
    "patches": _t_patches,
    "resize_method": _t_resize_method,
    "band_part": _t_band_part,
    "shape": _t_shape,
    "boolean_mask": _t_boolean_mask,
    "split": _t_split,
    "where": _t_where,
    "direction": _t_direction,
    "matmul": _t_matmul,
    "int_mean": _t_int_mean,
    "complex_pair": _t_complex_pair,
    "bn_formula": _t_bn_formula,
    "attr_shape": _t_attr_shape,
    "method:assign": _method("assign"),
    "method:assign_add": _method("assign_add"),
    "method:assign_sub": _method("assign_sub"),
    "floatx": _t_floatx,
    "switch": _t_switch,
    "batch_flatten": _t_batch_flatten,
    "flatten": _t_flatten,
    "clip_bounds": _t_clip_bounds,
}


def build_fix(call: cst.Call, row: Row, ctx: Context) -> FixSpec | None:
    """The fix that turns `call` into the row's Keras 3 form, or None when the call uses
    something the row cannot carry over (extra positional arguments, unknown keywords, `*args`,
    values a transform cannot read)."""
    if row.safety == "none" or has_star_args(call):
        return None
    rewrite = Rewrite(call, row, ctx)
    positional = positional_args(call)
    keywords: set[str] = set()
    if len(positional) > row.positional:
        if len(positional) > len(row.params):
            return None
        # Past the slots that mean the same, TF's arguments go by keyword.
        for index in range(row.positional, len(positional)):
            name = row.params[index]
            new = row.renames.get(name, name if name in row.keep else None)
            if new is None:
                return None
            keywords.add(new)
            rewrite.edits.append(Insert(positional[index].value, f"{new}="))
    for arg in call.args:
        if arg.keyword is None:
            continue
        keyword = arg.keyword.value
        new = row.renames.get(keyword)
        if new is not None:
            keywords.add(new)
            if new != keyword:
                rewrite.edits.append(rename_keyword(arg, new))
        elif keyword in row.keep:
            keywords.add(keyword)
        elif keyword == "name":
            # Graph names mean nothing to keras.ops, which take no `name=`.
            rewrite.removed.append(arg)
        elif keyword in row.unsafe_drop:
            rewrite.removed.append(arg)
            rewrite.unsafe = True
        elif not (row.transform in ("direction", "matmul") and (keyword == "direction" or keyword in _MATMUL_FLAGS)):
            return None
    transform = _TRANSFORMS.get(row.transform)
    if transform is not None and not transform(rewrite):
        return None
    if row.add:
        key = row.add.split("=", 1)[0]
        if key not in keywords and len(positional) <= row.add_slot:
            gone = {id(a) for a in rewrite.removed}
            kept = [a for a in call.args if id(a) not in gone]
            if kept and kept[-1] is not call.args[-1]:
                # The last argument goes away: add after the last one that stays.
                rewrite.edits.append(Insert(kept[-1].value, f", {row.add}", after=True))
            else:
                rewrite.edits.append(append_arg(call, row.add))
    rewrite.edits.extend(_removal_edits(call, rewrite.removed))
    if rewrite.callee is None:
        if not rewrite.target:
            return None
        callee = rewrite.name(rewrite.target)
        if callee is None:
            return None
        rewrite.callee = callee
    if rewrite.callee:
        rewrite.edits.append(Replace(call.func, rewrite.callee))
    spelled = dotted_name(call.func) or "the call"
    title = f"Replace `{spelled}` with `keras.{rewrite.target}`" if rewrite.target else f"Rewrite `{spelled}`"
    return FixSpec.of(not rewrite.unsafe, title, *rewrite.edits, imports=rewrite.imports)
