"""A text classifier with a TextVectorization layer adapted on the corpus (tf.keras 2.x style).

As in the keras.io "Text classification from scratch" example: the vectorizer is adapted on the
raw strings, the training data is vectorized in a `tf.data` pipeline (`map`), the model learns on
integer sequences (Embedding, GlobalAveragePooling1D, Dense), and for inference an end-to-end
model takes raw strings (`keras.Input(shape=(1,), dtype="string")`) and is saved for serving.
"""
# Adam updates the Embedding from sparse gradients: Keras 2 adds each occurrence's squared
# gradient of a token to its second moment, Keras 3 squares their sum, so after the first step
# the numbers differ (an SGD run gives the same numbers). Compared as for a random program.
# corpus: numbers = "random"
# corpus: remaining = ["KER107", "KER419", "KER540", "KER540"]
# corpus: blocked.jax = "ModuleNotFoundError: No module named 'tensorflow'"
# corpus: blocked.torch = "ModuleNotFoundError: No module named 'tensorflow'"

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
from tensorflow.keras.layers import TextVectorization

POSITIVE = ["good", "great", "fine", "lovely", "superb", "happy", "nice", "best"]
NEGATIVE = ["bad", "awful", "poor", "sad", "worst", "boring", "ugly", "dull"]
NEUTRAL = ["the", "movie", "was", "a", "plot", "actor", "film", "and", "it", "story", "very", "quite"]


def make_reviews(rng, count):
    texts, labels = [], []
    for _ in range(count):
        label = rng.randint(0, 2)
        mood = POSITIVE if label else NEGATIVE
        words = list(rng.choice(NEUTRAL, size=rng.randint(4, 9)))
        for _ in range(rng.randint(1, 4)):
            words.insert(rng.randint(0, len(words) + 1), mood[rng.randint(len(mood))])
        texts.append(" ".join(words))
        labels.append(label)
    return np.array(texts), np.array(labels, dtype="float32")


rng = np.random.RandomState(2)
train_texts, train_labels = make_reviews(rng, 320)
test_texts, test_labels = make_reviews(rng, 64)

max_features = 40
sequence_length = 12

vectorize_layer = TextVectorization(
    max_tokens=max_features,
    output_mode="int",
    output_sequence_length=sequence_length,
)
text_ds = tf.data.Dataset.from_tensor_slices(train_texts).batch(64)
vectorize_layer.adapt(text_ds)


def vectorize_text(text, label):
    text = tf.expand_dims(text, -1)
    return vectorize_layer(text), label


train_ds = tf.data.Dataset.from_tensor_slices((train_texts, train_labels)).batch(32).map(vectorize_text)
test_ds = tf.data.Dataset.from_tensor_slices((test_texts, test_labels)).batch(32).map(vectorize_text)

inputs = keras.Input(shape=(None,), dtype="int64")
x = layers.Embedding(max_features, 8)(inputs)
x = layers.GlobalAveragePooling1D()(x)
x = layers.Dense(8, activation="relu")(x)
predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)
model = keras.Model(inputs, predictions)

model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(learning_rate=0.01), metrics=["accuracy"])
before = model.evaluate(test_ds, verbose=0)
history = model.fit(train_ds, validation_data=test_ds, epochs=4, verbose=0)

# An end-to-end model for inference: raw strings in, probabilities out.
string_input = keras.Input(shape=(1,), dtype="string")
indices = vectorize_layer(string_input)
outputs = model(indices)
end_to_end_model = keras.Model(string_input, outputs)
end_to_end_model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

raw_test_ds = tf.data.Dataset.from_tensor_slices((test_texts, test_labels)).batch(32)
evaluation = end_to_end_model.evaluate(raw_test_ds, verbose=0)

# Exported in the SavedModel format (a folder) and loaded back for serving.
end_to_end_model.save("text_classifier")
served = keras.models.load_model("text_classifier")
samples = tf.constant([["the movie was great and lovely"], ["a boring and awful plot"], ["the film"]])

RESULT = {
    "before": before,
    "history": history.history,
    "vocabulary_size": vectorize_layer.vocabulary_size(),
    "evaluation": evaluation,
    "predictions": end_to_end_model.predict(samples, verbose=0).tolist(),
    "served": served.predict(samples, verbose=0).tolist(),
}
