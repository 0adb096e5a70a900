import math

import keras
from keras import ops

from kvae.checks import check_choice, check_number
from kvae.likelihoods.likelihood import LEVELS, Likelihood, as_images, sum_per_example, with_channels

VARIANCES = ("fixed", "learned", "predicted")
MIN_LOG_SIGMA = -7.0  # sigma >= 1e-3: bounds the density (and the loss) of a perfectly fitted pixel


@keras.saving.register_keras_serializable(package="kvae")
class Gaussian(Likelihood):
    """Gaussian likelihood on pixels x = k / 255 in [0, 1], mean mu = the decoder's output (not squashed):

        -log p(x|z) = sum_i [ log sigma_i + (x_i - mu_i)^2 / (2 sigma_i^2) + log(2 pi) / 2 ]

    with log sigma_i = max(s_i, -7) and s_i by `variance`:
    - "fixed": log `sigma` for every pixel (the loss is then a scaled squared error);
    - "learned": one trainable log-scale per channel (a weight of this layer, started at log `sigma`);
    - "predicted": predicted per pixel and channel by the decoder, which then makes 2C values per pixel
      (means, then log-scales).

    Bits/dim read the density as a probability of the pixel's level by the midpoint rule on its bin of width
    1/255 (no dequantisation noise): log P(k) ~= log p(k / 255) + log(1/255), so
    bits/dim = (-log p(x) + D log 255) / (D ln 2). Decoded images are mu clipped to [0, 1].

    Args:
        variance: "fixed", "learned" or "predicted".
        sigma: the fixed scale, or the learned scale's initial value (> 0).

    Example:
    >>> model = kvae.ImageVAE(architecture="conv", likelihood=kvae.likelihoods.Gaussian(variance="fixed", sigma=0.1))
    """

    log_bin_width = -math.log(LEVELS - 1)

    def __init__(self, variance="learned", sigma=0.1, **kwargs):
        super().__init__(**kwargs)
        self.variance = check_choice(variance, "variance", VARIANCES)
        self.sigma = check_number(sigma, "sigma", low=0, low_open=True)
        self.log_sigma = None

    def decoder_shape(self, image_shape):
        if self.variance != "predicted":
            return tuple(image_shape)
        return tuple(image_shape[:2]) + (2 * self.channels(image_shape),)

    def build(self, x_shape, params_shape=None):
        if self.variance == "learned":
            self.log_sigma = self.add_weight(
                shape=(self.channels(x_shape[1:]),),
                initializer=keras.initializers.Constant(math.log(self.sigma)),
                name="log_sigma",
            )
        super().build(x_shape)

    def parameters(self, params, channels):
        """(mu, log sigma) broadcastable to images (B, H, W, C) from decoder outputs."""
        if self.variance == "predicted":
            mu, log_sigma = params[..., :channels], params[..., channels:]
        else:
            mu = with_channels(params)
            log_sigma = self.log_sigma if self.variance == "learned" else ops.full((1,), math.log(self.sigma))
            log_sigma = ops.cast(log_sigma, mu.dtype)
        return mu, ops.maximum(log_sigma, MIN_LOG_SIGMA)

    def nll(self, x, params):
        x = with_channels(ops.cast(x, params.dtype))
        mu, log_sigma = self.parameters(params, ops.shape(x)[-1])
        per_value = log_sigma + 0.5 * ops.square((x - mu) * ops.exp(-log_sigma)) + 0.5 * math.log(2 * math.pi)
        return sum_per_example(per_value)

    def mean(self, params):
        if self.variance == "predicted":
            params = as_images(params[..., : self.channels(self.image_shape)], self.image_shape)
        return ops.clip(params, 0.0, 1.0)

    def get_config(self):
        config = super().get_config()
        config.update({"variance": self.variance, "sigma": self.sigma})
        return config
