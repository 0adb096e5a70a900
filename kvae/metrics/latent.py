"""Metrics on the latent space of a trained VAE.

These functions take the posterior means ``E_q[z | x]`` (as returned by a
model's ``encode``) for a set of inputs ``x`` and work on NumPy arrays; backend
tensors are accepted too (converted to NumPy).
"""

import math
import numbers

import numpy as np

__all__ = ["active_units", "unit_variances"]


def _backend_to_numpy(x):
    """Converts a backend tensor ``np.asarray`` refuses (e.g. on a GPU), or None."""
    if isinstance(x, (list, tuple, str, bytes)):
        return None
    try:
        import keras

        return np.asarray(keras.ops.convert_to_numpy(x))
    except Exception:
        return None


def _as_means(means):
    """Validates ``means`` and returns it as a float64 array of shape (N, D)."""
    try:
        arr = np.asarray(means)
    except (TypeError, ValueError, RuntimeError) as e:
        arr = _backend_to_numpy(means)
        if arr is None:
            raise ValueError(
                "`means` must be a 2-D numeric array of shape (num_examples, "
                f"latent_dim); could not convert it to an array: {e}"
            ) from e
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            "`means` must be a 2-D array of real numbers of shape "
            f"(num_examples, latent_dim); got dtype {arr.dtype}."
        )
    if arr.ndim != 2:
        raise ValueError(
            "`means` must be a 2-D array of shape (num_examples, latent_dim); "
            f"got shape {arr.shape}."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            "`means` must be non-empty, of shape (num_examples, latent_dim) "
            f"with both sizes >= 1; got shape {arr.shape}."
        )
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("`means` must contain only finite values (no NaN or inf).")
    return arr


def unit_variances(means):
    """Variance across the data of the posterior mean of each latent unit.

    For unit ``u``: ``A_u = Cov_x(E_{q(z|x)}[z_u])``, i.e. the population
    variance (``ddof=0``) over the ``N`` examples of the posterior means::

        A_u = 1/N * sum_i (mu_iu - mean_j mu_ju) ** 2

    Args:
        means: array-like of shape ``(N, D)``: posterior means ``E_q[z|x_i]``
            for ``N`` inputs and ``D`` latent units.

    Returns:
        ``np.ndarray`` of shape ``(D,)`` (float64) with ``A_u`` per unit.

    Raises:
        ValueError: if ``means`` is not a non-empty, finite, real 2-D array.

    Example:
        >>> unit_variances([[0.0, 1.0], [2.0, 1.0]])
        array([1., 0.])
    """
    return np.var(_as_means(means), axis=0)


def active_units(means, threshold=0.01):
    """Number of active latent units (Burda et al., 2016).

    A unit ``u`` is active when ``A_u = Cov_x(E_{q(z|x)}[z_u]) > threshold``;
    see :func:`unit_variances` for ``A_u``.

    Args:
        means: array-like of shape ``(N, D)``: posterior means ``E_q[z|x_i]``.
        threshold: non-negative finite number; a unit is active when its
            variance strictly exceeds it (default ``0.01``).

    Returns:
        ``int``: the number of active units, in ``[0, D]``.

    Raises:
        ValueError: if ``means`` is not a non-empty, finite, real 2-D array,
            or ``threshold`` is not a non-negative finite number.

    Example:
        >>> active_units([[0.0, 1.0], [2.0, 1.0]])
        1
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not math.isfinite(threshold)
        or threshold < 0
    ):
        raise ValueError(
            f"`threshold` must be a non-negative finite number; got {threshold!r}."
        )
    return int(np.count_nonzero(unit_variances(means) > threshold))
