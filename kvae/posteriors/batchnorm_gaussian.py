import keras

from kvae import distribute
from kvae.checks import check_number
from kvae.posteriors.gaussian import GaussianPosterior


@keras.saving.register_keras_serializable(package="kvae")
class BatchNormGaussian(GaussianPosterior):
    """BN-VAE posterior (Zhu et al., 2020): a diagonal Gaussian whose means are batch-normalised with a fixed scale.

        mean_u = gamma * (m_u - E_B[m_u]) / sqrt(Var_B[m_u] + eps) + beta_u

    gamma is fixed, beta_u learned; since E_x[mean_u^2] = gamma^2 + beta_u^2, the expected KL stays above
    latent_dim * gamma^2 / 2, which keeps every unit away from collapse. Moving statistics are used at inference.
    With epsilon in the normalisation the bound is really D * gamma^2 / 2 * Var_B[m] / (Var_B[m] + eps), and the
    raw means of a freshly initialised LSTM encoder vary by about 1e-5 across sentences: Keras's default epsilon
    (1e-3) lets the encoder escape the bound at once, so epsilon is 1e-8; moving statistics are updated with weight
    0.1 per step, as PyTorch's `BatchNorm1d` used by the published code.

    Args:
        latent_dim: D.
        gamma: the fixed scale (default 0.7, as published).
        seed: seed of the sampling noise.
    """

    variance_units = None
    # Under mixed precision the whole posterior is float32: the raw means vary by ~1e-5 across a batch at first,
    # below bfloat16's resolution, and the normalisation would amplify the rounding instead.
    float32_heads = True

    def __init__(self, latent_dim, gamma=0.7, seed=None, **kwargs):
        super().__init__(latent_dim, seed=seed, **kwargs)
        self.gamma = check_number(gamma, "gamma", low=0, low_open=True)
        # Statistics of the global batch, also across TensorFlow replicas (JAX's step sees the global batch).
        sync = distribute.replicas() > 1
        self.norm = keras.layers.BatchNormalization(
            momentum=0.9,
            epsilon=1e-8,
            center=False,
            scale=False,
            synchronized=sync,
            dtype=self.dtype_policy,
            name="mean_norm",
        )

    def build(self, input_shape):
        super().build(input_shape)
        self.norm.build((input_shape[0], self.latent_dim))
        self.beta = self.add_weight(shape=(self.latent_dim,), initializer="zeros", name="beta")

    def parameters(self, features, training=None):
        mean = self.gamma * self.norm(self.mean_dense(features), training=training) + self.beta
        return mean, self.log_var_dense(features)

    def get_config(self):
        config = super().get_config()
        config.update({"gamma": self.gamma})
        return config
