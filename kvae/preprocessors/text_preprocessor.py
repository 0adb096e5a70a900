"""`TextPreprocessor`: what users pass a text model (sentences, dicts, datasets, id arrays) -> batches of token ids."""

import numpy as np

from kvae.preprocessors.batching import is_batched
from kvae.preprocessors.text_batches import sentence_batches
from kvae.preprocessors.text_inputs import check_ids, find_sentences, utf8


class TextPreprocessor:
    """Turns a text model's inputs into padded id batches with the model's tokenizer.

    Sentences (lists or arrays of str, `tf.data` datasets of strings, dicts or datasets of dicts holding them under
    `text_key`) are tokenised into `[<bos> w_1 .. w_n <eos> <pad> ..]` rows; token ids (arrays, id batches) pass
    through, checked against the vocabulary. The model owns one (`model.preprocessor`); it holds no state of its own
    beyond the tokenizer, so it is not saved: the model's config rebuilds it.

    Args:
        tokenizer: the model's tokenizer (`kvae.tokenizers`).
        text_key: key of the sentences in dict inputs.

    Example:
    >>> pre = TextPreprocessor(kvae.tokenizers.WordTokenizer(["a", "dog"]))
    >>> pre.texts_to_ids(["a dog"]).tolist()
    [[2, 4, 5, 3]]
    """

    def __init__(self, tokenizer, text_key="text"):
        if not isinstance(text_key, str):
            raise ValueError(f"`text_key` must be a str, got {text_key!r}.")
        self.tokenizer = tokenizer
        self.text_key = text_key

    @property
    def has_vocabulary(self):
        return self.tokenizer.vocabulary is not None

    def require_vocabulary(self, what="The model"):
        if not self.has_vocabulary:
            raise ValueError(f"{what} has no vocabulary yet: fit it on raw sentences first or pass `vocabulary=`.")

    def sentences(self, x, name="x"):
        """The sentences in `x` (a list of str or a dataset of scalar strings), or None if `x` holds token ids."""
        return find_sentences(x, self.text_key, name)

    def check_ids(self, x, name="x"):
        """Raise a ValueError naming `name` unless in-memory ids `x` (array or dict holding one) fit the vocabulary;
        batched inputs (datasets, generators) are checked by the step as they come."""
        if is_batched(x):
            return
        ids = x[self.text_key] if isinstance(x, dict) else x
        check_ids(ids, name, self.tokenizer.vocabulary_size if self.has_vocabulary else None)

    def check(self, x, name="x"):
        """Raise a ValueError naming `name` unless `x` holds sentences, or ids of this vocabulary."""
        if self.sentences(x, name) is None:
            if not self.has_vocabulary:
                raise ValueError(f"`{name}` holds token ids but the model has no vocabulary yet: fit it on sentences.")
            self.check_ids(x, name)

    def batches(
        self, x, batch_size=32, shuffle=False, seed=None, bucket=False, pad_to_multiple_of=1, repeat=False, name="x"
    ):
        """Sentences -> a `tf.data.Dataset` of padded id batches (see `sentence_batches`); ids returned as given."""
        if x is None:
            raise ValueError(f"`{name}` is None; pass sentences or token ids.")
        texts = self.sentences(x, name)
        if texts is None:
            self.check_ids(x, name)
            return x
        self.require_vocabulary()
        return sentence_batches(
            self.tokenizer,
            texts,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            bucket=bucket,
            pad_to_multiple_of=pad_to_multiple_of,
            repeat=repeat,
        )

    def texts_to_ids(self, texts, name="texts"):
        """Sentences (or ids, returned as an array) -> padded ids (N, T) padded to the longest sentence."""
        self.require_vocabulary()
        found = self.sentences(texts, name)
        if found is None:
            return check_ids(texts, name, self.tokenizer.vocabulary_size)
        if not isinstance(found, list):
            found = [utf8(s, name) for s in found.as_numpy_iterator()]
        return np.asarray(self.tokenizer.texts_to_ids(found))
