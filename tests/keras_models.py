"""Small Keras models the tests build, each standing for a kind of model authors have.

All take [batch, 6] (or [batch, 5] integers) and return [batch, 15], so they
fit the palette widget and the runtime can be driven through it.
"""

from __future__ import annotations


def lstm_model():
    """A convolutional LSTM: native converter unsupported; TensorFlow's graph has a While loop.

    (LSTM itself is lowered natively over a fixed length: ConvLSTM1D is not.)
    """
    import keras

    return keras.Sequential([keras.Input((6,)), keras.layers.Reshape((3, 2, 1)),
                             keras.layers.ConvLSTM1D(4, 1, name="memory"), keras.layers.Flatten(),
                             keras.layers.Dense(15, activation="sigmoid")])


def attention_model():
    """MultiHeadAttention: TensorFlow's graph has Einsum ops, which TensorFlow's path rewrites."""
    import keras

    x = keras.Input((6,))
    seq = keras.layers.Reshape((3, 2))(x)
    attended = keras.layers.MultiHeadAttention(num_heads=2, key_dim=2, name="mix")(seq, seq)
    return keras.Model(x, keras.layers.Dense(15)(keras.layers.Flatten()(attended)))


def fft_model():
    """keras.ops.rfft: TensorFlow's graph has RFFT and Real, for which TF.js's wasm backend has no kernel."""
    import keras

    x = keras.Input((6,))
    real, _ = keras.ops.rfft(x)
    return keras.Model(x, keras.layers.Dense(15, name="mix")(real))


def embedding_model():
    """Integer inputs: the browser must feed int32 tensors."""
    import keras

    return keras.Sequential([keras.Input((5,), dtype="int32"), keras.layers.Embedding(10, 3),
                             keras.layers.Flatten(), keras.layers.Dense(15)])
