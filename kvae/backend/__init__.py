"""Backend-specific code, one module per backend; everything else in kvae is written with `keras.ops`.

- TensorFlow: `dense_gradients` (below) turns embedding tables' sparse `IndexedSlices` gradients dense.
- `compile_stateless` (below): a function over layers' variables compiled by `jax.jit` or `tf.function` (run
  eagerly without autograd under PyTorch), as keras-hub compiles `CausalLM.generate`.
- `capabilities`: whether each private-API fast path may run here (names present, tested Keras/PyTorch releases,
  `KVAE_FAST_PATHS` not "0"); otherwise Keras's public path runs.
- `torch_backend`: the native LSTM kernel for `kvae.layers.LSTM`, the fused Adam update of `kvae.optimizers.Adam`,
  DensityGap's chunk size and its pairwise Gaussian term with a hand-written gradient under KERAS_BACKEND=torch.
- Data-parallel set-up for JAX and TensorFlow lives in `kvae.distribute` (the Keras distribution API and
  `tf.distribute`).
"""

import keras
from keras import ops


def samples_per_chunk(z, pool_mean):
    """How many posterior samples `DensityGap` scores against the pool at once: all of them (one fused pairwise
    tensor) except under PyTorch on CPU, whose eager kernels run ~2.5x faster on cache-sized slices."""
    if keras.backend.backend() != "torch":
        return z.shape[0]
    from kvae.backend import torch_backend

    return torch_backend.samples_per_chunk(z, pool_mean)


def dense_gradients(grads):
    """`grads` with every TensorFlow `IndexedSlices` (the gradient of an embedding lookup) made dense; unchanged on
    other backends.

    Keras's TensorFlow optimisers apply an `IndexedSlices` gradient through sparse ops, slice by slice: a token that
    occurs k times in a batch has k slices, and Adam's second moment then accumulates the sum of their squares
    instead of the square of their sum (and its first moment is updated for those rows only). The dense gradient is
    what JAX and PyTorch apply, so densifying makes the three backends take the same step.
    """
    if keras.backend.backend() != "tensorflow":
        return grads
    import tensorflow as tf

    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]


def fused_adam_update(optimizer, grads, variables, learning_rate):
    """Apply `optimizer`'s (a `keras.optimizers.Adam`) update in one fused kernel where the backend has one
    (PyTorch); returns False, changing nothing, where it has not."""
    from kvae.backend import capabilities

    if not capabilities.fused_adam(optimizer):
        return False
    from kvae.backend import torch_backend

    return torch_backend.fused_adam_update(optimizer, grads, variables, learning_rate)


def gaussian_logsumexp(z, mean, log_var, bias=None):
    """logsumexp_j [log N(z[m, i, u]; mean[j, u], exp(log_var[j, u])) + bias[i, j]] per unit, (m, B_i, D), in one
    fused forward and backward under PyTorch (`DensityGap`'s pairwise term); None elsewhere, where XLA and
    TensorFlow's graphs run the generic expression (`kvae.objectives.density_gap`)."""
    if keras.backend.backend() != "torch":
        return None
    from kvae.backend import torch_backend

    return torch_backend.gaussian_logsumexp(z, mean, log_var, bias)


def compile_stateless(function, variables, state):
    """`function(*args)`, which reads `variables` and updates the `state` variables (a sampler's seed generators),
    compiled where the backend compiles shapes, as keras-hub compiles `CausalLM.generate`: under JAX, `jax.jit` over
    the variables' values passed as arguments through a `keras.StatelessScope`; under TensorFlow,
    `tf.function(jit_compile=True)` over the variables themselves. One compilation serves every later call with the
    same shapes, also after the weights have changed. Under PyTorch, which runs eagerly, `function` runs as it is,
    without autograd.

    Returns `run(state_values, *args) -> (outputs, new_state_values)`: the state's values go in and come out, so a
    caller may feed the state of other variables of the same shapes (a freshly seeded sampler's).
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def pure(values, state_values, *args):
            mapping = list(zip(variables, values)) + list(zip(state, state_values))
            with keras.StatelessScope(state_mapping=mapping) as scope:
                outputs = function(*args)
            current = [scope.get_current_value(v) for v in state]
            return outputs, [old if new is None else new for new, old in zip(current, state_values)]

        compiled = jax.jit(pure)
        return lambda state_values, *args: compiled([v.value for v in variables], list(state_values), *args)

    if backend == "tensorflow":  # a StatelessScope would leak the loop body's seed updates out of tf.while_loop
        import tensorflow as tf

        function = tf.function(function, jit_compile=True, reduce_retracing=True)
    else:
        import torch

        function = torch.no_grad()(function)

    def run(state_values, *args):
        for variable, value in zip(state, state_values):
            variable.assign(value)
        outputs = function(*args)
        return outputs, [ops.convert_to_tensor(v) for v in state]

    return run
