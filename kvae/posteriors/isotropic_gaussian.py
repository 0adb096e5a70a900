import keras

from kvae.posteriors.gaussian import GaussianPosterior


@keras.saving.register_keras_serializable(package="kvae")
class IsotropicGaussian(GaussianPosterior):
    """Isotropic Gaussian posterior q(z|x) = N(mu(x), sigma^2(x) I): one shared variance for every latent unit.

    The log-variance head has a single unit, broadcast to all `latent_dim` units, which pushes every unit to be
    active (the IGP of the isotropic-posterior paper).

    Args:
        latent_dim: number of latent units D.
        seed: seed of the layer's `SeedGenerator` (sampling noise).

    Example:
    >>> posterior = IsotropicGaussian(latent_dim=8, seed=1)
    >>> out = posterior(keras.ops.ones((4, 16)))
    >>> out["z"].shape
    (4, 8)
    """

    variance_units = 1
