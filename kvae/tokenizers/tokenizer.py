"""`Tokenizer`: the base of kvae's tokenizers (special ids, normalisation, `[bos] .. [eos]` framing, detokenising).

All string processing uses TensorFlow ops, never `keras.ops`, so tokenizers run inside `tf.data` pipelines whatever
the Keras backend (TensorFlow, JAX or PyTorch). Only the NumPy-facing helpers (`texts_to_ids`, `ids_to_texts`)
leave TF land. A subclass supplies `_tokens` (normalised strings -> ragged token ids), `_detokenize` (ids -> text),
`build_vocabulary` and its vocabulary in `get_config`.
"""

import collections

import keras
import numpy as np

from kvae.backend.lazy import tensorflow as tf
from kvae.checks import check_int
from kvae.preprocessors.text_batches import sentence_batches, warn_truncated
from kvae.preprocessors.text_inputs import string_dataset, string_list

# Characters Python's `str.split()` treats as whitespace. `tf.strings.split`
# without `sep` splits on ASCII whitespace only (not on e.g. U+00A0 or U+3000),
# so whitespace is normalised to a single space with this RE2 pattern first.
_WHITESPACE_PATTERN = r"[\t\n\v\f\r\x{1c}-\x{1f}\x{85}\p{Z}]+"

# A private-use character: what subword tokenizers read the text's literal `<unk>` as.
_UNK_CHARACTER = "\ue000"


# Map functions are plain TF code: skip AutoGraph (faster, no warnings).
def no_autograph(function):
    return tf.autograph.experimental.do_not_convert(function)


