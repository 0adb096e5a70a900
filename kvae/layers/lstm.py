import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kvae")
class LSTM(keras.layers.LSTM):
    """`keras.layers.LSTM` that runs PyTorch's native LSTM kernel (`torch._VF.lstm`, what `torch.nn.LSTM` calls) on
    every device under the torch backend.

    Keras calls that kernel only on CUDA and otherwise loops over the time steps in Python, whose backward pass
    also copies a full-sequence gradient per step: training steps of the text VAEs are 1.1-1.35x slower on CPU.
    Same weights, gate order and equations; other backends, masks, dropout, `go_backwards`, `unroll` and other
    activations keep Keras's implementation, as does an installation where `kvae.backend.capabilities.native_lstm()`
    says no (untested PyTorch or Keras release, `KVAE_FAST_PATHS=0`).
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        from kvae.backend import capabilities

        if capabilities.native_lstm() and self._native_torch_ok(sequences, mask):
            from kvae.backend import torch_backend

            return torch_backend.lstm(self, sequences, initial_state)
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
