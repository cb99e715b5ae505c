"""Model inputs and outputs: NumPy reading a model's output tensor (KER227), TensorFlow dtypes
given to Keras calls outside the model (KER224), on the backends where they fail."""

from __future__ import annotations

from . import Case, raises, result_shows

PREDICT_BY_CALL = '''
import numpy as np
import keras

model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, kernel_initializer="ones")])
x = np.arange(6, dtype="float32").reshape(2, 3)
labels = np.argmax(model(x), axis=-1)
RESULT = [labels.tolist(), model(x).numpy().tolist()]
'''

CASES = [
    Case(
        "KER227",
        "numpy-on-model-output",
        PREDICT_BY_CALL,
        raises("RuntimeError", "Can't call numpy() on Tensor that requires grad"),
        envs=("torch",),
        fixed_check=result_shows("TensorFlow's numbers", lambda r: r == [[0, 0], [[3.0, 3.0], [12.0, 12.0]]]),
        reference="tensorflow",
    ),
    Case(
        "KER227",
        "numpy-method-on-jax-array",
        PREDICT_BY_CALL,
        raises("AttributeError", "has no attribute 'numpy'"),
        envs=("jax",),
        fixed_check=result_shows("TensorFlow's numbers", lambda r: r == [[0, 0], [[3.0, 3.0], [12.0, 12.0]]]),
        reference="tensorflow",
    ),
    Case(
        "KER224",
        "tf-dtype-given-to-keras-input",
        '''
import numpy as np
import tensorflow as tf
import keras

inputs = keras.Input((3,), dtype=tf.float32)
model = keras.Model(inputs, keras.layers.Dense(2, kernel_initializer="ones")(inputs))
RESULT = [model.inputs[0].dtype, model.predict(np.ones((1, 3)), verbose=0).tolist()]
''',
        # Without TensorFlow installed; the fix drops the dtype object, then the import.
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
        fixed_check=result_shows("float32 inputs and [[3.0, 3.0]]", lambda r: r == ["float32", [[3.0, 3.0]]]),
    ),
    Case(
        "KER227",
        "numpy-method-on-normalization-mean",
        """
import numpy as np
import keras

normalizer = keras.layers.Normalization()
normalizer.adapt(np.array([[1.0, 10.0], [3.0, 30.0]], "float32"))
RESULT = [normalizer.mean.numpy().tolist(), normalizer.variance.numpy().tolist()]
""",
        raises("AttributeError", "has no attribute 'numpy'"),
        envs=("jax",),
        fixed_check=result_shows("the mean and variance", lambda r: r == [[[2.0, 20.0]], [[1.0, 100.0]]]),
        reference="tensorflow",
    ),
]
