import keras
from keras import ops

from kvae.objectives.objective import Objective


@keras.saving.register_keras_serializable(package="kvae")
class ELBO(Objective):
    """Negative evidence lower bound.

        loss = mean_x [ rec(x) + KL(q(z|x) || p(z)) ]

    rec summed over pixels or tokens, KL summed over latent units, both averaged over the batch.

    Example:
    >>> model = kvae.ImageVAE(objective=kvae.objectives.ELBO())
    """

    def regularizer(self, outputs, kl_units, kl, posterior, prior, step):
        return ops.mean(kl), {}
