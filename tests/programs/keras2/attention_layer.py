"""Additive attention layer for a document classifier (Keras 2 / TF 2.6 era)."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import backend as K
from tensorflow.keras import layers


class AttentionPooling(layers.Layer):
    """Bahdanau-style attention pooling over the time axis."""

    def __init__(self, units=64, return_attention=False, **kwargs):
        super(AttentionPooling, self).__init__(**kwargs)
        self.units = units
        self.return_attention = return_attention
        self.supports_masking = True

    def build(self, input_shape):
        dim = int(input_shape[-1])
        self.W = self.add_weight(name="att_W", shape=(dim, self.units),
                                 initializer="glorot_uniform", trainable=True)
        self.b = self.add_weight(name="att_b", shape=(self.units,),
                                 initializer="zeros", trainable=True)
        self.u = self.add_weight(name="att_u", shape=(self.units, 1),
                                 initializer="glorot_uniform", trainable=True)
        super(AttentionPooling, self).build(input_shape)

    def call(self, x, mask=None):
        uit = K.tanh(K.bias_add(K.dot(x, self.W), self.b))
        ait = K.squeeze(K.dot(uit, self.u), -1)
        ait = K.exp(ait - K.max(ait, axis=1, keepdims=True))
        if mask is not None:
            ait *= K.cast(mask, K.floatx())
        ait /= K.cast(K.sum(ait, axis=1, keepdims=True) + K.epsilon(), K.floatx())
        weighted = x * K.expand_dims(ait)
        output = K.sum(weighted, axis=1)
        if self.return_attention:
            return [output, ait]
        return output

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        if self.return_attention:
            return [(input_shape[0], input_shape[-1]), (input_shape[0], input_shape[1])]
        return input_shape[0], input_shape[-1]

    def get_config(self):
        config = super(AttentionPooling, self).get_config()
        config.update({"units": self.units, "return_attention": self.return_attention})
        return config


def build_model(vocab_size=20000, maxlen=200, embed_dim=128):
    inputs = keras.Input(shape=(maxlen,), dtype="int32")
    x = layers.Embedding(vocab_size, embed_dim, mask_zero=True)(inputs)
    x = layers.Bidirectional(layers.GRU(64, return_sequences=True))(x)
    x = AttentionPooling(64)(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(lr=1e-3),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


if __name__ == "__main__":
    (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=20000)
    x_train = keras.preprocessing.sequence.pad_sequences(x_train, maxlen=200)
    x_test = keras.preprocessing.sequence.pad_sequences(x_test, maxlen=200)
    model = build_model()
    model.summary()
    model.fit(x_train, y_train, batch_size=64, epochs=3,
              validation_data=(x_test, y_test))
    model.save("imdb_attention")
    reloaded = keras.models.load_model(
        "imdb_attention", custom_objects={"AttentionPooling": AttentionPooling})
    print(reloaded.evaluate(x_test, y_test, verbose=0))
