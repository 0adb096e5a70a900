"""Iterate NumPy arrays, lists, dicts of arrays and `tf.data` datasets in batches of host arrays (no backend ops)."""

import numpy as np


def is_dataset(x):
    """True for a `tf.data.Dataset` (checked without importing TensorFlow eagerly)."""
    return type(x).__module__.startswith("tensorflow") and hasattr(x, "as_numpy_iterator")


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
    if isinstance(x, dict):
        n = len(next(iter(x.values())))
        for start in range(0, n, batch_size):
            yield {k: np.asarray(v[start : start + batch_size]) for k, v in x.items()}
        return
    for start in range(0, len(x), batch_size):
        yield x[start : start + batch_size]
