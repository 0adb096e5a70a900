"""Decoding token ids from latent codes through keras-hub's samplers (greedy, beam, random, top-k, top-p).

A text decoder offers two methods: `start_cache(z, max_length)` (whatever it carries between steps: an LSTM state,
a key/value cache) and `next_logits(prompt, cache, index)` -> `(logits (B, V), hidden or None, cache)`, the
keras-hub sampler's `next` contract.
"""

import weakref

import numpy as np
from keras import ops

from kvae import backend
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
    by `decoder` (see the module docstring) with a keras-hub `sampler`; decoding stops at `eos_id`. `<bos>` and
    `<pad>`, which the decoder is never trained to predict, are never decoded (their logits are set to -1e9).

    The whole loop is compiled under JAX and TensorFlow (`kvae.backend.compile_stateless`), once per decoder,
    sampler configuration and shape: later calls reuse it, with the decoder's current weights and `sampler`'s own
    seed state."""
    n = z.shape[0]
    prompt = np.full((n, max_length + 1), pad_id, dtype="int32")
    prompt[:, 0] = bos_id
    mask = np.zeros_like(prompt, dtype=bool)
    mask[:, 0] = True
    run = _compiled(decoder, sampler, eos_id, (bos_id, pad_id))
    ids, state = run([v.value for v in sampler.variables], z, ops.convert_to_tensor(prompt), ops.convert_to_tensor(mask))
    for variable, value in zip(sampler.variables, state):
        variable.assign(value)
    return ops.convert_to_numpy(ids)


_COMPILED = weakref.WeakKeyDictionary()  # decoder -> {(sampler class, its config but the seed, eos id): run}


def _compiled(decoder, sampler, eos_id, never):
    config = {key: value for key, value in sampler.get_config().items() if key != "seed"}
    key = (type(sampler).__name__, repr(sorted(config.items())), eos_id, never)
    runs = _COMPILED.setdefault(decoder, {})
    if key not in runs:
        template, decoder_ref = sampler, weakref.ref(decoder)  # the compiled function must not keep the decoder alive

        def loop(z, prompt, mask):
            layer = decoder_ref()
            forbidden = ops.convert_to_tensor(np.isin(np.arange(layer.vocabulary_size), never))  # once, not per step

            def next_logits(prompt, cache, index):
                logits, hidden, cache = layer.next_logits(prompt, cache, index)
                return ops.where(forbidden, ops.cast(-1e9, logits.dtype), logits), hidden, cache

            return template(
                next_logits,
                prompt,
                cache=layer.start_cache(z, ops.shape(prompt)[1]),
                index=1,
                mask=mask,
                stop_token_ids=[eos_id],
                model=layer,  # JAX: keras-hub's loop threads the decoder's variables through its stateless body
            )

        runs[key] = backend.compile_stateless(loop, decoder.variables, template.variables)
    return runs[key]
