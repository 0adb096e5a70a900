"""Helpers shared by kvae's test suite (and handy in notebooks): backend tensors to NumPy and back."""

import numpy as np
from keras import ops


def np_(x):
    """Any backend tensor (or array) -> NumPy array."""
    return ops.convert_to_numpy(x)


def tensor(x):
    """Array-like -> float32 tensor of the current backend."""
    return ops.convert_to_tensor(np.asarray(x, dtype="float32"))
