"""Uniform prior on the unit hypersphere S^{D-1}, the prior of the von Mises-Fisher posterior."""

import keras
from keras import ops

from kvae.checks import check_int
from kvae.distributions.sphere import log_sphere_area, uniform_directions
from kvae.priors.prior import Prior


@keras.saving.register_keras_serializable(package="kvae")
class HypersphericalUniform(Prior):
    """Uniform prior p(z) = 1 / A_D on the unit hypersphere S^{D-1} (D = latent_dim, read from `z`).

    The `Prior` contract, with one convention of its own: its density is a *joint* density on the sphere (it does not
    factor over latent units), so
    - `log_prob(z)` returns -log A_D with a trailing axis of size 1, (..., 1); summing over the last axis, as the
      objectives do, gives the joint log-density;
    - `kl(mean, log_var)` returns None: a Gaussian posterior has no closed form against it, and the closed-form
      KL(vMF || uniform) is supplied by the `VonMisesFisher` posterior itself, whose `kl(mean, log_var, prior)`
      recognises this prior (`is_uniform_on_sphere()`);
    - `sample(n, latent_dim)` draws (n, D) points uniformly on the sphere (normalised standard normal draws) with
      the layer's own `SeedGenerator`.

    Use it with `kvae.posteriors.VonMisesFisher` (the hyperspherical VAE of Davidson et al., 2018).

    Example:
    >>> prior = HypersphericalUniform(seed=0)
    >>> prior.sample(5, 8).shape
    (5, 8)
    """

    factorized = False  # log_prob is the joint density (..., 1)

    def __init__(self, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.built = True

    def is_uniform_on_sphere(self):
        return True

    def log_prob(self, z):
        dim = z.shape[-1]
        if dim is None:
            raise ValueError("`HypersphericalUniform.log_prob` needs a known last axis (the latent dimension).")
        return ops.zeros_like(z[..., :1]) - log_sphere_area(int(dim))

    def kl(self, mean, log_var):
        return None

    def sample(self, n, latent_dim, seed=None):
        noise = self.noise(seed)
        n, latent_dim = check_int(n, "n"), check_int(latent_dim, "latent_dim", minimum=2)
        return uniform_directions((n, latent_dim), noise)
