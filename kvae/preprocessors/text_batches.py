"""Sentences -> a `tf.data` pipeline of padded id batches, with pooled length bucketing.

Pure TensorFlow ops (the tokenizer's `tf_tokenize` and `tf_token_counts`), so the pipeline runs under any Keras
backend; batches are converted to backend tensors by Keras outside `tf.data`.
"""

import warnings

import numpy as np

from kvae.checks import check_int
from kvae.preprocessors.text_inputs import string_dataset

# Number of strings converted to one tensor when scanning a corpus.
SCAN_CHUNK = 8192

# Pooled bucketing sorts sentences by length within pools of this many batches.
POOL_BATCHES = 100


def warn_truncated(num_truncated, total, max_length, owner="WordTokenizer"):
    if num_truncated:
        warnings.warn(
            f"{owner}: {num_truncated} of {total} sentences are longer than max_length={max_length} tokens and were "
            "truncated.",
            stacklevel=4,
        )


def sentence_batches(
    tokenizer, texts, batch_size=128, shuffle=False, seed=None, bucket=True, drop_remainder=False, pad_to_multiple_of=8
):
    """A prefetched `tf.data.Dataset` of int32 id batches (B, T), each padded with `pad_id` to its longest sentence.

    With `bucket=True`, sentences of similar length are batched together by pooled bucketing: (shuffle,) take pools
    of `POOL_BATCHES` batches' worth of sentences, sort each pool by length, cut it into batches and (shuffle) the
    batches within a window of a pool. Batches then hold sentences of (nearly) one length, so there is little padding,
    while their order and membership stay random.

    Args:
        tokenizer: a tokenizer with a vocabulary (`tf_tokenize`, `tf_token_counts`, `pad_id`, `max_length`).
        texts: list / 1-D array of str, or a `tf.data.Dataset` of strings (scanned once for the lengths).
        batch_size: sentences per batch.
        shuffle: shuffle the sentences (reshuffled every epoch); `seed` makes the order reproducible.
        bucket: group sentences of similar length.
        drop_remainder: drop incomplete batches.
        pad_to_multiple_of: pad every batch's length up to a multiple of this (8: compiled steps on JAX or XLA see a
            handful of shapes instead of one per length); 1 or None for exact lengths (eager PyTorch, TensorFlow
            graphs with a dynamic length axis).
    """
    import tensorflow as tf

    tokenizer.check_vocabulary()
    batch_size = check_int(batch_size, "batch_size")
    multiple = check_int(pad_to_multiple_of, "pad_to_multiple_of", allow_none=True) or 1
    strings = string_dataset(texts, "texts")
    pad = tf.constant(tokenizer.pad_id, tf.int32)
    no_autograph = tf.autograph.experimental.do_not_convert

    @no_autograph
    def sort_by_length(batch):
        return tf.gather(batch, tf.argsort(tokenizer.tf_token_counts(batch), stable=True))

    @no_autograph
    def tokenize(batch):
        ids = tokenizer.tf_tokenize(batch).to_tensor(default_value=pad)
        if multiple > 1:
            ids = tf.pad(ids, [[0, 0], [0, -tf.shape(ids)[1] % multiple]], constant_values=pad)
        return ids

    # One scan for the number of sentences (and the truncation count).
    counts = list(strings.batch(SCAN_CHUNK).map(no_autograph(tokenizer.tf_token_counts)).as_numpy_iterator())
    lengths = np.concatenate(counts) if counts else np.zeros([0])
    if len(lengths) == 0:
        raise ValueError("`texts` is empty.")
    if tokenizer.max_length is not None:
        warn_truncated(
            int(np.sum(lengths > tokenizer.max_length)), len(lengths), tokenizer.max_length, type(tokenizer).__name__
        )
    if shuffle:
        strings = strings.shuffle(len(lengths), seed=seed, reshuffle_each_iteration=True)
    # Strings are batched first and tokenised one batch at a time (much cheaper in tf.data than tokenising and
    # un-batching per sentence).
    if bucket:
        pool = batch_size * POOL_BATCHES  # a multiple of the batch: no batch straddles two pools
        strings = strings.batch(pool).map(sort_by_length, num_parallel_calls=tf.data.AUTOTUNE).unbatch()
    ds = strings.batch(batch_size, drop_remainder=drop_remainder).map(tokenize, num_parallel_calls=tf.data.AUTOTUNE)
    if bucket and shuffle:
        ds = ds.shuffle(POOL_BATCHES, seed=seed, reshuffle_each_iteration=True)
    # Declaring the number of batches gives Keras a full progress bar and no "ran out of data" warning.
    batches = len(lengths) // batch_size if drop_remainder else -(-len(lengths) // batch_size)
    return ds.apply(tf.data.experimental.assert_cardinality(batches)).prefetch(tf.data.AUTOTUNE)
