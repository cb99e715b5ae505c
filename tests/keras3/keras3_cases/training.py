"""KER5xx: fit, custom steps, metrics, optimizers' runtime API, callbacks."""

from . import Case, raises, raises_one_of, result_shows, warns
from keras3_harness import Result


def per_env(**checks) -> object:
    """A different documented outcome per env (`tf_jax=` for the env "tf-jax")."""

    def check(result: Result) -> None:
        checks[result.env.name.replace("-", "_")](result)

    return check

DATA = '''
import numpy as np
import keras

keras.utils.set_random_seed(0)
x = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(16, 4)
y = x.sum(axis=1, keepdims=True)


def make_model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, kernel_initializer="zeros")])
'''


# A subclassed regressor and its data; the custom steps below are added to its class: the
# Keras 2 tutorial step with TensorFlow, and the steps Keras 3 writes for one backend without
# TensorFlow (PyTorch's `loss.backward()`, JAX's stateless `(logs, state)`).
STEP_DATA = '''
import numpy as np
{imports}
import keras

keras.utils.set_random_seed(0)
x = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(16, 4)
y = x.sum(axis=1, keepdims=True)


class Regressor(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1, kernel_initializer="zeros")

    def call(self, inputs):
        return self.dense(inputs)
'''

# The Keras 2 tutorial step on the same model, with TensorFlow.
TF_STEP_MODEL = STEP_DATA.replace("{imports}", "import tensorflow as tf") + '''
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = {loss}
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        {metrics}
        return {returns}
'''


def tf_step_model(loss: str, metrics: str, returns: str) -> str:
    return (
        TF_STEP_MODEL.replace("{loss}", loss).replace("{metrics}", metrics).replace("{returns}", returns)
    )


TORCH_TRAIN_STEP = '''
    def train_step(self, data):
        x, y = data
        self.zero_grad()
        loss = self.compute_loss(y=y, y_pred=self(x, training=True))
        loss.backward()
        grads = [v.value.grad for v in self.trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(grads, self.trainable_weights)
        return {returns}
'''

JAX_TRAIN_STEP = '''
    def train_step(self, state, data):
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y = data

        def loss_fn(trainable):
            y_pred, _ = self.stateless_call(trainable, non_trainable, x)
            return keras.ops.mean((y - y_pred) ** 2)

        loss, grads = jax.value_and_grad(loss_fn)(trainable)
        trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads, trainable)
        return {"loss": loss}, (trainable, non_trainable, optimizer_vars, metrics_vars)
'''

JAX_TEST_STEP_RETURNING_LOSS = '''
    def test_step(self, state, data):
        trainable, non_trainable, metrics_vars = state
        x, y = data
        y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x)
        loss = keras.ops.mean((y - y_pred) ** 2)
        return loss, (trainable, non_trainable, metrics_vars)
'''

FIT_LOSSES = '''

model = Regressor()
model.compile(optimizer="sgd", loss="mse")
RESULT = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
'''


def torch_train_step(returns: str) -> str:
    return STEP_DATA.replace("{imports}", "import torch") + TORCH_TRAIN_STEP.replace("{returns}", returns) + FIT_LOSSES


FIT = '''
model = Regressor()
model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
RESULT = {"history": history.history, "predictions": model.predict(x[:3], verbose=0).tolist()}
'''

# A two-layer regressor whose starting weights come from NumPy (the backends' random
# initializers differ), trained without shuffling: TensorFlow and JAX then see the same numbers.
KERAS2_STEP_MODEL = '''
import numpy as np
import tensorflow as tf
import keras

x = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(16, 4)
y = np.sin(3.0 * x).sum(axis=1, keepdims=True)


class Regressor(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(8, activation="tanh")
        self.out = keras.layers.Dense(1)

    def call(self, inputs):
        return self.out(self.hidden(inputs))
{step}

model = Regressor()
model(x[:1])
rng = np.random.default_rng(0)
model.set_weights([0.5 * rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
'''

# The Keras 2 tutorial's step (tests/examples/keras2_training.py has the same one).
KERAS2_TRAIN_STEP = '''
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}
'''

