import keras


class ImageDecoder(keras.layers.Layer):
    """Base of the image decoders: z (B, D) -> logits (B, *output_shape), one logit per pixel (and channel).

    Args:
        output_shape: shape of one example, (H, W) or (H, W, C).
        activation: activation of the hidden layers.
    """

    def __init__(self, output_shape, activation, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in output_shape)
        self.activation = activation

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.target_shape

    def get_config(self):
        config = super().get_config()
        config.update({"output_shape": list(self.target_shape), "activation": self.activation})
        return config
