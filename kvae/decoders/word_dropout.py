"""Decoder word dropout (Bowman et al., 2016): training inputs replaced by `<unk>` so that the decoder reads z."""

import statistics

from keras import ops

from kvae import distribute


def word_dropout(ids, rate, seed_generator, pad_id=0, unk_id=1):
    """ids (B, T) with each non-padding id replaced by `unk_id` with probability `rate`.

    Bernoulli(rate) is drawn as N(0, 1) < Phi^-1(rate) from the global batch's noise (`kvae.distribute.normal`), so
    that a run on N replicas drops the words one device would drop."""
    if rate <= 0:
        return ids
    threshold = statistics.NormalDist().inv_cdf(rate)
    drop = distribute.normal(ops.shape(ids), seed_generator) < threshold
    drop = ops.logical_and(drop, ops.not_equal(ids, pad_id))
    return ops.where(drop, ops.full_like(ids, unk_id), ids)
