"""The prior contract: the base class of every p(z) layer."""

import keras

from kvae.checks import check_seed


class Prior(keras.layers.Layer):
    """Base of every prior p(z). Models build it with `build((batch, latent_dim))` and objectives call:

    - `log_prob(z)` -> log p(z): per unit (..., D) when `factorized`, else the joint density with a trailing axis of
      size 1 (..., 1); summing over the last axis gives the joint log-density either way;
    - `kl(mean, log_var)` -> the closed-form KL(N(mean, diag(exp(log_var))) || p(z)) per unit (..., D) for a
      Gaussian posterior, or None when the prior has none (objectives then use the Monte Carlo estimate);
    - `sample(n, latent_dim, seed=None)` -> (n, D) draws with the layer's own `SeedGenerator` (`seed_generator`),
      or, given a `seed`, with a fresh generator of that seed (the same draws every time).

    Capabilities, read by posteriors, objectives and metrics instead of the prior's class:
    - `factorized` (class attribute): `log_prob` is a product over units (`DensityGap(marginal=True)` needs it);
    - `is_standard_normal()`: p(z) = N(0, I) (NumPy code may then score and sample it itself);
    - `is_uniform_on_sphere()`: p(z) is uniform on the unit hypersphere (the vMF posterior's closed-form KL).

    Args:
        seed: seed of the sampling noise (and of any random initialiser).
    """

    factorized = True

    def __init__(self, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")  # densities and samples in float32 under mixed precision too
        super().__init__(**kwargs)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def is_standard_normal(self):
        return False

    def is_uniform_on_sphere(self):
        return False

    def log_prob(self, z):
        """log p(z): (..., D) when `factorized`, else (..., 1)."""
        raise NotImplementedError

    def kl(self, mean, log_var):
        """Closed-form KL(q || p) per unit for a Gaussian posterior q, or None."""
        return

    def sample(self, n, latent_dim, seed=None):
        """(n, latent_dim) draws from p(z); `seed` (int) draws reproducibly without advancing the layer's noise."""
        raise NotImplementedError

    def noise(self, seed=None):
        """The `SeedGenerator` a draw uses: the layer's own, or a fresh one for an explicit `seed`."""
        return self.seed_generator if seed is None else keras.random.SeedGenerator(check_seed(seed))

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
