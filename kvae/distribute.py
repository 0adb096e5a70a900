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

Several processes (hosts): `initialize()` first, then the same `data_parallel()` code. JAX: `keras.distribution.
initialize()` from `KERAS_DISTRIBUTION_JOB_ADDRESSES` / `_NUM_PROCESSES` / `_PROCESS_ID`; the mesh spans every
process's devices and each process feeds its own slice of every global batch (`process_shard` for arrays, Keras's
`distribute_dataset` for `tf.data`). TensorFlow: `MultiWorkerMirroredStrategy` from `TF_CONFIG`, which splits every
global batch across the workers. `is_chief()` tells the one process (0) that writes files.

Outside a multi-replica TensorFlow strategy every helper is the identity or the plain Keras op.
"""

import contextlib
import functools
import json
import os

import keras
import numpy as np
from keras import ops

ENVIRONMENT = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES", "KERAS_DISTRIBUTION_PROCESS_ID")
_STATE = {"processes": 1, "process": 0}


def _tf_config_workers():
    """The workers of `TF_CONFIG` (`{"cluster": {"worker": [...]}, "task": {...}}`), [] when it is unset."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    return list(config.get("cluster", {}).get("worker", [])), config.get("task", {})


def initialize():
    """Join the processes of a multi-process run when the environment describes one; returns the process count.

    JAX: `keras.distribution.initialize()` when any `KERAS_DISTRIBUTION_*` variable is set (all three for local
    processes; Cloud TPU and SLURM fill in the rest). TensorFlow: a `MultiWorkerMirroredStrategy` from `TF_CONFIG`
    with more than one worker (used by `data_parallel`). PyTorch: raises when either is set. Idempotent; call it at
    the start of the program, before any computation (`kvae train` does).
    """
    backend = keras.backend.backend()
    wanted = [name for name in ENVIRONMENT if os.environ.get(name)]
    workers, task = _tf_config_workers()
    if backend not in ("jax", "tensorflow") and (wanted or len(workers) > 1):
        names = ", ".join(wanted + (["TF_CONFIG"] if len(workers) > 1 else []))
        raise NotImplementedError(
            f"{names} asks for several processes, which KERAS_BACKEND={backend!r} cannot run: Keras 3's "
            f"distribution API has no PyTorch backend (use jax or tensorflow, or unset {names})."
        )
    if backend == "jax" and wanted and _STATE["processes"] == 1:
        import jax

        if not jax.distributed.is_initialized():
            keras.distribution.initialize()
        _STATE.update(processes=jax.process_count(), process=jax.process_index())
    elif backend == "tensorflow" and len(workers) > 1:
        _multi_worker_strategy()
        _STATE.update(processes=len(workers), process=int(task.get("index", 0)))
    return _STATE["processes"]


def num_processes():
    """Processes of this run (1 unless `initialize()` joined several)."""
    return _STATE["processes"]


def process_index():
    """This process's index in [0, num_processes())."""
    return _STATE["process"]


def is_chief():
    """True on the process that writes the run's files (process 0; the only one without several processes)."""
    return _STATE["process"] == 0


@contextlib.contextmanager
def outside_distribution():
    """Context without Keras's (JAX) distribution, for work of one process alone, such as the chief's saving:
    a variable made under a mesh of several processes is a collective that every process must join."""
    if keras.backend.backend() != "jax" or keras.distribution.distribution() is None:
        yield
        return
    distribution = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(distribution)


@contextlib.contextmanager
def process_inputs(x, kwargs):
    """Context giving `fit`'s `x` and keyword arguments with `process_shard` applied to `x` and to array
    `validation_data` (Keras's own dataset sharding, for `tf.data` only, is turned off meanwhile)."""
    global_batch = kwargs.get("batch_size")
    sharded, kwargs["batch_size"] = process_shard(x, global_batch)
    validation = kwargs.get("validation_data")
    if sharded is not x and validation is not None and not isinstance(validation, tuple):
        batch = kwargs.get("validation_batch_size") or global_batch
        kwargs["validation_data"], local = process_shard(validation, batch)
        if kwargs.get("validation_batch_size"):
            kwargs["validation_batch_size"] = local
    distribution = keras.distribution.distribution() if sharded is not x else None
    auto_shard = distribution is not None and distribution.auto_shard_dataset
    if auto_shard:
        distribution.auto_shard_dataset = False
    try:
        yield sharded, kwargs
    finally:
        if auto_shard:
            distribution.auto_shard_dataset = True


