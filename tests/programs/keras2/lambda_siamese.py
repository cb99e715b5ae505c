"""Siamese network for signature verification with Lambda layers and contrastive loss."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import backend as K
from tensorflow.keras.layers import (Conv2D, Dense, Flatten, Input, Lambda,
                                     MaxPooling2D, Dropout)
from tensorflow.keras.models import Model, Sequential
from tensorflow.keras.optimizers import RMSprop
from tensorflow.keras.regularizers import l2


def euclidean_distance(vects):
    x, y = vects
    sum_square = K.sum(K.square(x - y), axis=1, keepdims=True)
    return K.sqrt(K.maximum(sum_square, K.epsilon()))


def eucl_dist_output_shape(shapes):
    shape1, shape2 = shapes
    return (shape1[0], 1)


def contrastive_loss(y_true, y_pred, margin=1.0):
    square_pred = K.square(y_pred)
    margin_square = K.square(K.maximum(margin - y_pred, 0))
    return K.mean(y_true * square_pred + (1 - y_true) * margin_square)


def accuracy(y_true, y_pred):
    return K.mean(K.equal(y_true, K.cast(y_pred < 0.5, y_true.dtype)))


def base_network(input_shape):
    seq = Sequential()
    seq.add(Conv2D(32, (3, 3), activation="relu", input_shape=input_shape,
                   kernel_regularizer=l2(2e-4)))
    seq.add(MaxPooling2D())
    seq.add(Conv2D(64, (3, 3), activation="relu", kernel_regularizer=l2(2e-4)))
    seq.add(MaxPooling2D())
    seq.add(Flatten())
    seq.add(Dense(128, activation="relu"))
    seq.add(Dropout(0.1))
    seq.add(Dense(64, activation="relu"))
    return seq


input_shape = (105, 105, 1)
base = base_network(input_shape)
input_a = Input(shape=input_shape)
input_b = Input(shape=input_shape)
processed_a = base(input_a)
processed_b = base(input_b)
l2_normed_a = Lambda(lambda t: K.l2_normalize(t, axis=-1))(processed_a)
l2_normed_b = Lambda(lambda t: K.l2_normalize(t, axis=-1))(processed_b)
distance = Lambda(euclidean_distance, output_shape=eucl_dist_output_shape)(
    [l2_normed_a, l2_normed_b])
model = Model([input_a, input_b], distance)

model.compile(loss=contrastive_loss, optimizer=RMSprop(), metrics=[accuracy])

pairs = np.load("pairs.npy")
labels = np.load("labels.npy").astype("float32")
model.fit([pairs[:, 0], pairs[:, 1]], labels, batch_size=128, epochs=20, validation_split=0.1)
model.save("siamese.h5")

reloaded = tf.keras.models.load_model(
    "siamese.h5",
    custom_objects={"contrastive_loss": contrastive_loss, "accuracy": accuracy, "K": K})
y_pred = reloaded.predict([pairs[:100, 0], pairs[:100, 1]])
print("mean distance", float(np.mean(y_pred)))
embedding = K.function([base.input], [base.output])
print(embedding([pairs[:4, 0]])[0].shape)
