"""KER202-KER218, KER220: TensorFlow ops whose `keras.ops` counterpart differs in a way a plain
rename gets wrong (a default axis, an argument's meaning, the result's form).

Same scope as KER201: the op runs inside Keras model code (layer and model methods, `Lambda`
functions, losses and metrics). Each row of `data/ops_tf.toml` names the code that reports it.
"""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_keyword, positional_args
from ..engine.edits import FixSpec, Replace
from ..engine.rule import Example
from ._base import TfOpRule, spelled
from ._table import Row


def _layer(imports: str, statement: str, base: str = "keras.layers.Layer") -> str:
    """A module with a layer whose `call` runs `statement`."""
    return f"{imports}\n\nclass Block({base}):\n    def call(self, x, ids):\n        {statement}\n"


_TF = "import tensorflow as tf\nimport keras"
_TF_OPS = "import tensorflow as tf\nimport keras\nfrom keras import ops"
_TF_LAYERS = "import tensorflow as tf\nfrom tensorflow.keras import layers"
_TF_LAYERS_FIXED = "import tensorflow as tf\nfrom tensorflow.keras import layers\nimport keras"


class TfGatherAxis(TfOpRule):
    """
    ## Why
    `keras.ops.take(x, indices)` flattens `x` when no axis is given, while `tf.gather` and
    `tf.nn.embedding_lookup` take along axis 0. A plain rename silently gives a different
    result: for a (3, 4) input, `tf.gather(x, [2, 0])` has shape (2, 4) and
    `keras.ops.take(x, [2, 0])` has shape (2,).

    ## Example
    ```python
    rows = tf.gather(self.table, ids)
    ```

    ## Use instead
    ```python
    rows = keras.ops.take(self.table, ids, axis=0)
    ```

    ## Backends
    JAX, and PyTorch in training (the TF op itself; see KER201).

    ## Fix safety
    Safe: the fix keeps TF's axis (`axis=0` unless given). `batch_dims=` or `max_norm=` have no
    counterpart: no fix.

    ## References
    - Catalogue MB-OPS-010 (verified on Keras 3.15.1); guide claims #10 and #11.
    """

    code = "KER202"
    name = "tf-gather-axis"
    message = "`keras.ops.take` flattens its input unless given an axis: port `tf.gather` with `axis=0`"
    fix = "safe"
    examples = (
        Example(
            _layer(_TF, "return «tf.gather»(x, ids)"),
            _layer(_TF, "return keras.ops.take(x, ids, axis=0)"),
        ),
        Example(
            _layer(_TF_OPS, "return «tf.nn.embedding_lookup»(self.table, ids)"),
            _layer(_TF_OPS, "return ops.take(self.table, ids, axis=0)"),
        ),
        Example(
            _layer(_TF_LAYERS, "return «tf.gather»(x, ids, axis=1, name='g')", "layers.Layer"),
            _layer(_TF_LAYERS_FIXED, "return keras.ops.take(x, ids, axis=1)", "layers.Layer"),
        ),
        Example(_layer(_TF, "return «tf.gather»(x, ids, batch_dims=1)"), None),
    )
    valid = (
        _layer("import keras", "return keras.ops.take(x, ids, axis=0)"),
        "import tensorflow as tf\n\ndef lookup(table, ids):\n    return tf.gather(table, ids)\n",
        _layer("import keras\nimport numpy as np", "return np.take(x, ids)"),
    )


