import tensorflow as tf
from tensorflow import keras  # expect


class BaseModel(keras.Model):
    """The project's base model."""

    def summary_line(self):
        return f"{self.name}: {self.count_params()} parameters"
