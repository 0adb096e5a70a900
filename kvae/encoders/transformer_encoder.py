import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kvae")
class TransformerEncoder(keras.layers.Layer):
    """Transformer sentence encoder: token and position embeddings, `num_layers` keras-hub `TransformerEncoder`
    blocks over the tokens (padding masked), then the mean of the real tokens' outputs.

    ids (B, T) int -> features (B, hidden_dim), T <= `sequence_length`. Padding positions (`pad_id`) do not change
    the features.

    Args:
        vocabulary_size: V.
        sequence_length: the longest input (number of learnt positions).
        hidden_dim: model width (embedding and attention size).
        num_layers, num_heads: blocks and attention heads (`hidden_dim` divisible by `num_heads`).
        intermediate_dim: width of the feed-forward layers (default 2 * hidden_dim).
        dropout: dropout rate inside the blocks.
        pad_id: id of the padding token.

    Reference: Li et al., 2020, "Optimus: Organizing Sentences via Pre-trained Modeling of a Latent Space" (a
    Transformer encoder pooled to the posterior).
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        hidden_dim=128,
        num_layers=2,
        num_heads=4,
        intermediate_dim=None,
        dropout=0.1,
        pad_id=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        import keras_hub

        add_transformer(
            self,
            keras_hub.layers.TransformerEncoder,
            vocabulary_size,
            sequence_length,
            hidden_dim,
            num_layers,
            num_heads,
            intermediate_dim,
            dropout,
        )
        self.pad_id = int(pad_id)

    def build(self, input_shape):
        self.embedding.build(input_shape)
        for block in self.blocks:
            block.build(tuple(input_shape) + (self.hidden_dim,))

    def call(self, ids, training=None):
        mask = ops.not_equal(ids, self.pad_id)
        x = self.embedding(ids)
        for block in self.blocks:
            x = block(x, padding_mask=mask, training=training)
        weights = ops.cast(mask, x.dtype)[:, :, None]
        return ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.hidden_dim)

    def get_config(self):
        return {**super().get_config(), **transformer_sizes(self), "pad_id": self.pad_id}


SIZES = ("vocabulary_size", "sequence_length", "hidden_dim", "num_layers", "num_heads", "intermediate_dim", "dropout")


def add_transformer(
    layer, block, vocabulary_size, sequence_length, hidden_dim, num_layers, num_heads, intermediate_dim, dropout
):
    """Give a Transformer encoder or decoder `layer` its size attributes, its keras-hub token and position
    `embedding` and `num_layers` `blocks` of the keras-hub class `block`."""
    import keras_hub

    layer.vocabulary_size = int(vocabulary_size)
    layer.sequence_length = int(sequence_length)
    layer.hidden_dim = int(hidden_dim)
    layer.num_layers = int(num_layers)
    layer.num_heads = int(num_heads)
    layer.intermediate_dim = int(intermediate_dim or 2 * layer.hidden_dim)
    layer.dropout = float(dropout)
    layer.embedding = keras_hub.layers.TokenAndPositionEmbedding(
        layer.vocabulary_size, layer.sequence_length, layer.hidden_dim, name="embedding"
    )
    layer.blocks = [
        block(layer.intermediate_dim, layer.num_heads, dropout=layer.dropout, name=f"block_{i}")
        for i in range(layer.num_layers)
    ]


def transformer_sizes(layer):
    """The size arguments a Transformer encoder or decoder shares, from its attributes (for `get_config`)."""
    return {name: getattr(layer, name) for name in SIZES}
