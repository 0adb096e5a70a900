import keras
from keras import ops

from kvae.checks import check_choice
from kvae.decoders.word_dropout import word_dropout
from kvae.encoders.transformer_encoder import add_transformer, transformer_sizes

INJECTIONS = ("both", "memory", "embedding")


@keras.saving.register_keras_serializable(package="kvae")
class TransformerDecoder(keras.layers.Layer):
    """Causal Transformer decoder conditioned on z, as in Optimus: keras-hub `TransformerDecoder` blocks over token
    and position embeddings, a softmax layer over the vocabulary.

    z reaches the decoder in one or both of Optimus's ways (`injection`):
    - "memory": z -> `memory_tokens` vectors (a Dense layer) that every block attends to by cross-attention;
    - "embedding": z -> one vector (a Dense layer) added to every input token's embedding;
    - "both" (default).

    call(ids, z) : ids (B, T) decoder inputs (<bos> w_1 .. w_n), z (B, D) -> logits (B, T, V); causal, so the logits
    at t depend on ids[:, :t+1] and z only.
    start_cache(z, length), next_logits(prompt, cache, index) : decoding with a key/value cache of the
    self-attention (`kvae.decoders.sampling`).

    Args:
        vocabulary_size: V.
        sequence_length: the longest input (number of learnt positions).
        hidden_dim: model width; num_layers, num_heads, intermediate_dim (default 2 * hidden_dim), dropout: as in
            `kvae.encoders.TransformerEncoder`.
        injection: "both", "memory" or "embedding".
        memory_tokens: number of memory vectors made from z ("memory" and "both").
        word_dropout: probability of replacing an input word by `<unk>` in training.
        pad_id, unk_id: ids of the padding and unknown-word tokens.
        seed: seed of the word-dropout `SeedGenerator`.
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
        injection="both",
        memory_tokens=4,
        word_dropout=0.0,
        pad_id=0,
        unk_id=1,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        import keras_hub

        add_transformer(
            self,
            keras_hub.layers.TransformerDecoder,
            vocabulary_size,
            sequence_length,
            hidden_dim,
            num_layers,
            num_heads,
            intermediate_dim,
            dropout,
        )
        self.injection = check_choice(injection, "injection", INJECTIONS)
        self.memory_tokens = int(memory_tokens)
        self.word_dropout = float(word_dropout)
        self.pad_id = int(pad_id)
        self.unk_id = int(unk_id)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.uses_memory = self.injection in ("both", "memory")
        self.uses_embedding = self.injection in ("both", "embedding")
        self.memory_dense = (
            keras.layers.Dense(self.memory_tokens * self.hidden_dim, name="memory") if self.uses_memory else None
        )
        self.embedding_dense = keras.layers.Dense(self.hidden_dim, name="z_embedding") if self.uses_embedding else None
        self.logits = keras.layers.Dense(self.vocabulary_size, name="logits")

    @property
    def head_dim(self):
        return self.hidden_dim // self.num_heads

    def build(self, ids_shape, z_shape):
        batch = ids_shape[0]
        self.embedding.build(ids_shape)
        hidden = (batch, ids_shape[1], self.hidden_dim)
        memory = (batch, self.memory_tokens, self.hidden_dim) if self.uses_memory else None
        for block in self.blocks:
            block.build(hidden, memory)
        for dense in (self.memory_dense, self.embedding_dense):
            if dense is not None:
                dense.build(z_shape)
        self.logits.build(hidden)

    def _memory(self, z):
        """(B, memory_tokens, hidden_dim), or None without memory injection."""
        if not self.uses_memory:
            return None
        return ops.reshape(self.memory_dense(z), (-1, self.memory_tokens, self.hidden_dim))

    def _embed(self, ids, z, start_index=0):
        x = self.embedding(ids, start_index=start_index)
        if self.uses_embedding:
            x = x + ops.expand_dims(ops.cast(self.embedding_dense(z), x.dtype), 1)
        return x

    def call(self, ids, z, training=False):
        if training:
            ids = word_dropout(ids, self.word_dropout, self.seed_generator, self.pad_id, self.unk_id)
        x, memory = self._embed(ids, z), self._memory(z)
        # Right padding only follows <eos>: causal outputs at real positions do not depend on it and the loss masks
        # the rest, so no padding mask is needed.
        for block in self.blocks:
            x = block(x, memory, training=training)
        return self.logits(x)

    def start_cache(self, z, max_length):
        """(key/value cache (B, layers, 2, max_length, heads, head_dim), cross-attention cache (B, layers, 2,
        memory_tokens, heads, head_dim) (a (B, 1) placeholder without memory: loop variables cannot be None), z)."""
        batch = ops.shape(z)[0]
        heads = (self.num_heads, self.head_dim)
        cross = (batch, self.num_layers, 2, self.memory_tokens, *heads) if self.uses_memory else (batch, 1)
        self_cache = ops.zeros((batch, self.num_layers, 2, max_length, *heads), dtype=self.compute_dtype)
        return self_cache, ops.zeros(cross, dtype=self.compute_dtype), z

    def next_logits(self, prompt, cache, index):
        """keras-hub sampler step: logits (B, V) of the token at `index` given the tokens before it (the one at
        `index - 1` is new; the earlier ones are in the key/value cache), and the updated cache."""
        self_cache, cross_cache, z = cache
        token = ops.slice(prompt, [0, index - 1], [ops.shape(prompt)[0], 1])
        x, memory = self._embed(token, z, start_index=index - 1), self._memory(z)
        self_caches, cross_caches = [], []
        for i, block in enumerate(self.blocks):
            kwargs = {"self_attention_cache": self_cache[:, i], "self_attention_cache_update_index": index - 1}
            if memory is not None:  # the memory's keys and values, recomputed at every step (a few vectors)
                kwargs.update(cross_attention_cache=cross_cache[:, i], cross_attention_cache_update_index=0)
            outputs = block(x, memory, **kwargs)
            x = outputs[0]
            self_caches.append(outputs[1])
            if memory is not None:
                cross_caches.append(outputs[2])
        cross_cache = ops.stack(cross_caches, axis=1) if memory is not None else cross_cache
        return self.logits(x[:, 0]), None, (ops.stack(self_caches, axis=1), cross_cache, z)

    def compute_output_shape(self, ids_shape, z_shape):
        return tuple(ids_shape) + (self.vocabulary_size,)

    def get_config(self):
        config = {**super().get_config(), **transformer_sizes(self)}
        config.update(
            {
                "injection": self.injection,
                "memory_tokens": self.memory_tokens,
                "word_dropout": self.word_dropout,
                "pad_id": self.pad_id,
                "unk_id": self.unk_id,
                "seed": self.seed,
            }
        )
        return config
