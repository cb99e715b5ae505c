"""KER2xx: TensorFlow ops in Keras model code -> keras.ops, checked number by number.

Each group is one program: every op sits in the `call()` of its own layer (where the rules look),
wrapped in a functional model and run with `predict()`. On the JAX backend the TensorFlow op
cannot take JAX's traced arrays; on TensorFlow the same program gives the reference numbers that
kerasfix's `keras.ops` rewrite must reproduce on JAX (per op, so a wrong mapping names itself).

On PyTorch, TensorFlow converts a torch tensor through NumPy, so `predict()` runs on the CPU; what
breaks is training, where the op's input carries gradients. The PyTorch program of each group
also trains every op (`train()`), and kerasfix's rewrite must train and give TensorFlow's numbers.
"""

from __future__ import annotations

from . import Case, raises, result_shows

INPUTS = '''
import numpy as np
import tensorflow as tf
import keras

INPUTS = {
    "f": np.linspace(-0.9, 0.9, 24, dtype="float32").reshape(2, 3, 4),
    "p": np.linspace(0.1, 2.4, 24, dtype="float32").reshape(2, 3, 4),
    "i": np.array([[0, 2, 1, 3], [3, 0, 2, 2]], dtype="int32"),
    "img": np.linspace(0.0, 1.0, 2 * 6 * 6 * 3, dtype="float32").reshape(2, 6, 6, 3),
}
# Symmetric positive definite matrices, for the linear algebra.
_A = np.linspace(-1.0, 1.0, 18, dtype="float32").reshape(2, 3, 3)
INPUTS["m"] = _A @ np.swapaxes(_A, -1, -2) + 3.0 * np.eye(3, dtype="float32")
SORTED = np.array([-0.5, 0.0, 0.5], dtype="float32")
KERNEL = np.linspace(-0.5, 0.5, 3 * 3 * 3 * 2, dtype="float32").reshape(3, 3, 3, 2)
DEPTHWISE = np.linspace(-0.5, 0.5, 2 * 2 * 3 * 1, dtype="float32").reshape(2, 2, 3, 1)
MEAN = np.array([0.1, -0.2, 0.3, 0.0], dtype="float32")
VARIANCE = np.array([0.5, 1.0, 2.0, 0.25], dtype="float32")
OFFSET = np.array([0.2, 0.0, -0.1, 0.3], dtype="float32")
SCALE = np.array([1.5, 0.5, 1.0, 2.0], dtype="float32")
TABLE = np.arange(15, dtype="float32").reshape(5, 3)
POINTWISE = np.linspace(-0.5, 0.5, 3 * 2, dtype="float32").reshape(1, 1, 3, 2)


def probe(layer, kind):
    data = INPUTS[kind]
    inputs = keras.Input(shape=data.shape[1:], dtype=str(data.dtype))
    out = keras.Model(inputs, layer(inputs)).predict(data, verbose=0)
    # A complex tensor (TensorFlow's FFTs) as the (real, imag) pair keras.ops gives.
    # A list of outputs (tf.split's parts) may be ragged: only an array can be complex.
    return [out.real, out.imag] if isinstance(out, np.ndarray) and np.iscomplexobj(out) else out


RESULT = {}
'''

TRAINING = '''
# In a model, statistics are tensors: a NumPy array meets a torch tensor that carries gradients
# only through keras.ops (`x - MEAN` fails in fit on PyTorch; see KER201's fix safety).
MEAN, VARIANCE, OFFSET, SCALE = (keras.ops.convert_to_tensor(a) for a in (MEAN, VARIANCE, OFFSET, SCALE))


class Trained(keras.layers.Layer):
    """Feeds the op a tensor that carries gradients, as any layer after a trainable one gets;
    the op's float outputs join the loss."""

    def __init__(self, op):
        super().__init__()
        self.op = op

    def build(self, shape):
        self.scale = self.add_weight(shape=(), initializer="ones")

    def call(self, x):
        scaled = x * self.scale
        total = keras.ops.mean(scaled)
        for out in keras.tree.flatten(self.op(scaled)):
            if "float" in keras.backend.standardize_dtype(out.dtype):
                total = total + keras.ops.mean(out)
        return keras.ops.zeros_like(scaled[:, :1, 0]) + total


def train(layer, kind):
    data = INPUTS[kind]
    if data.dtype.kind != "f":
        return  # integer inputs carry no gradient
    inputs = keras.Input(shape=data.shape[1:], dtype=str(data.dtype))
    model = keras.Model(inputs, Trained(layer)(inputs))
    model.compile("sgd", "mse")
    model.fit(data, np.zeros((len(data), 1), "float32"), verbose=0)
'''

SMALL_LIBRARY = '''
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import backend as K


class FlattenSteps(keras.layers.Layer):
    """Merges the batch and time axes and scales the features: a layer of a small Keras 2
    library, with the shape it was built for kept in an attribute."""

    def build(self, input_shape):
        self.build_output_shape = input_shape
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, inputs):
        features = self.build_output_shape.as_list()[-1]
        if K.ndim(inputs) == 2:
            return inputs * self.w
        return tf.reshape(inputs, (-1, features)) * self.w


x = np.arange(12, dtype="float32").reshape(2, 2, 3)
layer = FlattenSteps()
RESULT = [np.asarray(layer(x)).tolist(), np.asarray(layer(x[0])).tolist()]
'''


