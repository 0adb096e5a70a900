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