class TfGatherNd(TfOpRule):
    """
    ## Why
    `keras.ops` has no `gather_nd`. The migration guide's `keras.ops.take_along_axis` means
    something else: for a (3, 4) `x`, `take_along_axis(x, [[0, 1], [2, 3]], axis=1)` raises a
    broadcast error (`ValueError` on JAX and TensorFlow, `RuntimeError` on PyTorch) where
    `tf.gather_nd` returns the two addressed elements.

    ## Example
    ```python
    picked = tf.gather_nd(scores, coords)          # coords: (N, 2)
    ```

    ## Use instead
    ```python
    # on every backend: take from the flattened tensor
    picked = keras.ops.take(
        keras.ops.reshape(scores, (-1,)), coords[:, 0] * scores.shape[1] + coords[:, 1]
    )
    # on JAX and PyTorch only (a TensorFlow tensor takes no integer-array index)
    picked = scores[coords[:, 0], coords[:, 1]]
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    No fix: the rewrite depends on the index layout.

    ## References
    - Catalogue MB-OPS-011; guide claim #5.
    """

    code = "KER203"
    name = "tf-gather-nd"
    message = "`tf.gather_nd` has no `keras.ops` counterpart (not `take_along_axis`): index the tensor instead"
    examples = (
        Example(_layer(_TF, "return «tf.gather_nd»(x, ids)"), None),
        Example(_layer(_TF_LAYERS, "return «tf.gather_nd»(params=x, indices=ids)", "layers.Layer"), None),
    )
    valid = (
        "import tensorflow as tf\n\ndef parse(x, ids):\n    return tf.gather_nd(x, ids)\n",
        _layer("import keras", "return x[ids[:, 0], ids[:, 1]]"),
    )


class _DefaultAxisRule(TfOpRule):
    """An op whose Keras counterpart has another default axis: a call that gives its axis is
    told only to port the op, not warned about the default."""

    def describe(self, node: cst.Call, row: Row) -> str:
        if _gives_axis(node):
            return f"`{spelled(node)}` runs only on the TensorFlow backend: use `keras.{row.target}` (the axis carries over)"
        return self.message

    def annotate(self, node: cst.Call, row: Row) -> str | None:
        if _gives_axis(node):
            return row.axis_given_note or None
        return row.note or None


def _gives_axis(node: cst.Call) -> bool:
    return call_keyword(node, "axis") is not None or len(positional_args(node)) >= 2


class TfArgmaxAxis(_DefaultAxisRule):
    """
    ## Why
    `tf.argmax(x)` works along axis 0; `keras.ops.argmax(x)` flattens first and returns one
    index. For a (3, 4) input, TF gives `[2, 2, 2, 2]` (int64) and Keras gives `11` (int32).

    ## Example
    ```python
    best = tf.argmax(scores)
    ```

    ## Use instead
    ```python
    best = keras.ops.argmax(scores, axis=0)
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Safe: the fix adds `axis=0` unless an axis is given. `output_type=` gets no fix: the result
    is int32 in Keras; cast it where the dtype matters.

    ## References
    - Catalogue MB-OPS-012 (verified on Keras 3.15.1).
    """

    code = "KER204"
    name = "tf-argmax-axis"
    message = "`keras.ops.argmax`/`argmin` flatten the input unless given an axis: port with `axis=0`"
    fix = "safe"
    examples = (
        Example(
            _layer(_TF, "return «tf.argmax»(x)"),
            _layer(_TF, "return keras.ops.argmax(x, axis=0)"),
        ),
        Example(
            _layer(_TF_OPS, "return «tf.math.argmin»(x, -1)"),
            _layer(_TF_OPS, "return ops.argmin(x, -1)"),
        ),
        Example(_layer(_TF, "return «tf.argmax»(x, axis=1, output_type=tf.int32)"), None),
    )
    valid = (
        _layer("import keras", "return keras.ops.argmax(x, axis=0)"),
        _layer("import keras\nimport numpy as np", "return np.argmax(x)"),
    )


