"""KER1xx: imports and namespaces."""

from . import Case, raises, result_shows

CASES = [
    Case(
        "KER101",
        "tf-keras-spellings",
        '''
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers
from tensorflow.keras.layers import Dense as D

model = keras.Sequential([keras.Input((3,)), layers.Dense(4), D(2)])
RESULT = list(model(np.ones((1, 3), "float32")).shape)
''',
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
        fixed_check=result_shows("output shape [1, 2]", lambda r: r == [1, 2]),
    ),
    Case(
        "KER101",
        "tf-keras-alias",
        '''
import numpy as np
import tensorflow.keras as K

layer = K.layers.Dense(2, kernel_initializer="ones")
RESULT = np.asarray(layer(np.ones((1, 3), "float32"))).tolist()
''',
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax",),
        fixed_check=result_shows("3.0 everywhere", lambda r: r == [[3.0, 3.0]]),
    ),
    Case(
        "KER101",
        "tf-keras-is-keras-on-tensorflow",
        '''
import numpy as np
import keras
import tensorflow as tf
from tensorflow.keras import layers
from tensorflow.keras.layers import Dense as D

model = tf.keras.Sequential([tf.keras.Input((3,)), layers.Dense(4), D(2)])
RESULT = [
    list(model(np.ones((1, 3), "float32")).shape),
    layers.Dense is keras.layers.Dense and D is keras.layers.Dense,
    isinstance(model, keras.Model),
]
''',
        # TensorFlow >= 2.16 forwards `tf.keras` to Keras 3 itself: the same classes, no error.
        result_shows("a Keras 3 model of Keras 3 layers", lambda r: r == [[1, 2], True, True]),
        envs=("tensorflow",),
        fixed_check=result_shows("the same model", lambda r: r == [[1, 2], True, True]),
    ),
    Case(
        "KER102",
        "keras-engine-and-layers-core",
        '''
import numpy as np
import keras
from keras.engine.base_layer import Layer
from keras.layers.core import Dense


class Twice(Layer):
    def call(self, x):
        return x * 2


outputs = Twice()(Dense(1, kernel_initializer="ones")(np.ones((1, 2))))
RESULT = keras.ops.convert_to_numpy(outputs).tolist()
''',
        raises("ModuleNotFoundError", "No module named 'keras.engine'"),
        envs=("jax", "torch"),
        fixed_check=result_shows("[[4.0]]", lambda r: r == [[4.0]]),
    ),
    Case(
        "KER102",
        "tensorflow-python-keras",
        '''
import numpy as np
import keras
from tensorflow.python.keras.layers import Dense

# TensorFlow 2.21 still ships its private Keras 2 copy: the import works, the layer is not a
# Keras 3 layer.
model = keras.Sequential([keras.Input((4,)), Dense(3)])
RESULT = list(model(np.ones((2, 4), "float32")).shape)
''',
        raises("ValueError", "Only instances of `keras.Layer` can be added to a Sequential model"),
        envs=("tensorflow",),
        fixed_check=result_shows("shape [2, 3]", lambda r: r == [2, 3]),
    ),
    Case(
        "KER103",
        "int-shape-through-tf-keras",
        '''
import numpy as np
import tensorflow as tf

x = np.zeros((2, 3), "float32")
shape_of = tf.keras.backend.int_shape
RESULT = shape_of(x)
''',
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
    ),
    Case(
        "KER103",
        "tf-keras-shim-serves-them-on-tensorflow",
        '''
import numpy as np
import keras
import tensorflow as tf
from tensorflow.keras.backend import batch_dot

x = np.zeros((2, 3), "float32")
v = keras.Variable(1.5)
RESULT = [
    tf.keras.backend.int_shape(x),
    float(tf.keras.backend.get_value(v)),
    list(batch_dot(np.ones((2, 3, 4), "float32"), np.ones((2, 4, 5), "float32")).shape),
    hasattr(keras.backend, "int_shape"),
]
''',
        # Only the `tf.keras` spelling works, and only where TensorFlow is installed.
        result_shows(
            "the shim's answers, and no int_shape in keras.backend",
            lambda r: r == [[2, 3], 1.5, [2, 3, 5], False],
        ),
        envs=("tensorflow",),
    ),
    Case(
        "KER104",
        "keras-core",
        '''
import numpy as np
import keras_core as keras
from keras_core import ops

RESULT = float(ops.sum(keras.layers.Dense(2, kernel_initializer="ones")(np.ones((1, 3)))))
''',
        raises("ModuleNotFoundError", "No module named 'keras_core'"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("6.0", lambda r: r == 6.0),
    ),
    Case(
        "KER105",
        "experimental-preprocessing",
        '''
import numpy as np
from tensorflow.keras.layers.experimental.preprocessing import Rescaling

RESULT = np.asarray(Rescaling(0.5)(np.ones((1, 2), "float32"))).tolist()
''',
        raises("ModuleNotFoundError", "No module named 'tensorflow.keras.layers.experimental'"),
        envs=("tensorflow",),
        fixed_check=result_shows("[[0.5, 0.5]]", lambda r: r == [[0.5, 0.5]]),
    ),
    Case(
        "KER105",
        "layers-experimental-attribute",
        '''
import numpy as np
from keras import layers

dense = layers.experimental.EinsumDense("ab,bc->ac", output_shape=4)
RESULT = list(dense(np.ones((2, 3), "float32")).shape)
''',
        raises("AttributeError", "module 'keras.layers' has no attribute 'experimental'"),
        envs=("jax", "torch"),
        fixed_check=result_shows("shape [2, 4]", lambda r: r == [2, 4]),
    ),
    Case(
        "KER106",
        "tfa-adamw",
        '''
import numpy as np
import keras
import tensorflow_addons as tfa

model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
model.compile(tfa.optimizers.AdamW(weight_decay=1e-4, learning_rate=1e-3), "mse")
RESULT = model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0).history["loss"]
''',
        raises("ModuleNotFoundError", "No module named 'tensorflow_addons'"),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        # The AdamW fix leaves the import unused; the next pass deletes it.
        fixed_check=result_shows("one epoch's loss", lambda r: isinstance(r, list) and len(r) == 1),
    ),
    Case(
        "KER107",
        "tensorflow-imported-by-keras-code",
        '''
import numpy as np
import keras
import tensorflow as tf

RESULT = keras.ops.sum(np.ones(3)).tolist()
''',
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
    ),
    Case(
        "KER108",
        "keras-experimental-schedules",
        '''
import keras

schedule = keras.experimental.CosineDecay(1e-3, 1000)
RESULT = float(schedule(0))
''',
        raises("AttributeError", "module 'keras' has no attribute 'experimental'"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("1e-3 at step 0", lambda r: abs(r - 1e-3) < 1e-9),
    ),
    Case(
        "KER108",
        "tf-keras-experimental-schedules",
        '''
import tensorflow as tf

schedule = tf.keras.experimental.CosineDecay(1e-3, 1000)
RESULT = float(schedule(0))
''',
        # The `tf.keras` shim does not serve `experimental` either.
        raises("AttributeError", "module 'keras._tf_keras.keras' has no attribute 'experimental'"),
        envs=("tensorflow",),
        fixed_check=result_shows("1e-3 at step 0", lambda r: abs(r - 1e-3) < 1e-9),
    ),
    Case(
        "KER109",
        "mixed-precision-experimental",
        '''
from keras import mixed_precision

policy = mixed_precision.experimental.Policy("mixed_float16")
RESULT = [policy.compute_dtype, policy.variable_dtype]
''',
        raises("AttributeError", "module 'keras.mixed_precision' has no attribute 'experimental'"),
        envs=("jax", "torch"),
        fixed_check=result_shows("float16 compute, float32 variables", lambda r: r == ["float16", "float32"]),
    ),
    Case(
        "KER109",
        "tf-set-policy",
        '''
import tensorflow as tf
import keras

tf.keras.mixed_precision.experimental.set_policy("mixed_bfloat16")
RESULT = keras.mixed_precision.global_policy().name
''',
        raises("AttributeError", "has no attribute 'experimental'"),
        envs=("tensorflow",),
        fixed_check=result_shows("the global policy is set", lambda r: r == "mixed_bfloat16"),
    ),
    Case(
        "KER110",
        "callbacks-experimental",
        '''
from tensorflow.keras.callbacks.experimental import BackupAndRestore

RESULT = type(BackupAndRestore("backup")).__name__
''',
        raises("ModuleNotFoundError", "callbacks.experimental"),
        envs=("tensorflow", "tf-jax", "tf-torch"),
        fixed_check=result_shows("a BackupAndRestore", lambda r: r == "BackupAndRestore"),
    ),
    Case(
        "KER111",
        "legacy-optimizer",
        '''
import numpy as np
import tensorflow as tf

opt = tf.keras.optimizers.legacy.Adam(learning_rate=1e-3)
model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
model.compile(opt, "mse")
RESULT = len(model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0).history["loss"])
''',
        raises("ImportError", "`keras.optimizers.legacy` is not supported in Keras 3"),
        envs=("tensorflow",),
        fixed_check=result_shows("one epoch", lambda r: r == 1),
    ),
    Case(
        "KER111",
        "experimental-optimizer",
        '''
from keras import optimizers

RESULT = optimizers.experimental.AdamW(weight_decay=1e-4).weight_decay
''',
        raises("AttributeError", "module 'keras.optimizers' has no attribute 'experimental'"),
        envs=("jax", "torch"),
        fixed_check=result_shows("weight_decay 1e-4", lambda r: r == 1e-4),
    ),
    Case(
        "KER112",
        "np-utils",
        '''
from keras.utils.np_utils import to_categorical

RESULT = to_categorical([0, 2], num_classes=3).tolist()
''',
        raises("ModuleNotFoundError", "No module named 'keras.utils.np_utils'"),
        envs=("jax", "torch"),
        fixed_check=result_shows("one-hot rows", lambda r: r == [[1, 0, 0], [0, 0, 1]]),
    ),
    Case(
        "KER112",
        "generic-utils",
        '''
from tensorflow.keras.utils.generic_utils import get_custom_objects

RESULT = isinstance(get_custom_objects(), dict)
''',
        raises("ModuleNotFoundError", "generic_utils"),
        envs=("tensorflow",),
        fixed_check=result_shows("a dict", lambda r: r is True),
    ),
    Case(
        "KER114",
        "backend-import-left-after-the-port",
        '''
import numpy as np
import keras
from tensorflow.keras import backend as K

x = np.ones((2, 3), "float32")
# Was K.int_shape(x) and K.concatenate([x, x]) before the port to Keras 3.
RESULT = [list(x.shape), list(keras.ops.concatenate([x, x], axis=-1).shape)]
''',
        # The leftover import alone keeps TensorFlow a dependency.
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
        fixed_check=result_shows("the shapes", lambda r: r == [[2, 3], [2, 6]]),
    ),
    Case(
        "KER114",
        "backend-import-left-after-the-port-on-tensorflow",
        '''
import numpy as np
import keras
from tensorflow.keras import backend as K

x = np.ones((2, 3), "float32")
RESULT = [list(x.shape), list(keras.ops.concatenate([x, x], axis=-1).shape)]
''',
        # Where TensorFlow is installed the dead import is harmless: a clean-up, not a failure.
        result_shows("the shapes", lambda r: r == [[2, 3], [2, 6]]),
        envs=("tensorflow",),
        fixed_check=result_shows("the shapes", lambda r: r == [[2, 3], [2, 6]]),
    ),
    Case(
        "KER113",
        "scikit-learn-wrapper",
        '''
import numpy as np
import keras
from keras.wrappers.scikit_learn import KerasClassifier


def make_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


x = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(16, 4)
y = (x.sum(axis=1) > 0).astype("int32")
clf = KerasClassifier(build_fn=make_model, epochs=2, verbose=0)
clf.fit(x, y)
RESULT = list(clf.predict(x).shape)
''',
        raises("ModuleNotFoundError", "No module named 'keras.wrappers.scikit_learn'"),
        # scikeras, the fix's target, is installed in the "jax", "torch" and "tensorflow" venvs.
        envs=("jax", "torch", "tensorflow"),
        unsafe=True,
        fixed_check=result_shows("16 class predictions", lambda r: r == [16]),
    ),
    Case(
        "KER113",
        "tf-keras-scikit-learn-wrapper",
        '''
from tensorflow.keras.wrappers.scikit_learn import KerasRegressor

RESULT = KerasRegressor.__name__
''',
        # The `tf.keras` shim has only Keras 3's own `SKLearn*` wrappers (no fix: the import
        # names the shim; the case above runs the fix).
        raises("ModuleNotFoundError", "No module named 'tensorflow.keras.wrappers.scikit_learn'"),
        envs=("tensorflow",),
    ),
    Case(
        "KER115",
        "tf-keras-name-missing-everywhere",
        '''
import numpy as np
import tensorflow as tf

y_true = np.array([0, 1, 2, 1])
y_pred = np.array([0, 1, 1, 1])
RESULT = float(tf.keras.metrics.mean_iou(y_true, y_pred, 3)[0])
''',
        # Neither Keras 3 nor the tf.keras shim has the TF 1 metric function: every backend fails.
        raises("AttributeError", "module 'keras._tf_keras.keras.metrics' has no attribute 'mean_iou'"),
        envs=("tensorflow", "tf-jax", "tf-torch"),
    ),
]
