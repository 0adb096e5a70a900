"""Sentences -> a `tf.data` pipeline of padded id batches, with pooled length bucketing.

Pure TensorFlow ops (the tokenizer's `tf_tokenize` and `tf_token_counts`), so the pipeline runs under any Keras
backend; batches are converted to backend tensors by Keras outside `tf.data`.
"""

import warnings

from kvae.checks import check_int
from kvae.preprocessors.batching import is_dataset
from kvae.preprocessors.text_inputs import string_dataset

# Number of strings converted to one tensor when scanning a corpus.
SCAN_CHUNK = 8192

# Pooled bucketing sorts sentences by length within pools of this many batches.
POOL_BATCHES = 100

# Default shuffle buffer (sentences) of datasets of strings; in-memory sentences are shuffled as a whole.
SHUFFLE_BUFFER = 100_000


def warn_truncated(num_truncated, total, max_length, owner="WordTokenizer"):
    if num_truncated:
        warnings.warn(
            f"{owner}: {num_truncated} of {total} sentences are longer than max_length={max_length} tokens and were "
            "truncated.",
            stacklevel=4,
        )


def sentence_batches(
    tokenizer,
    texts,
    batch_size=128,
    shuffle=False,
    seed=None,
    bucket=True,
    drop_remainder=False,
    pad_to_multiple_of=8,
    shuffle_buffer=None,
    repeat=False,
):
    """A prefetched `tf.data.Dataset` of int32 id batches (B, T), each padded with `pad_id` to its longest sentence.

    With `bucket=True`, sentences of similar length are batched together by pooled bucketing: (shuffle,) take pools
    of `POOL_BATCHES` batches' worth of sentences, sort each pool by length, cut it into batches and (shuffle) the
    batches within a window of a pool. Batches then hold sentences of (nearly) one length, so there is little padding,
    while their order and membership stay random.

    Args:
        tokenizer: a tokenizer with a vocabulary (`tf_tokenize`, `tf_token_counts`, `pad_id`, `max_length`).
        texts: list / 1-D array of str, or a finite `tf.data.Dataset` of strings (e.g. `text_lines(glob,
            stream=True)`), read once to count its sentences (the count is kept, not the sentences).
        batch_size: sentences per batch.
        shuffle: shuffle the sentences (reshuffled every epoch); `seed` makes the order reproducible.
        bucket: group sentences of similar length.
        drop_remainder: drop incomplete batches.
        pad_to_multiple_of: pad every batch's length up to a multiple of this (8: compiled steps on JAX or XLA see a
            handful of shapes instead of one per length); 1 or None for exact lengths (eager PyTorch, TensorFlow
            graphs with a dynamic length axis).
        shuffle_buffer: sentences held by the shuffle buffer. None: every sentence of in-memory `texts`, at most
            `SHUFFLE_BUFFER` (100,000) of a dataset, so a corpus larger than memory is shuffled within a window.
        repeat: the sentences repeat without end (each pass reshuffled), for `fit(..., steps_per_epoch=N)`:
            every epoch takes the next N batches. A dataset is then not counted (streams too long to count every
            epoch; the truncation warning is skipped). The cardinality is infinite.
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

    buffer = check_int(shuffle_buffer, "shuffle_buffer", allow_none=True)
    in_memory = not is_dataset(texts)
    total = _count(tokenizer, strings) if in_memory or not repeat else None
    if shuffle:
        if buffer is None:
            buffer = total if in_memory else min(total or SHUFFLE_BUFFER, SHUFFLE_BUFFER)
        strings = strings.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:  # after the shuffle: every pass holds each sentence once, in a new order
        strings = strings.repeat()
    # Strings are batched first and tokenised one batch at a time (much cheaper in tf.data than tokenising and
    # un-batching per sentence).
    if bucket:
        pool = batch_size * POOL_BATCHES  # a multiple of the batch: no batch straddles two pools
        strings = strings.batch(pool).map(sort_by_length, num_parallel_calls=tf.data.AUTOTUNE).unbatch()
    ds = strings.batch(batch_size, drop_remainder=drop_remainder).map(tokenize, num_parallel_calls=tf.data.AUTOTUNE)
    if bucket and shuffle:
        ds = ds.shuffle(POOL_BATCHES, seed=seed, reshuffle_each_iteration=True)
    if not repeat:
        # Declaring the number of batches gives Keras a full progress bar and no "ran out of data" warning.
        batches = total // batch_size if drop_remainder else -(-total // batch_size)
        ds = ds.apply(tf.data.experimental.assert_cardinality(batches))
    return ds.prefetch(tf.data.AUTOTUNE)


def _count(tokenizer, strings):
    """One pass over `strings`: their number (warning about those `tokenizer` truncates); only sums are kept."""
    import tensorflow as tf

    limit = tokenizer.max_length

    @tf.autograph.experimental.do_not_convert
    def chunk_counts(batch):
        too_long = 0 if limit is None else tf.reduce_sum(tf.cast(tokenizer.tf_token_counts(batch) > limit, tf.int64))
        return tf.size(batch, out_type=tf.int64), too_long

    total = truncated = 0
    for n, too_long in strings.batch(SCAN_CHUNK).map(chunk_counts).as_numpy_iterator():
        total, truncated = total + int(n), truncated + int(too_long)
    if total == 0:
        raise ValueError("`texts` is empty.")
    if limit is not None:
        warn_truncated(truncated, total, limit, type(tokenizer).__name__)
    return total