def process_shard(x, batch_size):
    """This process's slice of every global batch of `x` under JAX with several processes, and its batch size;
    `(x, batch_size)` unchanged elsewhere and for generators and `PyDataset`s (their author shards them).

    Arrays (or dicts of arrays) in global batches of `batch_size` B: global batch b (rows [b B, (b + 1) B))
    gives process p its rows [b B + p B/n, b B + (p + 1) B/n), so that the n processes' batches make up the global
    batch in order; B and the last batch must divide by n. A `tf.data` dataset of global batches: the same slice of
    each batch (Keras's own sharding needs a static batch size).
    """
    n, p = _STATE["processes"], _STATE["process"]
    if n == 1 or x is None:
        return x, batch_size
    if keras.backend.backend() == "tensorflow":
        return _widen(x), batch_size
    if _is_dataset(x):
        import tensorflow as tf

        def part(t):
            size = tf.shape(t)[0]
            message = f"with {n} processes every global batch size must be a multiple of {n}"
            with tf.control_dependencies([tf.debugging.assert_equal(size % n, 0, message=message)]):
                return t[p * size // n : (p + 1) * size // n]

        return x.map(lambda *b: tf.nest.map_structure(part, b if len(b) > 1 else b[0])), batch_size
    arrays = x if isinstance(x, dict) else {None: x}
    if not all(isinstance(a, np.ndarray) or type(a).__module__.startswith("jax") for a in arrays.values()):
        return x, batch_size
    batch_size = 32 if batch_size is None else batch_size  # Keras's default
    arrays = {k: np.asarray(a) for k, a in arrays.items()}
    size = len(next(iter(arrays.values())))
    if batch_size % n or (size % batch_size) % n:
        raise ValueError(
            f"With {n} processes the global batch size ({batch_size}) and the last batch ({size % batch_size} of "
            f"{size} examples) must be multiples of {n}; drop the remainder."
        )
    starts = np.arange(0, size, batch_size)
    index = np.concatenate([np.arange(s, min(s + batch_size, size)).reshape(n, -1)[p] for s in starts])
    shards = {k: a[index] for k, a in arrays.items()}
    return shards.get(None, shards), batch_size // n


def _is_dataset(x):
    return type(x).__module__.startswith("tensorflow") and hasattr(x, "as_numpy_iterator")


def _widen(x):
    """Integers of 8 and 16 bits (uint8 pixels) as int32: Keras's symbolic build averages a first batch across the
    workers, and TensorFlow's collectives take no 8- or 16-bit integers."""
    import tensorflow as tf

    narrow = ("uint8", "int8", "uint16", "int16")
    if _is_dataset(x):
        widen = lambda t: tf.cast(t, "int32") if t.dtype.name in narrow else t  # noqa: E731
        return x.map(lambda *b: tf.nest.map_structure(widen, b if len(b) > 1 else b[0]))
    arrays = x if isinstance(x, dict) else {None: x}
    if not any(isinstance(a, np.ndarray) and a.dtype.name in narrow for a in arrays.values()):
        return x
    wide = {
        k: a.astype("int32") if isinstance(a, np.ndarray) and a.dtype.name in narrow else a for k, a in arrays.items()
    }
    return wide.get(None, wide)


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
            accelerator, else every CPU device; after `initialize()` with several processes, those of every
            process (TensorFlow: the workers of `TF_CONFIG`, `devices` unused).

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
    elif _STATE["processes"] > 1:
        strategy = _multi_worker_strategy()
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


@functools.cache
def _multi_worker_strategy():
    """The process's one `MultiWorkerMirroredStrategy` (from `TF_CONFIG`), made before any other TensorFlow work."""
    import tensorflow as tf

    class Strategy(tf.distribute.MultiWorkerMirroredStrategy):
        """Keras 3.15's `fit` averages each scalar log with `reduce("MEAN", log, axis=0)`, which fails on a scalar:
        reduce scalars over the replicas alone (axis None), as `MirroredStrategy`'s logs are."""

        def reduce(self, reduce_op, value, axis):
            if axis is not None and self.experimental_local_results(value)[0].shape.rank == 0:
                axis = None
            return super().reduce(reduce_op, value, axis)

    return Strategy()


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
