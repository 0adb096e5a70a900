import math

import keras


@keras.saving.register_keras_serializable(package="kvae")
class MLPDecoder(keras.layers.Layer):
    """MLP decoder of the IWAE paper: `hidden_dims` dense layers, then a linear layer to one logit per output value.

    z (B, D) -> logits (B, *output_shape).

    Args:
        output_shape: shape of one example, e.g. (28, 28).
        hidden_dims: widths of the hidden layers (default two of 200).
        activation: activation of every hidden layer (default tanh).
    """

    def __init__(self, output_shape, hidden_dims=(200, 200), activation="tanh", **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in output_shape)
        self.hidden_dims = tuple(int(h) for h in hidden_dims)
        self.activation = activation
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

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.target_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {"output_shape": list(self.target_shape), "hidden_dims": list(self.hidden_dims), "activation": self.activation}
        )
        return config
