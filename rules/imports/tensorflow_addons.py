"""KER106: TensorFlow Addons."""

from __future__ import annotations

import libcst as cst

from functools import lru_cache

from ..engine.context import Context, call_keyword, has_star_args
from ..engine.edits import FixSpec, Replace
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ..engine.tables import load_toml
from ..engine.walker import SOURCE_TEXT
from ._unused import removal_fix

ADDONS = "tensorflow_addons"


@lru_cache(maxsize=1)
def _apis() -> dict[str, dict]:
    return load_toml("tensorflow_addons.toml")["api"]


@lru_cache(maxsize=1)
def _leaves() -> frozenset[str]:
    return frozenset(path.rsplit(".", 1)[-1] for path in _apis() if not path.endswith("*"))


def _row(path: str) -> dict | None:
    """The table's row for `path` under `tensorflow_addons`: its own, or its module's `*`."""
    row = _apis().get(path)
    if row is not None:
        return row
    module = path.split(".", 1)[0]
    return _apis().get(f"{module}.*") if "." in path else None


def counterpart_message(path: str, row: dict) -> str:
    spelled = f"`tfa.{path}`"
    note = row["note"]
    if row["keras"]:
        text = f"{spelled} -> `keras.{row['keras']}`"
        return f"{text}: {note}" if note else text
    return f"{spelled} has no Keras 3 counterpart: {note}"


@lru_cache(maxsize=1)
def _modules() -> frozenset[str]:
    """The modules with a `*` row (`tfa.seq2seq.BasicDecoder`): a chain through one of them is
    visited whatever its last name."""
    return frozenset(path[:-2] for path in _apis() if path.endswith(".*"))


_SHARED_KEY = "imports.tensorflow_addons"


def _mentions_addons(ctx: Context) -> bool:
    """Whether the file's text names TensorFlow Addons at all (once per lint)."""
    found = ctx.shared.get(_SHARED_KEY)
    if found is None:
        text = ctx.shared.get(SOURCE_TEXT)
        found = ctx.shared[_SHARED_KEY] = text is None or ADDONS in text
    return found


def _is_addons(module: str | None) -> bool:
    return module == ADDONS or (module or "").startswith(ADDONS + ".")


def _addons_alias(alias: cst.ImportAlias) -> bool:
    return _is_addons(dotted_name(alias.name))


