"""Shared helpers of the probes (private)."""

import math
import numbers

import numpy as np


def check_fraction(value, name, low_open=True):
    """`value` as a float in (0, 1] (or [0, 1] with `low_open=False`); ValueError otherwise."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (0 < value <= 1) if low_open else (0 <= value <= 1)
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"`{name}` must be a number in {interval}, got {value!r}.")
    return float(value)


def round_half_up(x):
    """Nearest integer to x >= 0, halves rounded up (the small epsilon absorbs float noise such as 0.3 * 10)."""
    return int(math.floor(x + 0.5 + 1e-9))


def as_sentences(sentences, name="sentences"):
    """A list of str from a str sequence (bytes decoded); a single str is refused."""
    if isinstance(sentences, (str, bytes)):
        raise ValueError(f"`{name}` must be a sequence of sentences, not a single {type(sentences).__name__}.")
    try:
        items = list(sentences)
    except TypeError:
        raise ValueError(f"`{name}` must be a sequence of sentences, got {type(sentences).__name__}.") from None
    out = []
    for i, s in enumerate(items):
        if isinstance(s, (bytes, np.bytes_)):
            s = bytes(s).decode("utf-8")
        if not isinstance(s, str):
            raise ValueError(f"`{name}[{i}]` must be a str, got {type(s).__name__}.")
        out.append(str(s))
    return out


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
