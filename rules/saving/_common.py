"""What the saving rules share: file-path literals and the calls that save or load models."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import libcst as cst

from ..engine.context import Context, call_argument, keras_api
from ..engine.edits import Replace
from ..engine.provenance import MODEL, Where, provenance, where_of
from ..engine.tables import load_toml

LEGACY_H5 = (".h5", ".hdf5")
WHOLE_MODEL = (".keras", *LEGACY_H5)
WEIGHTS = ".weights.h5"


@lru_cache(maxsize=1)
def _model_words() -> tuple[str, ...]:
    return tuple(load_toml("saving_receivers.toml")["model_words"])


def path_tail(expr: cst.BaseExpression) -> tuple[str, cst.CSTNode] | None:
    """The literal text at the end of a path expression and the node that holds it.

    `"out/model"`, `f"{root}/model"` and `root + "/model"` all end in literal text
    (`out/model`, `/model`); the node is the string or the f-string's last text part, which a
    fix can rewrite on its own.
    """
    if isinstance(expr, cst.ConcatenatedString):
        return path_tail(expr.right)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        # Only the right operand's text ends the path (`root + name` has no literal end).
        return path_tail(expr.right) if isinstance(expr.right, (cst.SimpleString, cst.FormattedString)) else None
    if isinstance(expr, cst.SimpleString):
        if "b" in expr.prefix.lower():
            return None
        return expr.raw_value, expr
    if isinstance(expr, cst.FormattedString) and expr.parts:
        last = expr.parts[-1]
        if isinstance(last, cst.FormattedStringText):
            return last.value, last
    return None


def rewrite_tail(node: cst.CSTNode, change: Callable[[str], str]) -> Replace:
    """Replace the literal text of `node` (from `path_tail`) by `change(text)`, keeping quotes
    and prefixes."""
    if isinstance(node, cst.SimpleString):
        start = len(node.prefix) + len(node.quote)
        return Replace(node, node.value[:start] + change(node.raw_value) + node.quote)
    assert isinstance(node, cst.FormattedStringText)
    return Replace(node, change(node.value))


def last_component(text: str) -> str:
    return text.rstrip("/").rsplit("/", 1)[-1]


def has_extension(text: str) -> bool:
    """Whether the file name at the end of a path has an extension (`model.keras`: yes;
    `exports/model`, `ckpt/`: no). A trailing format field (`{epoch}`) is unknown: yes."""
    name = last_component(text)
    if name.endswith("}"):
        return True
    return "." in name.strip(".")


def without_suffix(text: str, suffixes: tuple[str, ...]) -> str:
    lowered = text.lower()
    for suffix in suffixes:
        if lowered.endswith(suffix):
            return text[: -len(suffix)]
    return text


def path_argument(call: cst.Call, keyword: str, index: int) -> cst.Arg | None:
    """The argument giving the file path: keyword `keyword` or the `index`-th positional."""
    return call_argument(call, index, (keyword,))


def _named_like_model(expr: cst.BaseExpression) -> bool:
    """The fallback for a receiver provenance knows nothing about: its name."""
    while isinstance(expr, (cst.Subscript, cst.Call)):
        expr = expr.value if isinstance(expr, cst.Subscript) else expr.func
    if isinstance(expr, cst.Attribute):
        word = expr.attr.value
    elif isinstance(expr, cst.Name):
        word = expr.value
    else:
        return False
    word = word.lower()
    return word == "self" or any(part in word for part in _model_words())


def is_model_receiver(ctx: Context, receiver: cst.BaseExpression, where: Where | None = None) -> bool:
    """Whether `receiver.save(...)` saves a Keras model.

    `.save` is a common method name (images, checkpoints, tokenizers, gensim models), so:
    - a value shown to be a model (`m2 = keras.Sequential(...)`, `net = load_model(...)`, a
      parameter annotated `keras.Model`, `self` in a Model subclass...) is one, whatever its
      name;
    - a value shown to be anything else (`Image.open(p)`, `tf.train.Checkpoint()`, a layer, a
      list) is not, whatever its name, nor is an import (`np.save`, `tf.saved_model.save`);
    - a value provenance knows nothing about (a parameter without annotation, the result of a
      function of another module, an attribute of another object) is one when it is named
      like a model (`model`, `net`, `encoder`... in `data/saving_receivers.toml`, or `self`).
    """
    where = where if where is not None else where_of(ctx)
    facts = provenance(ctx)
    if isinstance(receiver, (cst.Name, cst.Attribute)) and facts.qualname(receiver, where) is not None:
        return False
    fact = facts.fact(receiver, where)
    if fact.kind == MODEL:
        return True
    if fact.known:
        return False
    return _named_like_model(receiver)


def may_hold_weights(ctx: Context, receiver: cst.BaseExpression, where: Where | None = None) -> bool:
    """Whether `receiver.save_weights(...)` / `.load_weights(...)` is Keras's: the method names
    are Keras's own, so any receiver counts except one shown to be something other than a
    model (a layer, a list, an object of another library such as `MaskRCNN(...)`)."""
    fact = provenance(ctx).fact(receiver, where if where is not None else where_of(ctx))
    return fact.kind == MODEL or not fact.known


def model_save_path(call: cst.Call, ctx: Context, where: Where | None = None) -> cst.Arg | None:
    """The path argument of `model.save(path)` or `keras.models.save_model(model, path)`, where
    the receiver of `.save` is a model by `is_model_receiver`; `where` is the call's position
    when the walker is elsewhere."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "save":
        if not is_model_receiver(ctx, func.value, where):
            return None
        return path_argument(call, "filepath", 0)
    if isinstance(func, (cst.Name, cst.Attribute)) and (
        (func.value if isinstance(func, cst.Name) else func.attr.value) == "save_model"
    ):
        api = keras_api(provenance(ctx).qualname(func, where if where is not None else where_of(ctx)))
        if api is not None and api[0] in ("models.save_model", "saving.save_model"):
            return path_argument(call, "filepath", 1)
    return None


def method_call(call: cst.Call, method: str) -> bool:
    """`<something>.save_weights(...)`: the name is Keras's own, whatever the receiver."""
    func = call.func
    return isinstance(func, cst.Attribute) and func.attr.value == method


def weights_call(call: cst.Call, method: str, ctx: Context, where: Where | None = None) -> bool:
    """`<receiver>.save_weights(...)` (or `load_weights`) on a receiver `may_hold_weights`."""
    return method_call(call, method) and may_hold_weights(ctx, call.func.value, where)  # type: ignore[attr-defined]