class TfCumsumAxis(_DefaultAxisRule):
    """
    ## Why
    `tf.math.cumsum(x)` runs along axis 0; `keras.ops.cumsum(x)` flattens first. A (3, 4)
    input gives a (3, 4) result in TF and a (12,) result in Keras. The same holds for
    `cumprod`.

    ## Example
    ```python
    totals = tf.math.cumsum(x)
    ```

    ## Use instead
    ```python
    totals = keras.ops.cumsum(x, axis=0)
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Safe: the fix adds `axis=0` unless an axis is given. `exclusive=` and `reverse=` have no
    counterpart: no fix.

    ## References
    - Catalogue MB-OPS-013 (verified on Keras 3.15.1).
    """

    code = "KER205"
    name = "tf-cumsum-axis"
    message = "`keras.ops.cumsum`/`cumprod` flatten the input unless given an axis: port with `axis=0`"
    fix = "safe"
    examples = (
        Example(
            _layer(_TF, "return «tf.math.cumsum»(x)"),
            _layer(_TF, "return keras.ops.cumsum(x, axis=0)"),
        ),
        Example(
            _layer(_TF_OPS, "return «tf.math.cumprod»(x, axis=-1)"),
            _layer(_TF_OPS, "return ops.cumprod(x, axis=-1)"),
        ),
        Example(_layer(_TF, "return «tf.cumsum»(x, exclusive=True)"), None),
    )
    valid = (_layer("import keras", "return keras.ops.cumsum(x, axis=0)"),)


class TfDiagPart(TfOpRule):
    """
    ## Why
    `keras.ops.diagonal` takes the diagonal of axes 0 and 1 by default; `tf.linalg.diag_part`
    takes it from the last two axes. On a batch of matrices (2, 3, 3) TF returns (2, 3) and the
    plain rename returns (3, 2) of other values.

    ## Example
    ```python
    d = tf.linalg.diag_part(m)
    ```

    ## Use instead
    ```python
    d = keras.ops.diagonal(m, axis1=-2, axis2=-1)
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Safe: the fix names the last two axes. `k=` (off-diagonals) gets no fix.

    ## References
    - Catalogue MB-OPS-014 (verified equal on a (2, 3, 3) batch).
    """

    code = "KER206"
    name = "tf-diag-part-axes"
    message = "`keras.ops.diagonal` uses axes 0 and 1: port `tf.linalg.diag_part` with `axis1=-2, axis2=-1`"
    fix = "safe"
    examples = (
        Example(
            _layer(_TF, "return «tf.linalg.diag_part»(x)"),
            _layer(_TF, "return keras.ops.diagonal(x, axis1=-2, axis2=-1)"),
        ),
        Example(_layer(_TF, "return «tf.linalg.diag_part»(x, k=1)"), None),
    )
    valid = (_layer("import keras", "return keras.ops.diagonal(x, axis1=-2, axis2=-1)"),)


class TfTensorScatterUpdate(TfOpRule):
    """
    ## Why
    The migration guide maps `tf.tensor_scatter_nd_update` to `keras.ops.slice_update`, which
    writes one contiguous block from start indices: with scatter indices it fails
    (`ValueError: Slice indices must be a 1D sequence` on JAX, `InvalidArgumentError` on
    TensorFlow, `RuntimeError: shape mismatch` on PyTorch). The equivalent is `keras.ops.scatter_update(inputs, indices,
    updates)` (verified identical output).

    ## Example
    ```python
    y = tf.tensor_scatter_nd_update(x, indices, updates)
    ```

    ## Use instead
    ```python
    y = keras.ops.scatter_update(x, indices, updates)
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Safe.

    ## References
    - Catalogue MB-OPS-015; guide claim #6.
    """

    code = "KER207"
    name = "tf-tensor-scatter-update"
    message = "Port `tf.tensor_scatter_nd_update` to `keras.ops.scatter_update` (not `slice_update`)"
    fix = "safe"
    examples = (
        Example(
            _layer(_TF, "return «tf.tensor_scatter_nd_update»(x, ids, x[:2])"),
            _layer(_TF, "return keras.ops.scatter_update(x, ids, x[:2])"),
        ),
        Example(
            _layer(_TF_OPS, "return «tf.tensor_scatter_nd_update»(tensor=x, indices=ids, updates=x)"),
            _layer(_TF_OPS, "return ops.scatter_update(inputs=x, indices=ids, updates=x)"),
        ),
    )
    valid = (_layer("import keras", "return keras.ops.scatter_update(x, ids, x)"),)


