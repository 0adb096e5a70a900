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
        m = latent_dim - 1.0
        self._b = m / (2.0 * self.kappa + math.sqrt(4.0 * self.kappa**2 + m**2))  # Wood's b, stable form

    def build(self, input_shape):
        self.mean_dense.build(input_shape)

    def parameters(self, features, training=None):
        """Encoder features (B, F) -> (mu, log_var): mu (B, D) of unit norm, log_var (B, D) = log(1 / kappa)."""
        raw = self.mean_dense(features)
        mean = raw * ops.rsqrt(ops.maximum(ops.sum(ops.square(raw), axis=-1, keepdims=True), 1e-12))
        return mean, ops.zeros_like(mean) - math.log(self.kappa)

    def _sample_w(self, lead_shape, dtype, seed):
        """Wood's rejection sampler for w = mu.z: returns w and sqrt(1 - w^2), both lead_shape + (1,).

        Proposal: w = (1 - (1 + b) Z) / (1 - (1 - b) Z), Z ~ Beta((D-1)/2, (D-1)/2); accept when
        kappa w + (D-1) log(1 - x0 w) - c >= log U, x0 = (1-b)/(1+b), c = kappa x0 + (D-1) log(1 - x0^2), U ~ U(0, 1).
        Written with den = 1 - (1 - b) Z, 1 - w = 2 b Z / den, 1 + w = 2 (1 - Z) / den and
        1 - x0 w = (1 - x0^2)(1 + b) / (2 den), so that no step cancels catastrophically for large kappa.

        The symmetric Beta draws use uniforms only (Ulrich, 1984; Devroye, 1986, IX.4): with U1, U2 ~ U(0, 1),
        q = U1^{2/(D-2)} (0 for D = 2), r^2 = 1 - q, s = r cos(2 pi U2), Z = (1 + s) / 2 ~ Beta((D-1)/2, (D-1)/2);
        min(Z, 1 - Z) = (q + r^2 sin^2(2 pi U2)) / (2 (1 + |s|)) keeps the small side exact. (Uniforms instead of
        `keras.random.beta`, whose gamma-based sampler is orders of magnitude slower on JAX/CPU.)
        """
        m, b, kappa = self.latent_dim - 1.0, self._b, self.kappa
        shape = tuple(lead_shape) + (3, self.proposals)
        uniforms = keras.random.uniform(shape, dtype=dtype, seed=seed)
        log_u1 = ops.log1p(-uniforms[..., 0, :])  # log of a U(0, 1] draw: never log(0)
        angle = (2.0 * math.pi) * uniforms[..., 1, :]
        log_u = ops.log1p(-uniforms[..., 2, :])
        if self.latent_dim == 2:  # Beta(1/2, 1/2): r = 1
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
        is_last = ops.arange(self.proposals) == self.proposals - 1
        pick = ops.logical_or(first, ops.logical_and(none, is_last))
        w = 1.0 - 2.0 * b * z / den
        radius = 2.0 * ops.sqrt(b * z * z_c) / den  # sqrt(1 - w^2) = sqrt((1 - w)(1 + w))
        zero = ops.zeros_like(w)
        w = ops.sum(ops.where(pick, w, zero), axis=-1, keepdims=True)
        radius = ops.sum(ops.where(pick, radius, zero), axis=-1, keepdims=True)
        return ops.stop_gradient(w), ops.stop_gradient(radius)

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
        w, radius = self._sample_w(lead, dtype, seed)
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
