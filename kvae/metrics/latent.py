"""Metrics on the latent space of a trained VAE: unit usage and the KL to the prior.

These functions take the posterior means ``E_q[z | x]`` (as returned by a
model's ``encode``) and log-variances for a set of inputs ``x`` and work on
NumPy arrays; backend tensors are accepted too (converted to NumPy). The
metrics of the aggregated posterior (mutual information, consistent units,
its shape) are in :mod:`kvae.metrics.aggregate`.
"""

import numpy as np

from kvae.checks import check_gaussians, check_matrix, check_number
from kvae.metrics.aggregate import consistent_units, mutual_information, posterior_shape

__all__ = ["active_units", "consistent_units", "kl", "mutual_information", "posterior_shape", "unit_variances"]


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
    return np.var(check_matrix(means, "means"), axis=0)


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
    check_number(threshold, "threshold", low=0)
    return int(np.count_nonzero(unit_variances(means) > threshold))


def kl(mean, log_var):
    """Average KL divergence from the posteriors to the standard normal prior.

    With ``q(z|x_i) = N(mean_i, diag(exp(log_var_i)))`` and ``p(z) = N(0, I)``,
    in closed form::

        KL_i = 1/2 * sum_u (mean_iu^2 + exp(log_var_iu) - log_var_iu - 1)
        kl   = 1/N * sum_i KL_i

    Args:
        mean: array-like ``(N, D)``, posterior means (as from
            ``model.encode(x, return_log_var=True)``).
        log_var: array-like ``(N, D)`` (or ``(N, 1)`` for a shared variance),
            posterior log-variances.

    Returns:
        ``float``: the KL in nats, averaged over the ``N`` examples and summed
        over the ``D`` units (>= 0).

    Raises:
        ValueError: if ``mean`` / ``log_var`` are not non-empty finite real 2-D
            arrays of matching shapes.

    Example:
        >>> kl([[1.0, 0.0]], [[0.0, 0.0]])
        0.5
    """
    mean, log_var = check_gaussians(mean, log_var)
    per_unit = 0.5 * (mean * mean + np.exp(log_var) - log_var - 1.0)
    return float(per_unit.sum(axis=1).mean())