class TfSvdOrder(TfOpRule):
    """
    ## Why
    `tf.linalg.svd(m)` returns `(s, u, v)`; `keras.ops.svd(m)` returns `(u, s, vh)`, with `v`
    transposed. A rename unpacks the wrong arrays (shapes `[(3,), (3, 3), (3, 3)]` against
    `[(3, 3), (3,), (3, 3)]`).

    ## Example
    ```python
    s, u, v = tf.linalg.svd(m)
    ```

    ## Use instead
    ```python
    u, s, vh = keras.ops.svd(m)
    v = keras.ops.swapaxes(vh, -1, -2)
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    No fix: the code that uses the results changes too.

    ## References
    - Catalogue MB-OPS-016 (verified on Keras 3.15.1).
    """

    code = "KER208"
    name = "tf-svd-order"
    message = "`keras.ops.svd` returns `(u, s, vh)` where `tf.linalg.svd` returns `(s, u, v)`: reorder by hand"
    examples = (Example(_layer(_TF, "s, u, v = «tf.linalg.svd»(x)"), None),)
    valid = (_layer("import keras", "u, s, vh = keras.ops.svd(x)"),)


class TfSplitSizes(TfOpRule):
    """
    ## Why
    A list in `tf.split(x, [1, 3])` gives the sizes of the pieces; in `keras.ops.split` (as in
    NumPy) it gives the indices to split at. With the same list TF gives 2 pieces of widths 1
    and 3, Keras 3 pieces of widths 1, 2 and 1.

    ## Example
    ```python
    head, tail = tf.split(x, [1, 3], axis=1)
    ```

    ## Use instead
    ```python
    head, tail = keras.ops.split(x, [1], axis=1)
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Unsafe: sizes `[s0, s1, ...]` become the running sums without the last one. It is exact,
    but Keras does not check that the sizes add up to the axis length as TF does. Sizes that
    are not literals get no fix. An int (`tf.split(x, 2)`) means the same on both sides and is
    KER201's.

    ## References
    - Catalogue MB-OPS-018 (verified on Keras 3.15.1).
    """

    code = "KER210"
    name = "tf-split-sizes"
    message = "A list in `tf.split` gives piece sizes; in `keras.ops.split` it gives split indices"
    fix = "unsafe"
    examples = (
        Example(
            _layer(_TF, "return «tf.split»(x, [1, 3], axis=1)"),
            _layer(_TF, "return keras.ops.split(x, [1], axis=1)"),
            unsafe=True,
        ),
        Example(
            _layer(_TF_OPS, "return «tf.split»(x, num_or_size_splits=(2, 2, 4))"),
            _layer(_TF_OPS, "return ops.split(x, indices_or_sections=[2, 4])"),
            unsafe=True,
        ),
        Example(_layer(_TF, "return «tf.split»(x, [a, b])"), None),
    )
    valid = (_layer("import keras", "return keras.ops.split(x, [1], axis=1)"),)


class TfIntegerMean(TfOpRule):
    """
    ## Why
    On an integer tensor `tf.reduce_mean` keeps the integer dtype (the mean of `[1, 2]` is `1`);
    `keras.ops.mean` returns a float (`1.5`). Reported when the argument is visibly cast to an
    integer type.

    ## Example
    ```python
    m = tf.reduce_mean(tf.cast(x, "int32"))
    ```

    ## Use instead
    ```python
    m = keras.ops.cast(keras.ops.mean(keras.ops.cast(x, "int32")), "int32")
    ```
    (or keep the float mean if that was the intent).

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Unsafe: casting the float mean back truncates as TF does, but very large integers lose
    precision in float32.

    ## References
    - Catalogue MB-OPS-019 (verified on Keras 3.15.1).
    """

    code = "KER211"
    name = "tf-integer-mean"
    message = "`tf.reduce_mean` of integers stays integer; `keras.ops.mean` returns a float"
    fix = "unsafe"
    examples = (
        Example(
            _layer(_TF, 'return «tf.reduce_mean»(tf.cast(x, "int32"))'),
            _layer(_TF, 'return keras.ops.cast(keras.ops.mean(tf.cast(x, "int32")), "int32")'),
            unsafe=True,
        ),
        Example(
            _layer(_TF_OPS, "return «tf.math.reduce_mean»(ops.cast(x, dtype=tf.int64), axis=0)"),
            _layer(_TF_OPS, 'return ops.cast(ops.mean(ops.cast(x, dtype=tf.int64), axis=0), "int64")'),
            unsafe=True,
        ),
    )
    valid = (
        _layer(_TF, "return tf.reduce_mean(tf.cast(x, tf.float32))"),
        _layer("import keras", 'return keras.ops.mean(keras.ops.cast(x, "int32"))'),
    )


