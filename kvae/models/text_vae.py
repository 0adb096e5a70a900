import keras
import numpy as np
from keras import ops

from kvae import distribute, likelihoods, objectives, tokenizers
from kvae.checks import check_int, check_number
from kvae.decoders.sampling import check_decoding, decode_ids, make_sampler
from kvae.likelihoods import categorical_nll
from kvae.models.text_networks import DEFAULT_WORD_DROPOUT, check_architecture, text_networks, transformer_options
from kvae.models.text_presets import PRESETS
from kvae.models.vae import VAE, build_once, part_seed
from kvae.preprocessors import TextPreprocessor
from kvae.preprocessors.batching import is_batched


@keras.saving.register_keras_serializable(package="kvae")
class TextVAE(VAE):
    """Sentence VAE with an isotropic or diagonal Gaussian posterior: LSTM (Bowman et al., 2016) or Transformer.

    `architecture="lstm"` (default). Encoder: word embedding + LSTM over the tokens; its state at the last real token
    feeds the posterior. Decoder: LSTM whose input at every step is the previous word's embedding concatenated with z
    (teacher forcing), softmax over the vocabulary.
    `architecture="transformer"` (Optimus-style, Li et al., 2020): keras-hub Transformer blocks of width `hidden_dim`
    (`embedding_dim` unused); the encoder's mean-pooled outputs feed the posterior; the causal decoder reads z as
    cross-attention memory and/or added to its input embeddings (`injection`), and decodes with a key/value cache.
    Reconstruction loss summed over tokens (including `<eos>`), KL summed over units.

    `fit`, `evaluate` and `predict` take raw sentences (lists or arrays of str, `tf.data` datasets of strings,
    dicts / TFDS-style datasets with the sentences under `text_key`) or padded id arrays `[<bos> w.. <eos> <pad>..]`.
    On raw sentences and with no vocabulary yet, the first `fit` builds a lower-cased word vocabulary (capped at
    `max_vocabulary`) and says so; the vocabulary is saved with the model. Training sentences are length-bucketed
    (pooled: shuffled, sorted by length within pools of 100 batches, batched, the batches shuffled) unless the
    objective needs random batches (`bucket`), and every batch is padded to its own longest sentence: exactly where
    steps run eagerly or as TensorFlow graphs, rounded up to a multiple of 8 where they are compiled per shape (JAX,
    `jit_compile=True`).

    Defaults, chosen by measurement on the bundled SNLI sample (9,000 sentences, 10 epochs of batch 32; figures and
    seeds in the README): the small SNLI network (embedding 50, LSTM 128) with a 16-unit latent, the density-gap
    objective `DensityGap()` (no schedule, no collapse, no holes; random batches), decoder word dropout 0.5 and
    Adam 2e-3. The
    published recipes stay one call away: `TextVAE.from_preset("snli")` (latent 8, `Capacity(c=5)` annealed over
    5,000 steps, Adam 5e-4) and `from_preset("density_gap")`. Annealed objectives given without `anneal_steps`
    anneal over the first third of the steps of the first `fit`.

    Args:
        posterior: "isotropic" or "diagonal" (or any posterior name / layer).
        objective: objective name or instance (default "density_gap": `DensityGap(samples=32)`).
        latent_dim, embedding_dim, hidden_dim: sizes.
        max_vocabulary: cap on the vocabulary size, special tokens included.
        max_length: sentences longer than this many words are truncated (with a warning); also the decoding limit.
        word_dropout: decoder word dropout rate (input words replaced by `<unk>` in training), which makes the
            decoder read z. None (default): 0.5 for the LSTM, 0 for the Transformer, whose DensityGap model reads z
            without it and reconstructs far better (SNLI, 3 epochs: BLEU-2 17.9 at 0, 13.4 at 0.25, 12.0 at 0.5; at
            0.5 it repeats words, "a man in a a a a").
        vocabulary: a word list (special tokens first) to skip vocabulary building (sentencepiece: a serialized model).
        tokenizer: "word" (default), "wordpiece" or "sentencepiece" (`kvae.tokenizers`; subwords learnt on the first
            `fit`, `max_length` then counts subwords).
        text_key: key of the sentences in dict inputs.
        decoder: "lstm" (z concatenated to every input) or "skip" (also z straight to the output layer, skip-VAE).
        bow_weight: weight of the auxiliary bag-of-words loss (bow-VAE, Zhao et al., 2017): a softmax over the
            vocabulary from z must predict every word of the sentence, order ignored; 0 disables it. The term is
            tracked as `bow` and the shown loss is rec + reg + bow.
        bucket: batch training sentences of similar length together (pooled bucketing: less padding, faster
            steps). None (default): bucket unless the objective compares the examples of a batch with each other
            (`DensityGap`, whose aggregated posterior a batch of one length narrows: on the seed study in the README
            bucketing cost the default model MI and distinct reconstructions); every other objective buckets.
        architecture: "lstm" or "transformer".
        num_layers, num_heads, intermediate_dim, dropout: the Transformer's blocks, attention heads (`hidden_dim`
            divisible by it), feed-forward width (None: 2 * hidden_dim) and dropout rate.
        injection: how z reaches the Transformer decoder: "memory" (cross-attention to vectors made from z),
            "embedding" (added to every input embedding) or "both" (default).
        prior, learning_rate, seed: see `VAE`.

    Example:
    >>> train, test = kvae.datasets.snli_sample()
    >>> model = kvae.TextVAE(posterior="isotropic")
    >>> model.fit(train, epochs=10, batch_size=32)
    >>> model.reconstruct(test[:2]), model.generate(2)
    >>> kvae.TextVAE(architecture="transformer", num_layers=2, num_heads=4)  # the same verbs
    """

    default_learning_rate = 2e-3

    @property
    def warm_start_layers(self):
        return ("encoder", "decoder", "prior") + (("bow_head",) if self.bow_head is not None else ())

    def __init__(
        self,
        posterior="isotropic",
        objective="density_gap",
        latent_dim=16,
        embedding_dim=50,
        hidden_dim=128,
        max_vocabulary=20000,
        max_length=64,
        word_dropout=None,
        vocabulary=None,
        tokenizer="word",
        text_key="text",
        decoder="lstm",
        bow_weight=0.0,
        bucket=None,
        architecture="lstm",
        num_layers=2,
        num_heads=4,
        intermediate_dim=None,
        dropout=0.1,
        injection="both",
        prior="normal",
        learning_rate=None,
        seed=None,
        **kwargs,
    ):
        self.embedding_dim = check_int(embedding_dim, "embedding_dim")
        self.hidden_dim = check_int(hidden_dim, "hidden_dim")
        self.transformer = transformer_options(num_layers, num_heads, intermediate_dim, dropout, injection)
        self.architecture = check_architecture(architecture, decoder, self.hidden_dim, self.transformer["num_heads"])
        if word_dropout is None:
            word_dropout = DEFAULT_WORD_DROPOUT[self.architecture]
        self.word_dropout = check_number(word_dropout, "word_dropout", low=0, high=1, high_open=True)
        self.text_key = text_key
        self.bucket = None if bucket is None else bool(bucket)
        self.decoder_type = decoder
        self.bow_weight = check_number(bow_weight, "bow_weight", low=0)
        self.bow_head = None
        super().__init__(
            encoder=None,
            decoder=None,
            latent_dim=latent_dim,
            posterior=posterior,
            prior=prior,
            objective=objective,
            learning_rate=learning_rate,
            seed=seed,
            **kwargs,
        )
        self.tokenizer = tokenizers.get(
            tokenizer, vocabulary=vocabulary, max_vocabulary=max_vocabulary, max_length=max_length, name="tokenizer"
        )
        self.tokenizer_type = tokenizer
        self.preprocessor = TextPreprocessor(self.tokenizer, text_key)
        if vocabulary is not None:
            self._make_networks()

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """A TextVAE with a published recipe: one of `PRESETS` ("snli": the isotropic-posterior paper's SNLI model
        and objective; "density_gap": the density-gap paper's; "yahoo": sizes for long corpora). Keyword arguments
        override the preset's."""
        if preset not in PRESETS:
            raise ValueError(f"Unknown `preset` {preset!r}; expected one of {sorted(PRESETS)}.")
        config = {**PRESETS[preset], **kwargs}
        objective = config.get("objective")
        if isinstance(objective, dict) and "name" in objective and "class_name" not in objective:
            options = dict(objective)
            config["objective"] = objectives.get(
                options.pop("name"), seed=part_seed(config.get("seed"), "objective"), **options
            )
        return cls(**config)

    @property
    def buckets_batches(self):
        """Whether `fit` length-buckets its training sentences: `bucket`, or with `bucket=None` unless the objective
        compares the examples of a batch with each other (`DensityGap`, `batch_statistic`)."""
        return (not self.objective.batch_statistic) if self.bucket is None else self.bucket

    # ---------------------------------------------------------------------------------------------- networks
    @property
    def has_vocabulary(self):
        return self.tokenizer.vocabulary is not None

    def _make_networks(self):
        tok = self.tokenizer
        if tok.pad_id != 0:
            raise ValueError("TextVAE expects the padding id to be 0.")
        size = tok.vocabulary_size
        self.encoder, self.decoder = text_networks(self, size, tok.pad_id, tok.unk_id)
        if self.bow_weight > 0:
            self.bow_head = keras.layers.Dense(size, name="bag_of_words")
            self.bow_tracker = keras.metrics.Mean(name="bow")

    def build(self, input_shape):
        if isinstance(input_shape, dict):
            input_shape = input_shape[self.text_key]
        if self.encoder is None:
            self.preprocessor.require_vocabulary("TextVAE")
        batch, length = input_shape[0], input_shape[1]
        build_once(self.encoder, (batch, length))
        build_once(self.posterior, (batch, self.hidden_dim))
        build_once(self.prior, (batch, self.latent_dim))
        if not self.decoder.built:
            self.decoder.build((batch, None), (batch, self.latent_dim))
        if self.bow_head is not None:
            build_once(self.bow_head, (batch, self.latent_dim))

    # --------------------------------------------------------------------------------------------- data flow
    def preprocess(self, inputs):
        if isinstance(inputs, dict):
            inputs = inputs[self.text_key]
        return ops.cast(inputs, "int32")

    def decoder_outputs(self, ids, z, training=None):
        """Teacher forcing from the inputs <bos> w_1 .. w_n and z: `{"logits": ...}` of w_1 .. w_n <eos>, or in
        training, where shapes may depend on the data (every backend but JAX, without `jit_compile`), `{"nll": ...}`
        (B,): the reconstruction NLL with the softmax run on the real target tokens only, not on the padding."""
        if (
            training
            and hasattr(self.decoder, "target_nll")
            and keras.backend.backend() != "jax"
            and not self.jit_compile
        ):
            targets = ids[:, 1:]
            mask = ops.not_equal(targets, self.tokenizer.pad_id)
            return {"nll": self.decoder.target_nll(ids[:, :-1], z, targets, mask, training=training)}
        return {"logits": self.decoder(ids[:, :-1], z, training=training)}

    def reconstruction_loss(self, inputs, outputs):
        """-log p(x|z) summed over the target tokens w_1 .. w_n <eos> (padding masked): (B,)."""
        if "nll" in outputs:
            return outputs["nll"]
        targets = self.preprocess(inputs)[:, 1:]
        return categorical_nll(targets, outputs["logits"], ops.not_equal(targets, self.tokenizer.pad_id))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        if self.bow_head is None:
            return loss
        z = y_pred["z"] if len(y_pred["z"].shape) == 2 else y_pred["z"][0]
        targets = self.preprocess(x)[:, 1:]
        log_probs = ops.log_softmax(ops.cast(self.bow_head(z), "float32"), axis=-1)  # (B, V)
        per_token = ops.take_along_axis(log_probs, targets, axis=1)  # (B, T)
        mask = ops.cast(ops.not_equal(targets, self.tokenizer.pad_id), per_token.dtype)
        bow = self.bow_weight * ops.mean(-ops.sum(per_token * mask, axis=1))
        self.bow_tracker.update_state(bow, sample_weight=ops.shape(targets)[0])
        return loss + distribute.scale_loss(bow, ops.shape(targets)[0])

    # ------------------------------------------------------------------------------------------ input handling
    def as_dataset(self, x, batch_size=32, shuffle=False, build_vocabulary=False, repeat=False, name="x"):
        """Sentences -> a `tf.data.Dataset` of padded id batches (length-bucketed when `fit` buckets); ids are
        returned as given. With `build_vocabulary=True` and no vocabulary yet, the vocabulary is built from these
        sentences first (one pass; word counts are kept, not sentences). `repeat`: see `sentence_batches`."""
        texts = None if x is None else self.preprocessor.sentences(x, name)
        if texts is not None and not self.has_vocabulary and build_vocabulary:
            self.tokenizer.build_vocabulary(texts)
            self._make_networks()
        return self.preprocessor.batches(
            x,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=self.seed,
            bucket=self.buckets_batches and shuffle,
            # Compiled steps (JAX, XLA) trace once per shape: a few lengths (multiples of 8). Eager PyTorch and
            # TensorFlow graphs (a dynamic length axis) take each batch at its exact length.
            pad_to_multiple_of=8 if self.jit_compile else 1,
            repeat=repeat,
            name=name,
        )

    def check_inputs(self, x, name):
        """Raise a ValueError naming `name` unless `x` holds sentences or padded ids of this model's vocabulary."""
        super().check_inputs(x, name)
        self.preprocessor.check(x, name)

    def fit(self, x=None, y=None, batch_size=None, validation_data=None, shuffle=True, **kwargs):
        """Keras `fit` on sentences or ids; `batch_size` defaults to 32 for sentences.

        A `tf.data` dataset of sentences (e.g. `kvae.datasets.text_lines("shards/*.gz", stream=True)`) is read as
        a stream, never held in memory: shuffled within a buffer of 100,000 sentences, and counted by one pass per
        `fit` unless `steps_per_epoch` is given. With `steps_per_epoch`, sentences (a list, an array or a stream)
        repeat without end, reshuffled on every pass, and every epoch takes the next `steps_per_epoch` batches
        (Keras would otherwise stop when one pass runs out). Batches given as ids are used as given."""
        batch_size = check_int(batch_size, "batch_size", allow_none=True)
        if validation_data is not None:  # before the vocabulary is built from `x`
            self.check_inputs(validation_data, "validation_data")
        endless = kwargs.get("steps_per_epoch") is not None
        data = self.as_dataset(x, batch_size or 32, shuffle=shuffle, build_vocabulary=True, repeat=endless)
        if validation_data is not None:
            validation_data = self.as_dataset(validation_data, batch_size or 32, name="validation_data")
        if data is not x or is_batched(x):
            return super().fit(data, validation_data=validation_data, shuffle=False, **kwargs)
        return super().fit(data, y, batch_size=batch_size, validation_data=validation_data, shuffle=shuffle, **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        batch_size = check_int(batch_size, "batch_size", allow_none=True)
        data = self.as_dataset(x, batch_size or 32)
        if data is not x or is_batched(x):
            return super().evaluate(data, **kwargs)
        return super().evaluate(data, y, batch_size=batch_size, **kwargs)

    def predict(self, x, batch_size=None, **kwargs):
        batch_size = check_int(batch_size, "batch_size", allow_none=True)
        data = self.as_dataset(x, batch_size or 32)
        if data is not x or is_batched(x):
            return super().predict(data, **kwargs)
        return super().predict(data, batch_size=batch_size, **kwargs)

    # ------------------------------------------------------------------------------------------- using a model
    def likelihood_inputs(self, batch):
        return likelihoods.text_inputs(self.texts_to_ids, self.tokenizer.pad_id, batch)

    def log_px_given_z(self, x, z):
        return likelihoods.decoder_log_likelihood(self, x, z, (np.shape(x)[1] - 1) * self.tokenizer.vocabulary_size)

    def texts_to_ids(self, texts):
        """Sentences -> padded ids (N, T) with this model's vocabulary."""
        return self.preprocessor.texts_to_ids(texts)

    def encode(self, texts, return_log_var=False, batch_size=256):
        """Posterior means (N, D) of sentences (or id arrays, or batches of ids); `return_log_var=True` gives
        `(mean, log_var)`."""
        if is_batched(texts) and self.preprocessor.sentences(texts, "texts") is None:  # id batches, as they come
            return super().encode(texts, return_log_var=return_log_var, batch_size=batch_size)
        return super().encode(self.texts_to_ids(texts), return_log_var=return_log_var, batch_size=batch_size)

    def decode(self, z, method="greedy", max_length=None, num_beams=4, temperature=1.0, k=10, p=0.9, seed=None):
        """Sentences decoded from latent codes `z` (N, D), as a list of str, through keras-hub's samplers.

        Args:
            method: "greedy" (the papers' choice for reconstructions), "beam" (`BeamSampler`, `num_beams`),
                "sample" (`RandomSampler`: the full softmax at `temperature`), "top_k" (`TopKSampler`, the `k` most
                likely words) or "top_p" (`TopPSampler`, nucleus sampling: the smallest set of words whose
                probability reaches `p`).
            max_length: maximum words per sentence (default: the model's `max_length`); decoding stops at `<eos>`.
            temperature: softmax temperature of the sampling methods.
            k, p: of "top_k" and "top_p".
            seed: seed of the sampling methods (None: a fresh draw each call).
        """
        self.preprocessor.require_vocabulary()
        check_decoding(method, max_length, num_beams, temperature, k, p, seed)
        tok = self.tokenizer
        z = ops.convert_to_tensor(self.check_latent(z))
        sampler = make_sampler(method, num_beams, temperature, k, p, seed)
        ids = decode_ids(
            self.decoder, z, sampler, tok.bos_id, tok.pad_id, tok.eos_id, max_length or tok.max_length or 64
        )
        return tok.ids_to_texts(ids)

    def reconstruct(self, texts, **decode_kwargs):
        """Decode the posterior means of `texts`: greedy by default, as in the papers (`method="beam"` for beam
        search; see `decode`)."""
        check_decoding(**decode_kwargs)
        return self.decode(self.encode(texts), **decode_kwargs)

    def generate(self, n, method="top_p", **decode_kwargs):
        """`n` sentences decoded from prior samples z ~ p(z), by nucleus sampling (`method="top_p"`, p=0.9) by
        default: greedy decoding from the prior tends to one sentence for many z. Any `decode` option applies; a
        `seed` fixes both the prior draws and the sampler (the same sentences every call)."""
        n = check_int(n, "n")
        check_decoding(method, **decode_kwargs)
        z = ops.convert_to_numpy(self.prior.sample(n, self.latent_dim, seed=decode_kwargs.get("seed")))
        return self.decode(z, method=method, **decode_kwargs)

    def sample(self, n, **decode_kwargs):
        """Alias of `generate`."""
        return self.generate(n, **decode_kwargs)

    def interpolate(self, text_a, text_b, steps=11, **decode_kwargs):
        """Decode `steps` points on the line between the posterior means of two sentences (both ends included)."""
        steps = check_int(steps, "steps", minimum=2)
        for name, text in (("text_a", text_a), ("text_b", text_b)):
            if not isinstance(text, (str, bytes)):
                raise ValueError(f"`{name}` must be one sentence (a str), got {type(text).__name__}.")
        check_decoding(**decode_kwargs)
        ends = self.encode([text_a, text_b])
        t = np.linspace(0.0, 1.0, steps)[:, None]
        return self.decode((1 - t) * ends[0] + t * ends[1], **decode_kwargs)

    # ------------------------------------------------------------------------------------------------ saving
    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "hidden_dim": self.hidden_dim,
                "max_vocabulary": self.tokenizer.max_vocabulary,
                "max_length": self.tokenizer.max_length,
                "word_dropout": self.word_dropout,
                "vocabulary": self.tokenizer.get_config()["vocabulary"],
                "tokenizer": self.tokenizer_type,
                "text_key": self.text_key,
                "decoder": self.decoder_type,
                "bow_weight": self.bow_weight,
                "bucket": self.bucket,
                "architecture": self.architecture,
                **self.transformer,
            }
        )
        return config
