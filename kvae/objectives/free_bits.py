import keras
from keras import ops

from kvae.objectives.objective import Objective


@keras.saving.register_keras_serializable(package="kvae")
class FreeBits(Objective):
    """Free bits (Kingma et al., 2016): the batch-averaged KL is hinged at a target lambda, so the model pays nothing
    for the first lambda nats.

        per_dimension=True:  loss = mean_x rec(x) + sum_u max(lambda, mean_x KL_u(x))
        per_dimension=False: loss = mean_x rec(x) + max(lambda, mean_x KL(x))

    KL_u is the closed-form KL of latent unit u. Below the target the gradient of the KL term is zero.

    Args:
        target: lambda in nats (per unit, or in total), >= 0.
        per_dimension: hinge each unit's KL, or the total.
    """

    def __init__(self, target=0.5, per_dimension=True, **kwargs):
        super().__init__(**kwargs)
        if not target >= 0:
            raise ValueError(f"`target` must be >= 0, got {target!r}.")
        self.target = float(target)
        self.per_dimension = bool(per_dimension)

    def regularizer(self, outputs, kl_units, kl, posterior, prior, step):
        if not self.per_dimension:
            return ops.maximum(self.target, ops.mean(kl)), {}
        if kl_units is None:
            raise ValueError("FreeBits(per_dimension=True) needs a prior with a closed-form per-unit KL.")
        return ops.sum(ops.maximum(self.target, ops.mean(kl_units, axis=0))), {}

    def get_config(self):
        config = super().get_config()
        config.update({"target": self.target, "per_dimension": self.per_dimension})
        return config
