"""KER311 (rules/saving/build_state.py): which calls in `call()` of a subclassed model without
`build()` are reported, on which backends, and the exact methods its unsafe fix adds."""

from __future__ import annotations

from kerasfix.rules import Settings, fix, lint
from kerasfix.rules.saving.build_state import BuildConfigNotRestorable

RULES = [BuildConfigNotRestorable()]
MESSAGE = BuildConfigNotRestorable.message


def _found(source: str, backends: str = "tensorflow,jax,torch") -> list[tuple[int, str]]:
    settings = Settings(target_backends=frozenset(backends.split(",")))
    # (1-based line, reported text)
    return [(source.count("\n", 0, f.span.start) + 1, source[f.span.start:f.span.end])
            for f in lint(source, "model.py", settings, rules=RULES)]


def _fixed(source: str) -> str:
    return fix(source, "model.py", Settings(), unsafe=True, rules=RULES).source


# The article's program: dict input, `tf.keras` spelling.
ARTICLE = '''\
import tensorflow as tf
from tensorflow import keras


class SimpleModel(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(1)

    def call(self, input):
        masked_image = tf.where(input["mask"], input["image"], 0)
        return self.dense(self.flatten(masked_image))


model = SimpleModel()
model.compile(optimizer="adam", loss="mse")
'''

ARTICLE_FIXED = '''\
import tensorflow as tf
from tensorflow import keras
from keras import backend
from keras import tree
from keras import ops


class SimpleModel(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(1)

    def call(self, input):
        masked_image = tf.where(input["mask"], input["image"], 0)
        return self.dense(self.flatten(masked_image))

    def __call__(self, *args, **kwargs):
        # Keras saves only the input shapes; record the dtypes too, for `build_from_config`.
        if args and not hasattr(self, "_build_input_dtypes"):
            dtypes = [backend.standardize_dtype(x.dtype) for x in tree.flatten(args[0]) if hasattr(x, "dtype")]
            object.__setattr__(self, "_build_input_dtypes", dtypes)
        return super().__call__(*args, **kwargs)

    def get_build_config(self):
        config = super().get_build_config()
        if config and "input_shape" in config and hasattr(self, "_build_input_dtypes"):
            config["input_dtypes"] = self._build_input_dtypes
        return config

    def build_from_config(self, config):
        # Build by calling the model on zeros of the recorded dtypes, not on float placeholders.
        if "input_dtypes" not in config:
            return super().build_from_config(config)
        dtypes = iter(config["input_dtypes"])
        inputs = tree.map_shape_structure(
            lambda shape: ops.zeros([1 if n is None else n for n in shape], next(dtypes)),
            config["input_shape"],
        )
        self(inputs, training=False)


model = SimpleModel()
model.compile(optimizer="adam", loss="mse")
'''


def test_article_model_is_reported_and_fixed_exactly():
    findings = lint(ARTICLE, "model.py", Settings(), rules=RULES)
    assert [(f.message, f.backends) for f in findings] == [(MESSAGE, frozenset({"tensorflow"}))]
    assert _found(ARTICLE) == [(12, 'tf.where(input["mask"], input["image"], 0)')]
    assert findings[0].fix is not None and not findings[0].fix.is_safe
    assert _fixed(ARTICLE) == ARTICLE_FIXED
    assert _fixed(ARTICLE_FIXED) == ARTICLE_FIXED
    assert lint(ARTICLE_FIXED, "model.py", Settings(), rules=RULES) == []


def test_only_unsafe_fixes_add_the_methods():
    assert fix(ARTICLE, "model.py", Settings(), unsafe=False, rules=RULES).source == ARTICLE


# Aliases, tuple parts and the whole input; the fix goes after the last line of a `call()` that
# ends in a nested block, at the indentation of a class nested in a function, with the module's
# own `keras` names.
NESTED = '''\
import keras
import tensorflow as tf


def make_model(vocabulary):
    class Tagger(keras.Model):
        def call(self, inputs, training=None):
            tokens, mask = inputs
            ids = tokens[:, 1:]
            hot = tf.one_hot(ids, vocabulary)
            rows = keras.ops.take(self.table, tokens, axis=0)
            kept = tf.where(mask, rows, 0.0)
            if training:
                kept = self.dropout(kept)  # noisy
            return kept

    return Tagger()
'''

