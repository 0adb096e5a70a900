"""Importance-sampled estimates of the marginal log-likelihood log p(x) of a trained VAE.

The model runs through ``keras.ops`` (any backend); sampling and the importance weights are NumPy
(float64), seeded with a NumPy generator so that results are reproducible.
"""

import math

import numpy as np

from kvae.checks import check_choice, check_int, check_seed
from kvae.distributions import LOG_2PI

__all__ = ["log_likelihood"]

PROPOSALS = ("posterior", "prior")

# At most this many logits (float32) are produced by one decoder call.
_LOGIT_ELEMENTS = 2**22


def _model_classes():
    # Imported lazily: kvae/__init__ imports kvae.metrics before kvae.models.
    from kvae.models import VAE, TextVAE

    return VAE, TextVAE


def _is_dataset(x):
    from kvae.models.batching import is_dataset

    return is_dataset(x)


def _batches(data, batch_size, text):
    """Yields the examples of ``data`` in batches (NumPy arrays, lists of str or dicts of arrays)."""
    from kvae.models.batching import iterate_batches

    if _is_dataset(data):
        # Datasets are used as they are batched; unbatched elements become batches of one.
        for batch in iterate_batches(data, batch_size):
            if isinstance(batch, dict):
                yield batch
            else:
                batch = np.asarray(batch)
                yield batch[None] if batch.ndim == (0 if text else 2) else batch
        return
    if isinstance(data, dict):
        yield from iterate_batches(data, batch_size)
        return
    if text and isinstance(data, str):
        data = [data]
    if not text:
        data = np.asarray(data)
    n = len(data)
    for start in range(0, n, batch_size):
        yield data[start : start + batch_size]


def _is_empty(data):
    if _is_dataset(data) or isinstance(data, (str, dict)):
        return False
    try:
        return len(data) == 0
    except TypeError:
        return False


def _log_normal(z, mean, log_var):
    """sum_u log N(z_u; mean_u, exp(log_var_u)) over the last axis (float64)."""
    return -0.5 * np.sum(LOG_2PI + log_var + np.square(z - mean) * np.exp(-log_var), axis=-1)


def _prior_log_prob(model, z, standard_normal):
    """log p(z) summed over units, (K, B) float64, for z (K, B, D)."""
    if standard_normal:
        return -0.5 * np.sum(LOG_2PI + np.square(z), axis=-1)
    from keras import ops

    flat = ops.convert_to_tensor(z.reshape(-1, z.shape[-1]).astype("float32"))
    log_p = ops.convert_to_numpy(ops.sum(model.prior.log_prob(flat), axis=-1))
    return np.asarray(log_p, dtype=np.float64).reshape(z.shape[:-1])


def _bucket(n, cap=None):
    """The next power of two >= n (at most ``cap`` when given): padded shapes limit recompilation (JAX)."""
    size = 1 << max(0, int(n) - 1).bit_length()
    return size if cap is None else min(size, cap)


def _pad_rows(a, size):
    """``a`` with its last row repeated to ``size`` rows."""
    if len(a) >= size:
        return a
    return np.concatenate([a, np.repeat(a[-1:], size - len(a), axis=0)])


def _pad_ids(ids, pad_id, multiple=8):
    """Right-pads token ids (N, T) with ``pad_id`` to a length that is a multiple of ``multiple``.

    Outputs at real positions do not depend on right padding and the loss masks it, so the result is unchanged;
    fewer distinct shapes mean fewer recompilations.
    """
    extra = -ids.shape[1] % multiple
    if extra == 0:
        return ids
    return np.concatenate([ids, np.full((ids.shape[0], extra), pad_id, dtype=ids.dtype)], axis=1)


def _encode(model, x):
    """Posterior (mean, log_var) of the batch ``x`` as float64, encoding a padded batch."""
    n = len(x)
    size = _bucket(n)
    mean, log_var = model.encode(_pad_rows(x, size), return_log_var=True, batch_size=size)
    return np.asarray(mean, dtype=np.float64)[:n], np.asarray(log_var, dtype=np.float64)[:n]


