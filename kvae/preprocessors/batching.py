"""Iterate NumPy arrays, lists, dicts of arrays and `tf.data` datasets in batches of host arrays (no backend ops)."""

import io

import numpy as np


def is_dataset(x):
    """True for a `tf.data.Dataset` (checked without importing TensorFlow eagerly)."""
    return type(x).__module__.startswith("tensorflow") and hasattr(x, "as_numpy_iterator")


def is_stream(x):
    """True for batches produced by user code: a `keras.utils.PyDataset` or a Python generator/iterator of batches.
    Their batches cannot be checked before training without consuming them; the compiled step sees them as they come."""
    import keras

    if isinstance(x, io.IOBase):  # an open file iterates lines, not batches
        return False
    return isinstance(x, keras.utils.PyDataset) or (hasattr(x, "__next__") and hasattr(x, "__iter__"))


def is_batched(x):
    """True for inputs that come batched already: a `tf.data.Dataset`, a `PyDataset` or a generator."""
    return is_dataset(x) or is_stream(x)


def as_keras_stream(x):
    """A generator of bare batches -> one of `(batch,)` tuples, the form Keras requires; anything else unchanged."""
    import keras

    if not is_stream(x) or isinstance(x, keras.utils.PyDataset):
        return x
    return (element if isinstance(element, tuple) else (element,) for element in x)


def first_input(element):
    """The `x` of a dataset element `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`."""
    if isinstance(element, tuple):
        return element[0]
    return element


def iterate_batches(x, batch_size):
    """Yield batches of `x` as NumPy arrays (or dicts of them); datasets are iterated as they are batched."""
    if is_dataset(x):
        for element in x.as_numpy_iterator():
            yield first_input(element)
        return
    if is_stream(x):
        for element in x:
            yield first_input(element)
        return
    if isinstance(x, dict):
        n = len(next(iter(x.values())))
        for start in range(0, n, batch_size):
            yield {k: np.asarray(v[start : start + batch_size]) for k, v in x.items()}
        return
    for start in range(0, len(x), batch_size):
        yield x[start : start + batch_size]


def planned_steps(data, fit_kwargs):
    """The number of training steps `fit(data, **fit_kwargs)` will run, or None when it cannot be known (a
    generator, a dataset of unknown length without `steps_per_epoch`)."""
    import keras

    batch_size = fit_kwargs.get("batch_size") or 32  # Keras's default
    epochs = fit_kwargs.get("epochs", 1) - fit_kwargs.get("initial_epoch", 0)
    per_epoch = fit_kwargs.get("steps_per_epoch")
    if per_epoch is None:
        if is_dataset(data):
            per_epoch = int(data.cardinality())
            per_epoch = per_epoch if per_epoch > 0 else None
        elif isinstance(data, keras.utils.PyDataset):
            per_epoch = len(data)
        elif isinstance(data, dict):
            per_epoch = -(-len(next(iter(data.values()))) // batch_size)
        elif hasattr(data, "__len__") and not is_batched(data):
            per_epoch = -(-len(data) // batch_size)
    return None if per_epoch is None else per_epoch * max(epochs, 0)


def inputs_shape(x):
    """(None, d1, ...): the shape of the inputs `x` (an array or a `tf.data` dataset of batches), to build a model
    before `fit`; None when not known statically (dict inputs, unknown dimensions: Keras then builds on the first
    batch). Only the length axis of 2-D inputs (token ids, batches padded to their own length) may be unknown."""
    shape = getattr(first_input(x.element_spec) if is_dataset(x) else x, "shape", None)
    if shape is None or getattr(shape, "rank", 0) is None or len(shape) < 2:
        return None
    shape = (None,) + tuple(shape[1:])
    return shape if None not in shape[1:] or len(shape) == 2 else None
