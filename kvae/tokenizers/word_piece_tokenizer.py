"""WordPiece tokenizer for sentence VAEs: keras-hub's `WordPieceTokenizer`, vocabulary learnt from the sentences."""

import keras

from kvae.tokenizers.tokenizer import SubwordTokenizer

SUFFIX = "##"


@keras.saving.register_keras_serializable(package="kvae")
class WordPieceTokenizer(SubwordTokenizer):
    """WordPiece subwords (Schuster & Nakajima, 2012; BERT's tokenizer) through `keras_hub.tokenizers`.

    Text is lower-cased (optionally), split on whitespace and punctuation (punctuation marks become words), and each
    word is cut into the longest vocabulary pieces, continuation pieces marked `##` ("walking" -> "walk ##ing").
    A word with a character outside the vocabulary becomes one `<unk>`. `build_vocabulary` learns the pieces with
    `keras_hub.tokenizers.compute_word_piece_vocabulary` (its learner keeps pieces seen at least 10 times, so small
    corpora get fewer than `max_vocabulary` tokens). `ids_to_texts` merges `##` pieces back into words (a sentence
    starting with one starts with its bare text).

    Args:
        vocabulary: Optional list of str: the special tokens `<pad> <unk> <bos> <eos>` (prepended if absent), then
            the pieces. `None`: call `build_vocabulary(texts)` (or fit a `TextVAE`) first.
        max_vocabulary: Maximum vocabulary size, special tokens included.
        lowercase: Lower-case text (Unicode aware) before tokenising.
        max_length: Maximum number of pieces kept per sentence (`None`: no limit).
        **kwargs: Standard `keras.layers.Layer` arguments (e.g. `name`).

    Example:
    >>> tok = WordPieceTokenizer(["a", "dog", "walk", "##ing", "."])
    >>> tok.texts_to_ids(["A dog walking."]).tolist()
    [[2, 4, 5, 6, 7, 8, 3]]
    >>> tok.ids_to_texts([[2, 4, 5, 6, 7, 8, 3]])
    ['a dog walking .']
    """

    def _set_vocabulary(self, vocabulary):
        import keras_hub

        self._vocab = tuple(self._special_tokens_first(vocabulary))
        pieces = list(self._vocab)
        self._wrap(
            lambda: keras_hub.tokenizers.WordPieceTokenizer(
                vocabulary=pieces, suffix_indicator=SUFFIX, oov_token=self.UNK_TOKEN, dtype="int32"
            )
        )

    def _learn(self, dataset):
        import keras_hub

        return keras_hub.tokenizers.compute_word_piece_vocabulary(
            dataset, self.max_vocabulary, suffix_indicator=SUFFIX, reserved_tokens=list(self.SPECIAL_TOKENS)
        )

    def _detokenize(self, ids):
        words = []
        for piece in (self._vocab[t] for t in ids):
            suffix = len(piece) > len(SUFFIX) and piece.startswith(SUFFIX)
            if suffix and words:
                words[-1] += piece[len(SUFFIX) :]
            else:  # a continuation piece that starts a decoded sentence is a word of its own
                words.append(piece[len(SUFFIX) :] if suffix else piece)
        return " ".join(words)
