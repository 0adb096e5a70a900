import keras
from keras import ops

from kvae.checks import check_int
from kvae.distributions import LOG_VAR_MAX, mixture_component_log_prob
from kvae.priors.prior import Prior


@keras.saving.register_keras_serializable(package="kvae")
class MixtureOfGaussians(Prior):
    """Learned mixture-of-Gaussians prior p(z) = sum_c pi_c N(z; m_c, diag(s_c^2)).

    `isotropic=False` gives every component a diagonal covariance (one variance per unit); `isotropic=True` gives
    each component one shared variance, s_c^2 I (the mixture-of-isotropic-Gaussians prior, MoIG, to pair with the
    isotropic posterior). The means start spread out (random normal, std 1, seeded by `seed`), the log-variances at
    0 and the mixture logits at 0 (uniform weights); `learn_weights=False` keeps the weights uniform.

    The `Prior` contract, with the differences a non-factorised prior implies:
    - `log_prob(z)`: the JOINT log density log p(z), shape (..., 1) (a trailing axis of size 1, not D: the mixture
      has no per-unit factors). Summing over the last axis gives log p(z), like for a factorised prior.
    - `kl(mean, log_var)`: None (no closed form): objectives use the Monte Carlo estimate log q(z|x) - log p(z).
    - `sample(n, latent_dim)`: (n, D) draws (component by `keras.random.categorical`, then Gaussian noise), with
      the layer's own `SeedGenerator`.
    `factorized = False` marks it for code that needs per-unit prior densities: the density gap must use
    `marginal=False` with this prior.

    The weights are created in `build(z_shape)` from the latent size `z_shape[-1]`: means (C, D), log-variances
    (C, D) or (C, 1) when isotropic, logits (C,) (non-trainable with `learn_weights=False`). Like the posteriors'
    densities, `log_prob` clips the log-variances to [-30, 30] and `sample` at 30, so that diverging variances give
    finite values (`kvae.distributions.LOG_VAR_MIN`, `LOG_VAR_MAX`).

    Args:
        components: C, number of mixture components (>= 1).
        isotropic: one shared variance per component (True) or a diagonal covariance (False).
        learn_weights: learn the mixture logits (True) or keep uniform weights (False).
        seed: seeds the means' initializer and the sampling `SeedGenerator`.

    Example:
    >>> prior = MixtureOfGaussians(components=3, isotropic=True, seed=0)
    >>> prior.build((None, 8))
    >>> prior.sample(5, 8).shape, prior.log_prob(prior.sample(5, 8)).shape
    ((5, 8), (5, 1))
    """

    factorized = False

    def __init__(self, components=5, isotropic=False, learn_weights=True, seed=None, **kwargs):
        self.components = check_int(components, "components")
        super().__init__(seed=seed, **kwargs)
        self.isotropic = bool(isotropic)
        self.learn_weights = bool(learn_weights)
        self.latent_dim = None

    def build(self, z_shape):
        latent_dim = z_shape[-1]
        if latent_dim is None or int(latent_dim) < 1:
            raise ValueError(f"`MixtureOfGaussians.build` needs a known latent size z_shape[-1], got {z_shape!r}.")
        self.latent_dim = int(latent_dim)
        c, d = self.components, self.latent_dim
        self.means = self.add_weight(
            shape=(c, d), initializer=keras.initializers.RandomNormal(stddev=1.0, seed=self.seed), name="means"
        )
        self.log_vars = self.add_weight(shape=(c, 1 if self.isotropic else d), initializer="zeros", name="log_vars")
        self.logits = self.add_weight(shape=(c,), initializer="zeros", trainable=self.learn_weights, name="logits")
        self.built = True

    def _check_built(self, latent_dim):
        if not self.built:
            raise ValueError(
                "The MixtureOfGaussians prior is not built: call `prior.build((None, latent_dim))` first "
                "(models build their prior in `build`)."
            )
        if latent_dim is not None and int(latent_dim) != self.latent_dim:
            raise ValueError(f"The prior was built for latent size {self.latent_dim}, got {latent_dim}.")

    def log_weights(self):
        """log pi_c, (C,)."""
        return ops.log_softmax(ops.convert_to_tensor(self.logits))

    def component_log_prob(self, z):
        """log N(z; m_c, diag(s_c^2)) for every component: z (..., D) -> (..., C)."""
        self._check_built(z.shape[-1])
        z = ops.convert_to_tensor(z)
        # log-variances (C, D), or (C, 1) when isotropic, clipped to [LOG_VAR_MIN, LOG_VAR_MAX]
        return mixture_component_log_prob(z, ops.cast(self.means, z.dtype), ops.cast(self.log_vars, z.dtype))

    def log_prob(self, z):
        """Joint log p(z) = logsumexp_c [log pi_c + log N(z; m_c, s_c^2)]: z (..., D) -> (..., 1)."""
        z = ops.convert_to_tensor(z)
        log_joint = self.component_log_prob(z) + ops.cast(self.log_weights(), z.dtype)
        return ops.logsumexp(log_joint, axis=-1, keepdims=True)

    def kl(self, mean, log_var):
        """No closed form: objectives fall back to the Monte Carlo estimate."""
        return

    def sample(self, n, latent_dim, seed=None):
        """(n, D) draws: a component c ~ Categorical(pi), then z = m_c + s_c * eps."""
        noise = self.noise(seed)
        n = check_int(n, "n")
        self._check_built(latent_dim)
        logits = ops.expand_dims(ops.convert_to_tensor(self.logits), 0)  # (1, C)
        chosen = ops.reshape(keras.random.categorical(logits, n, seed=noise), (n,))
        means = ops.take(ops.convert_to_tensor(self.means), chosen, axis=0)  # (n, D)
        log_vars = ops.take(ops.convert_to_tensor(self.log_vars), chosen, axis=0)  # (n, D) or (n, 1)
        eps = keras.random.normal((n, self.latent_dim), dtype=means.dtype, seed=noise)
        return means + ops.exp(0.5 * ops.minimum(log_vars, LOG_VAR_MAX)) * eps

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "components": self.components,
                "isotropic": self.isotropic,
                "learn_weights": self.learn_weights,
            }
        )
        return config
