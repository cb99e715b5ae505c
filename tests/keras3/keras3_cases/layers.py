"""KER4xx and KER6xx: layers, variables, removed layers, arguments and names."""

from . import Case, raises, result_shows, warns

THRESHOLDED = '''
import numpy as np
import keras

x = np.array([[-1.0, 0.2, 0.49, 0.51, 2.0]], dtype="float32")
act = keras.layers.ThresholdedReLU(theta=0.5)
model = keras.Sequential([keras.Input((5,)), act])
RESULT = model.predict(x, verbose=0).tolist()
'''

# A model that takes raw strings, fed NumPy strings (JAX, PyTorch) or TensorFlow strings.
STRING_INPUT = '''
import numpy as np
import keras

text = keras.Input(shape=(1,), dtype="string")
model = keras.Model(text, keras.layers.Identity()(text))
words = np.array([["cat"], ["dog"], ["emu"]])
out = model.predict({feed}, verbose=0)
RESULT = [[{{b"cat": 1, b"dog": 2}}.get(w[0], 0)] for w in out.tolist()]
'''

PYTHON_IF = '''
import numpy as np
import keras


class Gate(keras.layers.Layer):
    def call(self, inputs):
        if keras.ops.sum(inputs) > 0.5:
            return inputs * 2
        else:
            return inputs / 2


model = keras.Sequential([keras.Input((3,)), Gate()])
RESULT = [model.predict(np.ones((1, 3)), verbose=0).tolist(), model.predict(-np.ones((1, 3)), verbose=0).tolist()]
'''

LAZILY_BUILT_LINEAR = '''
import numpy as np
import tensorflow as tf
import keras


class Linear(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = tf.Variable(tf.random.normal([input_shape[-1], self.units], stddev=0.05, seed=1))
        self.bias = tf.Variable(tf.zeros([self.units]))

    def call(self, x):
        return keras.ops.matmul(x, self.kernel) + self.bias


class Model(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.linear = Linear(1)

    def call(self, x):
        return self.linear(x)


keras.utils.set_random_seed(0)
x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
model = Model()
model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
history = model.fit(x, y, epochs=20, batch_size=64, verbose=0)
RESULT = [len(model.trainable_weights), history.history["loss"][-1] < history.history["loss"][0] / 10]
'''

DISTRIBUTE_STRATEGY = '''
import keras

model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
RESULT = type(model.distribute_strategy).__name__
'''

GET_SHAPE_IN_CALL = '''
import numpy as np
import keras


class RowSum(keras.layers.Layer):
    def call(self, x):
        ones = keras.ops.ones((x.get_shape()[-1], 1))
        return keras.ops.matmul(x, ones)


model = keras.Sequential([keras.Input((3,)), RowSum()])
RESULT = model.predict(np.ones((2, 3)), verbose=0).tolist()
'''

