"""Gaussian posterior q(z|x) = N(mean, diag(exp(log_var))): the base layer of the Gaussian samplers.

The maths (`gaussian_kl`, `gaussian_log_prob`, `reparameterize`, `LOG_2PI`, `LOG_VAR_MIN`, `LOG_VAR_MAX`) lives in
`kvae.distributions`; it is re-exported here for code written against earlier versions.
"""

import keras
from keras import ops

from kvae.distributions.gaussian import (  # noqa: F401  (re-exported)
    LOG_2PI,
    LOG_VAR_MAX,
    LOG_VAR_MIN,
    gaussian_kl,
    gaussian_log_prob,
    reparameterize,
)
from kvae.posteriors.posterior import Posterior


class GaussianPosterior(Posterior):
    """Base of the Gaussian posterior samplers: a linear mean head and a log-variance head of `variance_units` units.

    Call returns a dict with `z_mean` (B, D), `z_log_var` (B, D) (broadcast to every unit when the variance is
    shared) and a reparameterised sample `z`: (B, D), or (k, B, D) with `num_samples=k`.
    Subclasses fix `variance_units` (1 for the isotropic posterior, None for one per unit) and may override
    `parameters` (constrained means or variances); the density, sampling and KL are the diagonal Gaussian's.

    Args:
        latent_dim: D.
        seed: seed of the sampling noise.
    """

    variance_units = None
    # Heads in the networks' compute dtype (the global policy), or in this layer's float32 (`True`) where
    # the parameters need more than bfloat16's 3 significant digits (batch-normalised means).
    float32_heads = False

    def __init__(self, latent_dim, seed=None, **kwargs):
        super().__init__(latent_dim, seed=seed, **kwargs)
        dtype = self.dtype_policy if self.float32_heads else None
        self.mean_dense = keras.layers.Dense(self.latent_dim, dtype=dtype, name="mean")
        self.log_var_dense = keras.layers.Dense(self._variance_units(), dtype=dtype, name="log_var")

    def _variance_units(self):
        return self.latent_dim if self.variance_units is None else self.variance_units

    def has_gaussian_density(self):
        return True

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
        """Reparameterised samples from N(mean, exp(log_var)): (B, D), or (k, B, D) with `num_samples=k`."""
        return reparameterize(mean, log_var, self.seed_generator if seed is None else seed, num_samples)

    def kl(self, mean, log_var, prior=None):
        """Closed-form KL(q(z|x) || p(z)) per unit (B, D): to the standard normal when `prior` is None, else the
        prior's closed form for Gaussian posteriors (None when it has none)."""
        if prior is None:
            return gaussian_kl(mean, log_var)
        return prior.kl(mean, log_var)

    def log_prob(self, z, mean, log_var):
        """log q(z|x) per unit (..., D), broadcasting `z` against the parameters (`gaussian_log_prob`)."""
        return gaussian_log_prob(z, mean, log_var)