def _log_px_given_z(model, x, z, text):
    """log p(x_b | z_kb) (K, B) float64 with the model's decoder and reconstruction loss, in bounded chunks.

    ``x``: (B, ...) model inputs (images, or padded ids for a TextVAE); ``z``: (K, B, D).
    """
    from keras import ops

    k, b, d = z.shape
    z_flat = z.reshape(k * b, d).astype("float32")  # row r = k * B + b
    if text:
        per_row = max(1, x.shape[1] - 1) * int(model.tokenizer.vocabulary_size)
    else:
        per_row = int(np.prod(x.shape[1:], dtype=np.int64))
    cap = 1 << (max(1, _LOGIT_ELEMENTS // max(1, per_row)).bit_length() - 1)  # a power of two
    out = np.empty(k * b)
    for start in range(0, k * b, cap):
        stop = min(start + cap, k * b)
        rows = _pad_rows(np.arange(start, stop), _bucket(stop - start, cap))
        x_rows = ops.convert_to_tensor(x[rows % b])
        z_rows = ops.convert_to_tensor(z_flat[rows])
        if text:
            logits = model.decoder(x_rows[:, :-1], z_rows, training=False)
        else:
            logits = model.decoder(z_rows, training=False)
        nll = model.reconstruction_loss(x_rows, {"logits": logits})
        out[start:stop] = np.asarray(ops.convert_to_numpy(nll), dtype=np.float64)[: stop - start]
    return -out.reshape(k, b)


def log_likelihood(model, data, samples=100, proposal="posterior", batch_size=64, seed=0):
    """Importance-weighted estimate of the marginal log-likelihood ``log p(x)``.

    For every example ``x``, with ``K = samples`` draws ``z_k ~ r(z|x)``::

        log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log r(z_k|x)] - log K

    with the proposal ``r`` either the model's posterior ``q(z|x)``
    (``"posterior"``: the IWAE bound of Burda et al. (2016), a lower bound in
    expectation that tightens as ``K`` grows; ``K = 1`` is the ELBO) or the
    prior ``p(z)`` (``"prior"``: unbiased for ``p(x)`` but needs a huge ``K``).
    ``log p(x|z)`` is ``-model.reconstruction_loss`` on the model's own decoder
    output: ``model.decoder(z)`` for image models, ``model.decoder(ids[:, :-1],
    z)`` with ``ids = model.texts_to_ids(sentences)`` for a ``TextVAE`` (the
    sum over the predicted tokens, ``<eos>`` included). The posterior is the
    Gaussian ``N(mean, diag(exp(log_var)))`` of ``model.encode(x,
    return_log_var=True)`` (for a ``Deterministic`` posterior, whose log_var
    is reported as 0, that is ``N(mean, I)``: still a valid proposal). ``log
    p(z)`` is computed in NumPy for the standard normal prior and with the
    prior's own ``log_prob`` otherwise (e.g. a mixture prior). Float pixels
    in (0, 1) are scored as soft Bernoulli targets, as in training, so ``log
    p(x)`` is then not a normalised likelihood.

    The noise is drawn with a NumPy generator seeded by ``seed``, in batches
    of ``batch_size`` examples: the result is reproducible for a given
    ``seed`` and ``batch_size``.

    Args:
        model: a trained ``kvae.VAE`` (``ImageVAE``, ``TextVAE``, ...).
        data: images ``(N, H, W[, C])`` (array, dict with the model's
            ``input_key``, or a batched ``tf.data.Dataset``) for image
            models; sentences (list / array of str, padded id arrays, or a
            dataset of strings) for a ``TextVAE``.
        samples: ``K``, importance samples per example (int >= 1).
        proposal: ``"posterior"`` or ``"prior"``.
        batch_size: examples per batch (int >= 1); decoder calls are further
            split to bound memory.
        seed: seed of the NumPy generator (None: fresh randomness).

    Returns:
        ``dict`` with float ``"log_likelihood"`` (the mean over examples of
        the estimate, nats) and ``"nll"`` (its negative); for a ``TextVAE``
        also ``"perplexity"`` = ``exp(sum of per-sentence NLLs / number of
        predicted tokens, <eos> included)``.

    Raises:
        ValueError: on a model that is not a fitted kvae VAE with a Gaussian
            posterior, empty ``data``, or invalid ``samples``, ``proposal``,
            ``batch_size`` or ``seed`` (``proposal="prior"`` also needs the
            standard normal prior).
    """
    vae_class, text_class = _model_classes()
    if not isinstance(model, vae_class):
        raise ValueError(f"`model` must be a kvae VAE (e.g. kvae.ImageVAE, kvae.TextVAE); got {type(model).__name__}.")
    samples = check_int(samples, "samples")
    batch_size = check_int(batch_size, "batch_size")
    seed = check_seed(seed)
    check_choice(proposal, "proposal", PROPOSALS)
    from kvae.metrics.evaluation import check_gaussian_posterior

    check_gaussian_posterior(model)
    standard_normal = model.prior.is_standard_normal()
    if proposal == "prior" and not standard_normal:
        raise ValueError(
            '`proposal="prior"` needs the standard normal prior (it is sampled with NumPy); '
            f"the model's prior is {type(model.prior).__name__}."
        )
    text = isinstance(model, text_class)
    if data is None:
        raise ValueError("`data` is None; pass images or sentences.")
    if _is_empty(data):
        raise ValueError("`data` is empty.")
    if text and not model.has_vocabulary:
        raise ValueError("`model` has no vocabulary yet: fit it on sentences first.")
    model.check_inputs(data, "data")
    if not text:
        if model.decoder is None:
            raise ValueError("`model` has no decoder yet: fit it first (or pass `image_shape`).")

    rng = np.random.default_rng(seed)
    total_ll, count, tokens = 0.0, 0, 0
    for batch in _batches(data, batch_size, text):
        if text:
            x = _pad_ids(np.asarray(model.texts_to_ids(batch)), model.tokenizer.pad_id)
            tokens += int(np.count_nonzero(x[:, 1:] != model.tokenizer.pad_id))
        else:
            x = np.asarray(batch[model.input_key] if isinstance(batch, dict) else batch)
        if len(x) == 0:
            continue
        mean, log_var = _encode(model, x)
        eps = rng.standard_normal((samples,) + mean.shape)  # (K, B, D)
        if proposal == "posterior":
            z = mean + np.exp(0.5 * log_var) * eps
            log_r = _log_normal(z, mean, log_var)
        else:
            z = eps
            log_r = -0.5 * np.sum(LOG_2PI + np.square(z), axis=-1)
        log_w = _log_px_given_z(model, x, z, text) + _prior_log_prob(model, z, standard_normal) - log_r
        top = log_w.max(axis=0)
        ll = np.log(np.exp(log_w - top).sum(axis=0)) + top - math.log(samples)
        total_ll += float(ll.sum())
        count += len(x)
    if count == 0:
        raise ValueError("`data` is empty.")
    mean_ll = total_ll / count
    result = {"log_likelihood": mean_ll, "nll": -mean_ll}
    if text:
        result["perplexity"] = float(math.exp(-total_ll / tokens)) if tokens else float("nan")
    return result