CASES = [
    Case(
        "KER401",
        "tf-variable-not-tracked",
        '''
import numpy as np
import tensorflow as tf
import keras


class Scale(keras.layers.Layer):
    def build(self, input_shape):
        self.w = tf.Variable(np.ones((input_shape[-1],), "float32"), trainable=True)

    def call(self, x):
        return x * self.w


layer = Scale()
layer.build((None, 3))
RESULT = len(layer.trainable_weights)
''',
        result_shows("zero trainable weights", lambda r: r == 0),
        # On PyTorch the `tf.Variable` is read as a constant: silent, as on TensorFlow.
        envs=("tensorflow", "tf-torch"),
        unsafe=True,
        fixed_check=result_shows("one trainable weight", lambda r: r == 1),
    ),
    # A layer first built inside fit(): on JAX that happens in a stateless scope, where only
    # `add_weight` (an initializer) can create the variable, not `keras.Variable(value)`.
    Case(
        "KER401",
        "tf-variable-in-a-layer-built-by-fit",
        LAZILY_BUILT_LINEAR,
        result_shows("no trainable weights and no learning", lambda r: r == [0, False]),
        envs=("tensorflow", "tf-torch"),
        unsafe=True,
        fixed_check=result_shows("two trainable weights that learn", lambda r: r == [2, True]),
    ),
    Case(
        "KER401",
        "tf-variable-in-a-layer-built-by-fit",
        LAZILY_BUILT_LINEAR,
        raises("RuntimeError", "Unable to automatically build the model"),
        envs=("tf-jax",),
        unsafe=True,
        fixed_check=result_shows("two trainable weights that learn", lambda r: r == [2, True]),
    ),
    Case(
        "KER410",
        "batchnorm-fused",
        '''
import numpy as np
import keras

bn = keras.layers.BatchNormalization(momentum=0.9, fused=True)
RESULT = list(bn(np.ones((2, 3), "float32")).shape)
''',
        raises("ValueError", "Unrecognized keyword arguments passed to BatchNormalization: {'fused': True}"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("shape [2, 3]", lambda r: r == [2, 3]),
    ),
    Case(
        "KER412",
        "embedding-input-length",
        '''
import numpy as np
import keras

model = keras.Sequential([keras.Input((10,)), keras.layers.Embedding(100, 4, input_length=10)])
RESULT = list(model.predict(np.zeros((2, 10), "int32"), verbose=0).shape)
''',
        raises("ValueError", "Unrecognized keyword arguments passed to Embedding: {'input_length': 10}"),
        # From 3.2 only a warning: the rule is quiet there (fixed_in 3.2.0).
        envs=("keras3.0-jax", "keras3.0-torch", "keras3.0-tensorflow"),
        keras_version=(3, 0, 5),
        fixed_check=result_shows("shape [2, 10, 4]", lambda r: r == [2, 10, 4]),
    ),
    Case(
        "KER413",
        "dense-input-shape",
        '''
import numpy as np
import keras
from keras import layers

model = keras.Sequential([layers.Dense(8, input_shape=(4,)), layers.Dense(1)])
RESULT = [len(model.inputs), list(model.predict(np.ones((3, 4)), verbose=0).shape)]
''',
        warns("Do not pass an `input_shape`/`input_dim` argument to a layer"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("a built model, shape [3, 1]", lambda r: r == [1, [3, 1]]),
    ),
    Case(
        "KER602",
        "optimizer-decay-ignored",
        '''
import numpy as np
import keras

keras.utils.set_random_seed(0)
opt = keras.optimizers.SGD(learning_rate=0.1, decay=0.5)
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
model.compile(optimizer=opt, loss="mse")
model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=2, epochs=1, verbose=0)
RESULT = [int(opt.iterations), float(opt.learning_rate)]
''',
        warns("Argument `decay` is no longer supported and will be ignored"),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        # Keras 2: lr / (1 + decay * iterations) after the 4 steps.
        fixed_check=result_shows("Keras 2's decayed rate 0.1 / 3", lambda r: r[0] == 4 and abs(r[1] - 0.1 / 3) < 1e-7),
    ),
    Case(
        "KER606",
        "loss-reduction-enum",
        '''
import numpy as np
import keras

loss = keras.losses.MeanSquaredError(reduction=keras.losses.Reduction.NONE)
RESULT = keras.ops.convert_to_numpy(loss(np.zeros((3, 2)), np.ones((3, 2)))).tolist()
''',
        raises("AttributeError", "module 'keras.losses' has no attribute 'Reduction'"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("one loss per sample", lambda r: r == [1.0, 1.0, 1.0]),
    ),
    # The tf.keras shim of TensorFlow 2.16+ still has `Reduction`, whose members are the strings:
    # NONE, SUM and SUM_OVER_BATCH_SIZE run there, but AUTO is "auto", which Keras 3 refuses.
    Case(
        "KER606",
        "tf-keras-reduction-auto",
        '''
import numpy as np
import tensorflow as tf

loss = tf.keras.losses.MeanSquaredError(reduction=tf.keras.losses.Reduction.AUTO)
RESULT = float(loss(np.zeros((3, 2)), np.ones((3, 2))))
''',
        raises("ValueError", "Invalid value for argument `reduction`"),
        envs=("tensorflow", "keras3.0-tensorflow"),
        fixed_check=result_shows("the mean loss", lambda r: r == 1.0),
    ),
    Case(
        "KER606",
        "tf-keras-reduction-none-runs-on-tensorflow",
        '''
import numpy as np
import tensorflow as tf

loss = tf.keras.losses.MeanSquaredError(reduction=tf.keras.losses.Reduction.NONE)
RESULT = tf.keras.ops.convert_to_numpy(loss(np.zeros((3, 2)), np.ones((3, 2)))).tolist()
''',
        # Works through the shim today; the fix gives the same losses with `import keras`.
        result_shows("one loss per sample", lambda r: r == [1.0, 1.0, 1.0]),
        envs=("tensorflow",),
        fixed_check=result_shows("one loss per sample", lambda r: r == [1.0, 1.0, 1.0]),
    ),
    Case(
        "KER607",
        "loss-metric-aliases",
        '''
import numpy as np
import keras

model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss=keras.losses.mse, metrics=[keras.metrics.mae])
RESULT = sorted(model.evaluate(np.ones((4, 2)), np.ones((4, 1)), verbose=0, return_dict=True))
''',
        raises("AttributeError", "module 'keras.losses' has no attribute 'mse'"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("loss and the metric", lambda r: r == ["loss", "mean_absolute_error"]),
    ),
    Case(
        "KER608",
        "thresholded-relu",
        THRESHOLDED,
        raises("AttributeError", "module 'keras.layers' has no attribute 'ThresholdedReLU'"),
        envs=("jax", "tensorflow", "torch"),
        # The tf.keras shim of TensorFlow 2.21 still has the Keras 2 layer: the reference.
        reference="tensorflow",
        reference_program=THRESHOLDED.replace("import keras\n", "import tensorflow as tf\n")
        .replace("keras.layers.ThresholdedReLU", "tf.keras.layers.ThresholdedReLU")
        .replace("keras.Sequential", "tf.keras.Sequential")
        .replace("keras.Input", "tf.keras.Input"),
        tolerance=0.0,
    ),
    Case(
        "KER313",
        "slash-in-layer-name",
        '''
import numpy as np
import keras

inputs = keras.Input((4,))
outputs = keras.layers.Dense(2, name="block1/dense")(inputs)
RESULT = keras.Model(inputs, outputs).layers[-1].name
''',
        raises("ValueError", "/"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("the name with _", lambda r: r == "block1_dense"),
    ),
    Case(
        "KER405",
        "add-weight-positional",
        '''
import numpy as np
import keras


class Linear(keras.layers.Layer):
    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], 2), initializer="ones")

    def call(self, x):
        return keras.ops.matmul(x, self.kernel)


layer = Linear()
RESULT = [keras.ops.convert_to_numpy(layer(np.ones((1, 3), "float32"))).tolist(), layer.kernel.path]
''',
        raises("ValueError", "`name` must be passed as a keyword argument"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("a named kernel", lambda r: r == [[[3.0, 3.0]], "linear/kernel"]),
    ),
    Case(
        "KER409",
        "lstm-time-major",
        '''
import numpy as np
import keras

x = np.ones((5, 2, 3), "float32")  # (time, batch, features)
RESULT = list(keras.layers.LSTM(4, time_major=True)(x).shape)
''',
        raises("ValueError", "time_major"),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        fixed_check=result_shows("one output per batch item", lambda r: r == [2, 4]),
    ),
    Case(
        "KER414",
        "attention-causal",
        '''
import numpy as np
import keras

q = np.ones((1, 3, 2), "float32")
v = np.arange(6, dtype="float32").reshape(1, 3, 2)
context = keras.layers.Attention(causal=True)([q, v])
RESULT = keras.ops.convert_to_numpy(context)[0, 0].tolist()
''',
        raises("ValueError", "causal"),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        # With the causal mask the first step only sees the first value.
        fixed_check=result_shows("the first value at step 0", lambda r: r == [0.0, 1.0]),
    ),
    Case(
        "KER422",
        "python-if-on-tensor",
        PYTHON_IF,
        # JAX's tracer refuses the Python bool with this obscure message.
        raises("AttributeError", "'str' object has no attribute '_error_repr'"),
        envs=("jax",),
        unsafe=True,
        fixed_check=result_shows("both branches", lambda r: r == [[[2.0, 2.0, 2.0]], [[-0.5, -0.5, -0.5]]]),
    ),
    Case(
        "KER422",
        "python-if-on-tensor-tensorflow",
        PYTHON_IF,
        raises("OperatorNotAllowedInGraphError", "Using a symbolic `tf.Tensor` as a Python `bool` is not allowed"),
        envs=("tensorflow",),
        unsafe=True,
        fixed_check=result_shows("both branches", lambda r: r == [[[2.0, 2.0, 2.0]], [[-0.5, -0.5, -0.5]]]),
    ),
    Case(
        "KER406",
        "keras-tensor-get-shape",
        '''
import keras

x = keras.Input((4,))
RESULT = x.get_shape()[-1]
''',
        raises("AttributeError", "get_shape"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("the last dimension", lambda r: r == 4),
    ),
    Case(
        "KER406",
        "tensor-get-shape-in-call",
        GET_SHAPE_IN_CALL,
        # JAX: "DynamicJaxprTracer has no attribute get_shape"; PyTorch: "'Tensor' object ...".
        raises("AttributeError", "get_shape"),
        envs=("jax", "torch"),
        fixed_check=result_shows("the sum of each row", lambda r: r == [[3.0], [3.0]]),
    ),
    Case(
        "KER406",
        "tensor-get-shape-in-call-tensorflow",
        GET_SHAPE_IN_CALL,
        # A TensorFlow tensor still has get_shape(): only a KerasTensor lacks it.
        result_shows("the sum of each row", lambda r: r == [[3.0], [3.0]]),
        envs=("tensorflow",),
        fixed_check=result_shows("the sum of each row", lambda r: r == [[3.0], [3.0]]),
    ),
    Case(
        "KER419",
        "string-model-input",
        STRING_INPUT.format(feed="words"),
        # A NumPy string array (`str96` here; an object array likewise) cannot become a JAX or PyTorch tensor.
        raises("ValueError", "Invalid dtype: str"),
        envs=("jax", "torch"),
    ),
    Case(
        "KER419",
        "string-model-input-tensorflow",
        "import tensorflow as tf\n" + STRING_INPUT.format(feed="tf.constant(words)"),
        # TensorFlow holds strings: the model runs there (hence the rule's JAX/PyTorch scope).
        result_shows("the ids of the known words", lambda r: r == [[1], [2], [0]]),
        envs=("tensorflow",),
    ),
    Case(
        "KER418",
        "training-without-default",
        '''
import numpy as np
import keras


class Noisy(keras.layers.Layer):
    def call(self, inputs, training):
        return inputs + 1.0 if training else inputs * 2.0


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.noisy = Noisy()
        self.dense = keras.layers.Dense(1, kernel_initializer="ones")

    def call(self, x, training=None):
        return self.dense(self.noisy(x, training=training))


x = np.full((2, 3), 3.0, "float32")
inputs = keras.Input((3,))
functional = keras.Model(inputs, Noisy()(inputs))
net = Net()
RESULT = [
    functional.predict(x, verbose=0).tolist(),
    keras.ops.convert_to_numpy(Noisy()(x)).tolist(),
    keras.ops.convert_to_numpy(net(x, training=True)).tolist(),
    net.predict(x, verbose=0).tolist(),
]
''',
        raises("TypeError", "missing a required argument: 'training'"),
        envs=("jax", "tensorflow", "torch"),
        # Inference where nothing sets training (as Keras 2 passed None), training where a caller does.
        fixed_check=result_shows(
            "inference outside fit, training when asked",
            lambda r: r == [[[6.0] * 3] * 2, [[6.0] * 3] * 2, [[12.0], [12.0]], [[18.0], [18.0]]],
        ),
    ),
    Case(
        "KER406",
        "model-distribute-strategy",
        DISTRIBUTE_STRATEGY,
        raises("AttributeError", "distribute_strategy"),
        envs=("jax", "torch"),
    ),
    Case(
        "KER406",
        "model-distribute-strategy-tensorflow",
        DISTRIBUTE_STRATEGY,
        # The TensorFlow trainer keeps it: the finding is for JAX and PyTorch alone.
        result_shows("the default strategy", lambda r: r == "_DefaultDistributionStrategy"),
        envs=("tensorflow",),
    ),
    Case(
        "KER420",
        "nested-functional-inputs-before-3.4",
        '''
import numpy as np
import keras

i1 = keras.Input((2,), name="i1")
i2 = keras.Input((2,), name="i2")
out = keras.layers.Add()([i1, i2])
model = keras.Model({"foo": i1, "bar": {"baz": i2}}, out)
RESULT = model.predict({"foo": np.ones((1, 2)), "bar": {"baz": np.ones((1, 2))}}, verbose=0).tolist()
''',
        raises("ValueError", "When providing `inputs` as a dict, all values in the dict must be KerasTensors"),
        envs=("keras3.0-jax", "keras3.0-torch", "keras3.0-tensorflow"),
        keras_version=(3, 0, 5),
    ),
    Case(
        "KER404",
        "build-input-shape-as-list",
        '''
import numpy as np
import keras


class Proj(keras.layers.Layer):
    def build(self, input_shape):
        dims = input_shape.as_list()
        self.w = self.add_weight(shape=(dims[-1], 2), initializer="ones")

    def call(self, x):
        return keras.ops.matmul(x, self.w)


model = keras.Sequential([keras.Input((3,)), Proj()])
RESULT = model.predict(np.ones((1, 3)), verbose=0).tolist()
''',
        raises("AttributeError", "'tuple' object has no attribute 'as_list'"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("[[3.0, 3.0]]", lambda r: r == [[3.0, 3.0]]),
    ),
    Case(
        "KER404",
        "shape-kept-by-build",
        '''
import numpy as np
import keras


class Head(keras.layers.Layer):
    def build(self, input_shape):
        self.build_input_shape_ = input_shape
        self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones")

    def call(self, x):
        return keras.ops.matmul(x, self.w)

    def compute_output_shape(self, input_shape):
        return tuple(self.build_input_shape_.as_list()[:-1]) + (2,)


inputs = keras.Input((3,))
model = keras.Model(inputs, Head()(inputs))
RESULT = [list(model.output.shape), model.predict(np.ones((1, 3)), verbose=0).tolist()]
''',
        raises("AttributeError", "'tuple' object has no attribute 'as_list'"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("shape (None, 2) and [[3.0, 3.0]]", lambda r: r == [[None, 2], [[3.0, 3.0]]]),
    ),
    Case(
        "KER402",
        "weight-created-in-call",
        '''
import numpy as np
import keras


class Lazy(keras.layers.Layer):
    def call(self, x):
        if not hasattr(self, "w"):
            self.w = self.add_weight(shape=(x.shape[-1], 4), initializer="ones")
        return x @ self.w


RESULT = keras.ops.convert_to_numpy(Lazy()(np.ones((2, 3), "float32"))).tolist()
''',
        # An eager call: the layer is marked built before call() runs, on every backend.
        raises("ValueError", "You cannot add new elements of state (variables or sub-layers) to a layer that is already built"),
        envs=("jax", "tensorflow", "torch"),
    ),
    Case(
        "KER403",
        "sublayer-weights-skipped-by-load-weights",
        '''
import numpy as np
import keras
from keras import layers, ops


class PositionalEmbedding(layers.Layer):
    def __init__(self, length, dim, **kwargs):
        super().__init__(**kwargs)
        self.position_embeddings = layers.Embedding(length, dim)

    def call(self, inputs):
        positions = ops.arange(0, ops.shape(inputs)[1], 1)
        return inputs + self.position_embeddings(positions)


class Encoder(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embed = PositionalEmbedding(5, 2)

    def build(self, input_shape):
        self.embed.build(input_shape)

    def call(self, x):
        return self.embed(x)


x = np.zeros((1, 5, 2), "float32")
trained = Encoder()
trained(x)
trained.save_weights("encoder.weights.h5")

restored = Encoder()
restored.build((None, 5, 2))
restored.load_weights("encoder.weights.h5")
loaded = len(restored.weights)
same = np.allclose(ops.convert_to_numpy(restored(x)), ops.convert_to_numpy(trained(x)))
RESULT = [loaded, bool(same)]
''',
        # build() marks the layer built with no weights: load_weights() restores nothing, and the
        # embedding is created later with fresh random values.
        result_shows("no weights after build(), different outputs after load_weights()", lambda r: r == [0, False]),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        fixed_check=result_shows("the trained embedding restored", lambda r: r == [1, True]),
    ),
    Case(
        "KER407",
        "functional-model-add-loss",
        '''
import numpy as np
import keras

inputs = keras.Input((3,))
outputs = keras.layers.Dense(2)(inputs)
model = keras.Model(inputs, outputs)
model.add_loss(keras.ops.mean(outputs))
model.compile(optimizer="sgd", loss="mse")
RESULT = model.evaluate(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
''',
        # Keras 3's Functional.add_loss raises with an empty message.
        raises("NotImplementedError", ""),
        envs=("jax", "tensorflow", "torch"),
    ),
    Case(
        "KER411",
        "batchnorm-renorm-before-3.14",
        '''
import numpy as np
import keras

bn = keras.layers.BatchNormalization(renorm=True)
RESULT = keras.ops.convert_to_numpy(bn(np.ones((2, 3), "float32"))).shape
''',
        raises("ValueError", "Unrecognized keyword arguments passed to BatchNormalization: {'renorm': True}"),
        envs=("keras3.0-jax", "keras3.0-torch", "keras3.0-tensorflow"),
        keras_version=(3, 0, 5),
    ),
    Case(
        "KER415",
        "ragged-input-on-jax-and-torch",
        '''
import keras

tokens = keras.Input(shape=(None,), dtype="int32", ragged=True)
RESULT = tokens.shape
''',
        raises("ValueError", "`ragged=True` is not supported with the"),
        envs=("jax", "torch"),
    ),
    Case(
        "KER416",
        "ragged-input-before-3.9",
        '''
import keras

tokens = keras.Input(shape=(None,), dtype="int32", ragged=True)
RESULT = tokens.shape
''',
        # The argument is missing from Keras 3.0 to 3.8 whatever the backend, TensorFlow included.
        raises("TypeError", "Input() got an unexpected keyword argument 'ragged'"),
        envs=("keras3.0-jax", "keras3.0-tensorflow"),
        keras_version=(3, 0, 5),
    ),
    Case(
        "KER421",
        "none-in-nested-call-arguments-before-3.13",
        '''
import numpy as np
import keras


class Block(keras.layers.Layer):
    def call(self, inputs):
        mask = inputs["bar"]["baz"]
        return inputs["foo"] if mask is None else inputs["foo"] * mask


class Outer(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = Block()

    def call(self, x):
        return self.block({"foo": x, "bar": {"baz": None}})


RESULT = keras.ops.convert_to_numpy(Outer()(np.ones((1, 2), "float32"))).tolist()
''',
        raises("ValueError", "Only input tensors may be passed as positional arguments"),
        envs=("keras3.0-jax", "keras3.0-torch", "keras3.0-tensorflow"),
        keras_version=(3, 0, 5),
    ),
    Case(
        "KER431",
        "in-place-assignment-in-call",
        '''
import numpy as np
import keras


class ZeroFirst(keras.layers.Layer):
    def call(self, x):
        x[:, 0] = 0.0
        return x


model = keras.Sequential([keras.Input((3,)), ZeroFirst()])
RESULT = model.predict(np.ones((2, 3)), verbose=0).tolist()
''',
        # PyTorch tensors are mutable: the rule is quiet for a PyTorch-only project.
        raises("TypeError", "Could not automatically infer the output shape / dtype of 'zero_first'"),
        envs=("jax", "tensorflow"),
    ),
    Case(
        "KER605",
        "timeseries-generator",
        '''
import numpy as np
from keras.preprocessing.sequence import TimeseriesGenerator

data = np.arange(20, dtype="float32").reshape(20, 1)
RESULT = len(TimeseriesGenerator(data, data, length=5, batch_size=4))
''',
        raises("ImportError", "cannot import name 'TimeseriesGenerator'"),
        envs=("jax", "tensorflow", "torch"),
    ),
    Case(
        "KER605",
        "timeseries-generator-through-tf-keras",
        '''
import numpy as np
from tensorflow.keras.preprocessing.sequence import TimeseriesGenerator

data = np.arange(20, dtype="float32").reshape(20, 1)
RESULT = len(TimeseriesGenerator(data, data, length=5, batch_size=4))
''',
        # The tf.keras shim still serves it with TensorFlow installed, whatever the backend; it
        # breaks after moving to `import keras` or without TensorFlow.
        result_shows("four batches", lambda r: r == 4),
        envs=("tensorflow", "tf-jax"),
    ),
    Case(
        "KER417",
        "separable-conv-kernel-initializer",
        '''
import numpy as np
import keras

keras.utils.set_random_seed(0)
layer = keras.layers.SeparableConv2D(2, 3, kernel_initializer="he_normal", depthwise_initializer="ones", pointwise_initializer="ones")
model = keras.Sequential([keras.Input((4, 4, 1)), layer])
RESULT = model.predict(np.arange(16, dtype="float32").reshape(1, 4, 4, 1), verbose=0).tolist()
''',
        raises("ValueError", "Unrecognized keyword arguments passed to SeparableConv2D"),
        envs=("jax", "tensorflow", "torch"),
        # Keras 2 ignored the argument: the fixed layer computes what it computed.
        fixed_check=result_shows(
            "the window sums of ones-initialized depthwise and pointwise kernels",
            lambda result: result == [[[[45.0, 45.0], [54.0, 54.0]], [[81.0, 81.0], [90.0, 90.0]]]],
        ),
    ),
    Case(
        "KER608",
        "radial-constraint",
        '''
import numpy as np
import keras
from keras import constraints

layer = keras.layers.Dense(2, kernel_constraint=constraints.RadialConstraint())
model = keras.Sequential([keras.Input((3,)), layer])
RESULT = model.predict(np.ones((1, 3)), verbose=0).shape
''',
        raises("AttributeError", "module 'keras.constraints' has no attribute 'RadialConstraint'"),
        envs=("jax", "tensorflow", "torch", "keras3.0-jax"),
    ),
    Case(
        "KER420",
        "nested-functional-inputs-in-a-name-before-3.4",
        '''
import numpy as np
import keras
from keras import layers

i1 = keras.Input((2,), name="i1")
i2 = keras.Input((2,), name="i2")
inputs = {"foo": i1, "bar": {"baz": i2}}
model = keras.Model(inputs, layers.Add()([i1, i2]))
RESULT = model.predict({"foo": np.ones((1, 2)), "bar": {"baz": np.ones((1, 2))}}, verbose=0).tolist()
''',
        raises("ValueError", "When providing `inputs` as a dict, all values in the dict must be KerasTensors"),
        envs=("keras3.0-jax", "keras3.0-torch", "keras3.0-tensorflow"),
        keras_version=(3, 0, 5),
    ),
    Case(
        "KER421",
        "none-in-nested-keyword-argument-before-3.13",
        '''
import numpy as np
import keras
from keras import layers


class Fuse(layers.Layer):
    def call(self, x, extra=None):
        return x if extra[0] is None else x + extra[0]


a = keras.Input((2,))
out = Fuse()(a, extra=[None, a])
RESULT = keras.Model(a, out).predict(np.ones((1, 2)), verbose=0).tolist()
''',
        raises("ValueError", "In a nested call() argument, you cannot mix tensors and non-tensors"),
        envs=("keras3.0-jax", "keras3.0-torch", "keras3.0-tensorflow"),
        keras_version=(3, 0, 5),
    ),
    Case(
        "KER406",
        "dynamic-in-super-init",
        '''
import numpy as np
import keras
from keras import layers


class Gate(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(dynamic=True, **kwargs)

    def call(self, x):
        return x if self.dynamic else -x


model = keras.Sequential([keras.Input((2,)), Gate()])
RESULT = model.predict(np.ones((1, 2)), verbose=0).tolist()
''',
        raises("ValueError", "Unrecognized keyword arguments passed to Gate: {'dynamic': True}"),
        envs=("jax", "tensorflow", "torch", "keras3.0-jax"),
    ),
    Case(
        "KER406",
        "dynamic-false-removed",
        '''
import numpy as np
import keras
from keras import layers


class Scale(layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(dynamic=False, **kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor


model = keras.Sequential([keras.Input((2,)), Scale(3.0), layers.Dense(1, kernel_initializer="ones", dynamic=False)])
RESULT = model.predict(np.ones((1, 2)), verbose=0).tolist()
''',
        raises("ValueError", "Unrecognized keyword arguments passed to Scale: {'dynamic': False}"),
        envs=("jax", "tensorflow", "torch", "keras3.0-jax"),
        fixed_check=result_shows("2 * 3.0 summed by a ones kernel", lambda r: r == [[6.0]]),
    ),
    Case(
        "KER406",
        "layer-metrics-before-3.3",
        '''
import keras

encoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="proj")])
proj = encoder.get_layer("proj")
RESULT = [len(encoder.metrics), len(proj.metrics)]
''',
        raises("AttributeError", "'Dense' object has no attribute 'metrics'"),
        envs=("keras3.0-jax", "keras3.0-torch", "keras3.0-tensorflow"),
        keras_version=(3, 0, 5),
    ),
]
