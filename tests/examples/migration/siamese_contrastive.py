"""A siamese network trained with a contrastive loss on pairs of images (tf.keras 2.x style, after
the keras.io example "Image similarity estimation using a Siamese Network with a contrastive loss").

Keras 2 habits in it: one embedding tower shared by both inputs, the euclidean distance of the two
embeddings in a `layers.Lambda` written with TensorFlow ops and `tf.keras.backend.epsilon()`, and a
contrastive loss closure written with `tf.math` ops.
"""
# corpus: numbers = "same"

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

rng = np.random.RandomState(3)
num_classes = 4
prototypes = rng.normal(size=(num_classes, 12, 12, 1)).astype("float32")
labels = rng.randint(0, num_classes, size=240)
images = (prototypes[labels] + 0.4 * rng.normal(size=(240, 12, 12, 1))).astype("float32")


def make_pairs(x, y):
    """One positive and one negative pair for each image; label 1 for a pair of different classes."""
    digit_indices = [np.where(y == i)[0] for i in range(num_classes)]
    pairs, pair_labels = [], []
    for idx1 in range(len(x)):
        x1, label1 = x[idx1], y[idx1]
        idx2 = rng.choice(digit_indices[label1])
        pairs += [[x1, x[idx2]]]
        pair_labels += [0]
        label2 = rng.randint(0, num_classes - 1)
        label2 = label2 + 1 if label2 >= label1 else label2
        idx2 = rng.choice(digit_indices[label2])
        pairs += [[x1, x[idx2]]]
        pair_labels += [1]
    return np.array(pairs), np.array(pair_labels).astype("float32")


pairs_train, labels_train = make_pairs(images[:200], labels[:200])
pairs_val, labels_val = make_pairs(images[200:], labels[200:])
x_train_1, x_train_2 = pairs_train[:, 0], pairs_train[:, 1]
x_val_1, x_val_2 = pairs_val[:, 0], pairs_val[:, 1]


def euclidean_distance(vects):
    """The euclidean distance of two embeddings, kept away from zero for the gradient of sqrt."""
    x, y = vects
    sum_square = tf.math.reduce_sum(tf.math.square(x - y), axis=1, keepdims=True)
    return tf.math.sqrt(tf.math.maximum(sum_square, tf.keras.backend.epsilon()))


input = layers.Input((12, 12, 1))
x = tf.keras.layers.BatchNormalization()(input)
x = layers.Conv2D(4, (3, 3), activation="tanh")(x)
x = layers.AveragePooling2D(pool_size=(2, 2))(x)
x = layers.Conv2D(8, (3, 3), activation="tanh")(x)
x = layers.AveragePooling2D(pool_size=(2, 2))(x)
x = layers.Flatten()(x)
x = tf.keras.layers.BatchNormalization()(x)
x = layers.Dense(10, activation="tanh")(x)
embedding_network = keras.Model(input, x)

input_1 = layers.Input((12, 12, 1))
input_2 = layers.Input((12, 12, 1))
tower_1 = embedding_network(input_1)
tower_2 = embedding_network(input_2)
merge_layer = layers.Lambda(euclidean_distance)([tower_1, tower_2])
normal_layer = tf.keras.layers.BatchNormalization()(merge_layer)
output_layer = layers.Dense(1, activation="sigmoid")(normal_layer)
siamese = keras.Model(inputs=[input_1, input_2], outputs=output_layer)


def loss(margin=1):
    """The contrastive loss with a given margin (a closure, as Keras losses take two arguments)."""

    def contrastive_loss(y_true, y_pred):
        square_pred = tf.math.square(y_pred)
        margin_square = tf.math.square(tf.math.maximum(margin - (y_pred), 0))
        return tf.math.reduce_mean((1 - y_true) * square_pred + (y_true) * margin_square)

    return contrastive_loss


siamese.compile(loss=loss(margin=1), optimizer="RMSprop", metrics=["accuracy"])
history = siamese.fit(
    [x_train_1, x_train_2],
    labels_train,
    validation_data=([x_val_1, x_val_2], labels_val),
    batch_size=16,
    epochs=4,
    verbose=0,
)

results = siamese.evaluate([x_val_1, x_val_2], labels_val, verbose=0)
RESULT = {
    "history": history.history,
    "evaluation": results,
    "predictions": siamese.predict([x_val_1[:6], x_val_2[:6]], verbose=0).tolist(),
    "embeddings": embedding_network.predict(x_val_1[0:4:2], verbose=0).tolist(),
}