# (name, input kind, body of call(self, x)); one-line bodies are returned as they are.
MATH = [
    ("abs", "f", "tf.abs(x)"),
    ("reduce_all", "f", "tf.reduce_all(x > 0, axis=-1)"),
    ("reduce_any", "f", "tf.reduce_any(x > 0, axis=1)"),
    ("reduce_max", "f", "tf.reduce_max(x, axis=-1)"),
    ("reduce_min", "f", "tf.math.reduce_min(x, axis=1, keepdims=True)"),
    ("reduce_sum", "f", "tf.reduce_sum(x, axis=-1, keepdims=True)"),
    ("reduce_mean", "f", "tf.reduce_mean(x, axis=[1, 2])"),
    ("reduce_prod", "f", "tf.reduce_prod(x, -1)"),
    ("reduce_std", "f", "tf.math.reduce_std(x, axis=-1)"),
    ("reduce_variance", "f", "tf.math.reduce_variance(x, axis=-1)"),
    ("reduce_logsumexp", "f", "tf.reduce_logsumexp(x, axis=-1)"),
    ("acos", "f", "tf.acos(x)"),
    ("asin", "f", "tf.asin(x)"),
    ("asinh", "f", "tf.asinh(x)"),
    ("atan", "f", "tf.atan(x)"),
    ("atan2", "f", "tf.atan2(x, x + 1.5)"),
    ("atanh", "f", "tf.atanh(x)"),
    ("clip_by_value", "f", "tf.clip_by_value(x, -0.5, 0.5)"),
    ("pow", "f", "tf.pow(x, 2.0)"),
    ("floormod", "f", "tf.math.floormod(x, 0.25)"),
    ("divide_no_nan", "f", "tf.math.divide_no_nan(x, x * 0.0)"),
    ("is_finite", "f", "tf.math.is_finite(tf.math.log(x))"),
    ("is_nan", "f", "tf.math.is_nan(tf.math.log(x))"),
    ("is_inf", "f", "tf.math.is_inf(1.0 / (x * 0.0))"),
    ("square-sqrt-exp-log", "p", "tf.sqrt(tf.square(x)) + tf.exp(x) + tf.math.log(x)"),
    ("tanh-sigmoid", "f", "tf.tanh(x) + tf.sigmoid(x)"),
    ("erf-rsqrt-round", "p", "tf.math.erf(x) + tf.math.rsqrt(x) + tf.math.round(x)"),
    ("maximum-minimum-sign", "f", "tf.maximum(x, 0.1) + tf.minimum(x, -0.1) + tf.sign(x)"),
    ("norm", "f", "tf.norm(x, axis=-1)"),
]

SHAPES = [
    ("concat", "f", "tf.concat([x, x * 2.0], axis=-1)"),
    ("reverse", "f", "tf.reverse(x, axis=[-1])"),
    ("transpose", "f", "tf.transpose(x, perm=[0, 2, 1])"),
    ("reshape", "f", "tf.reshape(x, [-1, 12])"),
    ("pad-reflect", "f", 'tf.pad(x, [[0, 0], [1, 1], [0, 0]], mode="REFLECT")'),
    ("pad-constant", "f", "tf.pad(x, [[0, 0], [0, 1], [2, 0]], constant_values=3.0)"),
    ("band_part", "f", "tf.linalg.band_part(tf.matmul(x, x, transpose_b=True), -1, 0)"),
    ("matmul", "f", "tf.matmul(x, x, transpose_b=True)"),
    ("einsum", "f", 'tf.einsum("bij,bkj->bik", x, x)'),
    ("sort", "f", 'tf.sort(x, direction="DESCENDING")'),
    ("argsort", "f", "tf.argsort(x, axis=-1)"),
    ("where", "f", "tf.where(x > 0, x, 0.1 * x)"),
    ("split", "f", "tf.split(x, 2, axis=-1)"),
    ("one_hot", "i", "tf.one_hot(x, 4)"),
    ("tile", "f", "tf.tile(x, [1, 1, 2])"),
    ("stack", "f", "tf.stack([x, x + 1.0], axis=1)"),
    ("squeeze-expand_dims", "f", "tf.squeeze(tf.expand_dims(x, 1), axis=1)"),
    ("cast", "f", 'tf.cast(x > 0, "float32")'),
    ("comparisons", "f", "tf.logical_and(tf.greater(x, -0.5), tf.logical_not(tf.equal(x, 0.0)))"),
    ("broadcast_to", "f", "x + tf.broadcast_to([1.0, 2.0, 3.0, 4.0], [3, 4])"),
    ("zeros_like-ones_like", "f", "tf.zeros_like(x) + tf.ones_like(x) * 2.0"),
    ("top_k", "f", "values, indices = tf.math.top_k(x, k=2)\n        return values"),
    ("moments", "f", "mean, variance = tf.nn.moments(x, axes=[-1])\n        return mean + variance"),
    ("stop_gradient", "f", "tf.stop_gradient(x) * 2.0"),
]

NN = [
    ("softmax", "f", "tf.nn.softmax(x)"),
    ("log_softmax", "f", "tf.nn.log_softmax(x, axis=-1)"),
    ("relu-relu6-softplus", "f", "tf.nn.relu(x * 9.0) + tf.nn.relu6(x * 9.0) + tf.nn.softplus(x)"),
    ("conv2d", "img", 'tf.nn.conv2d(x, KERNEL, [1, 2, 2, 1], "SAME")'),
    ("conv2d-valid", "img", 'tf.nn.conv2d(x, KERNEL, strides=1, padding="VALID")'),
    ("depthwise_conv2d", "img", 'tf.nn.depthwise_conv2d(x, DEPTHWISE, [1, 1, 1, 1], "VALID")'),
    (
        "batch_normalization",
        "f",
        "tf.nn.batch_normalization(x, MEAN, VARIANCE, offset=OFFSET, scale=SCALE, variance_epsilon=1e-3)",
    ),
    ("resize-bilinear", "img", "tf.image.resize(x, [4, 4])"),
    ("resize-nearest", "img", "tf.image.resize(x, [3, 3], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)"),
    (
        "extract_patches",
        "img",
        'tf.image.extract_patches(images=x, sizes=[1, 2, 2, 1], strides=[1, 2, 2, 1], rates=[1, 1, 1, 1], padding="VALID")',
    ),
    (
        "sigmoid_cross_entropy",
        "f",
        'tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(x > 0.2, "float32"), logits=x)',
    ),
    (
        "softmax_cross_entropy",
        "f",
        "tf.nn.softmax_cross_entropy_with_logits(labels=tf.one_hot(tf.argmin(x, axis=-1), 4), logits=x)",
    ),
    (
        "sparse_softmax_cross_entropy",
        "f",
        "tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.argmin(x, axis=-1), logits=x)",
    ),
]

