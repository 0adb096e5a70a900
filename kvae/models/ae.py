import keras

from kvae.models.image_vae import ImageVAE


@keras.saving.register_keras_serializable(package="kvae")
class AE(ImageVAE):
    """Deterministic autoencoder baseline: the `ImageVAE` encoder and decoder with z = mean(x) and the
    `Reconstruction` objective (loss = mean_x rec(x)). `encode` returns z; `log_var` is reported as 0.

    Takes the `ImageVAE` arguments; `posterior`, `objective` and `prior` are fixed (passing another value is an error).
    """

    fixed = {"posterior": "deterministic", "objective": "reconstruction", "prior": "normal"}  # noqa: RUF012 (read only)

    def __init__(self, **kwargs):
        for name, value in self.fixed.items():
            given = kwargs.pop(name, value)
            if given is not value and given != value:
                raise ValueError(
                    f"An AE has `{name}={value!r}` by construction; got `{name}={given!r}`. Use an ImageVAE for "
                    "another posterior, objective or prior."
                )
        super().__init__(**self.fixed, **kwargs)

    def get_config(self):
        config = super().get_config()
        for name in self.fixed:
            config.pop(name)
        return config

    def sample(self, n):
        raise NotImplementedError("An AE has no prior to sample from; use an ImageVAE.")
