"""KER4xx/KER6xx/KER7xx/KER8xx rules without a fix: the documented failure under real Keras 3."""

from . import Case, raises, result_shows

LAYER_PROGRAM = '''
import numpy as np
import keras
from keras import ops


{layer}


model = keras.Sequential([keras.Input((4,)), Probe()])
first = model.predict(np.linspace(-1.0, 1.0, 8, dtype="float32").reshape(2, 4), verbose=0)
second = model.predict(np.linspace(-1.0, 1.0, 8, dtype="float32").reshape(2, 4), verbose=0)
RESULT = bool((first == second).all())
'''


def layer_program(layer: str) -> str:
    return LAYER_PROGRAM.replace("{layer}", layer.strip())


FLOAT_OF_PEAK = layer_program(
    '''
class Probe(keras.layers.Layer):
    def call(self, x):
        peak = ops.max(x)
        return x / float(peak)
'''
)

# A model with named layers only: the optimizer's own state (optax tuples) has the integer keys.
NNX_OPTIMIZER_RESUME = '''
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import optax
import orbax.checkpoint as ocp
from flax import nnx


class Regressor(nnx.Module):
    def __init__(self, rngs):
        self.hidden = nnx.Linear(3, 8, rngs=rngs)
        self.out = nnx.Linear(8, 1, rngs=rngs)

    def __call__(self, x):
        return self.out(nnx.relu(self.hidden(x)))


@nnx.jit
def train_step(model, optimizer, x, y):
    def loss_fn(model):
        return ((model(x) - y) ** 2).mean()

    optimizer.update(model, nnx.grad(loss_fn)(model))


x = jnp.linspace(-1.0, 1.0, 12).reshape(4, 3)
y = jnp.sum(x, axis=1, keepdims=True)
model = Regressor(nnx.Rngs(0))
optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
for _ in range(3):
    train_step(model, optimizer, x, y)

ckpt_dir = Path(tempfile.mkdtemp())
checkpointer = ocp.StandardCheckpointer()
checkpointer.save(ckpt_dir / "optimizer", nnx.state(optimizer).to_pure_dict())
checkpointer.wait_until_finished()

resumed = nnx.Optimizer(Regressor(nnx.Rngs(1)), optax.adam(1e-2), wrt=nnx.Param)
restored = checkpointer.restore(ckpt_dir / "optimizer")
nnx.update(resumed, restored)
saved, loaded = nnx.state(optimizer).to_pure_dict(), nnx.state(resumed).to_pure_dict()
same = all(bool((a == b).all()) for a, b in zip(jax.tree.leaves(saved), jax.tree.leaves(loaded)))
RESULT = [int(loaded["step"]), same]
'''

CASES = [
    Case(
        "KER430",
        "synchronized-batchnorm-on-jax",
        '''
import keras

bn = keras.layers.BatchNormalization(synchronized=True)
''',
        raises("ValueError", "Argument synchronized=True is only supported with the TensorFlow backend"),
        envs=("jax", "torch"),
    ),
    Case(
        "KER603",
        "image-data-generator",
        '''
from keras.preprocessing.image import ImageDataGenerator

generator = ImageDataGenerator(rescale=1.0 / 255)
''',
        raises("ImportError", "cannot import name 'ImageDataGenerator'"),
        envs=("jax", "tensorflow", "torch"),
    ),
    Case(
        "KER604",
        "preprocessing-text",
        '''
from keras.preprocessing.text import Tokenizer

tokenizer = Tokenizer(num_words=100)
''',
        raises("ModuleNotFoundError", "No module named 'keras.preprocessing.text'"),
        envs=("jax", "tensorflow", "torch"),
    ),
    Case(
        "KER705",
        "numpy-noise-frozen-by-tracing",
        layer_program(
            '''
class Probe(keras.layers.Layer):
    def call(self, x):
        return x + np.random.normal(0, 0.1, size=(4,))
'''
        ),
        result_shows("the same noise on every predict()", lambda r: r is True),
        # PyTorch runs call() eagerly: the rule is quiet there.
        envs=("jax", "tensorflow"),
    ),
    Case(
        "KER801",
        "float-of-a-tracer",
        FLOAT_OF_PEAK,
        raises("AttributeError", "'str' object has no attribute '_error_repr'"),
        envs=("jax",),
    ),
    Case(
        "KER801",
        "float-of-a-symbolic-tensor",
        FLOAT_OF_PEAK,
        raises("TypeError", "float() argument must be a string or a real number, not 'SymbolicTensor'"),
        envs=("tensorflow",),
    ),
    Case(
        "KER802",
        "boolean-mask-shape",
        layer_program(
            '''
class Probe(keras.layers.Layer):
    def call(self, x):
        return ops.sum(x[x > 0]) + x * 0.0
'''
        ),
        raises("NonConcreteBooleanIndexError", "Array boolean indices must be concrete"),
        envs=("jax",),
    ),
    Case(
        "KER802",
        "repeat-counts-from-tensors",
        layer_program(
            '''
class Probe(keras.layers.Layer):
    def call(self, x):
        counts = ops.cast(ops.ones_like(x[0]), "int32")
        return ops.repeat(x, counts, axis=1)
'''
        ),
        # The ConcretizationTypeError behind it is lost in Keras's error message.
        raises("AttributeError", "'str' object has no attribute '_error_repr'"),
        envs=("jax",),
    ),
    Case(
        "KER802",
        "tile-counts-from-tensors",
        layer_program(
            '''
class Probe(keras.layers.Layer):
    def call(self, x):
        reps = ops.cast(ops.ones((2,)), "int32")
        return ops.tile(x, reps)
'''
        ),
        # JAX 0.10 needs the repetitions as static values.
        raises("TypeError", "the value of parameter reps was not hashable"),
        envs=("jax",),
    ),
    Case(
        "KER803",
        "nnx-update-from-orbax-pure-dict",
        '''
import tempfile
from pathlib import Path

import jax.numpy as jnp
import orbax.checkpoint as ocp
from flax import nnx


class Stack(nnx.Module):
    def __init__(self, rngs):
        self.layers = nnx.List([nnx.Linear(2, 2, rngs=rngs), nnx.Linear(2, 1, rngs=rngs)])

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


path = Path(tempfile.mkdtemp()) / "state"
model = Stack(nnx.Rngs(0))
checkpointer = ocp.StandardCheckpointer()
checkpointer.save(path, nnx.state(model).to_pure_dict())
checkpointer.wait_until_finished()

fresh = Stack(nnx.Rngs(1))
restored = checkpointer.restore(path)
nnx.update(fresh, restored)
x = jnp.ones((1, 2))
RESULT = [model(x).tolist(), fresh(x).tolist()]
''',
        # Flax 0.12.8 / Orbax 0.12.4: the restored keys are '0', '1'; nnx.update refuses them.
        raises("KeyError", "Invalid key: 0"),
        envs=("nnx",),
        # The fix: `nnx.update(fresh, nnx.restore_int_paths(restored))`.
        fixed_check=result_shows("the restored model computes what the saved one did", lambda r: r[0] == r[1]),
        unsafe=True,
    ),
    Case(
        "KER803",
        "nnx-optimizer-state-from-orbax",
        NNX_OPTIMIZER_RESUME,
        # optax states are tuples: `opt_state.0` restored as '0' cannot be set on one.
        raises("ValueError", "Cannot set key '0' on immutable node of type tuple"),
        envs=("nnx",),
        # The fix converts the keys back: the resumed optimizer has the saved step and moments.
        fixed_check=result_shows("the saved optimizer state, step 3", lambda r: r == [3, True]),
        unsafe=True,
    ),
]