# From the survey of TensorFlow's public ops against keras.ops (see rules/data/ops_tf.toml).
LINALG = [
    ("tensordot", "f", "tf.tensordot(x, tf.transpose(x, [0, 2, 1]), axes=[[2], [1]])"),
    ("matrix_transpose", "f", "tf.linalg.matrix_transpose(x)"),
    ("inv", "m", "tf.linalg.inv(x)"),
    ("cholesky", "m", "tf.linalg.cholesky(x)"),
    ("det-logdet", "m", "tf.linalg.det(x) + tf.linalg.logdet(x)"),
    ("slogdet", "m", "sign, logabs = tf.linalg.slogdet(x)\n        return sign * logabs"),
    ("qr", "m", "q, r = tf.linalg.qr(x)\n        return tf.matmul(q, r)"),
    ("solve", "m", "tf.linalg.solve(x, x[..., :2])"),
    ("triangular_solve", "m", "tf.linalg.triangular_solve(tf.linalg.cholesky(x), x[..., :1])"),
    ("trace", "m", "tf.linalg.trace(x)"),
    ("cross", "m", "tf.linalg.cross(x, x * x)"),
    ("acosh", "p", "tf.math.acosh(x + 1.0)"),
    ("reduce_euclidean_norm", "f", "tf.math.reduce_euclidean_norm(x, [1, 2])"),
    ("erfc-erfinv-i0", "f", "tf.math.erfc(x) + tf.math.erfinv(x) + tf.math.bessel_i0(x)"),
    ("rint-scalar_mul-realdiv", "p", "tf.math.rint(tf.math.scalar_mul(2.5, x)) + tf.realdiv(x, x + 1.0)"),
    ("unsorted_segment_prod", "p", "tf.transpose(tf.math.unsorted_segment_prod(tf.transpose(x, [1, 0, 2]), [1, 0, 1], 2), [1, 0, 2])"),
    ("slice", "f", "tf.slice(x, [0, 1, 1], [2, 2, 3])"),
    ("scatter_nd", "f", "x + tf.scatter_nd([[0, 1], [2, 3]], [1.0, 2.0], [3, 4])"),
    ("identity-is_tensor", "f", "tf.identity(x) * 2.0 if tf.is_tensor(x) else x"),
    ("angle-nextafter", "f", "tf.math.angle(x) + tf.math.nextafter(x, 1.0)"),
    ("saturate_cast", "f", 'tf.saturate_cast(x * 300.0, "uint8")'),
]

IMAGE = [
    ("rgb_to_grayscale", "img", "tf.image.rgb_to_grayscale(x)"),
    ("grayscale_to_rgb", "img", "tf.image.grayscale_to_rgb(x[..., :1])"),
    ("rgb_to_hsv-hsv_to_rgb", "img", "tf.image.hsv_to_rgb(tf.image.rgb_to_hsv(x) * 0.5)"),
    ("crop_to_bounding_box", "img", "tf.image.crop_to_bounding_box(x, 1, 2, 3, 2)"),
    ("pad_to_bounding_box", "img", "tf.image.pad_to_bounding_box(x, 1, 2, 8, 9)"),
    ("flips", "img", "tf.image.flip_left_right(x) + 2.0 * tf.image.flip_up_down(x)"),
    ("rot90", "img", "tf.image.rot90(x, k=1)"),
    ("image_transpose", "img", "tf.image.transpose(x[:, :, :4])"),
    ("max_pool2d", "img", 'tf.nn.max_pool2d(x, 3, 2, "SAME")'),
    ("max_pool-lists", "img", 'tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")'),
    ("avg_pool2d", "img", 'tf.nn.avg_pool2d(x, 2, 2, "VALID")'),
    ("avg_pool1d", "f", 'tf.nn.avg_pool1d(x, 2, 1, "VALID")'),
    ("depth_to_space", "img", "tf.nn.depth_to_space(tf.concat([x, x * 2.0, x * 3.0, x * 4.0], -1), 2)"),
    ("space_to_depth", "img", "tf.nn.space_to_depth(x, 2)"),
    ("frame", "f", "tf.signal.frame(x, 2, 1)"),
    ("bitwise", "i", "tf.bitwise.bitwise_and(x, 2) + tf.bitwise.left_shift(x, 1) + tf.bitwise.right_shift(tf.bitwise.invert(x), 1)"),
    ("bitwise-or-xor", "i", "tf.bitwise.bitwise_or(x, 4) - tf.bitwise.bitwise_xor(x, 3)"),
]

ARITHMETIC = [
    ("add-subtract", "f", "tf.add(x, 1.0) + tf.subtract(x, 0.5) + tf.math.add(x, x)"),
    ("multiply-divide", "p", "tf.multiply(x, 2.0) + tf.divide(x, x + 1.0) + tf.math.truediv(x, 3.0)"),
    (
        "comparisons-and-logic",
        "f",
        'tf.cast(tf.logical_or(tf.greater_equal(x, 0.3), tf.less(x, -0.3)), "float32")'
        ' + 2.0 * tf.cast(tf.math.logical_xor(tf.less_equal(x, 0.0), tf.not_equal(x, 0.1)), "float32")',
    ),
    ("floor-ceil-negative", "f", "tf.math.floor(x * 3.0) + tf.math.ceil(x * 3.0) + tf.negative(x)"),
    ("reciprocal-log1p-expm1", "p", "tf.math.reciprocal(x) + tf.math.log1p(x) + tf.math.expm1(x)"),
    ("trigonometric-hyperbolic", "f", "tf.sin(x) + tf.cos(x) + tf.tan(x) + tf.sinh(x) + tf.cosh(x)"),
    ("real-conj", "f", "tf.math.real(x) + 2.0 * tf.math.conj(x)"),
    (
        "activations",
        "f",
        "tf.math.log_sigmoid(x) + tf.nn.elu(x) + tf.nn.selu(x) + tf.nn.silu(x) + tf.nn.softsign(x)"
        " + tf.nn.leaky_relu(x, alpha=0.1) + tf.nn.leaky_relu(x * 2.0)",
    ),
    ("bias_add", "f", "tf.nn.bias_add(x, MEAN)"),
    ("roll-repeat", "f", "tf.roll(x, shift=1, axis=-1) + tf.repeat(x, 2, axis=-1)[..., :4]"),
    ("unstack", "f", "tf.unstack(x, axis=1)"),
    ("rank-size", "f", 'x * tf.cast(tf.rank(x), "float32") + tf.cast(tf.size(x[0]), "float32")'),
    (
        "zeros-ones-fill-eye-constant",
        "f",
        "x + tf.zeros([3, 4]) + tf.ones([4]) + tf.fill([3, 4], 0.5) + tf.eye(3, 4) + tf.constant(2.0)"
        " + tf.convert_to_tensor(MEAN)",
    ),
    ("range-linspace", "f", 'x + tf.linspace(0.0, 1.0, 4) + tf.cast(tf.range(0, limit=8, delta=2), "float32")'),
    (
        "meshgrid",
        "f",
        'rows, cols = tf.meshgrid(SORTED, MEAN, indexing="ij")\n'
        "        across, down = tf.meshgrid(MEAN, SORTED)\n"
        "        return x * rows + cols - across * down",
    ),
    ("conv1d", "f", 'tf.nn.conv1d(x[..., :3], KERNEL[0], stride=2, padding="SAME")'),
    ("separable_conv2d", "img", 'tf.nn.separable_conv2d(x, DEPTHWISE, POINTWISE, [1, 2, 2, 1], "SAME")'),
    ("in_top_k", "f", "tf.math.in_top_k(tf.argmin(x[:, 1], axis=-1), x[:, 0], 2)"),
    (
        "unsorted_segment_sum",
        "f",
        "tf.transpose(tf.math.unsorted_segment_sum(tf.transpose(x, [1, 0, 2]), [1, 0, 1], 2), [1, 0, 2])",
    ),
]