class Tokenizer(keras.layers.Layer):
    """Base class of kvae tokenizers: `<pad> <unk> <bos> <eos>` at ids 0-3, rows `[bos, t_1, ..., t_n, eos]`.

    Args:
        max_vocabulary: maximum vocabulary size *including* the 4 special tokens, used by `build_vocabulary`.
        lowercase: lower-case text (Unicode aware) before tokenising.
        max_length: maximum number of tokens kept per sentence (`None`: no limit); sequences are then at most
            `max_length + 2` ids long.
        **kwargs: standard `keras.layers.Layer` arguments (e.g. `name`).
    """

    PAD_TOKEN = "<pad>"
    UNK_TOKEN = "<unk>"
    BOS_TOKEN = "<bos>"
    EOS_TOKEN = "<eos>"
    # Order defines the ids: pad=0, unk=1, bos=2, eos=3.
    SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, BOS_TOKEN, EOS_TOKEN)

    def __init__(self, max_vocabulary=20000, lowercase=True, max_length=None, **kwargs):
        super().__init__(**kwargs)
        check_int(max_vocabulary, "max_vocabulary", minimum=len(self.SPECIAL_TOKENS) + 1)
        check_int(max_length, "max_length", allow_none=True)
        self.max_vocabulary = int(max_vocabulary)
        self.lowercase = bool(lowercase)
        self.max_length = None if max_length is None else int(max_length)
        self._vocab = None
        # No weights: the layer is usable (and serialisable) right away.
        self.built = True

    # ------------------------------------------------------------------ ids
    @property
    def pad_id(self):
        """Id of `PAD_TOKEN` (0)."""
        return self.SPECIAL_TOKENS.index(self.PAD_TOKEN)

    @property
    def unk_id(self):
        """Id of `UNK_TOKEN` (1)."""
        return self.SPECIAL_TOKENS.index(self.UNK_TOKEN)

    @property
    def bos_id(self):
        """Id of `BOS_TOKEN` (2)."""
        return self.SPECIAL_TOKENS.index(self.BOS_TOKEN)

    @property
    def eos_id(self):
        """Id of `EOS_TOKEN` (3)."""
        return self.SPECIAL_TOKENS.index(self.EOS_TOKEN)

    @property
    def vocabulary(self):
        """List of str (special tokens first), or None if not built yet."""
        return None if self._vocab is None else list(self._vocab)

    @property
    def vocabulary_size(self):
        """Number of ids, special tokens included (the embedding size)."""
        self.check_vocabulary()
        return len(self._vocab)

    def check_vocabulary(self):
        """Raise a ValueError unless the vocabulary is built."""
        if self._vocab is None:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has no vocabulary: call "
                f"build_vocabulary(texts) first (or pass `vocabulary=`)."
            )

    def _special_tokens_first(self, tokens, name="vocabulary"):
        """A token list as str, the special tokens prepended if none is there; a ValueError unless they come first,
        once, in order, and no token comes twice."""
        tokens = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in string_list(tokens, name)]
        specials = list(self.SPECIAL_TOKENS)
        if not any(s in tokens for s in specials):
            tokens = specials + tokens
        if tokens[: len(specials)] != specials or any(s in tokens[len(specials) :] for s in specials):
            raise ValueError(
                f"`{name}` must start with the special tokens {specials} (in this order) and contain them only once; "
                f"got {tokens[: len(specials) + 2]}..."
            )
        duplicates = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if duplicates:
            raise ValueError(f"`{name}` contains duplicate tokens: {duplicates[:10]}")
        return tokens

    @staticmethod
    def _text_dataset(texts):
        """Training texts (list/array of strings or a `tf.data.Dataset`) as a dataset of scalar strings."""
        if isinstance(texts, tf.data.Dataset):
            return string_dataset(texts, "texts")
        items = string_list(texts, "texts")
        if not items:
            raise ValueError("`texts` is empty: cannot build a vocabulary.")
        return tf.data.Dataset.from_tensor_slices(tf.constant(items, tf.string))

    # --------------------------------------------------------- tokenisation
    def _normalize(self, strings):
        """tf.string (B,) -> (B,): lower-cased (if `lowercase`), every run of whitespace one space."""
        if self.lowercase:
            strings = tf.strings.lower(strings, encoding="utf-8")
        return tf.strings.regex_replace(strings, _WHITESPACE_PATTERN, " ")

    def _tokens(self, strings):
        """tf.string (B,) -> int32 RaggedTensor (B, None): token ids, no special tokens, not truncated."""
        raise NotImplementedError

    def _detokenize(self, ids):
        """A list of ids (no bos/eos/pad) -> the text, as words separated by single spaces."""
        raise NotImplementedError

    def _frame(self, tokens):
        """Ragged token ids (B, None) -> `[bos, t_1..t_n, eos]` rows, n <= max_length."""
        if self.max_length is not None:
            tokens = tokens[:, : self.max_length]
        n = tokens.nrows()
        bos = tf.fill(tf.stack([n, 1]), tf.constant(self.bos_id, tf.int32))
        eos = tf.fill(tf.stack([n, 1]), tf.constant(self.eos_id, tf.int32))
        return tf.concat([tf.RaggedTensor.from_tensor(bos), tokens, tf.RaggedTensor.from_tensor(eos)], axis=1)

    def tf_tokenize(self, strings):
        """Tokenises strings with TF ops only (safe inside `tf.data.map`).

        Args:
            strings: tf.string tensor of shape `(B,)` or scalar (or anything `tf.convert_to_tensor` turns into one).

        Returns:
            int32 `tf.RaggedTensor` of shape `(B, None)` with rows `[bos, t_1, ..., t_n, eos]` (n <= max_length),
            or a dense 1-D int32 tensor for a scalar input.

        Example:
            ds = tf.data.Dataset.from_tensor_slices(["a dog", "a cat ."])
            ds = ds.batch(2).map(tok.tf_tokenize)  # ragged int32 batches
        """
        self.check_vocabulary()
        strings = tf.convert_to_tensor(strings, dtype=tf.string)
        if strings.shape.rank == 0:
            return self._frame(self._tokens(strings[None]))[0]
        if strings.shape.rank != 1:
            raise ValueError(f"`strings` must be a scalar or 1-D string tensor, got shape {strings.shape}.")
        return self._frame(self._tokens(strings))

    def call(self, strings):
        """Same as `tf_tokenize(strings)`."""
        return self.tf_tokenize(strings)

    def __call__(self, strings, *args, **kwargs):
        # Concrete inputs bypass the Keras call machinery (backend tensor conversion, autocast), which under
        # JAX/PyTorch tries to turn tf.string tensors into backend arrays and fails. Outputs are TF tensors whatever
        # the backend, so the layer can be mapped over a tf.data pipeline. Symbolic (functional-model) inputs still
        # go through Keras; that is only meaningful on the TensorFlow backend.
        if isinstance(strings, keras.KerasTensor):
            return super().__call__(strings, *args, **kwargs)
        return self.tf_tokenize(strings)

    def compute_output_spec(self, strings):
        return keras.KerasTensor(tuple(strings.shape[:1]) + (None,), dtype="int32")

    def tf_token_counts(self, strings):
        """tf.string (B,) -> int32 (B,): tokens per sentence before truncation (TF ops; sorts buckets)."""
        return tf.cast(self._tokens(strings).row_lengths(), tf.int32)

    def texts_to_ids(self, texts):
        """Tokenises texts into a padded NumPy id matrix.

        Args:
            texts: A str, or a list / 1-D array / 1-D tf tensor of strings.

        Returns:
            int32 NumPy array `(N, T)`: rows `[bos, t_1..t_n, eos]` padded with `pad_id` to the longest sentence of
            `texts` (`N = 1` for a single str). An empty string gives `[bos, eos]`.

        Example:
            tok.texts_to_ids(["A man sleeps .", ""])
            # -> array([[2, 7, 12, 9, 3], [2, 3, 0, 0, 0]], dtype=int32)
        """
        self.check_vocabulary()
        items = string_list(texts, "texts", allow_scalar=True)
        if not items:
            raise ValueError("`texts` is empty.")
        tokens = self._tokens(tf.constant(items, tf.string))
        if self.max_length is not None:
            num_truncated = int(tf.reduce_sum(tf.cast(tokens.row_lengths() > self.max_length, tf.int32)))
            warn_truncated(num_truncated, len(items), self.max_length, type(self).__name__)
        ids = self._frame(tokens)
        return ids.to_tensor(default_value=self.pad_id).numpy().astype(np.int32)

    def ids_to_texts(self, ids):
        """Decodes id sequences back to sentences of space-separated words.

        A leading `bos` is skipped, decoding stops at the first `eos`, and `pad` ids are dropped; unknown tokens
        decode as `UNK_TOKEN`.

        Args:
            ids: Integer array/tensor `(N, T)` (NumPy or any backend tensor), a list of id lists (rows may differ in
                length), or a single 1-D sequence.

        Returns:
            List of `N` strings.

        Example:
            tok.ids_to_texts(np.array([[2, 7, 12, 3, 9, 0]]))  # ['a man']
        """
        self.check_vocabulary()
        if isinstance(ids, tf.RaggedTensor):
            ids = ids.to_list()
        if isinstance(ids, (list, tuple)):
            if ids and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in ids):
                ids = [ids]
            rows = [np.asarray(row) for row in ids]
        else:
            if keras.ops.is_tensor(ids):
                ids = keras.ops.convert_to_numpy(ids)
            array = np.asarray(ids)
            if array.ndim == 1:
                array = array[None]
            if array.ndim != 2:
                raise ValueError(f"`ids` must have shape (N, T), got shape {array.shape}.")
            rows = list(array)
        size = len(self._vocab)
        texts = []
        for i, row in enumerate(rows):
            if row.size and not np.issubdtype(row.dtype, np.integer):
                raise ValueError(f"`ids` must contain integers, got dtype {row.dtype} (row {i}).")
            if row.ndim != 1:
                raise ValueError(f"`ids` row {i} must be 1-D, got shape {row.shape}.")
            bad = row[(row < 0) | (row >= size)]
            if bad.size:
                raise ValueError(f"`ids` contains id {int(bad[0])} (row {i}) outside [0, vocabulary_size={size}).")
            row = row.tolist()
            if row and row[0] == self.bos_id:
                row = row[1:]
            if self.eos_id in row:
                row = row[: row.index(self.eos_id)]
            texts.append(self._detokenize([t for t in row if t != self.pad_id]))
        return texts

    # -------------------------------------------------------------- tf.data
    def make_dataset(
        self, texts, batch_size=128, shuffle=False, seed=None, bucket=True, drop_remainder=False, pad_to_multiple_of=8
    ):
        """A `tf.data.Dataset` of padded int32 id batches (B, T) of `texts`, length-bucketed by default: see
        `kvae.preprocessors.sentence_batches` for the arguments.

        Example:
            ds = tok.make_dataset(train_texts, batch_size=64, shuffle=True, seed=0)
            for batch in ds.as_numpy_iterator():
                x = keras.ops.convert_to_tensor(batch)  # backend tensor
        """
        return sentence_batches(self, texts, batch_size, shuffle, seed, bucket, drop_remainder, pad_to_multiple_of)

    # ------------------------------------------------------------ serialise
    def get_config(self):
        config = super().get_config()
        config.update(
            {"max_vocabulary": self.max_vocabulary, "lowercase": self.lowercase, "max_length": self.max_length}
        )
        return config


