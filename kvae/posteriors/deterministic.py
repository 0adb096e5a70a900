import keras
from keras import ops

from kvae.distributions import gaussian_log_prob
from kvae.posteriors.posterior import Posterior


@keras.saving.register_keras_serializable(package="kvae")
class Deterministic(Posterior):
    """Point "posterior" of the plain autoencoder: z = mean(x), reported with log_var = 0 and no sampling noise.

    Use it with the `Reconstruction` objective (the `AE` baseline); its KL is not a divergence and is reported as 0.
    `log_prob` is the Gaussian density N(mean, I) of the reported parameters (what the latent metrics score).

    Args:
        latent_dim: D.
        seed: accepted for a uniform constructor; nothing is sampled.
    """

    stochastic = False

    def __init__(self, latent_dim, seed=None, **kwargs):
        super().__init__(latent_dim, seed=seed, **kwargs)
        self.mean_dense = keras.layers.Dense(self.latent_dim, name="mean")

    def has_gaussian_density(self):
        return True

    def build(self, input_shape):
        self.mean_dense.build(input_shape)

    def parameters(self, features, training=None):
        mean = self.mean_dense(features)
        return mean, ops.zeros_like(mean)

    def sample(self, mean, log_var, num_samples=None, seed=None):
        if num_samples is None:
            return mean
        return ops.broadcast_to(mean, (num_samples,) + tuple(ops.shape(mean)))

    def log_prob(self, z, mean, log_var):
        return gaussian_log_prob(z, mean, log_var)

    def kl(self, mean, log_var, prior=None):
        return ops.zeros_like(mean)