# Equal where the notes say: a stopped gradient for floordiv (PyTorch has no derivative of it), a
# count over all non-batch axes (PyTorch transposes a 2-D count), imag of a complex tensor.
UNSAFE_ARITHMETIC = [
    ("floordiv", "f", "tf.math.floordiv(tf.stop_gradient(x), 0.25)"),
    ("count_nonzero", "f", "tf.math.count_nonzero(x > 0.2, axis=[1, 2])"),
    (
        "real-imag-conj",
        "f",
        'z = tf.math.conj(tf.cast(x, "complex64") * (1.0 + 0.5j))\n'
        "        return tf.math.real(z) - 2.0 * tf.math.imag(z)",
    ),
]

# Data-dependent shapes: keras.ops.segment_sum/max need `num_segments=` on JAX, boolean indexing
# and bincount do not trace under jit (the rows' notes); on PyTorch they train and give
# TensorFlow's numbers, bincount for a 1-D input (TensorFlow counts a 2-D one whole).
DATA_DEPENDENT = [
    ("segment_sum", "f", "tf.transpose(tf.math.segment_sum(tf.transpose(x, [1, 0, 2]), [0, 0, 1]), [1, 0, 2])"),
    ("segment_max", "f", "tf.transpose(tf.math.segment_max(tf.transpose(x, [1, 0, 2]), [0, 0, 1]), [1, 0, 2])"),
    ("boolean_mask", "f", "tf.boolean_mask(x, x > 0.0)"),
    ("bincount", "i", "x[:, :1] + tf.math.bincount(x[0])"),
]

# keras.ops FFTs take and give (real, imag) pairs; `probe` splits TensorFlow's complex results.
FFT = [
    ("fft", "f", "tf.signal.fft(tf.complex(x, x * 0.5))"),
    ("rfft", "f", "tf.signal.rfft(x)"),
    ("irfft", "f", "tf.signal.irfft(tf.complex(x, x * 0.5))"),
    ("ifft2d", "f", "tf.signal.ifft2d(tf.complex(x, -x))"),
]

CONTROL_FLOW = [
    ("cond", "f", "tf.cond(tf.reduce_sum(x) > 0.0, lambda: x * 2.0, lambda: x - 1.0)"),
    ("while_loop", "f", "i, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * 1.5), (0, x))\n        return y"),
    ("vectorized_map", "f", "tf.vectorized_map(lambda row: row * 2.0 + 1.0, x)"),
]

GROUPS = [
    # rule, group title, ops, tolerance
    ("KER201", "math", MATH, 1e-5),
    ("KER201", "shapes", SHAPES, 1e-5),
    ("KER201", "nn-and-image", NN, 1e-4),
    ("KER202", "gather-default-axis", [
        ("gather", "f", "tf.gather(tf.transpose(x, [1, 0, 2]), [2, 0])"),
        ("embedding_lookup", "i", "tf.nn.embedding_lookup(TABLE, x)"),
    ], 1e-6),
    ("KER204", "argmax-default-axis", [
        ("argmax", "f", "tf.argmax(x)"),
        ("argmin", "f", "tf.argmin(x)"),
    ], 0.0),
    ("KER205", "cumsum-default-axis", [
        ("cumsum", "f", "tf.math.cumsum(x)"),
        ("cumprod", "p", "tf.math.cumprod(x)"),
    ], 1e-5),
    ("KER206", "diag-part", [("diag_part", "f", "tf.linalg.diag_part(x)")], 1e-6),
    ("KER207", "scatter-update", [
        ("tensor_scatter_nd_update", "f", "tf.tensor_scatter_nd_update(x, [[0, 1, 2], [1, 0, 0]], [5.0, 6.0])"),
    ], 1e-6),
    ("KER213", "gelu-exact", [("gelu", "f", "tf.nn.gelu(x * 3.0)")], 1e-6),
    ("KER217", "l2-normalize", [("l2_normalize", "f", "tf.nn.l2_normalize(x, axis=-1)")], 1e-6),
    ("KER218", "dynamic-shape", [("shape", "f", "tf.reshape(x, [tf.shape(x)[0], -1])")], 1e-6),
    ("KER220", "map-fn", [("map_fn", "f", "tf.map_fn(lambda row: row * 2.0, x)")], 1e-6),
    ("KER214", "matmul-transpose", [
        ("matmul_transpose_a", "f", "tf.linalg.matmul(x, x, transpose_a=True)"),
        ("matmul_transpose_b", "f", "tf.matmul(x, x, transpose_b=True)"),
    ], 1e-5),
    ("KER215", "sort-descending", [("sort_descending", "f", 'tf.sort(x, axis=1, direction="DESCENDING")')], 0.0),
    ("KER201", "linalg-and-math", LINALG, 1e-4),
    ("KER201", "image-pool-signal", IMAGE, 1e-5),
    ("KER201", "arithmetic-activations-creation", ARITHMETIC, 1e-5),
    ("KER220", "cond-while-loop-vectorized-map", CONTROL_FLOW, 1e-5),
]

# Rewrites that change results in corner cases: applied with --unsafe-fixes.
UNSAFE_GROUPS = [
    ("KER210", "split-sizes", [("split_sizes", "f", "tf.split(x, [1, 3], axis=-1)")], 0.0),
    ("KER211", "integer-mean", [("int_mean", "f", "tf.reduce_mean(tf.cast(x * 10.0, \"int32\"), axis=-1)")], 0.0),
    ("KER215", "argsort-descending", [("argsort_descending", "f", 'tf.argsort(x, axis=-1, direction="DESCENDING")')], 0.0),
    # Equal where the notes say: eigenvalues (eigenvectors may flip sign), full-rank pseudo-inverses,
    # a 1-D sorted sequence, segments that are not empty, a vector's diagonal matrix.
    ("KER201", "unsafe-counterparts", [
        ("eigh", "m", "values, vectors = tf.linalg.eigh(x)\n        return values"),
        ("pinv", "f", "tf.linalg.pinv(x)"),
        ("matrix_rank", "m", "tf.linalg.matrix_rank(x)"),
        ("searchsorted", "f", "tf.searchsorted(SORTED, tf.reshape(x, [-1]), side=\"right\")"),
        ("segment_max-min", "f", "tf.transpose(tf.math.unsorted_segment_max(tf.transpose(x, [1, 0, 2]), [1, 0, 1], 2) + tf.math.unsorted_segment_min(tf.transpose(x, [1, 0, 2]), [0, 1, 1], 2), [1, 0, 2])"),
        ("diag", "f", "x[:, :1, :1] + tf.linalg.diag(SORTED)[0]"),
    ], 1e-4),
    # A single matrix for lstsq: keras.ops.lstsq takes no batch on JAX.
    ("KER201", "unsafe-arithmetic-and-lstsq", [*UNSAFE_ARITHMETIC, ("lstsq", "m", "x + tf.linalg.lstsq(x[0], x[1])")], 1e-4),
    ("KER216", "fft-pairs", FFT, 1e-4),
]


