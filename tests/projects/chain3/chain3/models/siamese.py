import tensorflow as tf

from ..layers import PairDistance
from .trainer import TrainerModel


class SiameseModel(TrainerModel):
    """Embeds both inputs with one encoder and returns their distance."""

    def __init__(self, encoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.distance = PairDistance()

    def call(self, inputs):
        left = self.encoder(inputs[0])
        right = self.encoder(inputs[1])
        left = tf.nn.l2_normalize(left, axis=-1)  # expect
        right = tf.nn.l2_normalize(right, axis=-1)  # expect
        return tf.expand_dims(self.distance([left, right]), -1)  # expect
