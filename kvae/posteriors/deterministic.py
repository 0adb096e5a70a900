import keras
from keras import ops

from kvae.checks import check_int, check_seed
from kvae.posteriors.gaussian import GaussianPosterior


@keras.saving.register_keras_serializable(package="kvae")
class Deterministic(GaussianPosterior):
    """Point "posterior" of the plain autoencoder: z = mean(x), reported with log_var = 0 and no sampling noise.

    Use it with the `Reconstruction` objective (the `AE` baseline); its KL is not a divergence and is reported as 0.
    """

    variance_units = 0

    def __init__(self, latent_dim, seed=None, **kwargs):
        keras.layers.Layer.__init__(self, **kwargs)
        self.latent_dim = check_int(latent_dim, "latent_dim")
        self.seed = check_seed(seed)
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
