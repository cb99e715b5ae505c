"""Text classification with TextVectorization and a tf.data pipeline (TF 2.4)."""
import re
import string

import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
from tensorflow.keras.layers.experimental.preprocessing import TextVectorization

batch_size = 32
max_features = 20000
sequence_length = 500
AUTOTUNE = tf.data.experimental.AUTOTUNE

raw_train_ds = keras.preprocessing.text_dataset_from_directory(
    "aclImdb/train", batch_size=batch_size, validation_split=0.2,
    subset="training", seed=1337)
raw_val_ds = keras.preprocessing.text_dataset_from_directory(
    "aclImdb/train", batch_size=batch_size, validation_split=0.2,
    subset="validation", seed=1337)


def custom_standardization(input_data):
    lowercase = tf.strings.lower(input_data)
    stripped_html = tf.strings.regex_replace(lowercase, "<br />", " ")
    return tf.strings.regex_replace(
        stripped_html, "[%s]" % re.escape(string.punctuation), "")


vectorize_layer = TextVectorization(
    standardize=custom_standardization,
    max_tokens=max_features,
    output_mode="int",
    output_sequence_length=sequence_length,
)
text_ds = raw_train_ds.map(lambda x, y: x)
vectorize_layer.adapt(text_ds)


def vectorize_text(text, label):
    text = tf.expand_dims(text, -1)
    return vectorize_layer(text), label


train_ds = raw_train_ds.map(vectorize_text).cache().prefetch(buffer_size=AUTOTUNE)
val_ds = raw_val_ds.map(vectorize_text).cache().prefetch(buffer_size=AUTOTUNE)

inputs = tf.keras.Input(shape=(None,), dtype="int64")
x = layers.Embedding(max_features, 128)(inputs)
x = layers.Dropout(0.5)(x)
x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
x = layers.GlobalMaxPooling1D()(x)
x = layers.Dense(128, activation="relu")(x)
x = layers.Dropout(0.5)(x)
predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)
model = tf.keras.Model(inputs, predictions)
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=3)

# end-to-end model that takes raw strings
text_input = tf.keras.Input(shape=(1,), dtype=tf.string)
indices = vectorize_layer(text_input)
end_to_end = tf.keras.Model(text_input, model(indices))
end_to_end.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
tf.saved_model.save(end_to_end, "exported/text_classifier")
end_to_end.save("exported/text_classifier_keras", save_format="tf")
print(end_to_end.predict(tf.constant([["this movie was great"]])))
