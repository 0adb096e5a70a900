"""Tokenizers for the text VAEs (TF string ops; usable in tf.data on any backend)."""

from kvae.tokenizers.word_tokenizer import WordTokenizer

__all__ = ["WordTokenizer"]
