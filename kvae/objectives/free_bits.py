import keras
from keras import ops

from kvae import distribute
from kvae.checks import check_number
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
        self.target = check_number(target, "target", low=0)
        self.per_dimension = bool(per_dimension)

    def validate(self, posterior, prior):
        zeros = ops.zeros((1, posterior.latent_dim))
        if self.per_dimension and posterior.kl(zeros, zeros, prior) is None:
            raise ValueError(
                f"FreeBits(per_dimension=True) needs a closed-form per-unit KL, which a {type(posterior).__name__} "
                f"posterior has not against a {type(prior).__name__} prior: use `per_dimension=False`."
            )

    def regularizer(self, outputs, kl_units, kl, posterior, prior, step):
        if not self.per_dimension:
            return ops.maximum(self.target, distribute.batch_mean(kl)), {}  # batch means of the global batch
        if kl_units is None:
            raise ValueError("FreeBits(per_dimension=True) needs a prior with a closed-form per-unit KL.")
        return ops.sum(ops.maximum(self.target, distribute.batch_mean(kl_units))), {}

    def get_config(self):
        config = super().get_config()
        config.update({"target": self.target, "per_dimension": self.per_dimension})
        return config
