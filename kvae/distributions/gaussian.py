"""Gaussian maths as pure `keras.ops` functions, shared by posteriors, priors, objectives and metrics.

Numerical range: log-variances in [LOG_VAR_MIN, LOG_VAR_MAX] = [-30, 30] (standard deviations 3e-7 .. 3e6) and
means up to +-1e3 give finite, exact float32 samples, log-densities and KLs. Where an exp of the log-variance would
overflow beyond that range (a diverging log-variance head), the functions clip it: `reparameterize` and
`gaussian_kl` at LOG_VAR_MAX (above it they act as if log_var = 30: finite, no gradient), `gaussian_log_prob` at
both ends. The closed-form KL stays exact below LOG_VAR_MIN (finite, growing like -log_var / 2).
"""

import math

from keras import ops

from kvae import distribute

LOG_2PI = math.log(2.0 * math.pi)
LOG_VAR_MIN, LOG_VAR_MAX = -30.0, 30.0


def gaussian_kl(mean, log_var):
    """Closed-form KL(N(mean, exp(log_var)) || N(0, 1)) per latent unit.

    KL_u = 0.5 * (mean_u^2 + exp(log_var_u) - log_var_u - 1)

    Args:
        mean, log_var: tensors of the same shape (..., D).

    Returns:
        Tensor (..., D); sum over the last axis for the total KL.
    """
    log_var = ops.minimum(log_var, LOG_VAR_MAX)  # exp overflows float32 above ~88
    return 0.5 * (ops.square(mean) + ops.exp(log_var) - log_var - 1.0)


def gaussian_log_prob(z, mean, log_var):
    """Log-density of `z` under N(mean, exp(log_var)) per unit: -0.5 (log 2pi + log_var + (z - mean)^2 / exp(log_var)).

    Broadcasts `z` (..., D) against `mean`/`log_var`; returns (..., D).
    """
    log_var = ops.clip(log_var, LOG_VAR_MIN, LOG_VAR_MAX)  # exp(-log_var) * 0 would be NaN for tiny variances
    # Constant and scale on the parameters' shape: one elementwise pass fewer on the broadcast result, which is
    # DensityGap's (M, B, B, D) pairwise tensor.
    return -0.5 * (LOG_2PI + log_var) + ops.square(z - mean) * (-0.5 * ops.exp(-log_var))


def standard_normal_log_prob(z):
    """log N(z_u; 0, 1) per unit: -0.5 (log 2pi + z^2), shape of `z` (..., D)."""
    return -0.5 * (LOG_2PI + ops.square(z))


def reparameterize(mean, log_var, seed, num_samples=None):
    """z = mean + exp(log_var / 2) * eps, eps ~ N(0, I).

    Args:
        mean, log_var: (B, D) tensors.
        seed: a `keras.random.SeedGenerator` (owned by a Layer).
        num_samples: None for one sample of shape (B, D), or k for (k, B, D).
    """
    shape = ops.shape(mean) if num_samples is None else (num_samples,) + tuple(ops.shape(mean))
    eps = distribute.normal(shape, seed, dtype=mean.dtype, batch_axis=len(shape) - 2)  # global-batch noise
    return mean + ops.exp(0.5 * ops.minimum(log_var, LOG_VAR_MAX)) * eps


def mixture_component_log_prob(z, means, log_vars):
    """log N(z; m_c, diag(exp(l_c))) for every component c: z (..., D), means (C, D), log_vars (C, D) or (C, 1)
    (one shared variance per component) -> (..., C). Log-variances clipped to [LOG_VAR_MIN, LOG_VAR_MAX]."""
    log_vars = ops.clip(log_vars, LOG_VAR_MIN, LOG_VAR_MAX)
    diff = ops.expand_dims(z, -2) - means  # (..., C, D)
    if log_vars.shape[-1] == 1 and means.shape[-1] != 1:  # D (log 2pi + log s_c^2) + |z - m_c|^2 / s_c^2
        log_var = log_vars[:, 0]
        squared = ops.sum(ops.square(diff), axis=-1)  # (..., C)
        return -0.5 * (squared * ops.exp(-log_var) + means.shape[-1] * (LOG_2PI + log_var))
    # The term of `z` first: symbolic `z` (a KerasTensor) then meets the parameters' tensors through its own operators.
    return -0.5 * ops.sum(ops.square(diff) * ops.exp(-log_vars) + (LOG_2PI + log_vars), axis=-1)