class TensorflowAddons(Rule):
    """
    ## Why
    TensorFlow Addons (`tfa`) reached end of life in May 2024 and does not work with Keras 3:
    its layers, optimizers and losses subclass Keras 2 classes and use TensorFlow internals.
    Each use of a `tfa` API is reported with its Keras 3 counterpart, or with what to do where
    there is none (the table `rules/data/tensorflow_addons.toml`): `tfa.optimizers.AdamW` ->
    `keras.optimizers.AdamW`, `tfa.optimizers.LAMB` -> `keras.optimizers.Lamb`,
    `tfa.activations.gelu` -> `keras.activations.gelu` (whose default is `approximate=False`,
    where `tfa`'s was `True`), `tfa.layers.GELU` -> `keras.layers.Activation("gelu")`,
    `tfa.layers.InstanceNormalization` -> `keras.layers.GroupNormalization(groups=-1)`,
    `tfa.losses.SigmoidFocalCrossEntropy` -> `keras.losses.BinaryFocalCrossentropy`,
    `tfa.metrics.F1Score` -> `keras.metrics.F1Score`, `tfa.image.rotate` ->
    `keras.ops.image.affine_transform`; `tfa.layers.WeightNormalization`, `tfa.seq2seq` and
    most losses have none.

    ## Example
    ```python
    import tensorflow_addons as tfa
    opt = tfa.optimizers.AdamW(weight_decay=1e-4, learning_rate=1e-3)
    ```

    ## Use instead
    ```python
    import keras
    opt = keras.optimizers.AdamW(weight_decay=1e-4, learning_rate=1e-3)
    ```

    ## Backends
    All.

    ## Fix safety
    The import gets a safe fix that deletes it once nothing in the file uses it (typically after
    the fixes below replaced its last use; `--fix` re-checks the file after each pass), decided
    as for KER107: a name read anywhere, named in a string or bound by a star import counts as
    used, imports inside `try:` / `if:` / functions are left alone, and in a package's
    `__init__.py` the deletion is unsafe. While it has uses, the import has no fix.
    `tfa.optimizers.AdamW(...)` gets an unsafe fix when
    every argument is a keyword and `weight_decay=` is given (the first positional argument of
    `tfa`'s AdamW is `weight_decay`, Keras's is `learning_rate`, and Keras's default weight decay
    is 0.004): Keras multiplies the weight decay by the learning rate at each step
    (`variable - variable * wd * lr`) where `tfa` did not (`variable - variable * wd`), so scale
    `weight_decay` by `1 / learning_rate` to keep the same decay.

    ## References
    - Catalogue K3-IMP-007; keras-io commit 991b905503 (examples/vision/eanet.py);
      `keras/src/optimizers/base_optimizer.py` `_apply_weight_decay`.
    """

    code = "KER106"
    name = "tensorflow-addons"
    message = "TensorFlow Addons does not support Keras 3: replace its APIs with Keras 3 ones"
    nodes = (cst.Import, cst.ImportFrom, cst.Call, cst.Attribute)
    fix = "mixed"
    deprecated = True
    examples = (
        Example("import «tensorflow_addons» as tfa\nact = «tfa.activations.mish»\n", None),
        Example("from «tensorflow_addons.layers» import WeightNormalization\n«WeightNormalization»(dense)\n", None),
        Example(
            "import «tensorflow_addons» as tfa\n"
            "loss = «tfa.losses.SigmoidFocalCrossEntropy»()\nnorm = «tfa.layers.InstanceNormalization»()\n"
            "decoder = «tfa.seq2seq.BasicDecoder»(cell, sampler)\n",
            None,
        ),
        # The fix replaces the last use; the next pass deletes the import.
        Example(
            "import keras\nimport «tensorflow_addons» as tfa\n"
            "opt = «tfa.optimizers.AdamW»(weight_decay=1e-4, learning_rate=1e-3)\n",
            "import keras\n"
            "opt = keras.optimizers.AdamW(weight_decay=1e-4, learning_rate=1e-3)\n",
            unsafe=True,
        ),
        Example(
            "from «tensorflow_addons» import optimizers\nopt = «optimizers.AdamW»(weight_decay=1e-4)\n",
            "import keras\nopt = keras.optimizers.AdamW(weight_decay=1e-4)\n",
            unsafe=True,
        ),
        Example("import «tensorflow_addons» as tfa, numpy as np\nx = np.ones(2)\n", "import numpy as np\nx = np.ones(2)\n"),
        # The first positional argument is the weight decay for tfa, the learning rate for Keras.
        Example("import keras\nimport «tensorflow_addons» as tfa\nopt = «tfa.optimizers.AdamW»(1e-4)\n", None),
    )
    valid = (
        "import keras\nopt = keras.optimizers.AdamW(weight_decay=1e-4)\n",
        "import tensorflow_addons_extras as tfa\n",
        "def f(tfa):\n    return tfa.optimizers.AdamW(weight_decay=1e-4)\n",
    )

    def attribute_words(self) -> frozenset[str]:
        return _leaves() | _modules()

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(_leaves() | {"AdamW"})

    def applies_to(self, text: str) -> bool:
        """Whether the file names TensorFlow Addons (see `engine.gates`)."""
        return ADDONS in text

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:
        if not _mentions_addons(ctx):
            return
        if type(node) is cst.Attribute:
            self._use(node, ctx)  # type: ignore[arg-type]
        elif type(node) is cst.Call:
            self._call(node, ctx)  # type: ignore[arg-type]
        elif type(node) is cst.Import:
            addons = [alias for alias in node.names if _is_addons(dotted_name(alias.name))]  # type: ignore[union-attr]
            if addons:
                fix = removal_fix(node, ctx, "TensorFlow Addons", _addons_alias)  # type: ignore[arg-type]
                for alias in addons:
                    ctx.report(alias.name, fix=fix)
        elif type(node) is cst.ImportFrom:
            if not node.relative and node.module is not None and _is_addons(dotted_name(node.module)):  # type: ignore[union-attr]
                ctx.report(node.module, fix=removal_fix(node, ctx, "TensorFlow Addons"))  # type: ignore[union-attr, arg-type]

    def _use(self, node: cst.Attribute | cst.Name, ctx: Context) -> None:
        """A use of a `tfa` API (`tfa.layers.GELU`, or `GELU` imported from it), reported with
        its counterpart."""
        qualified = ctx.qualname(node)
        if not qualified or not qualified.startswith(ADDONS + "."):
            return
        path = qualified[len(ADDONS) + 1:]
        if path == "optimizers.AdamW":
            return  # `_call` reports it, with its fix
        row = _row(path)
        if row is not None:
            ctx.report(node, counterpart_message(path, row))

    def _call(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if type(func) is cst.Name and func.value in _leaves():
            self._use(func, ctx)
            return
        if not (isinstance(func, cst.Attribute) and func.attr.value == "AdamW"):
            return
        if ctx.qualname(func) != "tensorflow_addons.optimizers.AdamW":
            return
        message = (
            "`tfa.optimizers.AdamW` -> `keras.optimizers.AdamW`: pass every argument by keyword, "
            "`weight_decay=` included (Keras also multiplies it by the learning rate)"
        )
        keywords_only = all(arg.keyword is not None for arg in node.args) and not has_star_args(node)
        if not keywords_only or call_keyword(node, "weight_decay") is None:
            ctx.report(func, message)
            return
        reference = ctx.reference("keras.optimizers.AdamW")
        fix = None
        if reference is not None:
            fix = FixSpec.unsafe("Use `keras.optimizers.AdamW`", Replace(func, reference[0]), imports=reference[1])
        ctx.report(func, message, fix=fix)