class TfWhereOneArgument(TfOpRule):
    """
    ## Why
    One-argument `tf.where(cond)` returns an (N, ndim) tensor of coordinates;
    `keras.ops.where(cond)` returns one index array per axis, as NumPy's `nonzero` does (a
    tuple on JAX, a list on TensorFlow, an (ndim, N) tensor on PyTorch). Either way the shape
    depends on the data, which JAX cannot trace: `jnp.nonzero` under `jit` raises
    `ConcretizationTypeError` ("The size argument of jnp.nonzero must be statically
    specified"), and a Keras model fails while it builds.

    ## Example
    ```python
    coords = tf.where(mask)
    ```

    ## Use instead
    Mask instead of gathering coordinates: `keras.ops.where(mask, x, 0)`. If the coordinates
    are needed (outside traced code), `keras.ops.stack(keras.ops.where(mask), axis=1)` gives
    TensorFlow's (N, ndim) layout.

    ## Backends
    JAX. Not PyTorch: a boolean mask carries no gradient, so TensorFlow reads the torch tensor
    through NumPy and the op runs, in `fit()` too (checked on the CPU), and
    `keras.ops.where(mask)` is not traced there.

    ## Fix safety
    No fix. Three-argument `tf.where` maps to `keras.ops.where` directly (KER201).

    ## References
    - Catalogue MB-OPS-020, MB-JAX-003.
    """

    code = "KER212"
    name = "tf-where-one-argument"
    backends = frozenset({"jax"})
    message = "One-argument `tf.where` returns coordinates whose shape depends on the data: mask with `keras.ops.where(c, x, y)`"
    examples = (
        Example(_layer(_TF, "return «tf.where»(x > 0)"), None),
        Example(_layer(_TF_LAYERS, "return «tf.where»(condition=x > 0)", "layers.Layer"), None),
    )
    valid = (
        _layer(_TF, "return keras.ops.where(x > 0, x, 0)"),
        "import tensorflow as tf\n\ndef positions(x):\n    return tf.where(x > 0)\n",
    )


