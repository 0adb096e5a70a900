"""Preprocessors: what users pass (sentences, dicts, `tf.data` datasets, id or pixel arrays, generators) -> batches.

`TextPreprocessor` tokenises sentences into padded id batches (pooled length bucketing in `text_batches`);
`text_inputs` tells sentences from ids and checks them; `batching` iterates any input in batches of host arrays.
"""

from kvae.preprocessors.text_batches import sentence_batches
from kvae.preprocessors.text_preprocessor import TextPreprocessor

__all__ = ["TextPreprocessor", "sentence_batches"]