# On JAX, a TensorFlow op gets a JAX tracer it cannot convert, mostly with an obscure message;
# control flow (tf.map_fn) fails earlier, when it builds a TypeSpec of the tracer.
TRACER_ERROR = ("AttributeError", "'str' object has no attribute '_error_repr'")
GROUP_ERRORS = {"map-fn": ("TypeError", "Could not build a TypeSpec for JitTracer")}
# On PyTorch, in fit(): TensorFlow reads the torch tensor through NumPy, which autograd forbids.
TRAINING_ERROR = ("RuntimeError", "Can't call numpy() on Tensor that requires grad")


def class_name(name: str) -> str:
    return "Op" + "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def program(ops, trained: bool = False) -> str:
    """Each op in a layer of its own, run with predict(); `trained`: then trained too."""
    parts = [INPUTS, TRAINING if trained else ""]
    for name, kind, body in ops:
        statement = body if "return " in body else f"return {body}"
        parts.append(
            f"\n\nclass {class_name(name)}(keras.layers.Layer):\n"
            f"    def call(self, x):\n        {statement}\n\n\n"
            f'RESULT["{name}"] = probe({class_name(name)}(), "{kind}")\n'
        )
        if trained:
            parts.append(f'train({class_name(name)}(), "{kind}")\n')
    return "".join(parts)


