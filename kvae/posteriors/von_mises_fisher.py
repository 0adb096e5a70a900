"""von Mises-Fisher posterior q(z|x) = vMF(mu(x), kappa) on the unit hypersphere, with a fixed concentration."""

import math

import keras
from keras import ops

from kvae.checks import check_number
from kvae.distributions.sphere import (  # noqa: F401  (log_bessel_iv re-exported)
    householder_rotate,
    log_bessel_iv,
    normalize,
    vmf_log_normalizer,
    vmf_mean_resultant_length,
    vmf_sample_w,
    vmf_uniform_kl,
)
from kvae.posteriors.posterior import Posterior


@keras.saving.register_keras_serializable(package="kvae")
class VonMisesFisher(Posterior):
    """von Mises-Fisher posterior q(z|x) = vMF(mu(x), kappa) on the unit hypersphere S^{D-1} (the hyperspherical VAE
    of Davidson et al., 2018, with the fixed concentration of Xu & Durrett, 2018).

        q(z|x) = C_D(kappa) exp(kappa mu(x).z),   mu(x) = m(x) / ||m(x)||,  m a linear head

    The `Posterior` contract, with these conventions:
    - `parameters` returns `(mu, log_var)`: `mu` (B, D) of unit norm and `log_var` a constant placeholder filled
      with log(1 / kappa) (so shapes match the Gaussian posteriors; it carries no parameter and no gradient).
    - `sample` is exact: Wood's (1994) rejection sampler for w = mu.z (no gradient needed, kappa is fixed), a
      uniform direction orthogonal to e1, and the Householder reflection mapping e1 to mu (gradients reach mu).
      The rejection step is vectorised with a fixed block of `proposals` (64) draws per sample, the first accepted
      one being kept. Wood's acceptance rate is at least ~0.65 for every D >= 2 and kappa > 0 (its infimum, reached
      for D = 2 as kappa -> infinity), so no proposal is accepted with probability below 0.35^64 ~ 1e-29 per sample;
      then the last proposal (still a valid w in [-1, 1]) is used.
    - `log_prob(z, mean, log_var)` is the *joint* log-density log C_D(kappa) + kappa mean.z, returned with a
      trailing axis of size 1 ((..., 1), broadcasting `z` against `mean`); summing over the last axis, as the
      objectives do, gives log q(z|x). `DensityGap` should use `marginal=False` (a vMF has no per-unit factors;
      with `marginal=True` the same joint density is used).
    - `kl(mean, log_var, prior)` is the closed-form KL to the uniform prior on the sphere (a prior whose
      `is_uniform_on_sphere()` is true, e.g. `HypersphericalUniform`, or `prior=None`), a constant returned as
      (B, 1); None for any other prior (a density on the sphere has no KL against a density on R^D).

    Args:
        latent_dim: D >= 2 (z lies on S^{D-1} in R^D).
        kappa: the fixed concentration (> 0; default 50).
        seed: seed of the layer's `SeedGenerator` (sampling noise).

    Example:
    >>> posterior = VonMisesFisher(latent_dim=8, kappa=20.0, seed=1)
    >>> out = posterior(keras.ops.ones((4, 16)), num_samples=3)
    >>> out["z"].shape
    (3, 4, 8)
    """

    proposals = 64  # rejection-sampler proposals per sample (see the class docstring)
    factorized = False  # log_prob is the joint density (..., 1): use DensityGap(marginal=False), i.e. DG-vMF
    min_latent_dim = 2

    def __init__(self, latent_dim, kappa=50.0, seed=None, **kwargs):
        super().__init__(latent_dim, seed=seed, **kwargs)
        self.kappa = check_number(kappa, "kappa", low=0, low_open=True)
        latent_dim = self.latent_dim
        self.mean_dense = keras.layers.Dense(latent_dim, name="mean")
        # Constants of the fixed (D, kappa), in float64.
        self.log_normalizer = vmf_log_normalizer(latent_dim, self.kappa)
        self.mean_resultant_length = vmf_mean_resultant_length(latent_dim, self.kappa)
        self.uniform_kl = vmf_uniform_kl(latent_dim, self.kappa)

    def build(self, input_shape):
        self.mean_dense.build(input_shape)

    def parameters(self, features, training=None):
        """Encoder features (B, F) -> (mu, log_var): mu (B, D) of unit norm, log_var (B, D) = log(1 / kappa)."""
        raw = self.mean_dense(features)
        mean = raw * ops.rsqrt(ops.maximum(ops.sum(ops.square(raw), axis=-1, keepdims=True), 1e-12))
        return mean, ops.zeros_like(mean) - math.log(self.kappa)

    def sample(self, mean, log_var, num_samples=None, seed=None):
        """Exact samples from vMF(mean, kappa): (B, D), or (k, B, D) with `num_samples=k`.

        `mean` must have unit norm (as `parameters` returns it); `log_var` is ignored. `seed` is a `SeedGenerator`
        owned by the calling layer (an objective); by default this layer's own.
        """
        seed = self.seed_generator if seed is None else seed
        dtype = keras.backend.standardize_dtype(mean.dtype)
        lead = tuple(ops.shape(mean)[:-1])
        if num_samples is not None:
            lead = (num_samples,) + lead
        w, radius = vmf_sample_w(lead, self.latent_dim, self.kappa, seed, dtype=dtype, proposals=self.proposals)
        v = keras.random.normal(lead + (self.latent_dim - 1,), dtype=dtype, seed=seed)
        z = ops.concatenate([w, radius * normalize(v)], axis=-1)  # vMF(e1, kappa)
        return householder_rotate(z, mean)  # vMF(mean, kappa)

    def kl(self, mean, log_var, prior=None):
        """KL(vMF(mean, kappa) || Uniform(S^{D-1})) as a (B, 1) constant when `prior` is uniform on the sphere
        (`prior.is_uniform_on_sphere()`) or None; None for any other prior."""
        if prior is not None and not prior.is_uniform_on_sphere():
            return None
        return ops.zeros_like(mean[..., :1]) + self.uniform_kl

    def log_prob(self, z, mean, log_var):
        """log q(z|x) = log C_D(kappa) + kappa mean.z, shape broadcast(z, mean)[:-1] + (1,)."""
        cos = ops.sum(z * mean, axis=-1, keepdims=True)
        return self.kappa * (cos - 1.0) + (self.log_normalizer + self.kappa)

    def get_config(self):
        config = super().get_config()
        config.update({"kappa": self.kappa})
        return config
