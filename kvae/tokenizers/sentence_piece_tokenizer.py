"""SentencePiece tokenizer for sentence VAEs: keras-hub's `SentencePieceTokenizer`, model learnt from the sentences."""

import base64
import contextlib
import os
import re

import keras

from kvae.backend.lazy import tensorflow as tf
from kvae.checks import check_choice
from kvae.tokenizers.tokenizer import SubwordTokenizer

WORD_START = "\u2581"  # "▁": SentencePiece's mark of a piece that starts a word
MODEL_TYPES = ("unigram", "bpe")


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the SentencePiece trainer's C++ log (its whole configuration, on stderr) at the file-descriptor level."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@keras.saving.register_keras_serializable(package="kvae")
class SentencePieceTokenizer(SubwordTokenizer):
    """SentencePiece subwords (Kudo & Richardson, 2018) through `keras_hub.tokenizers`.

    Text is lower-cased (optionally) and NFKC-normalised; whitespace is part of the pieces ("▁dog" starts a word), so
    no word splitting is assumed. `build_vocabulary` trains a unigram (or BPE) model with
    `keras_hub.tokenizers.compute_sentence_piece_proto` (ids 0-3: `<pad> <unk> <bos> <eos>`); a `max_vocabulary`
    larger than the corpus allows is lowered to the largest size the trainer accepts. Characters the model never saw
    become `<unk>`. `ids_to_texts` joins pieces into words. The serialized model is `get_config()["vocabulary"]`
    (base64), so it is saved inside `.keras` files; `vocabulary` (the property) lists the pieces.

    Args:
        vocabulary: Optional serialized SentencePiece model: `bytes`, or their base64 str as in `get_config()`.
            Ids 0-3 must be pad, unk, bos, eos (as `build_vocabulary` trains them). `None`: call
            `build_vocabulary(texts)` (or fit a `TextVAE`) first.
        max_vocabulary: Vocabulary size to train, special tokens included.
        lowercase: Lower-case text (Unicode aware) before tokenising.
        max_length: Maximum number of pieces kept per sentence (`None`: no limit).
        model_type: "unigram" (default) or "bpe".
        **kwargs: Standard `keras.layers.Layer` arguments (e.g. `name`).

    Example:
        tok = SentencePieceTokenizer(max_vocabulary=2000).build_vocabulary(train_sentences)
        tok.ids_to_texts(tok.texts_to_ids(["A dog runs ."]))  # ['a dog runs .']
    """

    def __init__(
        self, vocabulary=None, max_vocabulary=20000, lowercase=True, max_length=None, model_type="unigram", **kwargs
    ):
        super().__init__(None, max_vocabulary=max_vocabulary, lowercase=lowercase, max_length=max_length, **kwargs)
        self.model_type = check_choice(model_type, "model_type", MODEL_TYPES)
        self._proto = None
        if vocabulary is not None:
            self._set_vocabulary(vocabulary)

    def _set_vocabulary(self, vocabulary):
        import keras_hub

        if isinstance(vocabulary, str):
            try:
                vocabulary = base64.b64decode(vocabulary, validate=True)
            except ValueError:
                raise ValueError("`vocabulary` str must be a base64-encoded SentencePiece model.") from None
        if not isinstance(vocabulary, bytes):
            raise ValueError(
                "`vocabulary` of a SentencePieceTokenizer must be a serialized SentencePiece model (bytes or base64 "
                f"str), got {type(vocabulary).__name__}."
            )
        with tf.init_scope():
            try:
                hub = keras_hub.tokenizers.SentencePieceTokenizer(proto=vocabulary, dtype="int32")
            except (RuntimeError, tf.errors.OpError) as error:
                raise ValueError(f"`vocabulary` is not a valid SentencePiece model: {error}") from None
            pieces = hub.get_vocabulary()
            if pieces[:2] != [self.PAD_TOKEN, self.UNK_TOKEN] or len(pieces) <= len(self.SPECIAL_TOKENS):
                raise ValueError(
                    f"The SentencePiece model must have ids 0-3 = pad, unk, bos, eos; got pieces {pieces[:4]}."
                )
        self._wrap(lambda: keras_hub.tokenizers.SentencePieceTokenizer(proto=vocabulary, dtype="int32"))
        # The model calls bos/eos "<s>" and "</s>": kvae's names, at the same ids.
        self._vocab = tuple(self.SPECIAL_TOKENS) + tuple(pieces[len(self.SPECIAL_TOKENS) :])
        self._proto = vocabulary

    def _learn(self, dataset):
        import keras_hub

        def train(size):
            with _quiet_stderr():
                return keras_hub.tokenizers.compute_sentence_piece_proto(dataset, size, model_type=self.model_type)

        try:
            return train(self.max_vocabulary)
        except RuntimeError as error:
            # "Vocabulary size too high (20000). Please set it to a value <= 3284.": the corpus allows fewer pieces.
            largest = re.search(r"value <= (\d+)", str(error))
            if largest is None:
                raise ValueError(f"SentencePiece training failed: {error}") from None
            return train(int(largest.group(1)))

    def _detokenize(self, ids):
        return "".join(self._vocab[t] for t in ids).replace(WORD_START, " ").strip()

    def get_config(self):
        config = super().get_config()
        config["vocabulary"] = None if self._proto is None else base64.b64encode(self._proto).decode("ascii")
        config["model_type"] = self.model_type
        return config
