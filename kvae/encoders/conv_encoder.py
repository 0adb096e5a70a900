import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kvae")
class ConvEncoder(keras.layers.Layer):
    """Convolutional image encoder: stride-2 3x3 convolutions, flatten, one dense layer.

    Input (B, H, W) or (B, H, W, C) -> features (B, hidden_dim).

    Args:
        filters: channels of each stride-2 convolution.
        hidden_dim: width of the final dense layer.
        activation: activation of every layer.
    """

    def __init__(self, filters=(32, 64), hidden_dim=256, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters = tuple(int(f) for f in filters)
        self.hidden_dim = int(hidden_dim)
        self.activation = activation
        self.convs = [
            keras.layers.Conv2D(f, 3, strides=2, padding="same", activation=activation, name=f"conv_{i}")
            for i, f in enumerate(self.filters)
        ]
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(self.hidden_dim, activation=activation, name="dense")

    def build(self, input_shape):
        shape = tuple(input_shape) if len(input_shape) == 4 else tuple(input_shape) + (1,)
        for conv in self.convs:
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
        shape = self.flatten.compute_output_shape(shape)
        self.dense.build(shape)

    def call(self, inputs):
        x = inputs if len(inputs.shape) == 4 else ops.expand_dims(inputs, -1)
        for conv in self.convs:
            x = conv(x)
        return self.dense(self.flatten(x))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.hidden_dim)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": list(self.filters), "hidden_dim": self.hidden_dim, "activation": self.activation})
        return config
