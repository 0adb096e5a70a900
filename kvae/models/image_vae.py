import math

import keras
import numpy as np
from keras import ops

from kvae import likelihoods
from kvae.checks import check_choice, check_int
from kvae.decoders import ConvDecoder, MLPDecoder
from kvae.encoders import ConvEncoder, MLPEncoder
from kvae.models.vae import VAE, build_once
from kvae.preprocessors.batching import inputs_shape, is_dataset, is_stream

ARCHITECTURES = ("mlp", "conv")


@keras.saving.register_keras_serializable(package="kvae")
class ImageVAE(VAE):
    """VAE for images, grey or colour, with a Bernoulli (default), Gaussian or discretised logistic likelihood.

    Default architecture: the MLP of the IWAE paper (encoder 784-200-200 tanh, decoder 200-200-784), latent 32,
    Adam 1e-3. `architecture="conv"` uses stride-2 convolutions instead, by default as many as bring the image
    down to about 4 x 4 (32, 64, 128, ... channels: two for 28 x 28, three for 32 x 32, four for 64 x 64). The
    image shape (H, W) or (H, W, C) is taken from the data on the first call when `image_shape` is None.

    Inputs: uint8 images (scaled by 1/255) or floats in [0, 1], shaped (N, H, W[, C]); NumPy arrays, `tf.data`
    datasets of such batches, or of TFDS-style dicts holding the images under `input_key` ("image").
    The likelihood scores the images and its decoder outputs (`kvae.likelihoods`): "bernoulli" (pixels as soft
    binary targets), "gaussian" (learned per-channel scale by default) or "logistic" (a mixture of discretised
    logistics on the 256 levels, for uint8 colour images); `kvae.metrics.log_likelihood` reports bits/dim for
    the last two.

    Args:
        posterior: "isotropic" (one shared variance, IGP) or "diagonal" (DGP), or a posterior layer.
        latent_dim: D.
        objective: objective name or instance (default "elbo").
        prior: "normal" or a prior layer.
        architecture: "mlp" or "conv".
        hidden_dims: MLP hidden widths (mlp) or convolution channels (conv).
        activation: hidden activation (default tanh for mlp, relu for conv).
        image_shape: (H, W) or (H, W, C); None to take it from the data.
        input_key: key of the images in dict inputs.
        likelihood: "bernoulli", "gaussian", "logistic" or a `kvae.likelihoods.Likelihood` layer.
        learning_rate, seed: see `VAE`.

    Example:
    >>> (x, _), _ = kvae.datasets.fashion_mnist_sample()
    >>> model = kvae.ImageVAE(posterior="isotropic")
    >>> model.fit(x, epochs=1, batch_size=128)
    >>> model.encode(x[:10]).shape
    (10, 32)
    >>> model.generate(4).shape                      # images from the prior (`sample` is an alias)
    (4, 28, 28)
    >>> model.interpolate(x[0], x[1], steps=5).shape  # decoded line between two images' posterior means
    (5, 28, 28)
    >>> colour = kvae.ImageVAE(architecture="conv", likelihood="logistic", image_shape=(32, 32, 3))

    Reference: the isotropic Gaussian posterior for VAEs; IWAE architecture (Burda et al., 2016).
    """

    warm_start_layers = (*VAE.warm_start_layers, "likelihood")  # a learned Gaussian scale is carried over too

    def __init__(
        self,
        posterior="isotropic",
        latent_dim=32,
        objective="elbo",
        prior="normal",
        architecture="mlp",
        hidden_dims=None,
        activation=None,
        image_shape=None,
        input_key="image",
        likelihood="bernoulli",
        learning_rate=None,
        seed=None,
        **kwargs,
    ):
        self.architecture = check_choice(architecture, "architecture", ARCHITECTURES)
        self.hidden_dims = _check_sizes(hidden_dims, "hidden_dims", allow_none=True)
        self.activation = activation
        if not isinstance(input_key, str):
            raise ValueError(f"`input_key` must be a str, got {input_key!r}.")
        self.input_key = input_key
        if architecture == "mlp":
            encoder = MLPEncoder(self.hidden_dims or (200, 200), activation or "tanh", name="encoder")
        elif self.hidden_dims is not None:
            encoder = ConvEncoder(self.hidden_dims, activation=activation or "relu", name="encoder")
        else:
            encoder = None  # sized to the image shape in `_make_decoder`
        super().__init__(
            encoder=encoder,
            decoder=None,
            latent_dim=latent_dim,
            posterior=posterior,
            prior=prior,
            objective=objective,
            learning_rate=learning_rate,
            seed=seed,
            **kwargs,
        )
        self.likelihood = likelihoods.get(likelihood)
        self.image_shape = None
        if image_shape is not None:
            self._make_decoder(image_shape)

    def _make_decoder(self, image_shape):
        shape = _check_sizes(image_shape, "image_shape")
        if len(shape) not in (2, 3):
            raise ValueError(f"`image_shape` must be (H, W) or (H, W, C), got {image_shape!r}.")
        self.image_shape = shape
        out = self.likelihood.decoder_shape(shape)  # the likelihood's parameters per image
        if self.architecture == "mlp":
            self.decoder = MLPDecoder(out, self.hidden_dims or (200, 200), self.activation or "tanh", name="decoder")
            return
        filters = self.hidden_dims or conv_filters(shape)
        if self.encoder is None:
            self.encoder = ConvEncoder(filters, activation=self.activation or "relu", name="encoder")
        self.decoder = ConvDecoder(out, tuple(reversed(filters)), self.activation or "relu", name="decoder")

    def build(self, input_shape):
        if isinstance(input_shape, dict):
            input_shape = input_shape[self.input_key]
        if self.image_shape is None:
            self._make_decoder(input_shape[1:])
        elif tuple(input_shape[1:]) != self.image_shape:
            raise ValueError(f"Images of shape {tuple(input_shape[1:])} given to a model built for {self.image_shape}.")
        build_once(self.encoder, input_shape)
        build_once(self.posterior, self.encoder.compute_output_shape(input_shape))
        build_once(self.decoder, (input_shape[0], self.latent_dim))
        build_once(self.prior, (input_shape[0], self.latent_dim))
        build_once(self.likelihood, (input_shape[0], *self.image_shape))

    def preprocess(self, inputs):
        if isinstance(inputs, dict):
            inputs = inputs[self.input_key]
        if "int" in str(inputs.dtype):  # float32 pixels (the likelihood's targets); the encoder casts its own
            return ops.cast(inputs, "float32") / 255.0
        return ops.cast(inputs, "float32")

    def check_inputs(self, x, name):
        super().check_inputs(x, name)
        if is_dataset(x):
            self._check_dataset(x, name)
            return
        if is_stream(x):  # batches made by user code: checked by the step as they come
            return
        if isinstance(x, dict):
            if self.input_key not in x:
                raise ValueError(f"`{name}` is a dict without the image key {self.input_key!r} (keys: {sorted(x)}).")
            x = x[self.input_key]
        if isinstance(x, (str, bytes)):
            raise ValueError(f"`{name}` must be an array of images, got a {type(x).__name__}: {x!r:.60}.")
        try:
            x = np.asarray(x)
        except ValueError as e:  # ragged nested lists
            raise ValueError(f"`{name}` must be an array of images of one shape: {e}") from None
        if x.ndim == 2 or (self.image_shape is not None and len(self.image_shape) == 3 and x.shape == self.image_shape):
            raise ValueError(
                f"`{name}` must be a batch of images (N, H, W) or (N, H, W, C), got one image of shape {x.shape}; "
                f"for a single image pass `{name}[None]` (a batch of one)."
            )
        if x.ndim not in (3, 4) or x.shape[0] == 0:
            raise ValueError(
                f"`{name}` must be a non-empty array of images (N, H, W) or (N, H, W, C), got shape {x.shape}."
            )
        if self.image_shape is not None and tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(
                f"`{name}` has images of shape {tuple(x.shape[1:])}, the model expects {self.image_shape}."
            )
        if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
            raise ValueError(f"`{name}` must hold uint8 or float pixels, got dtype {x.dtype}.")
        if np.issubdtype(x.dtype, np.floating):
            if not np.all(np.isfinite(x)):
                raise ValueError(f"`{name}` contains NaN or infinite pixels.")
            if x.min() < 0 or x.max() > 1:
                raise ValueError(f"`{name}` float pixels must lie in [0, 1], got [{x.min()}, {x.max()}].")
        elif x.min() < 0 or x.max() > 255:
            raise ValueError(f"`{name}` integer pixels must lie in [0, 255], got [{x.min()}, {x.max()}].")

    def _check_dataset(self, x, name):
        """Element dtype and image shape of a dataset, from its spec (no element is read)."""
        spec = x.element_spec
        if isinstance(spec, tuple):
            spec = spec[0]
        if isinstance(spec, dict):
            if self.input_key not in spec:
                raise ValueError(f"`{name}` yields dicts without the image key {self.input_key!r}: {sorted(spec)}.")
            spec = spec[self.input_key]
        dtype = spec.dtype
        if not (dtype.is_integer or dtype.is_floating):
            raise ValueError(f"`{name}` must yield uint8 or float pixels, got dtype {dtype.name}.")
        shape = spec.shape
        if shape.rank is not None and shape.rank not in (3, 4):
            raise ValueError(f"`{name}` must yield batches of images (B, H, W) or (B, H, W, C), got shape {shape}.")
        known = shape.rank is not None and shape[1:].is_fully_defined()
        if self.image_shape is not None and known and tuple(shape[1:]) != self.image_shape:
            raise ValueError(f"`{name}` has images of shape {tuple(shape[1:])}, the model expects {self.image_shape}.")

    def interpolation_ends(self, a, b):
        for name, image in (("a", a), ("b", b)):
            shape = np.shape(image)
            if len(shape) not in (2, 3) or (self.image_shape is not None and shape != self.image_shape):
                expected = self.image_shape or "(H, W) or (H, W, C)"
                raise ValueError(f"`{name}` must be one image of shape {expected}, got shape {shape}.")
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype:  # uint8 and float images: both as floats in [0, 1], as `preprocess` reads them
            a, b = (x.astype("float32") / 255.0 if np.issubdtype(x.dtype, np.integer) else x for x in (a, b))
        return super().interpolation_ends(a, b)

    def encode(self, x, return_log_var=False, batch_size=256):
        if self.encoder is None:  # a conv encoder sized to the images, not made yet: from these images' shape
            self.check_inputs(x, "x")
            shape = inputs_shape(x[self.input_key] if isinstance(x, dict) else x)
            if shape is None:
                raise ValueError("The model has no image shape yet: fit it or pass `image_shape`.")
            self.build(shape)
        return super().encode(x, return_log_var=return_log_var, batch_size=batch_size)

    def reconstruction_loss(self, inputs, outputs):
        """-log p(x|z) (B,) under the likelihood, for images x in [0, 1] (`preprocess`) and its decoder outputs."""
        # In float32 under mixed precision: the decoder's outputs come in the networks' compute dtype.
        return self.likelihood.nll(self.preprocess(inputs), ops.cast(outputs["logits"], "float32"))

    def decode(self, z):
        """Decoded images (N, *image_shape) in [0, 1] for latent codes `z` (N, D): the likelihood's mean (pixel
        probabilities for the Bernoulli)."""
        if self.decoder is None:
            raise ValueError("The model has no image shape yet: fit it or pass `image_shape`.")
        return ops.convert_to_numpy(self.likelihood.mean(self.decode_logits(z)))

    def likelihood_inputs(self, batch):
        return likelihoods.array_inputs(batch, self.input_key, len(self.image_shape) if self.image_shape else None)

    def log_px_given_z(self, x, z):
        per_row = math.prod(self.likelihood.decoder_shape(self.image_shape))
        return likelihoods.decoder_log_likelihood(self, x, z, per_row)

    def bits_per_dim(self, log_likelihood):
        """bits/dim of a mean log-likelihood log p(x) (nats per image) in the likelihood's 256-level reading:
        -(log p(x) + D log_bin_width) / (D ln 2), D = H W C; None for the Bernoulli (see `kvae.likelihoods`)."""
        return self.likelihood.bits_per_dim(log_likelihood, math.prod(self.image_shape))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "architecture": self.architecture,
                "hidden_dims": None if self.hidden_dims is None else list(self.hidden_dims),
                "activation": self.activation,
                "image_shape": None if self.image_shape is None else list(self.image_shape),
                "input_key": self.input_key,
                "likelihood": keras.saving.serialize_keras_object(self.likelihood),
            }
        )
        return config


def _check_sizes(sizes, name, allow_none=False):
    """A non-empty sequence of positive integers as a tuple (None passes when `allow_none`)."""
    if sizes is None and allow_none:
        return None
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise ValueError(f"`{name}` must be a non-empty sequence of positive integers, got {sizes!r}.")
    sizes = tuple(sizes)
    if not sizes:
        raise ValueError(f"`{name}` must be a non-empty sequence of positive integers, got {sizes!r}.")
    return tuple(check_int(s.item() if hasattr(s, "item") else s, name) for s in sizes)


def conv_filters(image_shape):
    """Channels 32, 64, 128, ... of the stride-2 convolutions that bring an (H, W) image down to about 4 x 4 (at
    least one; fewer when H or W is not divisible by 2^n)."""
    height, width = image_shape[:2]
    n = max(1, int(math.log2(max(1, min(height, width) // 4))))
    while n > 1 and (height % 2**n or width % 2**n):
        n -= 1
    return tuple(32 * 2**i for i in range(n))