NESTED_FIXED = NESTED.replace(
    "                kept = self.dropout(kept)  # noisy\n            return kept\n",
    '''\
                kept = self.dropout(kept)  # noisy
            return kept

        def __call__(self, *args, **kwargs):
            # Keras saves only the input shapes; record the dtypes too, for `build_from_config`.
            if args and not hasattr(self, "_build_input_dtypes"):
                dtypes = [keras.backend.standardize_dtype(x.dtype) for x in keras.tree.flatten(args[0]) if hasattr(x, "dtype")]
                object.__setattr__(self, "_build_input_dtypes", dtypes)
            return super().__call__(*args, **kwargs)

        def get_build_config(self):
            config = super().get_build_config()
            if config and "input_shape" in config and hasattr(self, "_build_input_dtypes"):
                config["input_dtypes"] = self._build_input_dtypes
            return config

        def build_from_config(self, config):
            # Build by calling the model on zeros of the recorded dtypes, not on float placeholders.
            if "input_dtypes" not in config:
                return super().build_from_config(config)
            dtypes = iter(config["input_dtypes"])
            inputs = keras.tree.map_shape_structure(
                lambda shape: keras.ops.zeros([1 if n is None else n for n in shape], next(dtypes)),
                config["input_shape"],
            )
            self(inputs, training=False)
''',
)


def test_aliases_and_tuple_parts_are_followed():
    assert _found(NESTED) == [
        (10, "tf.one_hot(ids, vocabulary)"),
        (11, "keras.ops.take(self.table, tokens, axis=0)"),
        (12, "tf.where(mask, rows, 0.0)"),
    ]


def test_one_fix_per_class_and_it_is_idempotent():
    findings = lint(NESTED, "model.py", Settings(), rules=RULES)
    assert [f.fix is not None for f in findings] == [True, False, False]
    assert _fixed(NESTED) == NESTED_FIXED
    assert _fixed(NESTED_FIXED) == NESTED_FIXED


def test_each_finding_is_for_the_backends_where_the_reload_fails():
    source = '''\
import keras
import tensorflow as tf


class M(keras.Model):
    def call(self, x):
        a = tf.gather(self.table, x)
        b = keras.ops.take(self.table, x, axis=0)
        c = keras.ops.take_along_axis(self.scores, x, axis=1)
        return a + b + c
'''
    assert _found(source, "tensorflow") == [
        (7, "tf.gather(self.table, x)"), (8, "keras.ops.take(self.table, x, axis=0)"),
    ]
    assert _found(source, "jax") == [
        (8, "keras.ops.take(self.table, x, axis=0)"), (9, "keras.ops.take_along_axis(self.scores, x, axis=1)"),
    ]
    assert _found(source, "torch") == []


def test_inputs_that_are_computed_rebound_or_float_operands_are_not_reported():
    source = '''\
import keras
import tensorflow as tf


class M(keras.Model):
    def call(self, inputs):
        mask = inputs["mask"]
        mask = tf.cast(mask, tf.bool)
        a = tf.where(mask, inputs["image"], 0.0)
        b = tf.where(inputs["ids"] > 2, inputs["image"], 0.0)
        c = tf.gather(inputs["image"], self.positions)
        d = tf.where(condition=self.keep, x=inputs["mask"], y=0.0)
        e = keras.ops.where(inputs["mask"], inputs["image"], 0.0)
        return a + b + c + d + e
'''
    assert _found(source) == []
    assert _found(source.replace("tf.gather(inputs[\"image\"], self.positions)", "tf.gather(self.table, indices=inputs['ids'])")) == [
        (11, "tf.gather(self.table, indices=inputs['ids'])"),
    ]


def test_a_model_subclass_of_a_local_model_is_reported_and_a_layer_is_not():
    source = '''\
import keras


class Base(keras.Model):
    pass


class Lookup(Base):
    def call(self, ids):
        return keras.ops.take(self.table, ids, axis=0)


class LookupLayer(keras.layers.Layer):
    def call(self, ids):
        return keras.ops.take(self.table, ids, axis=0)
'''
    assert _found(source) == [(10, "keras.ops.take(self.table, ids, axis=0)")]


def test_the_methods_follow_the_last_line_of_a_call_ending_in_a_block():
    source = '''\
import keras


class M(keras.Model):
    def call(self, inputs):
        try:
            rows = keras.ops.take(self.table, inputs, axis=0)
        except ValueError:
            rows = None
        else:
            if rows is None:
                rows = 0
            elif self.flag: rows = 1
        return rows
'''
    tail = '''\
        return rows

    def __call__(self, *args, **kwargs):
'''
    fixed = _fixed(source)
    assert tail in fixed and fixed.startswith(source)
    nested_tail = source.replace("        return rows\n", "")
    fixed = _fixed(nested_tail)
    assert fixed.startswith(nested_tail.rstrip("\n") + "\n\n    def __call__(self, *args, **kwargs):\n")
    assert _fixed(fixed) == fixed


def test_no_fix_over_a_method_of_the_class():
    source = '''\
import keras


class M(keras.Model):
    def get_build_config(self):
        return {"input_shape": (None, 3)}

    def call(self, ids):
        return keras.ops.take(self.table, ids, axis=0)
'''
    findings = lint(source, "model.py", Settings(), rules=RULES)
    assert [(f.code, f.fix) for f in findings] == [("KER311", None)]
