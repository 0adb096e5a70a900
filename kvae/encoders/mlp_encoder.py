import keras


@keras.saving.register_keras_serializable(package="kvae")
class MLPEncoder(keras.layers.Layer):
    """MLP encoder of the IWAE paper: flatten, then `hidden_dims` dense layers.

    Input (B, ...) -> features (B, hidden_dims[-1]).

    Args:
        hidden_dims: widths of the hidden layers (default two of 200).
        activation: activation of every hidden layer (default tanh).
    """

    def __init__(self, hidden_dims=(200, 200), activation="tanh", **kwargs):
        super().__init__(**kwargs)
        self.hidden_dims = tuple(int(h) for h in hidden_dims)
        if not self.hidden_dims or min(self.hidden_dims) <= 0:
            raise ValueError(f"`hidden_dims` must be a non-empty list of positive widths, got {hidden_dims!r}.")
        self.activation = activation
        self.flatten = keras.layers.Flatten()
        self.hidden = [keras.layers.Dense(h, activation=activation, name=f"dense_{i}") for i, h in enumerate(self.hidden_dims)]

    def build(self, input_shape):
        shape = self.flatten.compute_output_shape(input_shape)
        for layer in self.hidden:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, inputs):
        x = self.flatten(inputs)
        for layer in self.hidden:
            x = layer(x)
        return x

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.hidden_dims[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_dims": list(self.hidden_dims), "activation": self.activation})
        return config
