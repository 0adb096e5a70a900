import keras
from keras import ops

from kvae.checks import check_int
from kvae.likelihoods.likelihood import LEVELS, Likelihood, as_images, levels, sum_per_example, with_channels

MIN_LOG_SCALE = -7.0
HALF_BIN = 1.0 / (LEVELS - 1)  # half a level's bin on the [-1, 1] scale
MIN_WIDTH = 1e-30  # a bin's width in scales, floored so that its log mass stays finite for huge scales


@keras.saving.register_keras_serializable(package="kvae")
class DiscretizedLogistic(Likelihood):
    """Discretised mixture of K logistics on the 256 pixel levels (PixelCNN++, Salimans et al., 2017).

    Pixel levels k in {0..255} are read on [-1, 1] as x = 2k / 255 - 1 (uint8 images as they come; floats in
    [0, 1] as k / 255, rounded). Per pixel, K mixture weights pi (softmax of logits) are shared by the C channels;
    component j has, per channel c, a scale s_cj = exp(max(t_cj, -7)) and a mean that depends linearly on the
    pixel's earlier channels (tanh coefficients a, as PixelCNN++'s r -> g -> b):

        m_cj = mu_cj + sum_{c' < c} a_{c c' j} x_c'
        P(x | z) = prod_pixels sum_j pi_j prod_c [ sigma((x_c + 1/255 - m_cj) / s_cj) - sigma((x_c - 1/255 - m_cj) / s_cj) ]

    with the edge bins open: sigma(+inf) = 1 for k = 255, sigma(-inf) = 0 for k = 0. Each bin's log mass is
    computed without cancellation (not with PixelCNN++'s midpoint-density fallback). The decoder makes
    K (1 + 2C + C(C-1)/2) values per pixel, laid out as [logits (K) | mu (C, K) | t (C, K) | a (C(C-1)/2, K)],
    the coefficients a for the channel pairs (1, 0), (2, 0), (2, 1), ... `nll` is exactly -log of a probability
    over the 256^D images, so bits/dim = -log P(x) / (D ln 2). Decoded images are each channel's mixture mean,
    earlier channels at their own means.

    Args:
        num_components: K (PixelCNN++ uses 10; default 5).

    Example:
    >>> model = kvae.ImageVAE(architecture="conv", likelihood="logistic")   # uint8 (N, 32, 32, 3) images
    """

    log_bin_width = 0.0

    def __init__(self, num_components=5, **kwargs):
        super().__init__(**kwargs)
        self.num_components = check_int(num_components, "num_components")

    def decoder_shape(self, image_shape):
        c = self.channels(image_shape)
        return tuple(image_shape[:2]) + (self.num_components * (1 + 2 * c + c * (c - 1) // 2),)

    def parameters(self, params, channels):
        """(logits (B, H, W, K), mu (B, H, W, C, K), log-scales (B, H, W, C, K), coefficients (B, H, W, P, K))."""
        k, c = self.num_components, channels
        pairs = c * (c - 1) // 2
        shape = tuple(ops.shape(params)[:3])

        def block(start, rows):
            return ops.reshape(params[..., start * k : (start + rows) * k], shape + (rows, k))

        logits = params[..., :k]
        mu, log_scale = block(1, c), block(1 + c, c)
        coefficients = ops.tanh(block(1 + 2 * c, pairs)) if pairs else None
        return logits, mu, ops.maximum(log_scale, MIN_LOG_SCALE), coefficients

    def means(self, mu, coefficients, x):
        """m (B, H, W, C, K) = mu + the coefficients times the earlier channels of x (B, H, W, C); the coefficient
        of channel c' < c in channel c's mean is row c (c - 1) / 2 + c'."""
        out = []
        for c in range(mu.shape[-2]):
            m = mu[..., c, :]
            for earlier in range(c):
                m = m + coefficients[..., c * (c - 1) // 2 + earlier, :] * x[..., earlier : earlier + 1]
            out.append(m)
        return ops.stack(out, axis=-2)

    def nll(self, x, params):
        k = levels(with_channels(ops.cast(x, params.dtype)))  # (B, H, W, C)
        xs = k / (0.5 * (LEVELS - 1)) - 1.0
        logits, mu, log_scale, coefficients = self.parameters(params, k.shape[-1])
        centered = ops.expand_dims(xs, -1) - self.means(mu, coefficients, xs)  # (B, H, W, C, K)
        inverse = ops.exp(-log_scale)
        plus, minus = inverse * (centered + HALF_BIN), inverse * (centered - HALF_BIN)
        log_cdf_plus = -ops.softplus(-plus)  # log sigma(plus): the bin of level 0
        log_survival_minus = -ops.softplus(minus)  # log (1 - sigma(minus)): the bin of level 255
        # sigma(p) - sigma(m) = sigma(p) sigma(-m) (1 - exp(m - p)): no cancellation in either tail, so sharp
        # components (scales below a level's width) keep exact bin masses far from their mean.
        width = ops.maximum(inverse * (2.0 * HALF_BIN), MIN_WIDTH)
        log_mass = log_cdf_plus + log_survival_minus + ops.log(-ops.expm1(-width))
        level = ops.expand_dims(k, -1)
        log_p = ops.where(level < 0.5, log_cdf_plus, ops.where(level > LEVELS - 1.5, log_survival_minus, log_mass))
        log_p = ops.sum(log_p, axis=-2) + ops.log_softmax(logits, axis=-1)  # (B, H, W, K)
        return -sum_per_example(ops.logsumexp(log_p, axis=-1))

    def mean(self, params):
        channels = self.channels(self.image_shape)
        logits, mu, _, coefficients = self.parameters(params, channels)
        weights = ops.softmax(logits, axis=-1)
        expected = []
        for c in range(channels):  # channel c's mixture mean, the earlier channels at their means
            m = mu[..., c, :]
            for earlier in range(c):
                m = m + coefficients[..., c * (c - 1) // 2 + earlier, :] * ops.expand_dims(expected[earlier], -1)
            expected.append(ops.clip(ops.sum(weights * m, axis=-1), -1.0, 1.0))
        return as_images((ops.stack(expected, axis=-1) + 1.0) / 2.0, self.image_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"num_components": self.num_components})
        return config
