"""The default optimiser of every kvae model."""

import keras

from kvae import backend


@keras.saving.register_keras_serializable(package="kvae")
class Adam(keras.optimizers.Adam):
    """`keras.optimizers.Adam`, the same update on every backend, one fused kernel per step under PyTorch.

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
        w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)

    Keras's PyTorch Adam makes ~10 elementwise passes with temporaries over the weights; `torch._fused_adam_` makes
    one (measured with benchmarks/throughput.py). Its epsilon sits
    inside the bias correction, so it is given eps / sqrt(1 - b2^t), which is Keras's update exactly (`amsgrad`
    included). Other backends, and mixed-dtype or mixed-device weights under PyTorch, take Keras's own path. Same
    arguments, variables and checkpoints as `keras.optimizers.Adam`.

    Under TensorFlow, embedding gradients (`IndexedSlices`) are made dense first (`kvae.backend.dense_gradients`):
    Keras's sparse path gives a token repeated in a batch another update than JAX and PyTorch do.
    """

    def apply(self, grads, trainable_variables=None):
        return super().apply(backend.dense_gradients(list(grads)), trainable_variables)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if backend.fused_adam_update(self, grads, trainable_variables, learning_rate):
            return
        super()._backend_update_step(grads, trainable_variables, learning_rate)
