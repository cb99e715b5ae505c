import tensorflow as tf

from .models import SiameseModel


def build(encoder):
    model = SiameseModel(encoder)
    model.compile(optimizer=tf.keras.optimizers.Adam(lr=1e-3), loss="mse")  # expect
    return model


def export(model, folder):
    model.save(folder + "/saved_model")  # expect
    model.save_weights(folder + "/weights.h5")  # expect
    with tf.io.gfile.GFile(folder + "/VERSION", "w") as f:  # expect
        f.write("1")


def restore(folder):
    return tf.keras.models.load_model(folder + "/saved_model")  # expect
