import keras

from kvae.checks import check_int
from kvae.distributions import gaussian_kl, standard_normal_log_prob
from kvae.priors.prior import Prior


@keras.saving.register_keras_serializable(package="kvae")
class StandardNormal(Prior):
    """Standard normal prior p(z) = N(0, I): factorised, with the closed-form Gaussian KL.

    - `log_prob(z)`: log p(z) per unit, shape of `z` (..., D);
    - `kl(mean, log_var)`: KL(N(mean, exp(log_var)) || N(0, 1)) per unit;
    - `sample(n, latent_dim)`: (n, D) standard normal draws.

    Args:
        seed: seed of `sample`'s noise.

    Example:
    >>> prior = StandardNormal(seed=0)
    >>> prior.sample(5, 8).shape
    (5, 8)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.built = True

    def is_standard_normal(self):
        return True

    def log_prob(self, z):
        return standard_normal_log_prob(z)

    def kl(self, mean, log_var):
        return gaussian_kl(mean, log_var)

    def sample(self, n, latent_dim, seed=None):
        noise = self.noise(seed)
        shape = (check_int(n, "n"), check_int(latent_dim, "latent_dim"))
        return keras.random.normal(shape, seed=noise)
