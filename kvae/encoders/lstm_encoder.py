import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kvae")
class LSTM(keras.layers.LSTM):
    """`keras.layers.LSTM` that runs PyTorch's native LSTM kernel (`torch._VF.lstm`, what `torch.nn.LSTM` calls) on
    every device under the torch backend.

    Keras calls that kernel only on CUDA and otherwise loops over the time steps in Python, whose backward pass
    also copies a full-sequence gradient per step: training steps of the text VAEs are 1.1-1.35x slower on CPU.
    Same weights, gate order and equations; other backends, masks, dropout, `go_backwards`, `unroll` and other
    activations keep Keras's implementation.
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if keras.backend.backend() == "torch" and self._native_torch_ok(sequences, mask):
            return _torch_lstm(self, sequences, initial_state)
        return super().inner_loop(sequences, initial_state, mask, training=training)

    def _native_torch_ok(self, sequences, mask):
        cell = self.cell
        return (
            mask is None
            and not (self.dropout or self.recurrent_dropout or self.go_backwards or self.unroll)
            and cell.use_bias
            and cell.activation is keras.activations.tanh
            and cell.recurrent_activation is keras.activations.sigmoid
            and sequences.dtype == ops.convert_to_tensor(cell.kernel).dtype
        )


def _torch_lstm(layer, sequences, initial_state):
    """Keras's `inner_loop` contract: (last output (B, H), outputs (B, T, H) or (B, 1, H), [h (B, H), c (B, H)])."""
    import torch

    cell = layer.cell
    kernel, recurrent_kernel, bias = (ops.convert_to_tensor(v) for v in (cell.kernel, cell.recurrent_kernel, cell.bias))
    weights = [kernel.T, recurrent_kernel.T, bias, torch.zeros_like(bias)]  # both use the gate order i, f, c, o
    h0, c0 = (ops.convert_to_tensor(s).unsqueeze(0) for s in initial_state)
    # Arguments: has_biases, num_layers, dropout, train (cuDNN keeps its backward workspace only then),
    # bidirectional, batch_first.
    outputs, h, c = torch._VF.lstm(sequences, (h0, c0), weights, True, 1, 0.0, torch.is_grad_enabled(), False, True)
    last = outputs[:, -1]
    return last, outputs if layer.return_sequences else last[:, None], [h[0], c[0]]


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
