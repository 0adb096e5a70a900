"""Backend-specific code, one module per backend; everything else in kvae is written with `keras.ops`.

- `torch_backend`: the native LSTM kernel for `kvae.layers.LSTM`, the fused Adam update of `kvae.optimizers.Adam`
  and DensityGap's chunk size under KERAS_BACKEND=torch.
- Data-parallel set-up for JAX and TensorFlow lives in `kvae.distribute` (the Keras distribution API and
  `tf.distribute`).
"""

import keras


def samples_per_chunk(z, pool_mean):
    """How many posterior samples `DensityGap` scores against the pool at once: all of them (one fused pairwise
    tensor) except under PyTorch on CPU, whose eager kernels run ~2.5x faster on cache-sized slices."""
    if keras.backend.backend() != "torch":
        return z.shape[0]
    from kvae.backend import torch_backend

    return torch_backend.samples_per_chunk(z, pool_mean)


def fused_adam_update(optimizer, grads, variables, learning_rate):
    """Apply `optimizer`'s (a `keras.optimizers.Adam`) update in one fused kernel where the backend has one
    (PyTorch); returns False, changing nothing, where it has not."""
    if keras.backend.backend() != "torch":
        return False
    from kvae.backend import torch_backend

    return torch_backend.fused_adam_update(optimizer, grads, variables, learning_rate)
