import math

import keras
from keras import ops

from kvae.checks import check_int
from kvae.objectives.objective import Objective


@keras.saving.register_keras_serializable(package="kvae")
class IWAE(Objective):
    """Importance-weighted autoencoder bound (Burda et al., 2016) with k posterior samples per example.

        log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x),   z_k ~ q(z|x)
        loss    = -mean_x [ logsumexp_k log w_k - log k ]

    k=1 is the ELBO with a one-sample Monte Carlo KL. The model decodes all k samples (`num_samples = k`), so a step
    costs about k times a VAE step. Tracks `rec` (mean over samples), `kl` (closed form, for monitoring) and
    `reg` = loss - rec.

    Args:
        k: number of importance samples (>= 1).
    """

    def __init__(self, k=5, **kwargs):
        super().__init__(**kwargs)
        self.k = check_int(k, "k")
        self.num_samples = k

    def regularizer(self, outputs, kl_units, kl, posterior, prior, step):
        z, rec = outputs["z"], outputs["rec"]  # (k, B, D), (k, B)
        log_q = ops.sum(posterior.log_prob(z, outputs["z_mean"], outputs["z_log_var"]), axis=-1)
        log_w = -rec + ops.sum(prior.log_prob(z), axis=-1) - log_q
        bound = ops.logsumexp(log_w, axis=0) - math.log(self.k)
        return -ops.mean(bound) - ops.mean(rec), {}

    def get_config(self):
        config = super().get_config()
        config.update({"k": self.k})
        return config
