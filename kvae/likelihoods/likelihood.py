import math

import keras
from keras import ops

#: Pixel values of 8-bit images: k in {0, ..., 255}, read by the models as x = k / 255 in [0, 1].
LEVELS = 256


class Likelihood(keras.layers.Layer):
    """Base of the image likelihoods p(x|z): decoder outputs ("logits", the distribution's parameters) -> -log p(x|z).

    The decoder makes `decoder_shape(image_shape)` values per image; `nll(x, params)` scores images x in [0, 1]
    (uint8 pixels k read as k / 255 by `ImageVAE.preprocess`) and `mean(params)` gives the decoded image in [0, 1].

        nll(x, params) = -log p(x|z), summed over pixels and channels: (B,)

    Attributes:
        log_bin_width: log of the width of one pixel level's bin in the units `nll` is a density of: 0 for a
            likelihood over the 256 levels (`log p` is already a probability), log(1/255) for a density on
            x = k / 255 (bin [k - 1/2, k + 1/2] / 255); None when `nll` has no 256-level reading (Bernoulli).
            bits/dim = -(log p(x) + D log_bin_width) / (D ln 2), D = H W C.
    """

    log_bin_width = None
    image_shape = None  # (H, W[, C]), set by `build`

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")  # densities in float32 under mixed precision too
        super().__init__(**kwargs)

    def channels(self, image_shape):
        """C of an (H, W) (C = 1) or (H, W, C) image shape."""
        return int(image_shape[-1]) if len(image_shape) == 3 else 1

    def decoder_shape(self, image_shape):
        """The shape of the decoder's output for one image of `image_shape` (default: one value per pixel value)."""
        return tuple(image_shape)

    def build(self, x_shape, params_shape=None):
        """Images' shape (B, H, W) or (B, H, W, C) (likelihoods with weights make them here)."""
        self.image_shape = tuple(int(s) for s in x_shape[1:])
        self.built = True

    def nll(self, x, params):
        """-log p(x|z) (B,) for images x (B, H, W[, C]) in [0, 1] and decoder outputs params (B, *decoder_shape)."""
        raise NotImplementedError

    def mean(self, params):
        """The decoded images (B, H, W[, C]) in [0, 1] (the mean of p(x|z), clipped)."""
        raise NotImplementedError

    def bits_per_dim(self, log_likelihood, dims):
        """-(log p(x) + D log_bin_width) / (D ln 2) for a mean log-likelihood (nats) over D pixel values; None for
        a likelihood without a 256-level reading."""
        if self.log_bin_width is None:
            return None
        return -(log_likelihood + dims * self.log_bin_width) / (dims * math.log(2.0))

    def call(self, x, params):
        return self.nll(x, params)

    def compute_output_shape(self, x_shape, params_shape):
        return (x_shape[0],)


def sum_per_example(values):
    """(B, ...) -> (B,) sums over all but the batch axis."""
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=-1)


def with_channels(x):
    """(B, H, W) -> (B, H, W, 1); (B, H, W, C) unchanged."""
    return x if len(x.shape) == 4 else ops.expand_dims(x, -1)


def as_images(values, image_shape):
    """(B, H, W, C) -> (B, *image_shape): drops the channel axis of (H, W) images."""
    return ops.reshape(values, (-1,) + tuple(image_shape))


def levels(x):
    """Pixel levels k = round(255 x) (float) of images x in [0, 1]."""
    return ops.round(ops.clip(x, 0.0, 1.0) * (LEVELS - 1))
