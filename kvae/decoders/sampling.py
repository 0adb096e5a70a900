"""Decoding token ids from latent codes through keras-hub's samplers (greedy, beam, random, top-k, top-p).

A text decoder offers two methods: `start_cache(z, max_length)` (whatever it carries between steps: an LSTM state,
a key/value cache) and `next_logits(prompt, cache, index)` -> `(logits (B, V), hidden or None, cache)`, the
keras-hub sampler's `next` contract.
"""

import numpy as np
from keras import ops

from kvae.checks import check_choice, check_int, check_number, check_seed

DECODING = ("greedy", "beam", "sample", "top_k", "top_p")


def check_decoding(method="greedy", max_length=None, num_beams=4, temperature=1.0, k=10, p=0.9, seed=None):
    """The decoding options, checked before any work."""
    check_choice(method, "method", DECODING)
    check_int(max_length, "max_length", allow_none=True)
    check_int(num_beams, "num_beams")
    check_number(temperature, "temperature", low=0, low_open=True)
    check_int(k, "k")
    check_number(p, "p", low=0, high=1, low_open=True)
    check_seed(seed)


def make_sampler(method="greedy", num_beams=4, temperature=1.0, k=10, p=0.9, seed=None):
    """The keras-hub sampler of `method`: "greedy" (`GreedySampler`), "beam" (`BeamSampler`, `num_beams`), "sample"
    (`RandomSampler`: the full softmax at `temperature`), "top_k" (`TopKSampler`, the `k` most likely words) or
    "top_p" (`TopPSampler`, nucleus sampling: the smallest set of words whose probability reaches `p`)."""
    import keras_hub

    samplers = keras_hub.samplers
    return {
        "greedy": lambda: samplers.GreedySampler(),
        "beam": lambda: samplers.BeamSampler(num_beams=num_beams),
        "sample": lambda: samplers.RandomSampler(temperature=temperature, seed=seed),
        "top_k": lambda: samplers.TopKSampler(k=k, temperature=temperature, seed=seed),
        "top_p": lambda: samplers.TopPSampler(p=p, temperature=temperature, seed=seed),
    }[method]()


def decode_ids(decoder, z, sampler, bos_id, pad_id, eos_id, max_length):
    """Token ids (N, max_length + 1) as a NumPy array, `[<bos> w_1 .. <eos> <pad> ..]`, decoded from codes z (N, D)
    by `decoder` (see the module docstring) with a keras-hub `sampler`; decoding stops at `eos_id`."""
    n = z.shape[0]
    prompt = np.full((n, max_length + 1), pad_id, dtype="int32")
    prompt[:, 0] = bos_id
    mask = np.zeros_like(prompt, dtype=bool)
    mask[:, 0] = True
    ids = sampler(
        decoder.next_logits,
        ops.convert_to_tensor(prompt),
        cache=decoder.start_cache(z, max_length + 1),
        index=1,
        mask=ops.convert_to_tensor(mask),
        stop_token_ids=[eos_id],
    )
    return ops.convert_to_numpy(ids)
