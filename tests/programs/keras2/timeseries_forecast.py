"""Multi-step weather forecasting with windowed tf.data and a stateful LSTM (TF 2.1)."""
import numpy as np
import pandas as pd
import tensorflow as tf

tf.random.set_seed(13)
TRAIN_SPLIT = 300000
past_history = 720
future_target = 72
STEP = 6

df = pd.read_csv("jena_climate_2009_2016.csv")
features = df[["p (mbar)", "T (degC)", "rho (g/m**3)"]].values
mean = features[:TRAIN_SPLIT].mean(axis=0)
std = features[:TRAIN_SPLIT].std(axis=0)
dataset = (features - mean) / std


def multivariate_data(dataset, target, start_index, end_index, history_size,
                      target_size, step):
    data, labels = [], []
    start_index = start_index + history_size
    if end_index is None:
        end_index = len(dataset) - target_size
    for i in range(start_index, end_index):
        indices = range(i - history_size, i, step)
        data.append(dataset[indices])
        labels.append(target[i:i + target_size])
    return np.array(data), np.array(labels)


x_train, y_train = multivariate_data(dataset, dataset[:, 1], 0, TRAIN_SPLIT,
                                     past_history, future_target, STEP)
x_val, y_val = multivariate_data(dataset, dataset[:, 1], TRAIN_SPLIT, None,
                                 past_history, future_target, STEP)

BATCH_SIZE = 256
train_data = tf.data.Dataset.from_tensor_slices((x_train, y_train))
train_data = train_data.cache().shuffle(10000).batch(BATCH_SIZE).repeat()
val_data = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(BATCH_SIZE).repeat()

model = tf.keras.models.Sequential()
model.add(tf.keras.layers.LSTM(32, return_sequences=True, input_shape=x_train.shape[-2:]))
model.add(tf.keras.layers.LSTM(16, activation="relu"))
model.add(tf.keras.layers.Dense(future_target))
model.compile(optimizer=tf.keras.optimizers.RMSprop(clipvalue=1.0), loss="mae")

history = model.fit(train_data, epochs=10, steps_per_epoch=200,
                    validation_data=val_data, validation_steps=50)

# a stateful model for one-step-at-a-time inference, weights copied from the trained one
stateful = tf.keras.models.Sequential([
    tf.keras.layers.LSTM(32, return_sequences=True, stateful=True,
                         batch_input_shape=(1, None, 3)),
    tf.keras.layers.LSTM(16, activation="relu", stateful=True),
    tf.keras.layers.Dense(future_target),
])
stateful.set_weights(model.get_weights())
stateful.reset_states()
for x, y in val_data.take(1):
    print(stateful.predict(x[:1]))

tf.keras.experimental.export_saved_model(model, "forecast_savedmodel")
model.save("forecast_model")
