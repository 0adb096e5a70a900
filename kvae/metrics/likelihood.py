"""Importance-sampled estimates of the marginal log-likelihood log p(x) of a trained VAE.

The model runs through ``keras.ops`` (any backend); sampling and the importance weights are NumPy
(float64), seeded with a NumPy generator so that results are reproducible.
"""

import math

import numpy as np

from kvae.checks import check_choice, check_int, check_seed
from kvae.distributions import LOG_2PI
from kvae.likelihoods import bucket, pad_rows

__all__ = ["log_likelihood"]

PROPOSALS = ("posterior", "prior")


def _batches(data, batch_size):
    """Yields the examples of ``data`` in batches as given (datasets as they are batched, dicts, arrays, lists)."""
    from kvae.preprocessors.batching import is_dataset, iterate_batches

    if is_dataset(data) or isinstance(data, dict):
        yield from iterate_batches(data, batch_size)
        return
    if isinstance(data, (str, bytes)):
        yield data  # one sentence: the model makes it a batch of one
        return
    for start in range(0, len(data), batch_size):
        yield data[start : start + batch_size]


def _is_empty(data):
    from kvae.preprocessors.batching import is_dataset

    if is_dataset(data) or isinstance(data, (str, dict)):
        return False
    try:
        return len(data) == 0
    except TypeError:
        return False


def _log_normal(z, mean, log_var):
    """sum_u log N(z_u; mean_u, exp(log_var_u)) over the last axis (float64)."""
    return -0.5 * np.sum(LOG_2PI + log_var + np.square(z - mean) * np.exp(-log_var), axis=-1)


def _prior_log_prob(model, z):
    """log p(z) summed over units, (K, B) float64, for z (K, B, D)."""
    if model.prior.is_standard_normal():
        return -0.5 * np.sum(LOG_2PI + np.square(z), axis=-1)
    from keras import ops

    flat = ops.convert_to_tensor(z.reshape(-1, z.shape[-1]).astype("float32"))
    log_p = ops.convert_to_numpy(ops.sum(model.prior.log_prob(flat), axis=-1))
    return np.asarray(log_p, dtype=np.float64).reshape(z.shape[:-1])


def _encode(model, x):
    """Posterior (mean, log_var) of the batch ``x`` as float64, encoding a padded batch."""
    n = len(x)
    size = bucket(n)
    mean, log_var = model.encode(pad_rows(x, size), return_log_var=True, batch_size=size)
    return np.asarray(mean, dtype=np.float64)[:n], np.asarray(log_var, dtype=np.float64)[:n]


def _likelihood_inputs(model, batch):
    """``model.likelihood_inputs(batch)``: (model inputs x (B, ...), number of predicted tokens or None)."""
    return model.likelihood_inputs(batch)


def _log_px_given_z(model, x, z):
    """log p(x_b | z_kb) (K, B) float64 from ``model.log_px_given_z`` on the K B pairs; x (B, ...), z (K, B, D)."""
    k, b, d = z.shape
    x_rows, z_rows = np.concatenate([x] * k), z.reshape(k * b, d)  # row r = k * B + b
    return np.asarray(model.log_px_given_z(x_rows, z_rows), dtype=np.float64).reshape(k, b)


def log_likelihood(model, data, samples=100, proposal="posterior", batch_size=64, seed=0):
    """Importance-weighted estimate of the marginal log-likelihood ``log p(x)``.

    For every example ``x``, with ``K = samples`` draws ``z_k ~ r(z|x)``::

        log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log r(z_k|x)] - log K

    with the proposal ``r`` either the model's posterior ``q(z|x)``
    (``"posterior"``: the IWAE bound of Burda et al. (2016), a lower bound in
    expectation that tightens as ``K`` grows; ``K = 1`` is the ELBO) or the
    prior ``p(z)`` (``"prior"``: unbiased for ``p(x)`` but needs a huge ``K``).
    ``log p(x|z)`` is the model's own ``model.log_px_given_z(x, z)`` (the
    negative reconstruction loss of its decoder: summed over pixels, or over
    the predicted tokens, ``<eos>`` included, for a ``TextVAE``) on the model
    inputs ``x`` of ``model.likelihood_inputs(batch)``. The posterior is the
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
        predicted tokens, <eos> included)``; for an ``ImageVAE`` with a
        Gaussian or discretised logistic likelihood also ``"bits_per_dim"``
        = ``-(log p(x) + D log_bin_width) / (D ln 2)`` over the ``D = H W C``
        pixel values, in 256-level terms: exact for the discretised logistic,
        the density times the bin width 1/255 for the Gaussian (see
        ``kvae.likelihoods``); none for the Bernoulli.

    Raises:
        ValueError: on a model that is not a fitted kvae VAE with a Gaussian
            posterior, empty ``data``, or invalid ``samples``, ``proposal``,
            ``batch_size`` or ``seed`` (``proposal="prior"`` also needs the
            standard normal prior).
    """
    from kvae.models import VAE  # lazily: kvae/__init__ imports kvae.metrics before kvae.models

    if not isinstance(model, VAE):
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
    if data is None:
        raise ValueError("`data` is None; pass images or sentences.")
    if _is_empty(data):
        raise ValueError("`data` is empty.")
    model.check_inputs(data, "data")

    rng = np.random.default_rng(seed)
    total_ll, count, tokens = 0.0, 0, None
    for batch in _batches(data, batch_size):
        x, predicted = _likelihood_inputs(model, batch)
        if len(x) == 0:
            continue
        if predicted is not None:
            tokens = (tokens or 0) + predicted
        mean, log_var = _encode(model, x)
        eps = rng.standard_normal((samples,) + mean.shape)  # (K, B, D)
        if proposal == "posterior":
            z = mean + np.exp(0.5 * log_var) * eps
            log_r = _log_normal(z, mean, log_var)
        else:
            z = eps
            log_r = -0.5 * np.sum(LOG_2PI + np.square(z), axis=-1)
        log_w = _log_px_given_z(model, x, z) + _prior_log_prob(model, z) - log_r
        top = log_w.max(axis=0)
        ll = np.log(np.exp(log_w - top).sum(axis=0)) + top - math.log(samples)
        total_ll += float(ll.sum())
        count += len(x)
    if count == 0:
        raise ValueError("`data` is empty.")
    mean_ll = total_ll / count
    result = {"log_likelihood": mean_ll, "nll": -mean_ll}
    if tokens is not None:  # models that count predicted tokens (text)
        result["perplexity"] = float(math.exp(-total_ll / tokens)) if tokens else float("nan")
    bits_per_dim = getattr(model, "bits_per_dim", None)  # image models with a 256-level likelihood
    if bits_per_dim is not None and bits_per_dim(mean_ll) is not None:
        result["bits_per_dim"] = float(bits_per_dim(mean_ll))
    return result