# History's `loss` is not compared: with the Keras 2 step on TensorFlow it is the mean
# prediction (the `compiled_metrics` shim feeds `y_pred` to the loss tracker); the loss of the
# model after each epoch is what training did.
TRAIN_EPOCHS = '''
losses = []
for epoch in range(4):
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    losses.append(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])
RESULT = {"losses": losses, "predictions": model.predict(x[:3], verbose=0).tolist()}
'''

KERAS2_TEST_STEP = '''
    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}
'''

EVALUATE = '''
y_pred = model.predict(x, verbose=0)
RESULT = {
    "evaluate": model.evaluate(x, y, verbose=0, return_dict=True),
    "mse": float(np.mean((y_pred - y) ** 2)),
    "mae": float(np.mean(np.abs(y_pred - y))),
    "mean_prediction": float(np.mean(y_pred)),
}
'''


def _evaluates_mse(result: object) -> bool:
    logs = result["evaluate"]  # type: ignore[index]
    return abs(logs["loss"] - result["mse"]) < 1e-5 and abs(logs["mae"] - result["mae"]) < 1e-5  # type: ignore[index]


def _evaluates_mean_prediction(result: object) -> bool:
    logs = result["evaluate"]  # type: ignore[index]
    return abs(logs["loss"] - result["mean_prediction"]) < 1e-5 and abs(logs["loss"] - result["mse"]) > 0.1  # type: ignore[index]


