import keras

from kvae.posteriors.gaussian import GaussianPosterior


@keras.saving.register_keras_serializable(package="kvae")
class DiagonalGaussian(GaussianPosterior):
    """Diagonal Gaussian posterior q(z|x) = N(mu(x), diag(sigma^2(x))): one variance per latent unit (the usual VAE).

    Args:
        latent_dim: number of latent units D.
        seed: seed of the layer's `SeedGenerator` (sampling noise).

    Example:
    >>> posterior = DiagonalGaussian(latent_dim=8, seed=1)
    >>> out = posterior(keras.ops.ones((4, 16)), num_samples=3)
    >>> out["z"].shape
    (3, 4, 8)
    """

    variance_units = None  # latent_dim
