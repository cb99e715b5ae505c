"""CIFAR-10 ResNet block model trained with mixed precision and a custom training loop (TF 2.2)."""
import time

import tensorflow as tf
from tensorflow.keras import layers, losses, optimizers
from tensorflow.keras.mixed_precision import experimental as mixed_precision

policy = mixed_precision.Policy("mixed_float16")
mixed_precision.set_policy(policy)


def residual_block(x, filters, stride=1):
    shortcut = x
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(fused=True)(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
        shortcut = layers.BatchNormalization()(shortcut)
    x = layers.add([x, shortcut])
    return layers.Activation("relu")(x)


def build_resnet(num_classes=10):
    inputs = tf.keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(32, 3, padding="same")(inputs)
    for filters, stride in [(32, 1), (64, 2), (128, 2)]:
        x = residual_block(x, filters, stride)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(num_classes)(x)
    # keep the softmax in float32 for numeric stability
    outputs = layers.Activation("softmax", dtype="float32")(x)
    return tf.keras.Model(inputs, outputs)


(x_train, y_train), (x_test, y_test) = tf.keras.datasets.cifar10.load_data()
x_train = x_train.astype("float32") / 255.0
train_ds = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
            .shuffle(10000).batch(128).prefetch(tf.data.experimental.AUTOTUNE))

model = build_resnet()
optimizer = optimizers.SGD(learning_rate=0.1, momentum=0.9)
optimizer = mixed_precision.LossScaleOptimizer(optimizer, loss_scale="dynamic")
loss_fn = losses.SparseCategoricalCrossentropy()
train_acc = tf.keras.metrics.SparseCategoricalAccuracy()


@tf.function
def train_step(images, labels):
    with tf.GradientTape() as tape:
        predictions = model(images, training=True)
        loss = loss_fn(labels, predictions)
        scaled_loss = optimizer.get_scaled_loss(loss)
    scaled_gradients = tape.gradient(scaled_loss, model.trainable_variables)
    gradients = optimizer.get_unscaled_gradients(scaled_gradients)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    train_acc.update_state(labels, predictions)
    return loss


for epoch in range(5):
    start = time.time()
    train_acc.reset_states()
    for images, labels in train_ds:
        loss = train_step(images, labels)
    print("epoch %d loss %.4f acc %.4f (%.1fs)" % (
        epoch, float(loss), float(train_acc.result()), time.time() - start))

model.save_weights("ckpt/resnet_mp")
tf.keras.models.save_model(model, "saved/resnet_mp")