class SubwordTokenizer(Tokenizer):
    """Base of the keras-hub subword tokenizers: a subclass's `_set_vocabulary(vocabulary)` sets `_vocab` and wraps
    a keras-hub tokenizer with `_wrap`; its `_learn(dataset)` learns a vocabulary from normalised sentences.

    The keras-hub tokenizer is kept out of the layer's attributes (inside a `tf.function`), so Keras neither tracks
    it nor saves its assets: the vocabulary lives in `get_config()` only.
    """

    def __init__(self, vocabulary=None, max_vocabulary=20000, lowercase=True, max_length=None, **kwargs):
        super().__init__(max_vocabulary=max_vocabulary, lowercase=lowercase, max_length=max_length, **kwargs)
        self._tokenize_fn = None
        if vocabulary is not None:
            self._set_vocabulary(vocabulary)

    def _wrap(self, make_tokenizer):
        """Tokenise with the keras-hub tokenizer `make_tokenizer()` through a `tf.function`: keras-hub's TensorFlow
        path (ragged int32 ids) whether called eagerly or inside `tf.data`, never its Python path or backend tensors.

        The tokenizer is made while tracing, so its TensorFlow resources (SentencePiece's model) belong to the
        function: made eagerly, they would die when `keras.utils.set_random_seed` clears TensorFlow's caches."""
        self._tokenize_fn = tf.function(
            lambda strings: make_tokenizer().tokenize(strings),
            input_signature=[tf.TensorSpec([None], tf.string)],
            autograph=False,
        )

    def _tokens(self, strings):
        # The text's own `<unk>` marks (corpora such as SNLI or PTB carry them) become a character no vocabulary
        # learns (they are dropped from the training text), which the keras-hub tokenizer maps to `<unk>`.
        return self._tokenize_fn(tf.strings.regex_replace(self._normalize(strings), self.UNK_TOKEN, _UNK_CHARACTER))

    def _training_text(self, strings):
        return tf.strings.regex_replace(self._normalize(strings), self.UNK_TOKEN, " ")

    def _set_vocabulary(self, vocabulary):
        raise NotImplementedError

    def _learn(self, dataset):
        """A dataset of normalised scalar strings -> the learnt vocabulary (the form `_set_vocabulary` takes)."""
        raise NotImplementedError

    def build_vocabulary(self, texts, verbose=True):
        """Learns a subword vocabulary of at most `max_vocabulary` tokens (special tokens included) from `texts`.

        Args:
            texts: Iterable of str/bytes (list, NumPy array) or a `tf.data.Dataset` of scalar (or 1-D batches of)
                strings.
            verbose: Print one summary line.

        Returns:
            self (for chaining).
        """
        dataset = self._text_dataset(texts).batch(4096).map(no_autograph(self._training_text)).unbatch()
        num_texts = int(dataset.reduce(np.int64(0), lambda n, _: n + 1))
        if num_texts == 0:
            raise ValueError("`texts` is empty: cannot build a vocabulary.")
        self._set_vocabulary(self._learn(dataset))
        if verbose:
            print(
                f"{type(self).__name__}: vocabulary size {len(self._vocab)} ({len(self._vocab) - 4} subwords + 4 "
                f"special tokens, at most {self.max_vocabulary}) from {num_texts} text{'s' if num_texts != 1 else ''}."
            )
        return self

    def get_config(self):
        config = super().get_config()
        config["vocabulary"] = self.vocabulary
        return config
