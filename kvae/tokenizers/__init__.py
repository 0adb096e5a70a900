"""Tokenizers for the text VAEs (TF string ops; usable in tf.data on any backend): words, WordPiece and
SentencePiece subwords (keras-hub), all with `<pad> <unk> <bos> <eos>` at ids 0-3."""

from kvae.tokenizers.sentence_piece_tokenizer import SentencePieceTokenizer
from kvae.tokenizers.tokenizer import SubwordTokenizer, Tokenizer
from kvae.tokenizers.word_piece_tokenizer import WordPieceTokenizer
from kvae.tokenizers.word_tokenizer import WordTokenizer

TOKENIZERS = {"word": WordTokenizer, "wordpiece": WordPieceTokenizer, "sentencepiece": SentencePieceTokenizer}


def get(kind, /, **kwargs):
    """A new tokenizer by name ("word", "wordpiece" or "sentencepiece"); `kwargs` go to its constructor.

    Example:
        tok = kvae.tokenizers.get("wordpiece", max_vocabulary=4000).build_vocabulary(sentences)
    """
    if not isinstance(kind, str) or kind not in TOKENIZERS:
        raise ValueError(f"Unknown tokenizer {kind!r}; expected one of {sorted(TOKENIZERS)}.")
    return TOKENIZERS[kind](**kwargs)


__all__ = [
    "TOKENIZERS",
    "SentencePieceTokenizer",
    "SubwordTokenizer",
    "Tokenizer",
    "WordPieceTokenizer",
    "WordTokenizer",
    "get",
]
