import math

import keras

from kvae.decoders.image_decoder import ImageDecoder


@keras.saving.register_keras_serializable(package="kvae")
class MLPDecoder(ImageDecoder):
    """MLP decoder of the IWAE paper: `hidden_dims` dense layers, then a linear layer to one logit per output value.

    z (B, D) -> logits (B, *output_shape).

    Args:
        output_shape: shape of one example, e.g. (28, 28).
        hidden_dims: widths of the hidden layers (default two of 200).
        activation: activation of every hidden layer (default tanh).
    """

    def __init__(self, output_shape, hidden_dims=(200, 200), activation="tanh", **kwargs):
        super().__init__(output_shape, activation, **kwargs)
        self.hidden_dims = tuple(int(h) for h in hidden_dims)
        self.hidden = [keras.layers.Dense(h, activation=activation, name=f"dense_{i}") for i, h in enumerate(self.hidden_dims)]
        self.logits = keras.layers.Dense(math.prod(self.target_shape), name="logits")
        self.reshape = keras.layers.Reshape(self.target_shape)

    def build(self, input_shape):
        shape = input_shape
        for layer in self.hidden + [self.logits]:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, z):
        x = z
        for layer in self.hidden:
            x = layer(x)
        return self.reshape(self.logits(x))

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_dims": list(self.hidden_dims)})
        return config
