import tensorflow as tf

from .mid import MidLayer


class PairDistance(MidLayer):
    """Distance between the two halves of a pair batch: a Keras layer three classes deep."""

    def call(self, inputs):
        left, right = inputs
        both = tf.concat([left, right], axis=0)  # expect
        half = tf.shape(left)[0]  # expect
        first = tf.gather(both, tf.range(half))  # expect
        second = tf.gather(both, tf.range(half, 2 * half))  # expect
        return self.norm(first - second) * self.scale
