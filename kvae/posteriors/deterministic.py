import keras
from keras import ops

from kvae.posteriors.gaussian import GaussianPosterior


@keras.saving.register_keras_serializable(package="kvae")
class Deterministic(GaussianPosterior):
    """Point "posterior" of the plain autoencoder: z = mean(x), reported with log_var = 0 and no sampling noise.

    Use it with the `Reconstruction` objective (the `AE` baseline); its KL is not a divergence and is reported as 0.
    """

    variance_units = 0

    def __init__(self, latent_dim, seed=None, **kwargs):
        keras.layers.Layer.__init__(self, **kwargs)
        if not isinstance(latent_dim, int) or isinstance(latent_dim, bool) or latent_dim <= 0:
            raise ValueError(f"`latent_dim` must be a positive integer, got {latent_dim!r}.")
        self.latent_dim = latent_dim
        self.seed = seed
        self.mean_dense = keras.layers.Dense(latent_dim, name="mean")

    def build(self, input_shape):
        self.mean_dense.build(input_shape)

    def parameters(self, features, training=None):
        mean = self.mean_dense(features)
        return mean, ops.zeros_like(mean)

    def sample(self, mean, log_var, num_samples=None, seed=None):
        if num_samples is None:
            return mean
        return ops.broadcast_to(mean, (num_samples,) + tuple(ops.shape(mean)))

    def kl(self, mean, log_var, prior=None):
        return ops.zeros_like(mean)
