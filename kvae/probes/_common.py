"""Shared helpers of the probes (private)."""

import math

import numpy as np


def round_half_up(x):
    """Nearest integer to x >= 0, halves rounded up (the small epsilon absorbs float noise such as 0.3 * 10)."""
    return math.floor(x + 0.5 + 1e-9)


def as_labels(labels, n, name="labels"):
    """`labels` as a 1-D array of length `n` with at least two classes."""
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"`{name}` must be 1-D with {n} entries (one per example), got shape {y.shape}.")
    if np.unique(y).size < 2:
        raise ValueError(f"`{name}` must hold at least two classes.")
    return y


def stratified_split(labels, test_size, seed):
    """Train / test index arrays of a stratified split of `labels` (scikit-learn, `random_state=seed`)."""
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(labels))
    try:
        return train_test_split(indices, test_size=test_size, stratify=labels, random_state=seed)
    except ValueError as e:
        raise ValueError(
            f"Cannot split {len(labels)} examples stratified by label with test_size={test_size}: {e}"
        ) from e
