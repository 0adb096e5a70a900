"""Word-level tokenizer for sentence VAEs (lower-cased, whitespace-split; TF string ops and a
`tf.lookup.StaticHashTable`, so it runs inside `tf.data` pipelines whatever the Keras backend)."""

import collections

import keras

from kvae.backend.lazy import tensorflow as tf
from kvae.preprocessors.text_batches import SCAN_CHUNK
from kvae.tokenizers.tokenizer import Tokenizer, no_autograph


@keras.saving.register_keras_serializable(package="kvae")
class WordTokenizer(Tokenizer):
    """Word-level tokenizer: optional lower-casing, whitespace splitting.

    Every sentence becomes `[bos, w_1, ..., w_n, eos]`; words outside the
    vocabulary map to `unk_id`; batches are padded with `pad_id`. The
    vocabulary is part of `get_config()`, so it is saved in `.keras` files.

    Args:
        vocabulary: Optional list of str. Must start with the special tokens
            `SPECIAL_TOKENS` (`<pad>`, `<unk>`, `<bos>`, `<eos>`); if none of
            them is present they are prepended. `None` means "call
            `build_vocabulary(texts)` before tokenising".
        max_vocabulary: Maximum vocabulary size *including* the 4 special
            tokens, used by `build_vocabulary` (an explicit `vocabulary` is
            not capped).
        lowercase: Whether to lower-case text (Unicode aware) before splitting.
        max_length: Maximum number of words kept per sentence (`None`: no
            limit); sequences are then at most `max_length + 2` ids long.
        **kwargs: Standard `keras.layers.Layer` arguments (e.g. `name`).

    Example:
    >>> tok = WordTokenizer(max_vocabulary=100, max_length=30)
    >>> tok = tok.build_vocabulary(["A dog runs .", "a cat sleeps ."],
    ...                            verbose=False)
    >>> tok.vocabulary[tok.eos_id + 1:]
    ['.', 'a', 'cat', 'dog', 'runs', 'sleeps']
    >>> tok.texts_to_ids(["a dog sleeps ."]).tolist()
    [[2, 5, 7, 9, 4, 3]]
    >>> tok.ids_to_texts([[2, 5, 7, 9, 4, 3, 0]])
    ['a dog sleeps .']
    """

    def __init__(self, vocabulary=None, max_vocabulary=20000, lowercase=True, max_length=None, **kwargs):
        super().__init__(max_vocabulary=max_vocabulary, lowercase=lowercase, max_length=max_length, **kwargs)
        self._table = None
        if vocabulary is not None:
            self._set_vocabulary(vocabulary)

    # ----------------------------------------------------------- vocabulary
    def _set_vocabulary(self, vocabulary):
        self._vocab = tuple(self._special_tokens_first(vocabulary))
        specials = self.SPECIAL_TOKENS
        regular = list(self._vocab[len(specials) :])
        # Built eagerly (even if called while tracing) so the table can be
        # captured by any later tf.function / tf.data map.
        with tf.init_scope():
            if regular:
                keys = tf.constant(regular, tf.string)
                values = tf.range(len(specials), len(self._vocab), dtype=tf.int32)
            else:
                keys = tf.constant([], tf.string)
                values = tf.constant([], tf.int32)
            # Special-token strings occurring in raw text map to unk_id.
            self._table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(keys, values),
                default_value=tf.constant(self.unk_id, tf.int32),
            )

    def build_vocabulary(self, texts, verbose=True):
        """Counts words in `texts` and keeps the most frequent ones.

        Keeps the `max_vocabulary - 4` most frequent (lower-cased) word types;
        ties are broken alphabetically, so the result is deterministic.

        Args:
            texts: Iterable of str/bytes (list, NumPy array) or a
                `tf.data.Dataset` of scalar (or 1-D batches of) strings.
            verbose: Print one summary line (size, number of dropped types).

        Returns:
            self (for chaining).

        Example:
            tok = WordTokenizer(max_vocabulary=1000).build_vocabulary(texts)
        """
        dataset = self._text_dataset(texts)

        @no_autograph
        def count(batch):
            words = self._split_words(batch).flat_values
            unique, _, counts = tf.unique_with_counts(words, out_idx=tf.int64)
            return unique, counts, tf.shape(batch, out_type=tf.int64)[0]

        counter = collections.Counter()
        num_texts = 0
        batches = dataset.batch(SCAN_CHUNK).map(count)
        for unique, counts, n in batches.as_numpy_iterator():
            num_texts += int(n)
            counter.update(dict(zip(unique.tolist(), counts.tolist())))
        if num_texts == 0:
            raise ValueError("`texts` is empty: cannot build a vocabulary.")
        words = collections.Counter()
        for word, c in counter.items():
            words[word.decode("utf-8", errors="replace")] += c
        for special in self.SPECIAL_TOKENS:
            words.pop(special, None)
        if not words:
            raise ValueError(f"`texts` ({num_texts} strings) contains no words.")
        ranked = sorted(words.items(), key=lambda item: (-item[1], item[0]))
        keep = self.max_vocabulary - len(self.SPECIAL_TOKENS)
        kept = [w for w, _ in ranked[:keep]]
        self._set_vocabulary(list(self.SPECIAL_TOKENS) + kept)
        if verbose:
            dropped = len(ranked) - len(kept)
            print(
                f"{type(self).__name__}: vocabulary size {len(self._vocab)} "
                f"({len(kept)} words + {len(self.SPECIAL_TOKENS)} special "
                f"tokens) from {num_texts} text{'s' if num_texts != 1 else ''}; dropped {dropped} of "
                f"{len(ranked)} word types."
            )
        return self

    # --------------------------------------------------------- tokenisation
    def _split_words(self, strings):
        """tf.string (B,) -> RaggedTensor (B, None) of normalised words."""
        return tf.strings.split(self._normalize(strings))

    def _tokens(self, strings):
        return tf.ragged.map_flat_values(self._table.lookup, self._split_words(strings))

    def tf_token_counts(self, strings):
        """tf.string (B,) -> int32 (B,): words per sentence before truncation (TF ops; sorts buckets)."""
        return tf.cast(self._split_words(strings).row_lengths(), tf.int32)

    def _detokenize(self, ids):
        return " ".join(self._vocab[t] for t in ids)

    # ------------------------------------------------------------ serialise
    def get_config(self):
        config = super().get_config()
        config["vocabulary"] = self.vocabulary
        return config
