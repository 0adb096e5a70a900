import math

import keras
from keras import ops

from kvae.checks import check_number
from kvae.posteriors.gaussian import GaussianPosterior


def committed_variance(delta):
    """The largest variance s < 1 with s - log s - 1 = 2 delta (bisection): any unit with variance <= s has
    KL(N(m, s) || N(0, 1)) >= delta whatever its mean m."""
    return math.exp(log_committed_variance(delta))


def log_committed_variance(delta):
    """log s of `committed_variance(delta)`, computed in log space (finite where s underflows, delta >~ 370)."""
    # Bisection on log s in [-(2 delta + 60), 0]: s - log s - 1 decreases in s on (0, 1).
    low, high = -(2.0 * delta + 60.0), 0.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        if math.exp(mid) - mid - 1 > 2 * delta:
            low = mid
        else:
            high = mid
    return low


@keras.saving.register_keras_serializable(package="kvae")
class DeltaGaussian(GaussianPosterior):
    """delta-VAE posterior (Razavi et al., 2019) for a standard normal prior: a diagonal Gaussian whose variances are
    constrained so that every unit's KL stays at or above the committed rate delta.

        var_u = s_delta * sigmoid(a_u),   s_delta - log s_delta - 1 = 2 delta,  s_delta < 1
        => KL_u = (mean_u^2 + var_u - log var_u - 1) / 2 >= delta

    Args:
        latent_dim: D.
        delta: committed rate per unit in nats (default 0.15, as published).
        seed: seed of the sampling noise.
    """

    variance_units = None

    def __init__(self, latent_dim, delta=0.15, seed=None, **kwargs):
        super().__init__(latent_dim, seed=seed, **kwargs)
        self.delta = check_number(delta, "delta", low=0, low_open=True)
        self.log_max_variance = log_committed_variance(self.delta)

    def parameters(self, features, training=None):
        raw = self.log_var_dense(features)
        return self.mean_dense(features), self.log_max_variance + ops.log_sigmoid(raw)

    def get_config(self):
        config = super().get_config()
        config.update({"delta": self.delta})
        return config
