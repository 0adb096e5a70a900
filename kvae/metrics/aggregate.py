"""Metrics of the aggregated posterior q(z) = 1/N sum_i q(z|x_i) of a trained VAE (Gaussian posteriors
q(z|x_i) = N(mean_i, diag(exp(log_var_i)))): mutual information, consistent units, location and spread.

NumPy (float64), seeded with NumPy generators; backend tensors are accepted (converted).
"""

import math

import numpy as np

from kvae.checks import check_gaussians, check_int, check_number, check_seed
from kvae.distributions import LOG_2PI

__all__ = ["consistent_units", "mutual_information", "posterior_shape"]

# Number of float64 temporaries (about 8 bytes each) a chunked computation
# holds at once: 2**22 -> about 32 MiB per temporary array.
_BLOCK_ELEMENTS = 2**22
_SMALL_BLOCK = 2**17


def _sample_posteriors(mean, log_var, rng, num_samples=1):
    """Draws (num_samples, N, D) z ~ N(mean, exp(log_var)) with ``rng``."""
    eps = rng.standard_normal((num_samples,) + mean.shape)
    return mean + np.exp(0.5 * log_var) * eps


def _logsumexp_rows_inplace(block):
    """Row-wise logsumexp of a (C, N) float64 array, overwriting ``block``; returns (C,)."""
    top = block.max(axis=1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    block -= top
    np.exp(block, out=block)
    return np.log(block.sum(axis=1)) + top[:, 0]


class _MixtureLogDensity:
    """log of the aggregated posterior q(z) = 1/N sum_j N(z; mean_j, diag(var_j)), evaluated in chunks.

    ``sum_u (z_u - m_ju)^2 / v_ju`` is expanded into one matrix product, so a chunk of C points costs
    O(C N D) time and O(C N) memory. Means and points are shifted by the average mean first (the
    density is translation invariant) to limit cancellation.
    """

    def __init__(self, mean, log_var):
        self.n = mean.shape[0]
        self.shift = mean.mean(axis=0)
        m = mean - self.shift
        inv_var = np.exp(-log_var)
        # -0.5 * sum_u (z_u - m_ju)^2 / v_ju = [z^2, z] @ weights + bias_j
        self.weights = np.concatenate([-0.5 * inv_var.T, (m * inv_var).T])  # (2D, N)
        self.log_norm = -0.5 * (mean.shape[1] * LOG_2PI + log_var.sum(axis=1))  # (N,)
        self.bias = -0.5 * (m * m * inv_var).sum(axis=1)  # (N,)

    def component_log_densities(self, z):
        """(C, D) points -> (C, N) matrix of log N(z_c; mean_j, diag(var_j))."""
        z = z - self.shift
        block = np.concatenate([z * z, z], axis=1) @ self.weights
        block += self.bias
        np.minimum(block, 0.0, out=block)  # the quadratic form is >= 0: clip rounding errors
        block += self.log_norm
        return block

    def __call__(self, z, chunk_size):
        out = np.empty(z.shape[0])
        for start in range(0, z.shape[0], chunk_size):
            block = self.component_log_densities(z[start : start + chunk_size])
            out[start : start + chunk_size] = _logsumexp_rows_inplace(block) - math.log(self.n)
        return out


def _marginal_log_density(z, mean, log_var):
    """log q(z_s) for the 1-D mixture q = 1/N sum_j N(mean_j, exp(log_var_j)) at points z (S,): (S,)."""
    n = mean.shape[0]
    scale = np.sqrt(0.5 * np.exp(-log_var))  # -0.5 (z - m)^2 / v = -((z - m) * scale)^2
    scaled_mean = mean * scale
    log_norm = -0.5 * (LOG_2PI + log_var)
    chunk = max(1, _SMALL_BLOCK // n)  # blocks that fit in a CPU cache are several times faster
    buf = np.empty((min(chunk, z.shape[0]), n))
    out = np.empty(z.shape[0])
    for start in range(0, z.shape[0], chunk):
        zs = z[start : start + chunk]
        block = buf[: zs.shape[0]]
        np.multiply(zs[:, None], scale[None, :], out=block)
        block -= scaled_mean
        np.square(block, out=block)
        np.subtract(log_norm, block, out=block)
        out[start : start + chunk] = _logsumexp_rows_inplace(block) - math.log(n)
    return out


def mutual_information(mean, log_var, seed=0, chunk_size=1024):
    """Mutual information I(x; z) between the data and the latent code.

    With the aggregated posterior ``q(z) = 1/N sum_j q(z|x_j)`` over the ``N``
    examples given::

        I(x; z) = E_x[KL(q(z|x) || q(z))]
                = E_x E_{q(z|x)}[log q(z|x)] - E_x E_{q(z|x)}[log q(z)]

    estimated as in the posterior-collapse literature (He et al., 2019,
    ``calc_mi``): the first term is the exact negative entropy
    ``E_{q(z|x_i)}[log q(z|x_i)] = -D/2 log(2 pi) - 1/2 sum_u log_var_iu - D/2``;
    for the second, one ``z_i ~ q(z|x_i)`` is drawn per example::

        I ~= 1/N sum_i (-D/2 log(2 pi) - 1/2 sum_u log_var_iu - D/2)
             - 1/N sum_i [logsumexp_j log q(z_i|x_j) - log N]

    The estimate is a Monte Carlo one (it can be slightly negative) and is at
    most about ``log N``. Cost ``O(N^2 D)`` time, ``O(chunk_size * N)`` memory.

    Args:
        mean: array-like ``(N, D)``, posterior means.
        log_var: array-like ``(N, D)`` (or ``(N, 1)``), posterior
            log-variances.
        seed: seed of the NumPy generator drawing the ``z_i`` (None: fresh
            randomness). The draws do not depend on ``chunk_size``.
        chunk_size: number of ``z_i`` scored against all ``N`` posteriors at
            once (int >= 1).

    Returns:
        ``float``: the estimate of ``I(x; z)`` in nats.

    Raises:
        ValueError: on invalid ``mean``, ``log_var``, ``seed`` or
            ``chunk_size``.
    """
    mean, log_var = check_gaussians(mean, log_var)
    seed = check_seed(seed)
    chunk_size = check_int(chunk_size, "chunk_size")
    d = mean.shape[1]
    neg_entropy = -0.5 * d * LOG_2PI - 0.5 * log_var.sum(axis=1) - 0.5 * d
    z = _sample_posteriors(mean, log_var, np.random.default_rng(seed))[0]
    log_qz = _MixtureLogDensity(mean, log_var)(z, chunk_size)
    return float(neg_entropy.mean() - log_qz.mean())


def consistent_units(mean, log_var, threshold=0.03, samples=10000, seed=0, return_kl=False):
    """Number of latent units whose aggregated posterior matches the prior.

    For unit ``u``, the marginal of the aggregated posterior is the 1-D
    mixture ``q(z_u) = 1/N sum_j N(z_u; mean_ju, exp(log_var_ju))``; its
    divergence from the prior ``p(z_u) = N(0, 1)`` is estimated with ``S =
    samples`` draws ``z_s ~ p``::

        KL_u = KL(p(z_u) || q(z_u)) ~= 1/S sum_s [log p(z_su) - log q(z_su)]

    A unit is *consistent* when ``KL_u < threshold``. The joint divergence
    ``KL(p(z) || q(z))``, with ``log q(z) = logsumexp_j sum_u log N(z_u;
    mean_ju, exp(log_var_ju)) - log N``, is estimated with the same draws.
    Both are Monte Carlo estimates (they can be slightly negative). Cost
    ``O(S N D)`` time, bounded memory.

    Args:
        mean: array-like ``(N, D)``, posterior means.
        log_var: array-like ``(N, D)`` (or ``(N, 1)``), posterior
            log-variances.
        threshold: non-negative finite number (default 0.03 nats).
        samples: number ``S`` of prior draws (int >= 1).
        seed: seed of the NumPy generator drawing ``z_s`` (None: fresh).
        return_kl: also return the divergences.

    Returns:
        ``int`` count of consistent units in ``[0, D]``; with
        ``return_kl=True`` a tuple ``(count, per_unit_kl, joint_kl)`` with
        ``per_unit_kl`` a float64 array ``(D,)`` and ``joint_kl`` a float.

    Raises:
        ValueError: on invalid ``mean``, ``log_var``, ``threshold``,
            ``samples`` or ``seed``.
    """
    mean, log_var = check_gaussians(mean, log_var)
    check_number(threshold, "threshold", low=0)
    samples = check_int(samples, "samples")
    seed = check_seed(seed)
    n, d = mean.shape
    z = np.random.default_rng(seed).standard_normal((samples, d))
    log_p = -0.5 * (LOG_2PI + z * z)  # (S, D)
    chunk = max(1, _BLOCK_ELEMENTS // n)
    per_unit_kl = np.empty(d)
    for u in range(d):
        log_q = _marginal_log_density(z[:, u], mean[:, u], log_var[:, u])
        per_unit_kl[u] = np.mean(log_p[:, u] - log_q)

    joint_log_q = _MixtureLogDensity(mean, log_var)(z, chunk)
    joint_kl = float(np.mean(log_p.sum(axis=1) - joint_log_q))
    count = int(np.count_nonzero(per_unit_kl < threshold))
    if return_kl:
        return count, per_unit_kl, joint_kl
    return count


def posterior_shape(mean, log_var, samples_per_example=1, seed=0):
    """Location and spread of the aggregated posterior, from samples.

    Draws ``k = samples_per_example`` codes ``z ~ q(z|x_i)`` for every
    example, i.e. ``M = N k`` samples of the aggregated posterior ``q(z) =
    1/N sum_i q(z|x_i)``, and returns::

        mean_norm2  = || 1/M sum_m z_m ||^2
        log_det_cov = log det( 1/(M-1) sum_m (z_m - z_bar)(z_m - z_bar)^T )

    For a prior-matching aggregate ``N(0, I)`` both are near 0. (In
    expectation ``z_bar`` is the average mean and the covariance is
    ``Cov_i(mean_i) + 1/N sum_i diag(exp(log_var_i))``.) The log-determinant
    uses ``numpy.linalg.slogdet``; it is ``-inf`` for a singular sample
    covariance (e.g. ``M <= D``).

    Args:
        mean: array-like ``(N, D)``, posterior means.
        log_var: array-like ``(N, D)`` (or ``(N, 1)``), posterior
            log-variances.
        samples_per_example: ``k``, int >= 1.
        seed: seed of the NumPy generator (None: fresh randomness).

    Returns:
        ``dict`` with float ``"mean_norm2"`` and ``"log_det_cov"``.

    Raises:
        ValueError: on invalid arguments, or fewer than 2 samples in all.
    """
    mean, log_var = check_gaussians(mean, log_var)
    k = check_int(samples_per_example, "samples_per_example")
    seed = check_seed(seed)
    n, d = mean.shape
    total = n * k
    if total < 2:
        raise ValueError(
            "At least 2 samples are needed for a covariance: pass more examples in `mean` "
            "or a larger `samples_per_example`."
        )
    rng = np.random.default_rng(seed)
    shift = mean.mean(axis=0)
    sum_z = np.zeros(d)
    sum_zz = np.zeros((d, d))
    chunk = max(1, _BLOCK_ELEMENTS // (k * d))
    for start in range(0, n, chunk):
        z = _sample_posteriors(mean[start : start + chunk], log_var[start : start + chunk], rng, k)
        z = z.reshape(-1, d) - shift
        sum_z += z.sum(axis=0)
        sum_zz += z.T @ z
    centred_mean = sum_z / total
    cov = (sum_zz - total * np.outer(centred_mean, centred_mean)) / (total - 1)
    cov = 0.5 * (cov + cov.T)
    sign, log_det = np.linalg.slogdet(cov)
    z_bar = centred_mean + shift
    return {
        "mean_norm2": float(z_bar @ z_bar),
        "log_det_cov": float(log_det) if sign > 0 else float("-inf"),
    }
