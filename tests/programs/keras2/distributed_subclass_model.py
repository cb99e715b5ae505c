"""Subclassed model trained under MirroredStrategy with a custom train/test step (TF 2.5)."""
import os

import tensorflow as tf

strategy = tf.distribute.MirroredStrategy()
GLOBAL_BATCH = 64 * strategy.num_replicas_in_sync


class ConvBlock(tf.keras.layers.Layer):
    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.conv = tf.keras.layers.Conv2D(filters, 3, padding="same")
        self.bn = tf.keras.layers.BatchNormalization()

    def call(self, x, training=False):
        return tf.nn.relu(self.bn(self.conv(x), training=training))


class Classifier(tf.keras.Model):
    def __init__(self, num_classes=10):
        super().__init__()
        self.block1 = ConvBlock(32)
        self.block2 = ConvBlock(64)
        self.pool = tf.keras.layers.GlobalAveragePooling2D()
        self.head = tf.keras.layers.Dense(num_classes)
        self.loss_tracker = tf.keras.metrics.Mean(name="loss")
        self.acc = tf.keras.metrics.SparseCategoricalAccuracy(name="acc")

    def call(self, x, training=False):
        x = self.block1(x, training=training)
        x = tf.nn.max_pool2d(x, 2, 2, "VALID")
        x = self.block2(x, training=training)
        return self.head(self.pool(x))

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            logits = self(x, training=True)
            per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
            loss += tf.nn.scale_regularization_loss(self.losses)
        grads = tape.gradient(loss, self.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 5.0)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        self.acc.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        logits = self(x, training=False)
        self.acc.update_state(y, logits)
        return self.acc.result()

    @property
    def metrics(self):
        return [self.loss_tracker, self.acc]


def make_dataset(x, y):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.map(lambda a, b: (tf.cast(a, tf.float32) / 255.0, tf.cast(b, tf.int64)),
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.shuffle(10000).batch(GLOBAL_BATCH).prefetch(tf.data.AUTOTUNE)


(x_train, y_train), (x_test, y_test) = tf.keras.datasets.cifar10.load_data()
train_ds = make_dataset(x_train, y_train[:, 0])
test_ds = make_dataset(x_test, y_test[:, 0])

with strategy.scope():
    model = Classifier()
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3))

ckpt_dir = "./training_checkpoints"
callbacks = [
    tf.keras.callbacks.TensorBoard(log_dir="./logs", profile_batch=0),
    tf.keras.callbacks.ModelCheckpoint(filepath=os.path.join(ckpt_dir, "ckpt_{epoch}"),
                                       save_weights_only=True),
]
model.fit(train_ds, epochs=12, callbacks=callbacks)
model.load_weights(tf.train.latest_checkpoint(ckpt_dir))
print(model.evaluate(test_ds))
model.save("saved_classifier", include_optimizer=False)
