import keras
from keras import ops

from kvae.checks import check_int, check_seed
from kvae.posteriors.gaussian import LOG_2PI, gaussian_kl


@keras.saving.register_keras_serializable(package="kvae")
class StandardNormal(keras.layers.Layer):
    """Standard normal prior p(z) = N(0, I).

    The prior interface used by models and objectives (a mixture prior implements the same three methods):
    - `log_prob(z)`: log p(z) per unit, shape of `z` (..., D); joint = sum over the last axis.
    - `kl(mean, log_var)`: closed-form KL(q(z|x) || p(z)) per unit for a Gaussian posterior, or `None` when the
      prior has no closed form (objectives then fall back to a Monte Carlo estimate).
    - `sample(n, latent_dim)`: (n, D) draws, with the layer's own `SeedGenerator`.

    Example:
    >>> prior = StandardNormal(seed=0)
    >>> prior.sample(5, 8).shape
    (5, 8)
    """

    factorized = True  # log_prob is per unit (a product density); mixtures return the joint with a trailing 1

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def log_prob(self, z):
        return -0.5 * (LOG_2PI + ops.square(z))

    def kl(self, mean, log_var):
        return gaussian_kl(mean, log_var)

    def sample(self, n, latent_dim):
        shape = (check_int(n, "n"), check_int(latent_dim, "latent_dim"))
        return keras.random.normal(shape, seed=self.seed_generator)

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
