import keras
from keras import ops

from kvae.objectives.objective import Objective


@keras.saving.register_keras_serializable(package="kvae")
class Reconstruction(Objective):
    """Reconstruction only, the objective of the deterministic autoencoder baseline (`AE`).

        loss = mean_x rec(x)
    """

    def regularizer(self, outputs, kl_units, kl, posterior, prior, step):
        return ops.zeros((), dtype=kl.dtype), {}
