"""KER419: a model input of dtype string, which only TensorFlow can hold."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_keyword, string_value
from ..engine.rule import Example, Rule

# `keras.Input`, `keras.layers.Input` and the layer behind them.
_INPUTS = frozenset({"Input", "layers.Input", "layers.InputLayer", "InputLayer"})
_STRING_DTYPES = frozenset({"tensorflow.string", "tensorflow.dtypes.string"})


class StringModelInput(Rule):
    """
    ## Why
    A Keras 2 text model often takes raw strings: `keras.Input(shape=(1,), dtype="string")`
    followed by `TextVectorization` or `StringLookup`, so that the saved model serves text.
    Keras 3 still builds such a model, but only TensorFlow has string tensors: on JAX and
    PyTorch every way of feeding it strings fails (`ValueError: Invalid dtype: str96` from
    `predict()` / `fit()` on a NumPy array, `Invalid dtype: object` on an object array or a
    `tf.data` pipeline), with TensorFlow installed or not.

    ## Example
    ```python
    text = keras.Input(shape=(1,), dtype="string")
    ids = vectorize_layer(text)
    model = keras.Model(text, head(ids))
    ```

    ## Use instead
    Turn strings into ids in the input pipeline, and give the model integer inputs:
    ```python
    train_ds = train_ds.map(lambda text, label: (vectorize_layer(text), label))
    ids = keras.Input(shape=(None,), dtype="int64")
    model = keras.Model(ids, head(ids))
    ```
    For serving raw text, keep a TensorFlow-only wrapper model for export.

    ## Backends
    JAX and PyTorch (checked on Keras 3.15.1: `predict()` fails on both; on TensorFlow the
    model runs when fed TensorFlow tensors or a `tf.data` pipeline).

    ## Fix safety
    No fix: moving the string layers out of the model changes its inputs and its callers.

    ## References
    - Keras 3 `keras.Input` (`dtype="string"` is accepted, the backend tensor is not).
    - Related: KER540 (`TextVectorization` in a `tf.data` pipeline works on every backend).
    """

    code = "KER419"
    name = "string-model-input"
    message = (
        "a string model input runs only on TensorFlow: JAX and PyTorch cannot hold strings "
        "(`ValueError: Invalid dtype`); map text to ids in the input pipeline "
        "(`ds.map(...)`) and give the model integer inputs"
    )
    nodes = (cst.Call,)
    backends = frozenset({"jax", "torch"})
    examples = (
        Example(
            "import keras\n\n"
            'text = keras.Input(shape=(1,), «dtype="string"»)\n'
            "ids = keras.layers.StringLookup(vocabulary=['a', 'b'])(text)\n"
            "model = keras.Model(text, ids)\n"
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow.keras import layers\n\n"
            "model = tf.keras.Sequential([\n"
            "    layers.InputLayer(input_shape=(1,), «dtype=tf.string»),\n"
            "    layers.TextVectorization(max_tokens=100),\n"
            "])\n"
        ),
        Example(
            "from keras import Input, layers\n\n"
            "def text_model(vectorize):\n"
            "    raw = Input((1,), «dtype='string'»)\n"
            "    return vectorize(raw)\n"
        ),
    )
    valid = (
        'import keras\n\nids = keras.Input(shape=(None,), dtype="int64")\n',
        'import keras\n\nids = keras.Input(shape=(None,), dtype="int32", name="string")\n',
        # Another library's `Input`.
        'import gradio as gr\n\nbox = gr.Input(dtype="string")\n',
        # A string tensor outside a model input.
        'import tensorflow as tf\nimport keras\n\nwords = tf.constant(["a"], dtype=tf.string)\n',
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"Input", "InputLayer"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        api = ctx.keras_api(node.func)
        if api is None or api[0] not in _INPUTS:
            return
        dtype = call_keyword(node, "dtype")
        if dtype is None:
            return
        if string_value(dtype.value) == "string" or ctx.qualname(dtype.value) in _STRING_DTYPES:
            ctx.report(dtype)
