"""Gaussian posterior q(z|x) = N(mean, diag(exp(log_var))): pure `keras.ops` functions and the sampler base layer.

Numerical range: log-variances in [LOG_VAR_MIN, LOG_VAR_MAX] = [-30, 30] (standard deviations 3e-7 .. 3e6) and
means up to +-1e3 give finite, exact float32 samples, log-densities and KLs. Where an exp of the log-variance would
overflow beyond that range (a diverging log-variance head), the functions clip it: `reparameterize` and
`gaussian_kl` at LOG_VAR_MAX (above it they act as if log_var = 30: finite, no gradient), `gaussian_log_prob` at
both ends. The closed-form KL stays exact below LOG_VAR_MIN (finite, growing like -log_var / 2).
"""

import math

import keras
from keras import ops

from kvae import distribute
from kvae.checks import check_int, check_seed

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


class GaussianPosterior(keras.layers.Layer):
    """Base of the Gaussian posterior samplers: a linear mean head and a log-variance head of `variance_units` units.

    Call returns a dict with `z_mean` (B, D), `z_log_var` (B, D) (broadcast to every unit when the variance is
    shared) and a reparameterised sample `z`: (B, D), or (k, B, D) with `num_samples=k`.
    Subclasses fix `variance_units` (1 for the isotropic posterior, D for the diagonal one).
    """

    variance_units = None
    factorized = True  # log_prob is per unit

    def __init__(self, latent_dim, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = check_int(latent_dim, "latent_dim")
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.mean_dense = keras.layers.Dense(latent_dim, name="mean")
        self.log_var_dense = keras.layers.Dense(self._variance_units(), name="log_var")

    def _variance_units(self):
        return self.latent_dim if self.variance_units is None else self.variance_units

    def build(self, input_shape):
        self.mean_dense.build(input_shape)
        self.log_var_dense.build(input_shape)

    def parameters(self, features, training=None):
        """Encoder features (B, F) -> (mean, log_var), both (B, D)."""
        mean = self.mean_dense(features)
        log_var = self.log_var_dense(features)
        log_var = ops.broadcast_to(log_var, ops.shape(mean))
        return mean, log_var

    def sample(self, mean, log_var, num_samples=None, seed=None):
        """Reparameterised samples from N(mean, exp(log_var)): (B, D), or (k, B, D) with `num_samples=k`.

        `seed` is a `SeedGenerator` owned by the calling layer (an objective); by default this layer's own.
        """
        return reparameterize(mean, log_var, self.seed_generator if seed is None else seed, num_samples)

    def kl(self, mean, log_var, prior=None):
        """Closed-form KL(q(z|x) || p(z)) per unit (B, D): to the standard normal when `prior` is None, else the
        prior's closed form for Gaussian posteriors (None when it has none)."""
        if prior is None:
            return gaussian_kl(mean, log_var)
        return prior.kl(mean, log_var)

    # log q(z|x) per unit, broadcasting `z` against the parameters. The function itself, so that `DensityGap` can
    # recognise the Gaussian density (`posterior.log_prob is gaussian_log_prob`) and use its fused pairwise term.
    log_prob = staticmethod(gaussian_log_prob)

    def call(self, features, num_samples=None, training=None):
        mean, log_var = self.parameters(features, training=training)
        z = self.sample(mean, log_var, num_samples)
        return {"z_mean": mean, "z_log_var": log_var, "z": z}

    def compute_output_spec(self, features, num_samples=None, training=None):
        batch = features.shape[0]
        spec = keras.KerasTensor((batch, self.latent_dim), dtype=self.compute_dtype)
        z_shape = (batch, self.latent_dim) if num_samples is None else (num_samples, batch, self.latent_dim)
        return {"z_mean": spec, "z_log_var": spec, "z": keras.KerasTensor(z_shape, dtype=self.compute_dtype)}

    def get_config(self):
        config = super().get_config()
        config.update({"latent_dim": self.latent_dim, "seed": self.seed})
        return config
