"""Character-level seq2seq translation with LSTM encoder/decoder (Keras 2.3 style)."""
import numpy as np
from keras.layers import LSTM, Dense, Input
from keras.models import Model, load_model
from keras.utils import to_categorical
from keras import backend as K

latent_dim = 256
num_samples = 10000

input_texts, target_texts = [], []
input_chars, target_chars = set(), set()
with open("fra.txt", "r", encoding="utf-8") as f:
    lines = f.read().split("\n")
for line in lines[: min(num_samples, len(lines) - 1)]:
    input_text, target_text, _ = line.split("\t")
    target_text = "\t" + target_text + "\n"
    input_texts.append(input_text)
    target_texts.append(target_text)
    input_chars.update(input_text)
    target_chars.update(target_text)

input_chars, target_chars = sorted(input_chars), sorted(target_chars)
num_encoder_tokens, num_decoder_tokens = len(input_chars), len(target_chars)
max_enc = max(len(t) for t in input_texts)
max_dec = max(len(t) for t in target_texts)
input_index = {c: i for i, c in enumerate(input_chars)}
target_index = {c: i for i, c in enumerate(target_chars)}

encoder_input_data = np.zeros((len(input_texts), max_enc), dtype="int32")
decoder_input_data = np.zeros((len(input_texts), max_dec), dtype="int32")
decoder_target_data = np.zeros((len(input_texts), max_dec), dtype="int32")
for i, (inp, tgt) in enumerate(zip(input_texts, target_texts)):
    encoder_input_data[i, : len(inp)] = [input_index[c] for c in inp]
    decoder_input_data[i, : len(tgt)] = [target_index[c] for c in tgt]
    decoder_target_data[i, : len(tgt) - 1] = [target_index[c] for c in tgt[1:]]
encoder_input_data = to_categorical(encoder_input_data, num_encoder_tokens)
decoder_input_data = to_categorical(decoder_input_data, num_decoder_tokens)
decoder_target_data = to_categorical(decoder_target_data, num_decoder_tokens)

encoder_inputs = Input(shape=(None, num_encoder_tokens))
encoder = LSTM(latent_dim, return_state=True, implementation=2)
encoder_outputs, state_h, state_c = encoder(encoder_inputs)
encoder_states = [state_h, state_c]

decoder_inputs = Input(shape=(None, num_decoder_tokens))
decoder_lstm = LSTM(latent_dim, return_sequences=True, return_state=True)
decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
decoder_dense = Dense(num_decoder_tokens, activation="softmax")
decoder_outputs = decoder_dense(decoder_outputs)

model = Model([encoder_inputs, decoder_inputs], decoder_outputs)
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit([encoder_input_data, decoder_input_data], decoder_target_data,
          batch_size=64, epochs=100, validation_split=0.2)
model.save("s2s.h5")

# inference models
encoder_model = Model(encoder_inputs, encoder_states)
decoder_state_input_h = Input(shape=(latent_dim,))
decoder_state_input_c = Input(shape=(latent_dim,))
decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
decoder_outputs, state_h, state_c = decoder_lstm(decoder_inputs, initial_state=decoder_states_inputs)
decoder_outputs = decoder_dense(decoder_outputs)
decoder_model = Model([decoder_inputs] + decoder_states_inputs,
                      [decoder_outputs, state_h, state_c])


def decode_sequence(input_seq):
    states_value = encoder_model.predict(input_seq)
    target_seq = np.zeros((1, 1, num_decoder_tokens))
    target_seq[0, 0, target_index["\t"]] = 1.0
    decoded = ""
    while True:
        output_tokens, h, c = decoder_model.predict([target_seq] + states_value)
        idx = int(np.argmax(output_tokens[0, -1, :]))
        char = target_chars[idx]
        decoded += char
        if char == "\n" or len(decoded) > max_dec:
            break
        target_seq = np.zeros((1, 1, num_decoder_tokens))
        target_seq[0, 0, idx] = 1.0
        states_value = [h, c]
    return decoded


print(K.int_shape(encoder_outputs))
for seq_index in range(5):
    print(decode_sequence(encoder_input_data[seq_index: seq_index + 1]))