CASES = [
    Case(
        rule,
        f"tf-{title}",
        program(ops),
        raises(*GROUP_ERRORS.get(title, TRACER_ERROR)),
        envs=("tf-jax",),
        reference="tensorflow",
        tolerance=tolerance,
        unsafe=unsafe,
    )
    for unsafe, groups in ((False, GROUPS), (True, UNSAFE_GROUPS))
    for rule, title, ops, tolerance in groups
] + [
    Case(
        rule,
        f"tf-{title}-in-training",
        program(ops, trained=True),
        raises(*TRAINING_ERROR),
        envs=("tf-torch",),
        reference="tensorflow",
        tolerance=tolerance,
        unsafe=unsafe,
    )
    for unsafe, groups in ((False, GROUPS), (True, UNSAFE_GROUPS))
    for rule, title, ops, tolerance in groups
] + [
    Case(
        "KER201",
        "tf-batch-normalization-scalar-offset",
        program([
            (
                "batch_normalization_scalars",
                "f",
                "tf.nn.batch_normalization(x, MEAN, VARIANCE, offset=0.2, scale=1.5, variance_epsilon=1e-3)",
            )
        ]),
        raises(*TRACER_ERROR),
        envs=("tf-jax",),
        reference="tensorflow",
        # keras.ops.batch_normalization would fail here ("cannot reshape array of shape () (size
        # 1) into shape [1, 1, 4]"): the fix writes TensorFlow's broadcasting formula instead.
    ),
    # Ops without a keras.ops form (no fix): each fails in a JAX model, and the ports the
    # rules warn about misbehave as their docs say.
    *[
        case
        for rule, title, ops in [
            ("KER203", "gather-nd", [("gather_nd", "f", "tf.gather_nd(x, [[0, 1], [1, 2]])")]),
            ("KER208", "svd", [("svd", "f", "s, u, v = tf.linalg.svd(x)\n        return s")]),
            ("KER212", "where-one-argument", [("where_coordinates", "f", "tf.where(x > 0)")]),
            ("KER219", "lgamma", [("lgamma", "p", "tf.math.lgamma(x)")]),
            # Ops that no row names (the catch-all), and rows that only carry a note.
            ("KER219", "unlisted-ops", [("expm", "m", "tf.linalg.expm(x)")]),
            ("KER219", "crop-and-resize", [("crop_and_resize", "img", "tf.image.crop_and_resize(x, [[0.0, 0.0, 0.5, 0.5]] * 2, [0, 1], [4, 4])")]),
            ("KER219", "squared-difference", [("squared_difference", "f", "tf.math.squared_difference(x, 0.5)")]),
            ("KER201", "tensor-scatter-nd-add", [("tensor_scatter_nd_add", "f", "tf.tensor_scatter_nd_add(x, [[0, 1, 2]], [5.0])")]),
            ("KER219", "strings", [("as_string", "f", "tf.strings.length(tf.strings.as_string(x))")]),
        ]
        for case in (
            Case(rule, f"tf-{title}-in-a-jax-model", program(ops), raises(*TRACER_ERROR), envs=("tf-jax",)),
            # A boolean mask carries no gradient: one-argument tf.where trains on PyTorch.
            Case(
                rule,
                f"tf-{title}-in-torch-training",
                program(ops, trained=True),
                result_shows("fit running and predict giving the 12 (N, 3) coordinates",
                             lambda r: [len(row) for row in r["where_coordinates"]] == [3] * 12)
                if rule == "KER212"
                else raises(*TRAINING_ERROR),
                envs=("tf-torch",),
            ),
        )
    ],
    Case(
        "KER201",
        "tf-data-dependent-shapes-in-training",
        program(DATA_DEPENDENT, trained=True),
        raises(*TRAINING_ERROR),
        envs=("tf-torch",),
        reference="tensorflow",
        unsafe=True,
    ),
    # The branch index comes from the input: TensorFlow's control flow cannot take the JAX tracer
    # or the torch tensor while Keras infers the layer's output (before any training).
    Case(
        "KER220",
        "tf-switch-case",
        program([(
            "switch_case",
            "f",
            'tf.switch_case(keras.ops.cast(keras.ops.sum(x) > 0.0, "int32"), [lambda: x, lambda: x * 2.0])',
        )]),
        raises("TypeError", "Could not automatically infer the output shape / dtype"),
        envs=("tf-jax", "tf-torch"),
        reference="tensorflow",
        unsafe=True,
    ),
    # Why two rewrites are unsafe: on PyTorch, keras.ops.average_pool averages uneven "same"
    # borders over other windows than TensorFlow, and a slice size of -1 gives an empty slice.
    Case(
        "KER201",
        "unsafe-pool-and-slice-on-torch",
        INPUTS + '''

class Pool(keras.layers.Layer):
    def call(self, x):
        return tf.nn.avg_pool2d(x, 3, 2, "SAME")


class Rest(keras.layers.Layer):
    def call(self, x):
        return tf.slice(x, [0, 1, 1], [-1, 2, -1])


image, f = INPUTS["img"], INPUTS["f"]
pooled = keras.ops.convert_to_numpy(keras.ops.average_pool(image, 3, 2, "same"))
rest = keras.ops.slice(f, [0, 1, 1], [-1, 2, -1])
RESULT = [
    float(np.max(np.abs(np.asarray(Pool()(image)) - pooled))),
    list(np.asarray(Rest()(f)).shape),
    list(rest.shape),
]
''',
        result_shows(
            "other pooled numbers and an empty slice where TensorFlow takes the rest",
            lambda r: r[0] > 1e-3 and r[1] == [2, 2, 3] and r[2] != [2, 2, 3],
        ),
        envs=("tf-torch",),
    ),
    # Why four more rewrites are unsafe, on PyTorch: keras.ops.count_nonzero transposes a 2-D
    # count, keras.ops.bincount counts each row where TensorFlow counts the whole input,
    # keras.ops.imag of a real tensor fails where TensorFlow gives zeros, and training through
    # keras.ops.floor_divide fails (TensorFlow's gradient of floordiv is zero).
    Case(
        "KER201",
        "unsafe-count-bincount-imag-floordiv-on-torch",
        INPUTS + '''

class Count(keras.layers.Layer):
    def call(self, x):
        return tf.math.count_nonzero(x > 0.2, axis=-1)


class Bins(keras.layers.Layer):
    def call(self, x):
        return tf.math.bincount(x)


class Imaginary(keras.layers.Layer):
    def call(self, x):
        return tf.math.imag(x)


class Floored(keras.layers.Layer):
    def build(self, shape):
        self.scale = self.add_weight(shape=(), initializer="ones")

    def call(self, x):
        return keras.ops.floor_divide(x * self.scale, 0.25) + x * self.scale


inputs = keras.Input((3, 4))
floored = keras.Model(inputs, Floored()(inputs))
floored.compile("sgd", "mse")
try:
    floored.fit(INPUTS["f"], np.zeros((2, 3, 4), "float32"), verbose=0)
    floordiv = "no error"
except RuntimeError as error:
    floordiv = str(error)
f, i = INPUTS["f"], INPUTS["i"]
try:
    keras.ops.imag(f)
    imag = "no error"
except RuntimeError as error:
    imag = str(error)
RESULT = [
    np.asarray(Count()(f)).tolist(),
    keras.ops.convert_to_numpy(keras.ops.count_nonzero(f > 0.2, axis=-1)).tolist(),
    np.asarray(Bins()(i)).tolist(),
    keras.ops.convert_to_numpy(keras.ops.bincount(i)).tolist(),
    float(np.abs(np.asarray(Imaginary()(f))).max()),
    imag,
    floordiv,
]
''',
        result_shows(
            "a transposed count, counts per row, imag failing where TensorFlow gives zeros, no floordiv gradient",
            lambda r: r[0] == [[0, 0, 0], [1, 4, 4]] and r[1] == [[0, 1], [0, 4], [0, 4]]
            and r[2] == [2, 1, 3, 2] and r[3] == [[1, 1, 1, 1], [1, 0, 2, 1]]
            and r[4] == 0.0 and "imag is not implemented" in r[5]
            and "derivative for aten::floor_divide is not implemented" in r[6],
        ),
        envs=("tf-torch",),
    ),
    Case(
        "KER219",
        "strings-under-xla",
        '''
import numpy as np
import keras
import tensorflow as tf


class Digits(keras.layers.Layer):
    def call(self, x):
        return tf.strings.length(tf.strings.as_string(x))


inputs = keras.Input((3,))
model = keras.Model(inputs, Digits()(inputs))
model.compile(jit_compile=True)
RESULT = model.predict(np.ones((2, 3), "float32"), verbose=0).tolist()
''',
        # Even on TensorFlow: XLA has no string kernels.
        raises("InvalidArgumentError", "Detected unsupported operations when trying to compile graph"),
        envs=("tensorflow",),
    ),
    Case(
        "KER203",
        "gather-nd-is-not-take-along-axis",
        INPUTS + '''

class Pick(keras.layers.Layer):
    def call(self, x):
        return tf.gather_nd(x, [[0, 1], [2, 3]])


table = np.arange(12.0, dtype="float32").reshape(3, 4)
coords = np.array([[0, 1], [2, 3]])
picked = Pick()(table)
try:
    keras.ops.take_along_axis(table, coords, axis=1)
    along = "no error"
except ValueError as error:
    along = "ValueError"
# The rule's "use instead" for every backend: take from the flattened tensor.
flat = keras.ops.take(keras.ops.reshape(table, (-1,)), coords[:, 0] * table.shape[1] + coords[:, 1])
RESULT = [np.asarray(picked).tolist(), along, keras.ops.convert_to_numpy(flat).tolist()]
''',
        result_shows(
            "take_along_axis failing where gather_nd picks [1.0, 11.0], as the flat take does",
            lambda r: r == [[1.0, 11.0], "ValueError", [1.0, 11.0]],
        ),
        envs=("tensorflow",),
    ),
    Case(
        "KER208",
        "svd-order",
        INPUTS + '''

class Singular(keras.layers.Layer):
    def call(self, x):
        s, u, v = tf.linalg.svd(x)
        return s


m = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]], dtype="float32")
tf_shapes = [list(t.shape) for t in tf.linalg.svd(m)]
u, s, vh = keras.ops.svd(m)
keras_shapes = [list(t.shape) for t in (u, s, vh)]
# The rule's "use instead": u, s, vh rebuild the matrix; vh is v transposed.
rebuilt = keras.ops.convert_to_numpy(keras.ops.matmul(u * s, vh))
_, _, v = tf.linalg.svd(m)
RESULT = [
    tf_shapes,
    keras_shapes,
    bool(np.allclose(rebuilt, m, atol=1e-5)),
    bool(np.allclose(np.abs(keras.ops.convert_to_numpy(keras.ops.swapaxes(vh, -1, -2))), np.abs(np.asarray(v)), atol=1e-5)),
]
''',
        result_shows(
            "(s, u, v) against (u, s, vh), and u * s @ vh == m",
            lambda r: r == [[[3], [3, 3], [3, 3]], [[3, 3], [3], [3, 3]], True, True],
        ),
        envs=("tensorflow",),
    ),
    Case(
        "KER212",
        "where-coordinates-against-tuple",
        INPUTS + '''
import jax


class Coordinates(keras.layers.Layer):
    def call(self, x):
        return tf.where(x > 0)


mask = np.array([[True, False], [True, True]])
coordinates = np.asarray(tf.where(mask)).tolist()
indices = keras.ops.where(mask)
stacked = keras.ops.convert_to_numpy(keras.ops.stack(indices, axis=1)).tolist()
try:
    jax.jit(lambda m: jax.numpy.nonzero(m))(mask)
    traced = "no error"
except Exception as error:  # what keras.ops.where(mask) does on the JAX backend, under jit
    traced = type(error).__name__
# One index array per axis (a tuple on JAX, a list on TensorFlow), as NumPy's nonzero.
RESULT = [coordinates, len(indices), stacked, traced]
''',
        result_shows(
            "(N, 2) coordinates against 2 index arrays, equal once stacked; not traceable",
            lambda r: r == [[[0, 0], [1, 0], [1, 1]], 2, [[0, 0], [1, 0], [1, 1]], "ConcretizationTypeError"],
        ),
        envs=("tensorflow",),
    ),
    Case(
        "KER216",
        "fft2d-of-complex",
        INPUTS + '''

class Spectrum(keras.layers.Layer):
    def call(self, x):
        return tf.signal.fft2d(tf.complex(x, x * 0.5))


out = Spectrum()(INPUTS["f"])
# TensorFlow returns a complex tensor; keras.ops.fft2 a (real, imag) tuple: the code that
# reads the result changes with the fix (why it is unsafe).
if isinstance(out, (tuple, list)):
    real, imag = (keras.ops.convert_to_numpy(t) for t in out)
else:
    real, imag = np.real(np.asarray(out)), np.imag(np.asarray(out))
RESULT = {"real": real.round(4).tolist(), "imag": imag.round(4).tolist()}
''',
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
        unsafe=True,
        reference="tensorflow",
        tolerance=1e-4,
    ),
    Case(
        "KER225",
        "tf-ops-on-predictions",
        '''
import numpy as np
import keras
import tensorflow as tf

model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, kernel_initializer="ones")])
predictions = model.predict(np.linspace(-1.0, 1.0, 12, dtype="float32").reshape(4, 3), verbose=0)
mean = tf.reduce_mean(predictions)
peak = tf.reduce_max(predictions, axis=0)
best = tf.argmax(predictions[:, 0])
RESULT = [float(mean), np.asarray(peak).tolist(), int(best)]
''',
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
        unsafe=True,
        # The ops become keras.ops, then KER107 deletes the unused TensorFlow import: the
        # numbers are those TensorFlow computes.
        reference="tensorflow",
    ),
    Case(
        "KER209",
        "keras-op-with-tf-keyword",
        '''
import numpy as np
import keras

x = np.arange(6.0).reshape(2, 3)
RESULT = [
    np.asarray(keras.ops.transpose(x, perm=[1, 0])).tolist(),
    np.asarray(keras.ops.mean(x, axis=1, keep_dims=True)).tolist(),
    np.asarray(keras.ops.arange(0, limit=10, delta=4)).tolist(),
]
''',
        raises("TypeError", "got an unexpected keyword argument 'perm'"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows(
            "the TensorFlow results",
            lambda r: r == [[[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]], [[1.0], [4.0]], [0, 4, 8]],
        ),
    ),
    Case(
        "KER221",
        "removed-backend-functions",
        '''
import numpy as np
import keras
from keras import backend as K

x = np.arange(6.0, dtype="float32").reshape(2, 3)
RESULT = [K.int_shape(x)[-1], np.asarray(K.argmax(x)).tolist(), list(K.concatenate([x, x]).shape)]
''',
        raises("AttributeError", "module 'keras.backend' has no attribute 'int_shape'"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("Keras 2's results", lambda r: r == [3, [2, 2], [2, 6]]),
    ),
    Case(
        "KER221",
        "tf-keras-backend-shim-on-tensorflow",
        '''
import numpy as np
import keras
import tensorflow as tf

x = np.arange(6.0, dtype="float32").reshape(2, 3)
RESULT = [
    tf.keras.backend.int_shape(x)[-1],
    np.asarray(tf.keras.backend.argmax(x)).tolist(),
    float(tf.keras.backend.get_value(keras.Variable(2.0))),
]
''',
        # Through `tf.keras` the TensorFlow backend still finds most of them (the shim of
        # TF >= 2.16), until the import moves to `keras`; the fixed program runs the same.
        result_shows("Keras 2's results", lambda r: r == [3, [2, 2], 2.0]),
        envs=("tensorflow",),
        fixed_check=result_shows("Keras 2's results", lambda r: r == [3, [2, 2], 2.0]),
    ),
    Case(
        "KER221",
        "tf-keras-set-value-on-a-keras-variable",
        '''
import keras
import tensorflow as tf

model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
model.compile(keras.optimizers.Adam(1e-3), "mse")
tf.keras.backend.set_value(model.optimizer.learning_rate, 1e-4)
RESULT = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
''',
        # The shim's `set_value` reads `x.dtype.name`: a Keras 3 variable's dtype is a string.
        raises("AttributeError", "'str' object has no attribute 'name'"),
        envs=("tensorflow",),
        fixed_check=result_shows("the new learning rate", lambda r: abs(r - 1e-4) < 1e-9),
    ),
    Case(
        "KER222",
        "tf-op-on-keras-tensor",
        '''
import numpy as np
import keras
import tensorflow as tf

inputs = keras.Input((2, 2, 1))
outputs = tf.squeeze(inputs, axis=-1)
model = keras.Model(inputs, outputs)
RESULT = model.predict(np.arange(8.0).reshape(2, 2, 2, 1), verbose=0).tolist()
''',
        raises("ValueError", "A KerasTensor cannot be used as input to a TensorFlow function"),
        envs=("tensorflow", "tf-jax", "tf-torch"),
        fixed_check=result_shows(
            "the squeezed inputs", lambda r: r == [[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]]
        ),
    ),
    Case(
        "KER223",
        "tf-nest-without-tensorflow",
        '''
import numpy as np
import keras
import tensorflow as tf

outputs = {"a": np.ones(2), "b": [np.zeros(1), np.ones(1)]}
RESULT = [float(v.sum()) for v in tf.nest.flatten(outputs)]
''',
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
        # The tf.nest fix leaves `import tensorflow as tf` unused; KER107's fix deletes it.
        fixed_check=result_shows("the sums in sorted-key order", lambda r: r == [2.0, 0.0, 1.0]),
    ),
    Case(
        "KER223",
        "tf-nest-works-on-tensorflow",
        '''
import numpy as np
import keras
import tensorflow as tf

outputs = {"b": [np.zeros(1), np.ones(1)], "a": np.ones(2)}
doubled = tf.nest.map_structure(lambda v: v * 2, outputs)
flat = tf.nest.flatten(doubled)
again = tf.nest.pack_sequence_as(outputs, flat)
RESULT = [[float(v.sum()) for v in flat], sorted(again), [float(v.sum()) for v in again["b"]]]
''',
        # With TensorFlow installed `tf.nest` works on its backend: the rule is for JAX and
        # PyTorch, and `keras.tree` gives the same structures.
        result_shows(
            "the doubled sums in sorted-key order",
            lambda r: r == [[4.0, 0.0, 2.0], ["a", "b"], [0.0, 2.0]],
        ),
        envs=("tensorflow",),
        fixed_check=result_shows(
            "the same structures", lambda r: r == [[4.0, 0.0, 2.0], ["a", "b"], [0.0, 2.0]]
        ),
    ),
    Case(
        "KER201",
        "tf-op-on-weights-on-torch",
        '''
import numpy as np
import keras
import tensorflow as tf


class Project(keras.layers.Layer):
    def build(self, shape):
        self.kernel = self.add_weight(shape=(shape[-1], 2), initializer="ones")

    def call(self, x):
        return tf.matmul(x, self.kernel)


inputs = keras.Input((3,))
project = Project()
model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="ones")(project(inputs)))
model.compile(keras.optimizers.SGD(0.1), "mse")
model.fit(np.ones((4, 3), "float32"), np.zeros((4, 1), "float32"), verbose=0)
RESULT = bool(np.allclose(keras.ops.convert_to_numpy(project.kernel), 1.0))
''',
        # TensorFlow reads the variable through NumPy: no gradient reaches it, with no error,
        # while the Dense layer after it trains.
        result_shows("the kernel left untrained", lambda r: r is True),
        envs=("tf-torch",),
        fixed_check=result_shows("the kernel trained", lambda r: r is False),
        reference="tensorflow",
    ),
    # keras.ops.cast reads a TensorFlow dtype's name on every backend, but the dtypes that go to
    # JAX as they are fail, and on PyTorch a dtype comparison is silently False.
    Case(
        "KER224",
        "dtype-object-in-keras-ops",
        program([("dtype", "f", "x * keras.ops.ones((4,), dtype=tf.float32)")]),
        raises("TypeError", "Cannot interpret 'tf.float32' as a data type"),
        envs=("tf-jax",),
        reference="tensorflow",
        tolerance=0.0,
    ),
    Case(
        "KER224",
        "dtype-object-comparison",
        program([("double_floats", "f", "x * 2.0 if x.dtype == tf.float32 else x")]),
        result_shows(
            "the float input not doubled: torch.float32 != tf.float32",
            lambda r: abs(r["double_floats"][0][0][0] + 0.9) < 1e-6,  # -1.8 on TensorFlow and JAX
        ),
        envs=("tf-torch",),
    ),
    Case(
        "KER228",
        "newaxis-the-last-tensorflow-use",
        '''
import numpy as np
import tensorflow as tf
import keras
from keras import ops


class PairwiseDistance(keras.layers.Layer):
    def call(self, points):
        diff = points[:, :, tf.newaxis, :] - points[:, tf.newaxis, :, :]
        return ops.sqrt(ops.sum(ops.square(diff), axis=-1) + 1e-9)


points = np.array([[[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]]], "float32")
model = keras.Sequential([keras.Input((3, 2)), PairwiseDistance()])
RESULT = model.predict(points, verbose=0).tolist()
''',
        # Without TensorFlow the module cannot even be imported; `None` needs nothing.
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
        reference="tensorflow",
    ),
    Case(
        "KER225",
        "file-utilities-without-tensorflow",
        '''
import tempfile
import numpy as np
import keras
import tensorflow as tf

root = tempfile.mkdtemp()
folder = tf.io.gfile.join(root, "runs", "a")
tf.io.gfile.makedirs(folder)
tf.io.gfile.makedirs(folder)  # exists already: still fine
with tf.io.gfile.GFile(tf.io.gfile.join(folder, "notes.txt"), "w") as f:
    f.write("units=2")
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, kernel_initializer="ones")])
model.save_weights(tf.io.gfile.join(folder, "m.weights.h5"))
with tf.io.gfile.GFile(tf.io.gfile.join(folder, "notes.txt")) as f:
    notes = f.read()
found = sorted(p[len(root):] for p in tf.io.gfile.glob(tf.io.gfile.join(root, "runs", "*", "*")))
walked = sorted((d[len(root):], sorted(files)) for d, _, files in tf.io.gfile.walk(root))
RESULT = [
    tf.io.gfile.exists(folder), tf.io.gfile.isdir(folder), sorted(tf.io.gfile.listdir(folder)),
    notes, found, walked, model.predict(np.ones((1, 3)), verbose=0).tolist(),
]
tf.io.gfile.rmtree(root)
''',
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
        unsafe=True,
        # The standard-library forms give what tf.io.gfile gives on local paths, and with them
        # the module no longer needs TensorFlow (KER107 removes the import).
        reference="tensorflow",
    ),
    Case(
        "KER107",
        "small-library-imports-no-tensorflow-once-fixed",
        SMALL_LIBRARY,
        # Every use of TensorFlow gets a fix (KER101, KER404 on the attribute, KER221's
        # `ops.ndim`, KER201's `ops.reshape`); then KER107 deletes the import left unused.
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
        unsafe=True,
        reference="tensorflow",
        # Keras 2 itself (tf-keras) computes the reference.
        reference_program=SMALL_LIBRARY.replace("from tensorflow import keras", "import tf_keras as keras").replace(
            "from tensorflow.keras import backend as K", "from tf_keras import backend as K"
        ),
    ),
]
