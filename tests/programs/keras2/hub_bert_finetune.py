"""Sentence-pair classification: BERT from TF Hub inside a functional tf.keras model (TF 2.3)."""
import tensorflow as tf
import tensorflow_hub as hub
import tensorflow_text  # noqa: F401  (registers the ops the preprocessor needs)
from tensorflow.keras import layers

PREPROCESS = "https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3"
ENCODER = "https://tfhub.dev/tensorflow/bert_en_uncased_L-12_H-768_A-12/4"


def build_classifier(num_classes=3):
    premise = layers.Input(shape=(), dtype=tf.string, name="premise")
    hypothesis = layers.Input(shape=(), dtype=tf.string, name="hypothesis")
    preprocessor = hub.load(PREPROCESS)
    tokenize = hub.KerasLayer(preprocessor.tokenize)
    pack = hub.KerasLayer(preprocessor.bert_pack_inputs, arguments=dict(seq_length=128))
    encoder_inputs = pack([tokenize(premise), tokenize(hypothesis)])
    encoder = hub.KerasLayer(ENCODER, trainable=True, name="bert_encoder")
    pooled = encoder(encoder_inputs)["pooled_output"]
    x = layers.Dropout(0.1)(pooled)
    logits = layers.Dense(num_classes, name="logits")(x)
    return tf.keras.Model([premise, hypothesis], logits)


class WarmupSchedule(tf.keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, peak_lr, warmup_steps, total_steps):
        super().__init__()
        self.peak_lr = peak_lr
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warm = self.peak_lr * step / self.warmup_steps
        decay = self.peak_lr * tf.maximum(0.0, (self.total_steps - step) / (self.total_steps - self.warmup_steps))
        return tf.where(step < self.warmup_steps, warm, decay)

    def get_config(self):
        return {"peak_lr": self.peak_lr, "warmup_steps": self.warmup_steps,
                "total_steps": self.total_steps}


def load_split(split, batch_size=32):
    import tensorflow_datasets as tfds
    ds = tfds.load("glue/mnli", split=split)
    ds = ds.map(lambda ex: ({"premise": ex["premise"], "hypothesis": ex["hypothesis"]}, ex["label"]),
                num_parallel_calls=tf.data.experimental.AUTOTUNE)
    return ds.shuffle(4096).batch(batch_size).prefetch(1)


if __name__ == "__main__":
    train_ds = load_split("train")
    val_ds = load_split("validation_matched")
    total = 3 * 12272
    model = build_classifier()
    opt = tf.keras.optimizers.Adam(WarmupSchedule(2e-5, total // 10, total), epsilon=1e-6)
    model.compile(optimizer=opt,
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[tf.keras.metrics.SparseCategoricalAccuracy("accuracy")])
    model.fit(train_ds, validation_data=val_ds, epochs=3)
    model.save("mnli_bert", include_optimizer=False)
    reloaded = tf.keras.models.load_model("mnli_bert", custom_objects={"KerasLayer": hub.KerasLayer})
    print(reloaded({"premise": tf.constant(["a dog runs"]), "hypothesis": tf.constant(["an animal moves"])}))
