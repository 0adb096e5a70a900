"""The posterior contract: the base class of every q(z|x) layer."""

import keras
from keras import ops

from kvae.checks import check_int, check_seed


class Posterior(keras.layers.Layer):
    """Base of every posterior sampler q(z|x): encoder features (B, F) -> parameters -> reparameterised `z`.

    A posterior states its distribution through five methods, which models and objectives call, and capability
    flags, which they read instead of checking classes:

    - `parameters(features, training)` -> `(mean, log_var)`, both (B, D) (a posterior without a variance reports a
      placeholder, e.g. 0 for `Deterministic`, log(1 / kappa) for `VonMisesFisher`);
    - `sample(mean, log_var, num_samples=None, seed=None)` -> `z` (B, D), or (k, B, D) with `num_samples=k`; `seed`
      is a `SeedGenerator` owned by the calling layer (an objective), by default this layer's own;
    - `log_prob(z, mean, log_var)` -> log q(z|x), broadcasting `z` against the parameters: per unit (..., D) when
      `factorized`, else the joint density with a trailing axis of size 1 (..., 1); sum the last axis for the joint;
    - `kl(mean, log_var, prior=None)` -> the closed-form KL(q(z|x) || p(z)) per unit (B, D) (or joint, (B, 1)),
      against the standard normal when `prior` is None, or None where no closed form exists (objectives then use the
      Monte Carlo estimate log q(z|x) - log p(z));
    - `call(features, num_samples=None, training=None)` -> `{"z_mean", "z_log_var", "z"}`.

    Capabilities:
    - `factorized` (class attribute): `log_prob` is a product over units (per-unit densities, which
      `DensityGap(marginal=True)` needs);
    - `stochastic` (class attribute): the layer samples, and owns a `SeedGenerator` (`seed_generator`);
    - `has_gaussian_density()`: `log_prob` is the diagonal Gaussian density N(mean, diag(exp(log_var))) of
      `kvae.distributions.gaussian_log_prob`, so fused kernels apply and `(mean, log_var)` from `encode` describe the
      posterior (the latent and likelihood metrics rely on it).

    Args:
        latent_dim: D, number of latent units (at least `min_latent_dim`).
        seed: seed of the sampling noise (None: fresh randomness).
    """

    factorized = True
    stochastic = True
    min_latent_dim = 1

    def __init__(self, latent_dim, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")  # posterior parameters, samples and densities in float32 always
        super().__init__(**kwargs)
        self.latent_dim = check_int(latent_dim, "latent_dim", minimum=self.min_latent_dim)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed) if self.stochastic else None

    def has_gaussian_density(self):
        """Whether `log_prob(z, mean, log_var)` is the diagonal Gaussian density of `(mean, log_var)`."""
        return False

    def parameters(self, features, training=None):
        """Encoder features (B, F) -> (mean, log_var), both (B, D)."""
        raise NotImplementedError

    def sample(self, mean, log_var, num_samples=None, seed=None):
        """Samples z ~ q(z|x): (B, D), or (k, B, D) with `num_samples=k`."""
        raise NotImplementedError

    def log_prob(self, z, mean, log_var):
        """log q(z|x): (..., D) when `factorized`, else (..., 1)."""
        raise NotImplementedError

    def kl(self, mean, log_var, prior=None):
        """Closed-form KL(q(z|x) || p(z)) per unit, or None without a closed form."""
        return

    def call(self, features, num_samples=None, training=None):
        mean, log_var = self.parameters(features, training=training)
        # Heads in the networks' compute dtype (mixed precision); parameters and samples in the layer's float32.
        mean, log_var = ops.cast(mean, self.compute_dtype), ops.cast(log_var, self.compute_dtype)
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
