import keras

from kvae.models.image_vae import ImageVAE


@keras.saving.register_keras_serializable(package="kvae")
class AE(ImageVAE):
    """Deterministic autoencoder baseline: the `ImageVAE` encoder and decoder with z = mean(x) and the
    `Reconstruction` objective (loss = mean_x rec(x)). `encode` returns z; `log_var` is reported as 0.

    Takes the `ImageVAE` arguments except `posterior`, `objective` and `prior`.
    """

    def __init__(self, **kwargs):
        for fixed in ("posterior", "objective", "prior"):
            kwargs.pop(fixed, None)
        super().__init__(posterior="deterministic", objective="reconstruction", **kwargs)

    def get_config(self):
        config = super().get_config()
        for fixed in ("posterior", "objective", "prior"):
            config.pop(fixed)
        return config

    def sample(self, n):
        raise NotImplementedError("An AE has no prior to sample from; use an ImageVAE.")
