"""Maths of the unit hypersphere S^{D-1} and of the von Mises-Fisher distribution on it: constants of a fixed
dimension and concentration as Python floats (float64), uniform directions as `keras.ops` functions."""

import math

import keras
from keras import ops

from kvae.distributions.gaussian import LOG_2PI


def log_sphere_area(dim):
    """log A_D of the unit hypersphere S^{D-1} in R^D: A_D = 2 pi^{D/2} / Gamma(D/2) (A_2 = 2 pi, A_3 = 4 pi)."""
    return math.log(2.0) + 0.5 * dim * math.log(math.pi) - math.lgamma(0.5 * dim)


def normalize(x, eps=1e-30):
    """x / ||x|| along the last axis (squared norm floored at `eps`)."""
    return x * ops.rsqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), eps))


def uniform_directions(shape, seed, dtype=None):
    """Points drawn uniformly on the sphere of the last axis of `shape` (normalised standard normal draws)."""
    eps = keras.random.normal(shape, dtype=dtype, seed=seed)
    return eps / ops.sqrt(ops.maximum(ops.sum(ops.square(eps), axis=-1, keepdims=True), 1e-30))


def log_bessel_iv(v, x):
    """log I_v(x), the modified Bessel function of the first kind, for v >= 0 and x > 0 (Python floats).

    Uses `scipy.special.ive` (log I_v(x) = log ive(v, x) + x); where that underflows (order much larger than the
    argument), the power series I_v(x) = sum_k (x/2)^{2k+v} / (k! Gamma(v+k+1)) summed in log space.
    """
    from scipy.special import ive

    v, x = float(v), float(x)
    if not x > 0 or not v >= 0:
        raise ValueError(f"log_bessel_iv needs v >= 0 and x > 0, got v={v!r}, x={x!r}.")
    scaled = float(ive(v, x))
    if math.isfinite(scaled) and scaled > 1e-290:
        return math.log(scaled) + x
    return _log_bessel_iv_series(v, x)


def _log_bessel_iv_series(v, x):
    """log I_v(x) from the power series sum_k (x/2)^{2k+v} / (k! Gamma(v+k+1)), summed in log space (exact for any
    v >= 0, x > 0; its terms rise up to k ~ x^2 / (4 v), so it is cheap where `ive` underflows, v >> x)."""
    log_half = math.log(0.5 * x)
    terms, k = [], 0
    while True:
        term = (2 * k + v) * log_half - math.lgamma(k + 1) - math.lgamma(v + k + 1)
        terms.append(term)
        if k > 0 and term < terms[-2] and term < max(terms) - 40.0:
            break
        k += 1
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def vmf_log_normalizer(dim, kappa):
    """log C_D(kappa) = (D/2 - 1) log kappa - (D/2) log(2 pi) - log I_{D/2-1}(kappa), the log normaliser of the
    vMF density C_D(kappa) exp(kappa mu.z) on S^{D-1} (w.r.t. the surface measure)."""
    nu = 0.5 * dim - 1.0
    return nu * math.log(kappa) - 0.5 * dim * LOG_2PI - log_bessel_iv(nu, kappa)


def vmf_mean_resultant_length(dim, kappa):
    """A_D(kappa) = I_{D/2}(kappa) / I_{D/2-1}(kappa) = E[mu.z], so E[z] = A_D(kappa) mu."""
    nu = 0.5 * dim - 1.0
    return math.exp(log_bessel_iv(nu + 1.0, kappa) - log_bessel_iv(nu, kappa))


def vmf_uniform_kl(dim, kappa):
    """KL(vMF(mu, kappa) || Uniform(S^{D-1})) = kappa A_D(kappa) + log C_D(kappa) + log |S^{D-1}| (independent of mu)."""
    return kappa * vmf_mean_resultant_length(dim, kappa) + vmf_log_normalizer(dim, kappa) + log_sphere_area(dim)


def householder_rotate(z, mean):
    """The reflection H = I - 2 d d^T / |d|^2, d = e1 - mean, applied to `z` (..., D): H e1 = mean (identity when
    mean = e1), so samples drawn around e1 are carried to `mean` (unit norm), with gradients reaching `mean`."""
    d = ops.concatenate([1.0 - mean[..., :1], -mean[..., 1:]], axis=-1)
    d_sq = ops.sum(ops.square(d), axis=-1, keepdims=True)
    valid = d_sq > 1e-30
    coef = 2.0 * ops.sum(d * z, axis=-1, keepdims=True) / ops.where(valid, d_sq, ops.ones_like(d_sq))
    return z - d * ops.where(valid, coef, ops.zeros_like(coef))