class TfGeluApproximate(TfOpRule):
    """
    ## Why
    `tf.nn.gelu` defaults to the exact (erf) GELU; `keras.ops.gelu` defaults to the tanh
    approximation. A plain rename changes the numbers (by about 1e-4 to 2e-4), which
    is how many hand migrations went wrong. `keras.activations.gelu` and `activation="gelu"`
    default to the exact form, like TF.

    ## Example
    ```python
    y = tf.nn.gelu(x)
    layer = keras.layers.Dense(64, activation=tf.nn.gelu)
    ```

    ## Use instead
    ```python
    y = keras.ops.gelu(x, approximate=False)
    layer = keras.layers.Dense(64, activation="gelu")
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Safe: the fix spells out `approximate=False` (or keeps the given value).

    ## References
    - Catalogue MB-OPS-021; guide claim #17 (verified numerically).
    """

    code = "KER213"
    name = "tf-gelu-approximate"
    message = "`keras.ops.gelu` approximates by default and `tf.nn.gelu` does not: port with `approximate=False`"
    fix = "safe"
    examples = (
        Example(
            _layer(_TF, "return «tf.nn.gelu»(x)"),
            _layer(_TF, "return keras.ops.gelu(x, approximate=False)"),
        ),
        Example(
            _layer(_TF_OPS, "return «tf.nn.gelu»(x, approximate=True)"),
            _layer(_TF_OPS, "return ops.gelu(x, approximate=True)"),
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow.keras import layers\n\n"
            "dense = layers.Dense(64, «activation=tf.nn.gelu»)\n",
            "import tensorflow as tf\nfrom tensorflow.keras import layers\n\n"
            'dense = layers.Dense(64, activation="gelu")\n',
        ),
    )
    valid = (
        _layer("import keras", "return keras.ops.gelu(x, approximate=False)"),
        "import keras\ndense = keras.layers.Dense(64, activation='gelu')\n",
        "import tensorflow as tf\n\ndef act(x):\n    return tf.nn.gelu(x)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(self.leaves)

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"activation"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        super().visit(node, ctx)
        activation = call_keyword(node, "activation")
        if activation is None or not isinstance(activation.value, cst.Attribute):
            return
        if ctx.qualname(activation.value) != "tensorflow.nn.gelu":
            return
        api = ctx.keras_api(node.func)
        if api is None or not api[0].startswith("layers."):
            return
        ctx.report_arg(
            activation,
            "`activation=tf.nn.gelu` runs a TensorFlow op: use `activation=\"gelu\"` (exact GELU, like TF)",
            fix=FixSpec.safe('Use activation="gelu"', Replace(activation.value, '"gelu"')),
        )


class TfMatmulTranspose(TfOpRule):
    """
    ## Why
    `keras.ops.matmul(x1, x2)` has no `transpose_a` / `transpose_b` / `adjoint_a` /
    `adjoint_b`: a renamed call raises `TypeError: matmul() got an unexpected keyword argument
    'transpose_b'`.

    ## Example
    ```python
    scores = tf.matmul(q, k, transpose_b=True)
    ```

    ## Use instead
    ```python
    scores = keras.ops.matmul(q, keras.ops.swapaxes(k, -1, -2))
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201); every backend once the call is renamed by hand.

    ## Fix safety
    Safe: the operand is transposed over its last two axes (batches too); `adjoint_*` also
    conjugates. Flags that are not literal `True`/`False` get no fix.

    ## References
    - Catalogue MB-OPS-022 (verified `TypeError` for `transpose_b`).
    """

    code = "KER214"
    name = "tf-matmul-transpose"
    message = "`keras.ops.matmul` has no transpose/adjoint flags: transpose the operand with `keras.ops.swapaxes`"
    fix = "safe"
    examples = (
        Example(
            _layer(_TF, "return «tf.matmul»(x, ids, transpose_b=True)"),
            _layer(_TF, "return keras.ops.matmul(x, keras.ops.swapaxes(ids, -1, -2))"),
        ),
        Example(
            _layer(_TF_OPS, "return «tf.linalg.matmul»(x, ids, transpose_a=True, adjoint_b=False)"),
            _layer(_TF_OPS, "return ops.matmul(ops.swapaxes(x, -1, -2), ids)"),
        ),
        Example(_layer(_TF, "return «tf.matmul»(x, ids, transpose_b=self.flip)"), None),
    )
    valid = (
        _layer("import keras", "return keras.ops.matmul(x, keras.ops.swapaxes(ids, -1, -2))"),
        "import tensorflow as tf\n\ndef f(a, b):\n    return tf.matmul(a, b, transpose_b=True)\n",
    )


class TfSortDirection(TfOpRule):
    """
    ## Why
    `keras.ops.sort` and `keras.ops.argsort` sort ascending and take no `direction=`:
    a renamed call raises `TypeError: sort() got an unexpected keyword argument 'direction'`.

    ## Example
    ```python
    top = tf.sort(x, axis=1, direction="DESCENDING")
    ```

    ## Use instead
    ```python
    top = keras.ops.flip(keras.ops.sort(x, axis=1), axis=1)
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Safe for `sort` (sorted values are the same either way). Unsafe for `argsort`: flipping an
    ascending argsort puts equal values' indices in the reverse order of TF's stable
    descending sort.

    ## References
    - Catalogue MB-OPS-023.
    """

    code = "KER215"
    name = "tf-sort-direction"
    message = "`keras.ops.sort`/`argsort` have no `direction=`: flip the ascending result"
    fix = "mixed"
    examples = (
        Example(
            _layer(_TF, 'return «tf.sort»(x, axis=1, direction="DESCENDING")'),
            _layer(_TF, "return keras.ops.flip(keras.ops.sort(x, axis=1), axis=1)"),
        ),
        Example(
            _layer(_TF_OPS, 'return «tf.sort»(x, direction="ASCENDING")'),
            _layer(_TF_OPS, "return ops.sort(x)"),
        ),
        Example(
            _layer(_TF_OPS, 'return «tf.argsort»(x, direction="DESCENDING")'),
            _layer(_TF_OPS, "return ops.flip(ops.argsort(x), axis=-1)"),
            unsafe=True,
        ),
    )
    valid = (_layer("import keras", "return keras.ops.flip(keras.ops.sort(x))"),)


class TfComplexFft(TfOpRule):
    """
    ## Why
    `keras.ops.fft`, `fft2`, `ifft2`, `rfft` and `irfft` take and return `(real, imag)` tuples,
    not complex tensors: passing a complex tensor raises `ValueError`.

    ## Example
    ```python
    spectrum = tf.signal.fft2d(tf.complex(real, imag))
    ```

    ## Use instead
    ```python
    spectrum_real, spectrum_imag = keras.ops.fft2((real, imag))
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Unsafe: the argument becomes a tuple when it is a literal `tf.complex(real, imag)`, but the
    result is a tuple too and the code using it must change. Other arguments, `tf.signal.ifft`
    and `inverse_stft` get no fix.

    ## References
    - Catalogue MB-OPS-024 (verified equal real parts).
    """

    code = "KER216"
    name = "tf-complex-fft"
    message = "`keras.ops` FFTs work on `(real, imag)` tuples, not complex tensors"
    fix = "unsafe"
    examples = (
        Example(
            _layer(_TF, "return «tf.signal.fft2d»(tf.complex(x, ids))"),
            _layer(_TF, "return keras.ops.fft2((x, ids))"),
            unsafe=True,
        ),
        Example(_layer(_TF_OPS, "return «tf.signal.fft»(x)"), None),
        Example(_layer(_TF_OPS, "return «tf.signal.inverse_stft»(x, 256, 128)"), None),
    )
    valid = (_layer("import keras", "return keras.ops.fft2((x, ids))"),)


class TfL2Normalize(TfOpRule):
    """
    ## Why
    `tf.nn.l2_normalize` is TF-only. Its counterpart is the op `keras.ops.normalize` (equal,
    zero rows included), not `keras.utils.normalize` as the migration guide says: that one is
    not an op and returns a NumPy array for NumPy input. Without an axis TF normalizes the
    whole tensor while `keras.ops.normalize` uses the last axis.

    ## Example
    ```python
    unit = tf.nn.l2_normalize(x, axis=-1)
    ```

    ## Use instead
    ```python
    unit = keras.ops.normalize(x, axis=-1)
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Safe: the axis is kept, or `axis=None` is spelled out. `epsilon=` is applied differently
    (to the squared norm in TF, to the norm in Keras): no fix.

    ## References
    - Catalogue MB-OPS-025; guide claim #9.
    """

    code = "KER217"
    name = "tf-l2-normalize"
    message = "Port `l2_normalize` to `keras.ops.normalize` (not `keras.utils.normalize`)"
    fix = "safe"
    examples = (
        Example(
            _layer(_TF, "return «tf.nn.l2_normalize»(x, axis=-1)"),
            _layer(_TF, "return keras.ops.normalize(x, axis=-1)"),
        ),
        Example(
            _layer(_TF_OPS, "return «tf.math.l2_normalize»(x)"),
            _layer(_TF_OPS, "return ops.normalize(x, axis=None)"),
        ),
        Example(_layer(_TF, "return «tf.nn.l2_normalize»(x, 1, epsilon=1e-6)"), None),
    )
    valid = (_layer("import keras", "return keras.ops.normalize(x, axis=-1)"),)


class TfShapeTuple(TfOpRule):
    """
    ## Why
    `keras.ops.shape(x)` returns a Python tuple, not a tensor. Under JAX every dimension is a
    static int while tracing, and while building a functional model unknown dimensions are
    `None`. `tf.shape(x)[0]` carries over as is; code that uses the whole shape as a tensor
    (`tf.concat([tf.shape(x), ...])`, arithmetic on it) needs rewriting.

    ## Example
    ```python
    batch = tf.shape(x)[0]
    dims = tf.shape(x)
    ```

    ## Use instead
    ```python
    batch = keras.ops.shape(x)[0]
    dims = keras.ops.shape(x)            # a tuple
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Safe for an indexed shape (`tf.shape(x)[i]`); unsafe for the whole shape (tensor vs tuple).

    ## References
    - Catalogue MB-OPS-026 and the `tf.shape` row of MB-OPS-000.
    """

    code = "KER218"
    name = "tf-shape-tuple"
    message = "`keras.ops.shape` returns a tuple, not a tensor: port `tf.shape` with care"
    fix = "mixed"
    examples = (
        Example(
            _layer(_TF, "return «tf.shape»(x)[0]"),
            _layer(_TF, "return keras.ops.shape(x)[0]"),
        ),
        Example(
            _layer(_TF_OPS, "return «tf.shape»(x)"),
            _layer(_TF_OPS, "return ops.shape(x)"),
            unsafe=True,
        ),
    )
    valid = (
        _layer("import keras", "return keras.ops.shape(x)[0]"),
        "import tensorflow as tf\n\ndef batch_of(x):\n    return tf.shape(x)[0]\n",
    )


class TfControlFlow(TfOpRule):
    """
    ## Why
    `tf.cond`, `tf.while_loop`, `tf.map_fn`, `tf.vectorized_map`, `tf.scan` and the folds are
    TF graph control flow. `keras.ops` has the same for every backend: `cond`, `while_loop`,
    `map`, `vectorized_map`, `scan`, `fori_loop`.

    ## Example
    ```python
    y = tf.cond(training, lambda: x * 2, lambda: x)
    ys = tf.map_fn(f, xs)
    ```

    ## Use instead
    ```python
    y = keras.ops.cond(training, lambda: x * 2, lambda: x)
    ys = keras.ops.map(f, xs)
    ```

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    Safe for `cond`, `while_loop`, `vectorized_map` and `map_fn` (same callable protocol).
    Unsafe for `map_fn` with `fn_output_signature=` / `dtype=`, which are dropped. `scan` and
    the folds get no fix: the step function's protocol differs.

    ## References
    - Catalogue MB-OPS-028.
    """

    code = "KER220"
    name = "tf-control-flow"
    message = "TensorFlow control flow runs only on the TensorFlow backend: use `keras.ops` control flow"
    fix = "mixed"
    examples = (
        Example(
            _layer(_TF, "return «tf.cond»(ids, lambda: x * 2, lambda: x)"),
            _layer(_TF, "return keras.ops.cond(ids, lambda: x * 2, lambda: x)"),
        ),
        Example(
            _layer(_TF_OPS, "return «tf.while_loop»(lambda i: i < 3, lambda i: i + 1, [x])"),
            _layer(_TF_OPS, "return ops.while_loop(lambda i: i < 3, lambda i: i + 1, [x])"),
        ),
        Example(
            _layer(_TF_LAYERS, "return «tf.map_fn»(fn=self.step, elems=x)", "layers.Layer"),
            _layer(_TF_LAYERS_FIXED, "return keras.ops.map(f=self.step, xs=x)", "layers.Layer"),
        ),
        Example(
            _layer(_TF, "return «tf.map_fn»(self.step, x, fn_output_signature=tf.float32)"),
            _layer(_TF, "return keras.ops.map(self.step, x)"),
            unsafe=True,
        ),
        Example(_layer(_TF, "return «tf.scan»(lambda a, v: a + v, x)"), None),
    )
    valid = (
        _layer("import keras", "return keras.ops.cond(ids, lambda: x, lambda: x)"),
        "import tensorflow as tf\n\n@tf.function\ndef loop(n):\n    return tf.while_loop(lambda i: i < n, lambda i: i + 1, [0])\n",
    )
