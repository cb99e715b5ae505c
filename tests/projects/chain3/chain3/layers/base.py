import tensorflow as tf


class BaseLayer(tf.keras.layers.Layer):  # expect
    """The project's base layer: every layer of the package derives from it."""

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale})
        return config
