import keras

from kvae.decoders.image_decoder import ImageDecoder


@keras.saving.register_keras_serializable(package="kvae")
class ConvDecoder(ImageDecoder):
    """Convolutional image decoder: dense to a (H / 2^k, W / 2^k, filters[0]) map, stride-2 transposed convolutions,
    then a 3x3 convolution to one logit per pixel and channel.

    z (B, D) -> logits (B, *output_shape). H and W must be divisible by 2^len(filters).

    Args:
        output_shape: (H, W) or (H, W, C).
        filters: channels of each stride-2 transposed convolution.
        activation: activation of the hidden layers.
    """

    def __init__(self, output_shape, filters=(64, 32), activation="relu", **kwargs):
        super().__init__(output_shape, activation, **kwargs)
        self.filters = tuple(int(f) for f in filters)
        factor = 2 ** len(self.filters)
        height, width = self.target_shape[:2]
        if height % factor or width % factor:
            raise ValueError(f"ConvDecoder needs image sides divisible by {factor}, got `output_shape`={output_shape}.")
        channels = self.target_shape[2] if len(self.target_shape) == 3 else 1
        self.dense = keras.layers.Dense((height // factor) * (width // factor) * self.filters[0], activation=activation)
        self.grid = keras.layers.Reshape((height // factor, width // factor, self.filters[0]))
        self.deconvs = [
            keras.layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation=activation, name=f"deconv_{i}")
            for i, f in enumerate(self.filters)
        ]
        self.logits = keras.layers.Conv2D(channels, 3, padding="same", name="logits")
        self.reshape = keras.layers.Reshape(self.target_shape)

    def build(self, input_shape):
        self.dense.build(input_shape)
        shape = self.grid.compute_output_shape(self.dense.compute_output_shape(input_shape))
        for deconv in self.deconvs:
            deconv.build(shape)
            shape = deconv.compute_output_shape(shape)
        self.logits.build(shape)

    def call(self, z):
        x = self.grid(self.dense(z))
        for deconv in self.deconvs:
            x = deconv(x)
        return self.reshape(self.logits(x))

    def get_config(self):
        config = super().get_config()
        config.update({"filters": list(self.filters)})
        return config