CASES = [
    Case(
        "KER501",
        "keras2-train-step-on-jax",
        '''
import numpy as np
import keras


class Regressor(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1, kernel_initializer="ones")

    def call(self, inputs):
        return self.dense(inputs)

    def test_step(self, data):
        x, y = data
        y_pred = self(x)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        self.mae.update_state(y, y_pred)
        return {"loss": loss, "mae": self.mae.result()}


model = Regressor()
model.mae = keras.metrics.MeanAbsoluteError()
model.compile(optimizer="sgd", loss="mse")
x = np.arange(8, dtype="float32").reshape(4, 2)
RESULT = model.evaluate(x, np.ones((4, 1)), batch_size=2, verbose=0, return_dict=True)
''',
        raises("TypeError", "test_step() takes 2 positional arguments but 3 were given"),
        envs=("jax",),
        # The JAX step written by the fix: the same loss and metric as the step on TensorFlow.
        unsafe=True,
        reference="tensorflow",
    ),
    Case(
        "KER501",
        "keras2-predict-step-on-jax",
        '''
import numpy as np
import keras


class Tagger(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(3, kernel_initializer="identity")

    def call(self, inputs):
        return self.dense(inputs)

    def predict_step(self, data):
        return keras.ops.argmax(self(data), axis=-1)


model = Tagger()
x = np.array([[0.1, 0.9, 0.0], [0.7, 0.2, 0.1], [0.0, 0.3, 0.6]], "float32")
RESULT = model.predict(x, batch_size=2, verbose=0).tolist()
''',
        raises("TypeError", "predict_step() takes 2 positional arguments but 3 were given"),
        envs=("jax",),
        unsafe=True,
        reference="tensorflow",
        tolerance=0.0,
    ),
    Case(
        "KER502",
        "gradient-tape-on-jax",
        tf_step_model("self.compute_loss(y=y, y_pred=y_pred)", "", "{}") + FIT,
        raises("TypeError", "train_step() takes 2 positional arguments but 3 were given"),
        envs=("tf-jax",),
    ),
    Case(
        "KER502",
        "gradient-tape-on-torch",
        tf_step_model("self.compute_loss(y=y, y_pred=y_pred)", "", "{}") + FIT,
        # The tape saw no TensorFlow op: `tape.gradient` is handed a torch tensor.
        raises("TypeError", "Cannot convert the argument `type_value`: tensor("),
        envs=("tf-torch",),
    ),
    Case(
        "KER503",
        "step-returns-a-tensor",
        tf_step_model("self.compute_loss(y=y, y_pred=y_pred)", "", "loss") + FIT,
        raises("AttributeError", "has no attribute 'items'"),
        envs=("tensorflow",),
        unsafe=True,
    ),
    Case(
        "KER503",
        "torch-step-returns-a-tensor",
        torch_train_step("loss"),
        # Keras reads the step's return value as a dict of logs: `.items()` or iterating it
        # fails on a tensor (seen both ways under real Keras 3.15.1, from run to run).
        raises_one_of(
            ("AttributeError", "'Tensor' object has no attribute 'items'"),
            ("TypeError", "iteration over a 0-d tensor"),
        ),
        envs=("torch",),
        unsafe=True,
        # With KER505's fix (unsafe too) the logged loss is the real one.
        fixed_check=result_shows("the real, falling losses", lambda r: r[0] > r[-1] > 0.0),
    ),
    Case(
        "KER503",
        "jax-step-returns-a-tensor",
        STEP_DATA.replace("{imports}\n", "") + JAX_TEST_STEP_RETURNING_LOSS + '''

model = Regressor()
model.compile(optimizer="sgd", loss="mse")
RESULT = model.evaluate(x, y, verbose=0, return_dict=True)
''',
        raises("AttributeError", "ArrayImpl' object has no attribute 'items'"),
        envs=("jax",),
        unsafe=True,
        # The fix updates the `loss` tracker with the step's loss and returns every metric's
        # result: zero weights, so the loss is the mean of y squared.
        fixed_check=result_shows(
            "the compiled MSE as the loss", lambda r: r.keys() == {"loss"} and abs(r["loss"] - 5.482489) < 1e-5
        ),
    ),
    Case(
        "KER504",
        "compiled-loss-on-tensorflow",
        tf_step_model(
            "self.compiled_loss(y, y_pred)",
            "self.compiled_metrics.update_state(y, y_pred)",
            "{m.name: m.result() for m in self.metrics}",
        )
        + '''
model = Regressor()
model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
RESULT = model.predict(x[:3], verbose=0).tolist()
''',
        # Not shuffled: each backend draws its own batch order, and the fixed program on PyTorch
        # is compared with the Keras 2 step on TensorFlow.
        per_env(
            tensorflow=warns("`model.compiled_loss()` is deprecated"),
            tf_torch=raises("AttributeError", "'Regressor' object has no attribute 'compiled_loss'"),
        ),
        envs=("tensorflow", "tf-torch"),
        unsafe=True,
        reference="tensorflow",
    ),
    Case(
        "KER504",
        "compiled-loss-gone-on-jax-and-torch",
        STEP_DATA.replace("{imports}\n", "")
        + '''
    def loss_on(self, x, y):
        return self.compiled_loss(y, self(x))


model = Regressor()
model.compile(optimizer="sgd", loss="mse")
RESULT = float(keras.ops.convert_to_numpy(model.loss_on(x, y)))
''',
        raises("AttributeError", "'Regressor' object has no attribute 'compiled_loss'"),
        envs=("jax", "torch"),
        # Zero weights: the MSE is the mean of y squared.
        fixed_check=result_shows("the compiled MSE", lambda r: abs(r - 5.482489) < 1e-5),
    ),
    Case(
        "KER505",
        "returned-loss-replaced-by-tracker",
        tf_step_model("self.compute_loss(y=y, y_pred=y_pred)", "", '{"loss": loss}')
        + '''
model = Regressor()
model.compile(optimizer="sgd", loss="mse")
RESULT = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
''',
        result_shows("a History of 0.0 losses", lambda r: r == [0.0, 0.0, 0.0]),
        envs=("tensorflow",),
        unsafe=True,
        fixed_check=result_shows("the real, falling losses", lambda r: r[0] > r[-1] > 0.0),
    ),
    Case(
        "KER505",
        "torch-step-loss-replaced-by-tracker",
        torch_train_step('{"loss": loss}'),
        result_shows("a History of 0.0 losses", lambda r: r == [0.0, 0.0, 0.0]),
        envs=("torch",),
        unsafe=True,
        fixed_check=result_shows("the real, falling losses", lambda r: r[0] > r[-1] > 0.0),
    ),
    Case(
        "KER505",
        "jax-step-loss-replaced-by-tracker",
        # The fix updates the tracker in a `StatelessScope` and returns its new variables.
        STEP_DATA.replace("{imports}", "import jax") + JAX_TRAIN_STEP + FIT_LOSSES,
        result_shows("a History of 0.0 losses", lambda r: r == [0.0, 0.0, 0.0]),
        envs=("jax",),
        unsafe=True,
        fixed_check=result_shows("the real, falling losses", lambda r: r[0] > r[-1] > 0.0),
    ),
    Case(
        "KER506",
        "apply-gradients-in-jax-step",
        '''
import numpy as np
import jax
import keras


class Regressor(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1)

    def call(self, inputs):
        return self.dense(inputs)

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y = data

        def loss_fn(trainable):
            y_pred, _ = self.stateless_call(trainable, non_trainable, x)
            return keras.ops.mean((y - y_pred) ** 2)

        loss, grads = jax.value_and_grad(loss_fn)(trainable)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}, state


model = Regressor()
model.compile(optimizer="sgd", loss="mse")
model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
''',
        raises("TypeError", "'NoneType' object is not callable"),
        envs=("jax",),
    ),
    Case(
        "KER507",
        "metric-reset-states",
        '''
import keras

tracker = keras.metrics.Mean(name="loss")
tracker.update_state([1.0, 3.0])
tracker.reset_states()
tracker.update_state([5.0])
RESULT = float(tracker.result())
''',
        raises("AttributeError", "'Mean' object has no attribute 'reset_states'"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("only the value after the reset", lambda r: r == 5.0),
    ),
    Case(
        "KER508",
        "per-output-losses-before-3.5",
        '''
import numpy as np
import keras

inputs = keras.Input((3,))
model = keras.Model(
    inputs, [keras.layers.Dense(1, name="head_a")(inputs), keras.layers.Dense(1, name="head_b")(inputs)]
)
model.compile(optimizer="sgd", loss=["mse", "mse"])
history = model.fit(np.ones((4, 3)), [np.ones((4, 1)), np.zeros((4, 1))], verbose=0)
RESULT = history.history["head_a_loss"]
''',
        raises("KeyError", "head_a_loss"),
        envs=("keras3.0-jax", "keras3.0-torch", "keras3.0-tensorflow"),
        keras_version=(3, 0, 5),
    ),
    Case(
        "KER509",
        "generator-methods",
        DATA + '''

def batches():
    while True:
        for i in range(0, 16, 8):
            yield x[i : i + 8], y[i : i + 8]


model = make_model()
model.compile(optimizer="sgd", loss="mse")
model.fit_generator(batches(), steps_per_epoch=2, epochs=2, verbose=0)
RESULT = model.predict_generator(batches(), 2).shape
''',
        raises("AttributeError", "'Sequential' object has no attribute 'fit_generator'"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("16 predictions", lambda r: r == [16, 1]),
    ),
    Case(
        "KER510",
        "fit-workers",
        DATA + '''
model = make_model()
model.compile(optimizer="sgd", loss="mse")
model.fit(x, y, epochs=1, verbose=0, workers=2, use_multiprocessing=False)
RESULT = model.predict(x, verbose=0, max_queue_size=4).shape
''',
        raises("TypeError", "got an unexpected keyword argument 'workers'"),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        fixed_check=result_shows("16 predictions", lambda r: r == [16, 1]),
    ),
    Case(
        "KER511",
        "sequence-without-super-init",
        DATA + '''

class Batches(keras.utils.Sequence):
    def __init__(self, x, y, batch_size=8):
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]


model = make_model()
model.compile(optimizer="sgd", loss="mse")
RESULT = len(model.fit(Batches(x, y), epochs=2, verbose=0).history["loss"])
''',
        warns("should call `super().__init__(**kwargs)`"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("two epochs", lambda r: r == 2),
    ),
    Case(
        "KER512",
        "keras2-train-step-is-the-default",
        KERAS2_STEP_MODEL.replace("{step}", KERAS2_TRAIN_STEP) + TRAIN_EPOCHS,
        # With TensorFlow installed the step fails on JAX; without it (the fix drops the import
        # the step alone needed) the fixed program trains on JAX and PyTorch too.
        per_env(
            tf_jax=raises("TypeError", "train_step() takes 2 positional arguments but 3 were given"),
            jax=raises("ModuleNotFoundError", "No module named 'tensorflow'"),
            torch=raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        ),
        envs=("tf-jax", "jax", "torch"),
        unsafe=True,
        reference="tensorflow",
        tolerance=1e-4,
        fixed_check=result_shows("a falling loss", lambda r: all(a > b for a, b in zip(r["losses"], r["losses"][1:]))),
    ),
    Case(
        "KER512",
        "keras2-test-step-is-the-default",
        KERAS2_STEP_MODEL.replace("import tensorflow as tf\n", "").replace("{step}", KERAS2_TEST_STEP) + EVALUATE,
        per_env(
            jax=raises("TypeError", "test_step() takes 2 positional arguments but 3 were given"),
            torch=raises("AttributeError", "object has no attribute 'compiled_loss'"),
            tensorflow=result_shows("the mean prediction logged as the loss", _evaluates_mean_prediction),
        ),
        envs=("jax", "torch", "tensorflow"),
        unsafe=True,
        fixed_check=result_shows("the MSE and MAE of the predictions", _evaluates_mse),
    ),
    Case(
        "KER513",
        "compile-arguments",
        DATA + '''
model = make_model()
model.compile(optimizer="sgd", loss="mse", experimental_run_tf_function=False)
RESULT = model.evaluate(x, y, verbose=0)
''',
        raises("TypeError", "got an unexpected keyword argument 'experimental_run_tf_function'"),
        envs=("jax", "tensorflow"),
        fixed_check=result_shows("a loss", lambda r: isinstance(r, float)),
    ),
    Case(
        "KER513",
        "train-on-batch-reset-metrics",
        DATA + '''
model = make_model()
model.compile(optimizer="sgd", loss="mse")
RESULT = model.train_on_batch(x, y, reset_metrics=False)
''',
        raises("TypeError", "got an unexpected keyword argument 'reset_metrics'"),
        envs=("jax", "torch"),
        unsafe=True,
        fixed_check=result_shows("a loss", lambda r: isinstance(r, float)),
    ),
    Case(
        "KER514",
        "string-op-under-xla",
        '''
import numpy as np
import tensorflow as tf
import keras


class Lengths(keras.layers.Layer):
    def call(self, x):
        return tf.cast(tf.strings.length(tf.strings.as_string(x)), "float32")


model = keras.Sequential([keras.Input((2,)), Lengths(), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse", jit_compile=True)
model.fit(np.ones((4, 2), "float32"), np.ones((4, 1)), verbose=0)
RESULT = model.predict(np.full((1, 2), 10.0, "float32"), verbose=0).shape
''',
        raises("InvalidArgumentError", "XLA"),
        envs=("tensorflow",),
        unsafe=True,
        fixed_check=result_shows("one prediction", lambda r: r == [1, 1]),
    ),
    Case(
        "KER517",
        "metrics-names-zip",
        DATA + '''
model = make_model()
model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
RESULT = dict(zip(model.metrics_names, model.evaluate(x, y, verbose=0)))
''',
        result_shows("no 'mae' key", lambda r: "mae" not in r and "compile_metrics" in r),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        fixed_check=result_shows("'loss' and 'mae'", lambda r: sorted(r) == ["loss", "mae"]),
    ),
    Case(
        "KER515",
        "history-lr-key",
        DATA + '''
model = make_model()
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
history = model.fit(x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.ReduceLROnPlateau(patience=1)])
RESULT = history.history["lr"]
''',
        raises("KeyError", "lr"),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        fixed_check=result_shows("the rate of each epoch", lambda r: len(r) == 2 and abs(r[0] - 0.1) < 1e-6),
    ),
    Case(
        # PyTorch here; the VAE of the migration corpus shows JAX (tests/examples/migration).
        "KER516",
        "model-without-call",
        DATA + '''

class Wrapper(keras.Model):
    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def train_step(self, data):
        x, y = data
        return {"total": keras.ops.sum(self.inner(x))}


model = Wrapper(make_model())
model.compile(optimizer="sgd")
RESULT = model.fit(x, y, epochs=2, verbose=0).history["total"]
''',
        raises("RuntimeError", "Unable to automatically build the model"),
        envs=("torch",),
        unsafe=True,
        fixed_check=result_shows("two epochs of logs", lambda r: len(r) == 2),
    ),
    Case(
        "KER519",
        "zero-loss-in-logs",
        DATA + '''

class Scored(keras.Model):
    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, x):
        return self.inner(x)

    def test_step(self, data):
        x, y = data
        self.compute_metrics(x, y, self(x, training=False))
        return {m.name: m.result() for m in self.metrics}


model = Scored(make_model())
model.compile(optimizer="sgd", metrics=["mae"])
RESULT = model.evaluate(x, y, verbose=0)
''',
        result_shows("a leading 0.0 before the mean absolute error", lambda r: len(r) == 2 and r[0] == 0.0),
        envs=("tensorflow", "torch"),
        unsafe=True,
        # The zero-initialized model predicts 0: its error is the mean of |y|.
        fixed_check=result_shows("the mean absolute error alone", lambda r: isinstance(r, float) and r > 0.5),
    ),
    Case(
        "KER520",
        "set-optimizer-lr",
        DATA + '''
model = make_model()
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
model.optimizer.lr = 0.0
model.fit(x, y, epochs=2, verbose=0)
RESULT = np.abs(model.get_weights()[0]).sum().item()
''',
        result_shows("trained weights although lr was set to 0", lambda r: r > 0.01),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("untrained (zero) weights", lambda r: r == 0.0),
    ),
    Case(
        "KER520",
        "optimizer-variables-call",
        DATA + '''
model = make_model()
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=1, verbose=0)
RESULT = len(model.optimizer.variables())
''',
        raises("TypeError", "'list' object is not callable"),
        envs=("jax", "tensorflow"),
        fixed_check=result_shows("Adam's variables", lambda r: r > 2),
    ),
    Case(
        "KER521",
        "get-gradients-override",
        DATA + '''
calls = []


class FrozenSGD(keras.optimizers.SGD):
    def get_gradients(self, loss, params):
        calls.append("get_gradients")
        return [0.0 * p for p in params]


model = make_model()
model.compile(optimizer=FrozenSGD(learning_rate=0.1), loss="mse")
model.fit(x, y, epochs=2, verbose=0)
RESULT = {"calls": calls, "weights": np.abs(model.get_weights()[0]).sum().item()}
''',
        result_shows(
            "an override never called, weights trained", lambda r: r["calls"] == [] and r["weights"] > 0.01
        ),
        envs=("jax", "tensorflow", "torch"),
    ),
    Case(
        "KER530",
        "reduce-lr-epsilon",
        '''
import keras

cb = keras.callbacks.ReduceLROnPlateau(patience=3, epsilon=1e-3)
RESULT = cb.min_delta
''',
        result_shows("the default min_delta, epsilon swallowed", lambda r: r == 1e-4),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("min_delta 1e-3", lambda r: r == 1e-3),
    ),
    Case(
        "KER530",
        "progbar-count-mode",
        '''
import keras

RESULT = type(keras.callbacks.ProgbarLogger(count_mode="steps")).__name__
''',
        raises("TypeError", "got an unexpected keyword argument 'count_mode'"),
        envs=("jax", "torch"),
        fixed_check=result_shows("a ProgbarLogger", lambda r: r == "ProgbarLogger"),
    ),
    Case(
        "KER530",
        "tensorboard-write-grads",
        '''
import tensorflow as tf

tb = tf.keras.callbacks.TensorBoard("logs", write_grads=True)
RESULT = tb.log_dir
''',
        raises("TypeError", "got an unexpected keyword argument 'write_grads'"),
        envs=("tensorflow", "tf-torch"),
        fixed_check=result_shows("log_dir logs", lambda r: r == "logs"),
    ),
    Case(
        "KER540",
        "tf-data-without-tensorflow",
        DATA + '''
import tensorflow as tf

ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
model = make_model()
model.compile(optimizer="sgd", loss="mse")
model.fit(ds, verbose=0)
''',
        raises("ModuleNotFoundError", "No module named 'tensorflow'"),
        envs=("jax", "torch"),
    ),
    Case(
        "KER601",
        "optimizer-lr",
        DATA + '''
model = make_model()
model.compile(optimizer=keras.optimizers.SGD(lr=0.1, momentum=0.9), loss="mse")
model.fit(x, y, epochs=2, verbose=0)
RESULT = float(model.optimizer.learning_rate)
''',
        raises("ValueError", "Argument(s) not recognized: {'lr': 0.1}"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows("learning_rate 0.1", lambda r: abs(r - 0.1) < 1e-7),
    ),
    Case(
        "KER518",
        "model-metrics-passed-back-to-compile",
        '''
import numpy as np
import keras

model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
model.compile(optimizer="sgd", loss=model.loss, metrics=model.metrics)
model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
''',
        raises("TypeError", "got multiple values for argument 'sample_weight'"),
        envs=("jax", "tensorflow", "torch"),
    ),
    Case(
        "KER508",
        "unpacked-multi-output-evaluate-before-3.5",
        '''
import numpy as np
import keras
from keras import layers

a = keras.Input((2,))
multi = keras.Model(a, [layers.Dense(1, name="o1")(a), layers.Dense(1, name="o2")(a)])
multi.compile("sgd", ["mse", "mse"])
x = np.ones((4, 2))
y = np.ones((4, 1))
loss, l1, l2 = multi.evaluate(x, [y, y], verbose=0)
RESULT = [loss, l1, l2]
''',
        raises("TypeError", "cannot unpack non-iterable float object"),
        envs=("keras3.0-jax", "keras3.0-torch", "keras3.0-tensorflow"),
        keras_version=(3, 0, 5),
    ),
    Case(
        # A GAN's label noise: the ones become up to 1.05 (TensorFlow and JAX take them: the
        # corpus GAN runs there).
        "KER523",
        "noisy-labels-above-one",
        """
import keras
from keras import ops

predictions = ops.full((8, 1), 0.7)
labels = ops.concatenate([ops.ones((4, 1)), ops.zeros((4, 1))], axis=0)
labels += 0.05 * keras.random.uniform(ops.shape(labels), seed=1)
RESULT = float(keras.losses.BinaryCrossentropy()(labels, predictions))
""",
        raises("RuntimeError", "all elements of target should be between 0 and 1"),
        envs=("torch",),
    ),
    Case(
        "KER522",
        "evaluate-metrics-unpacked-in-compile-order",
        """
import numpy as np
import keras
from keras import layers

inputs = keras.Input((2,))
hidden = layers.Dense(4, kernel_initializer="ones")(inputs)
zeta = layers.Dense(1, name="zeta", kernel_initializer="ones")(hidden)
alpha = layers.Dense(1, name="alpha", kernel_initializer="zeros")(hidden)
model = keras.Model(inputs, [zeta, alpha])
model.compile("sgd", loss={"zeta": "mse", "alpha": "mse"}, metrics={"zeta": ["mae"], "alpha": ["mse"]})
x = np.linspace(0.0, 1.0, 16, dtype="float32").reshape(8, 2)
y = [np.zeros((8, 1), "float32"), np.full((8, 1), 3.0, "float32")]
loss, zeta_loss, alpha_loss, zeta_mae, alpha_mse = model.evaluate(x, y, verbose=0)
truth = model.evaluate(x, y, verbose=0, return_dict=True)
RESULT = {"zeta_mae": zeta_mae, "alpha_mse": alpha_mse, "truth": truth}
""",
        result_shows(
            "alpha's mse unpacked as zeta's mae",
            lambda r: abs(r["zeta_mae"] - r["truth"]["alpha_mse"]) < 1e-6
            and abs(r["zeta_mae"] - r["truth"]["zeta_mae"]) > 0.1,
        ),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        fixed_check=result_shows(
            "each value under its own name",
            lambda r: abs(r["zeta_mae"] - r["truth"]["zeta_mae"]) < 1e-6
            and abs(r["alpha_mse"] - r["truth"]["alpha_mse"]) < 1e-6,
        ),
    ),
]
