"""Data-parallel training: one context for the backend's multi-device set-up, and the few ops that keep a
distributed run numerically the same run as on one device.

- JAX: `keras.distribution.DataParallel` over a 1-D device mesh. The compiled step sees the global batch (sharded
  along the batch axis, variables replicated), so every batch statistic (the density gap's aggregated posterior,
  the reparameterisation noise) is that of the global batch, exactly as on one device.
- TensorFlow: `tf.distribute.MirroredStrategy`. Each replica runs the step on its shard of the global batch; the
  helpers below make the shards add up to the global batch: `scale_loss` (the per-replica loss weighted by the
  replica's share of the global batch, so that the summed gradients are those of the global mean),
  `normal` (noise drawn for the global batch and sliced, so replicas neither share their noise nor differ from a
  one-device run), `batch_mean` and `gather_batch` (a differentiable all-reduce / all-gather for statistics of
  the global batch: Capacity's and FreeBits' batch KL, the density gap's aggregated posterior; BN-VAE's batch
  normalisation is synchronised).
- PyTorch: Keras's distribution API does not cover it (`torch.nn.parallel.DistributedDataParallel` is outside
  Keras's `fit`); `data_parallel` raises.

Outside a multi-replica TensorFlow strategy every helper is the identity or the plain Keras op.
"""

import contextlib
import functools

import keras
from keras import ops


@contextlib.contextmanager
def data_parallel(devices=None):
    """Context in which to build, compile and fit a model data-parallel over `devices`.

    The global batch (`batch_size` of `fit`) is split across the devices. JAX needs every batch, the last one
    included, to be a multiple of the number of devices (drop the remainder otherwise); TensorFlow splits an uneven
    last batch unevenly (the gradients stay those of the global mean; only Keras's per-batch logs of that batch
    average the replicas' running means). Build, compile and fit the model inside the context: kvae models compile
    themselves on construction, and `TextVAE` builds its networks on the first `fit`. Density-gap aggregation is
    over the global batch (`DensityGap(aggregation_size=global batch / devices)` for per-device aggregation).

    Args:
        devices: Keras device names ("gpu:0", "cpu:1", ...; `keras.distribution.list_devices()`); default: every
            accelerator, else every CPU device.

    Yields:
        The `keras.distribution.DataParallel` (JAX) or `tf.distribute.MirroredStrategy` (TensorFlow) in use.

    Example:
    >>> with kvae.distribute.data_parallel() as strategy:
    ...     model = kvae.ImageVAE()
    ...     model.fit(x, epochs=10, batch_size=256)  # 256 / number of devices examples per device
    """
    backend = keras.backend.backend()
    if backend not in ("jax", "tensorflow"):
        raise NotImplementedError(
            f"Data-parallel training through Keras is available on the JAX and TensorFlow backends, not on "
            f"KERAS_BACKEND={backend!r} (keras.distribution does not cover PyTorch)."
        )
    if devices is None:
        devices = keras.distribution.list_devices()
    devices = list(devices)
    if not devices or not all(isinstance(d, str) for d in devices):
        raise ValueError(f"`devices` must be a non-empty list of device names such as 'gpu:0', got {devices!r}.")
    if backend == "jax":
        strategy = keras.distribution.DataParallel(devices=devices)
    else:
        strategy = _mirrored_strategy(tuple(devices))
    with strategy.scope():
        yield strategy


@functools.cache
def _mirrored_strategy(devices):
    """One `MirroredStrategy` per device set and process: with a second one over the same devices, the collective
    ops of a later model failed (TF 2.21: "Collective instance ... expected type ... but got type ...")."""
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(["/" + d.lstrip("/") for d in devices])


def replicas():
    """Replicas of the TensorFlow strategy in scope; 1 outside one and on JAX (whose step sees the global batch)."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def _replica_context():
    """The TensorFlow replica context when running on one of several replicas, else None."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def scale_loss(loss, batch_size):
    """This replica's share of the global-batch loss: `loss * batch_size / global batch size` under a TensorFlow
    strategy (`loss` itself elsewhere).

    `loss` is the mean over this replica's `batch_size` examples. A custom `compute_loss` returns the share, so that
    the replicas' gradients, summed by the optimiser, are those of the mean over the global batch, also when the
    last batch splits unevenly (Keras's built-in losses divide by the number of replicas instead).
    """
    context = _replica_context()
    if context is None:
        return loss
    size = ops.cast(batch_size, loss.dtype)
    return loss * size / context.all_reduce("sum", size)


def normal(shape, seed, dtype=None, batch_axis=0):
    """`keras.random.normal(shape, dtype=dtype, seed=seed)`, of the global batch under a TensorFlow strategy.

    Every replica draws the noise of the whole global batch from the shared seed and keeps its own slice along
    `batch_axis`, so the noise of example i is the same whatever the number of replicas (Keras's `SeedGenerator`
    alone would give every replica the same draw).
    """
    context = _replica_context()
    if context is None:
        return keras.random.normal(shape, dtype=dtype, seed=seed)
    import tensorflow as tf

    offset, total = _shard_offset(context, shape[batch_axis])
    global_shape = list(shape)
    global_shape[batch_axis] = total
    noise = keras.random.normal(global_shape, dtype=dtype, seed=seed)
    begin = [0] * len(shape)
    begin[batch_axis] = offset
    return tf.slice(noise, begin, tf.stack([tf.cast(s, "int32") for s in shape]))


def batch_mean(x):
    """Mean over axis 0 of the global batch: `ops.mean(x, axis=0)`, an all-reduce under a TensorFlow strategy
    (differentiable), for objectives with a nonlinearity of a batch mean (Capacity, FreeBits)."""
    context = _replica_context()
    if context is None:
        return ops.mean(x, axis=0)
    total, count = context.all_reduce("sum", [ops.sum(x, axis=0), ops.cast(ops.shape(x)[0], x.dtype)])
    return total / count


def gather_batch(*tensors):
    """The global batch of each tensor (B_global, ...) and the global index of this replica's first example.

    Under a TensorFlow strategy an all-gather along axis 0 (differentiable: the gradient of every replica's loss
    reaches the replica that owns the example); elsewhere the tensors themselves and offset 0.
    """
    context = _replica_context()
    if context is None:
        return tensors, 0
    offset, _ = _shard_offset(context, ops.shape(tensors[0])[0])
    # One all-gather for all tensors: fewer collectives, and one gradient function, so that no replica's tape can
    # order the backward collectives differently from another's (they must run in the same order on all replicas).
    return tuple(context.all_gather(list(tensors), axis=0)), offset


def _shard_offset(context, size):
    """(global index of this replica's first example, global batch size); shards may differ in size."""
    import tensorflow as tf

    sizes = context.all_gather(tf.reshape(tf.cast(size, "int32"), [1]), axis=0)  # (replicas,)
    replica = tf.cast(context.replica_id_in_sync_group, "int32")
    offset = tf.reduce_sum(tf.where(tf.range(tf.shape(sizes)[0]) < replica, sizes, tf.zeros_like(sizes)))
    return offset, tf.reduce_sum(sizes)
