import keras
from keras import ops

from kvae.layers import LSTM


@keras.saving.register_keras_serializable(package="kvae")
class LSTMEncoder(keras.layers.Layer):
    """LSTM sentence encoder: word embedding, one LSTM over the tokens, the state at the last real token.

    ids (B, T) int -> features (B, hidden_dim). Padding positions (`pad_id`) do not change the features.

    Args:
        vocabulary_size: V.
        embedding_dim: word embedding size.
        hidden_dim: LSTM units.
        pad_id: id of the padding token.
    """

    def __init__(self, vocabulary_size, embedding_dim=50, hidden_dim=128, pad_id=0, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = int(vocabulary_size)
        self.embedding_dim = int(embedding_dim)
        self.hidden_dim = int(hidden_dim)
        self.pad_id = int(pad_id)
        self.embedding = keras.layers.Embedding(self.vocabulary_size, self.embedding_dim, name="embedding")
        self.lstm = LSTM(self.hidden_dim, return_sequences=True, name="lstm")

    def build(self, input_shape):
        self.embedding.build(input_shape)
        self.lstm.build(tuple(input_shape) + (self.embedding_dim,))

    def call(self, ids):
        # Sentences are right-padded, so the state at the last real token is exactly the masked final state; running
        # the LSTM unmasked keeps every backend on its fast LSTM kernel.
        states = self.lstm(self.embedding(ids))  # (B, T, H)
        last = ops.sum(ops.cast(ops.not_equal(ids, self.pad_id), "int32"), axis=1) - 1
        last = ops.maximum(last, 0)[:, None, None]
        return ops.squeeze(ops.take_along_axis(states, last, axis=1), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.hidden_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim,
                "hidden_dim": self.hidden_dim,
                "pad_id": self.pad_id,
            }
        )
        return config
