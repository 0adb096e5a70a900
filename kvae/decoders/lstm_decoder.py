import keras
from keras import ops

from kvae.decoders.word_dropout import word_dropout
from kvae.layers import LSTM


@keras.saving.register_keras_serializable(package="kvae")
class LSTMDecoder(keras.layers.Layer):
    """LSTM language-model decoder conditioned on z at every step: the input at step t is the embedding of word t-1
    concatenated with z (teacher forcing in training), followed by a softmax layer over the vocabulary.

    call(ids, z) : ids (B, T) decoder inputs (<bos> w_1 .. w_n), z (B, D) -> logits (B, T, V).
    target_nll(ids, z, targets, mask) : the reconstruction NLL (B,) scoring only the real target tokens.
    step(ids, z, state) : one decoding step for generation, ids (B,) -> (logits (B, V), new state).

    Args:
        vocabulary_size: V.
        embedding_dim: word embedding size.
        hidden_dim: LSTM units.
        word_dropout: probability of replacing a decoder input word by `<unk>` during training (Bowman et al.).
        pad_id, unk_id: ids of the padding and unknown-word tokens.
        skip: also connect z straight to the output layer, logits_t = W h_t + U z + b (skip-VAE, Dieng et al., 2019),
            so the decoder cannot forget z over long sentences.
        seed: seed of the word-dropout `SeedGenerator`.
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim=50,
        hidden_dim=128,
        word_dropout=0.0,
        pad_id=0,
        unk_id=1,
        skip=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not 0.0 <= word_dropout < 1.0:
            raise ValueError(f"`word_dropout` must be in [0, 1), got {word_dropout!r}.")
        self.vocabulary_size = int(vocabulary_size)
        self.embedding_dim = int(embedding_dim)
        self.hidden_dim = int(hidden_dim)
        self.word_dropout = float(word_dropout)
        self.pad_id = int(pad_id)
        self.unk_id = int(unk_id)
        self.skip = bool(skip)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.embedding = keras.layers.Embedding(self.vocabulary_size, self.embedding_dim, name="embedding")
        self.lstm = LSTM(self.hidden_dim, return_sequences=True, return_state=True, name="lstm")
        self.logits = keras.layers.Dense(self.vocabulary_size, name="logits")
        self.state_dense = keras.layers.Dense(self.hidden_dim, name="initial_state")
        self.skip_dense = keras.layers.Dense(self.vocabulary_size, use_bias=False, name="skip") if self.skip else None

    def build(self, ids_shape, z_shape):
        self.embedding.build(ids_shape)
        self.lstm.build((ids_shape[0], ids_shape[1], self.embedding_dim + z_shape[-1]))
        self.logits.build((ids_shape[0], ids_shape[1], self.hidden_dim))
        self.state_dense.build(z_shape)
        if self.skip_dense is not None:
            self.skip_dense.build(z_shape)

    def _inputs(self, ids, z, training=False):
        if training:
            ids = word_dropout(ids, self.word_dropout, self.seed_generator, self.pad_id, self.unk_id)
        x = self.embedding(ids)
        z_steps = ops.broadcast_to(ops.expand_dims(z, 1), (ops.shape(x)[0], ops.shape(x)[1], ops.shape(z)[-1]))
        return ops.concatenate([x, ops.cast(z_steps, x.dtype)], axis=-1)

    def states(self, ids, z, training=False):
        """LSTM outputs (B, T, H) for decoder inputs ids (B, T) and codes z (B, D)."""
        # Right padding only follows <eos>: the outputs at real positions do not depend on it and the loss masks the
        # rest, so the LSTM runs unmasked (the fast kernel on every backend).
        hidden, _, _ = self.lstm(self._inputs(ids, z, training), initial_state=list(self.initial_state(z)))
        return hidden

    def call(self, ids, z, training=False):
        hidden = self.states(ids, z, training)
        # The output layer on (B * T, H): XLA on CPU runs the (B, T, H) x (H, V) product and its gradient about
        # 1.7x slower than the same 2-D matrix product (JAX); no change on the other backends.
        batch, steps = ops.shape(hidden)[0], ops.shape(hidden)[1]
        logits = ops.reshape(
            self.logits(ops.reshape(hidden, (-1, self.hidden_dim))), (batch, steps, self.vocabulary_size)
        )
        if self.skip_dense is not None:
            logits = logits + ops.expand_dims(self.skip_dense(z), 1)
        return logits

    def target_nll(self, ids, z, targets, mask, training=False):
        """-log p(targets | ids, z) summed over each row's unmasked targets: (B,) for ids, targets, mask (B, T).

        The output layer and softmax, half of the model's arithmetic, run on the N unmasked positions only, not on
        all B * T (padding is 40-60% of SNLI batches). Equal to `categorical_nll(targets, call(ids, z), mask)`; its
        shapes depend on the mask, which eager PyTorch and TensorFlow graphs allow and XLA does not."""
        hidden = self.states(ids, z, training)
        steps = ops.shape(targets)[1]
        index = ops.nonzero(ops.reshape(mask, (-1,)))[0]  # flat positions of the real tokens, row-major
        rows = index // steps
        logits = self.logits(ops.take(ops.reshape(hidden, (-1, self.hidden_dim)), index, axis=0))  # (N, V)
        if self.skip_dense is not None:
            logits = logits + ops.take(self.skip_dense(z), rows, axis=0)
        per_token = ops.sparse_categorical_crossentropy(
            ops.take(ops.reshape(targets, (-1,)), index, axis=0), ops.cast(logits, "float32"), from_logits=True
        )
        return ops.segment_sum(per_token, rows, num_segments=ops.shape(targets)[0])

    def initial_state(self, z):
        """Initial LSTM state from z: c_0 = W z + b, h_0 = tanh(c_0) (as in the density-gap code)."""
        c = self.state_dense(z)
        return ops.tanh(c), c

    def step(self, ids, z, state):
        """One step: previous words ids (B,), codes z (B, D), state (h, c) -> (logits (B, V), (h, c))."""
        hidden, h, c = self.lstm(self._inputs(ids[:, None], z), initial_state=list(state))
        logits = self.logits(hidden[:, 0])
        if self.skip_dense is not None:
            logits = logits + self.skip_dense(z)
        return logits, (h, c)

    def start_cache(self, z, max_length):
        """The decoding cache for `kvae.decoders.sampling`: the initial state and the codes, `(h, c, z)`."""
        return (*self.initial_state(z), z)

    def next_logits(self, prompt, cache, index):
        """keras-hub sampler step: logits (B, V) of the word at `index` given the word before it, and the new cache."""
        h, c, z = cache
        previous = ops.squeeze(ops.slice(prompt, [0, index - 1], [ops.shape(prompt)[0], 1]), axis=1)
        logits, (h, c) = self.step(previous, z, (h, c))
        return logits, None, (h, c, z)

    def compute_output_shape(self, ids_shape, z_shape):
        return tuple(ids_shape) + (self.vocabulary_size,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim,
                "hidden_dim": self.hidden_dim,
                "word_dropout": self.word_dropout,
                "pad_id": self.pad_id,
                "unk_id": self.unk_id,
                "skip": self.skip,
                "seed": self.seed,
            }
        )
        return config
