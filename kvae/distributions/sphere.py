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


def vmf_sample_w(lead_shape, dim, kappa, seed, dtype=None, proposals=64):
    """Wood's (1994) rejection sampler for w = mu.z of vMF(mu, kappa) on S^{dim-1}: returns w and sqrt(1 - w^2), both
    lead_shape + (1,), without gradient (kappa is fixed), from `proposals` proposals per sample (the first accepted
    one kept; the last one when none is, with probability below 0.35^proposals).

    Proposal: w = (1 - (1 + b) Z) / (1 - (1 - b) Z), Z ~ Beta((D-1)/2, (D-1)/2); accept when
    kappa w + (D-1) log(1 - x0 w) - c >= log U, x0 = (1-b)/(1+b), c = kappa x0 + (D-1) log(1 - x0^2), U ~ U(0, 1).
    Written with den = 1 - (1 - b) Z, 1 - w = 2 b Z / den, 1 + w = 2 (1 - Z) / den and
    1 - x0 w = (1 - x0^2)(1 + b) / (2 den), so that no step cancels catastrophically for large kappa.

    The symmetric Beta draws use uniforms only (Ulrich, 1984; Devroye, 1986, IX.4): with U1, U2 ~ U(0, 1),
    q = U1^{2/(D-2)} (0 for D = 2), r^2 = 1 - q, s = r cos(2 pi U2), Z = (1 + s) / 2 ~ Beta((D-1)/2, (D-1)/2);
    min(Z, 1 - Z) = (q + r^2 sin^2(2 pi U2)) / (2 (1 + |s|)) keeps the small side exact. (Uniforms instead of
    `keras.random.beta`, whose gamma-based sampler is orders of magnitude slower on JAX/CPU.)
    """
    m = dim - 1.0
    b = m / (2.0 * kappa + math.sqrt(4.0 * kappa**2 + m**2))  # Wood's b, stable form
    shape = tuple(lead_shape) + (3, proposals)
    uniforms = keras.random.uniform(shape, dtype=dtype, seed=seed)
    log_u1 = ops.log1p(-uniforms[..., 0, :])  # log of a U(0, 1] draw: never log(0)
    angle = (2.0 * math.pi) * uniforms[..., 1, :]
    log_u = ops.log1p(-uniforms[..., 2, :])
    if dim == 2:  # Beta(1/2, 1/2): r = 1
        q, r_sq = ops.zeros_like(log_u1), ops.ones_like(log_u1)
    else:
        scaled = log_u1 * (2.0 / (m - 1.0))
        q, r_sq = ops.exp(scaled), -ops.expm1(scaled)
    s = ops.sqrt(r_sq) * ops.cos(angle)
    big = 1.0 + ops.abs(s)
    small = (q + r_sq * ops.square(ops.sin(angle))) / big
    negative = s < 0
    z = 0.5 * ops.where(negative, small, big)  # Z
    z_c = 0.5 * ops.where(negative, big, small)  # 1 - Z
    den = z_c + b * z
    log_ratio = kappa * (2.0 * b / (1.0 + b) - 2.0 * b * z / den) + m * ops.log((1.0 + b) / (2.0 * den))
    accept = log_ratio >= log_u
    first = ops.logical_and(accept, ops.cumsum(ops.cast(accept, "int32"), axis=-1) == 1)
    none = ops.logical_not(ops.any(accept, axis=-1, keepdims=True))
    is_last = ops.arange(proposals) == proposals - 1
    pick = ops.logical_or(first, ops.logical_and(none, is_last))
    w = 1.0 - 2.0 * b * z / den
    radius = 2.0 * ops.sqrt(b * z * z_c) / den  # sqrt(1 - w^2) = sqrt((1 - w)(1 + w))
    zero = ops.zeros_like(w)
    w = ops.sum(ops.where(pick, w, zero), axis=-1, keepdims=True)
    radius = ops.sum(ops.where(pick, radius, zero), axis=-1, keepdims=True)
    return ops.stop_gradient(w), ops.stop_gradient(radius)
