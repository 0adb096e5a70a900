"""The model-side helpers of importance-sampled likelihood estimation (`kvae.metrics.log_likelihood`)."""

import numpy as np
from keras import ops

# ---------------------------------------------------------------------------------------------------------------
# The bodies of the models' likelihood methods (`VAE.log_px_given_z`, `VAE.likelihood_inputs` and their overrides):
# they use only the model's own data-flow methods (`preprocess`, `decoder_outputs`, `reconstruction_loss`), so
# that `kvae.metrics.log_likelihood` calls model methods and never a model's layers.

# At most this many logits (float32) are produced by one decoder call.
MAX_LOGITS = 2**22


def bucket(n, cap=None):
    """The next power of two >= n (at most `cap` when given): padded shapes limit recompilation (JAX)."""
    size = 1 << max(0, int(n) - 1).bit_length()
    return size if cap is None else min(size, cap)


def pad_rows(a, size):
    """`a` with its last row repeated to `size` rows."""
    if len(a) >= size:
        return a
    return np.concatenate([a, np.repeat(a[-1:], size - len(a), axis=0)])


def decoder_log_likelihood(model, x, z, logits_per_row):
    """log p(x_i | z_i) (N,) float64 through the model's decoder and reconstruction loss, in chunks of at most
    `MAX_LOGITS` logits (`logits_per_row` of them per example) with padded, power-of-two row counts.

    Args:
        model: a `kvae.VAE`.
        x: (N, ...) model inputs (arrays as the model's `call` takes them: images, padded ids).
        z: (N, D) latent codes.
        logits_per_row: number of logits the decoder makes for one example (for chunking).
    """
    x, z = np.asarray(x), np.asarray(z, dtype="float32")
    n = len(z)
    cap = 1 << (max(1, MAX_LOGITS // max(1, int(logits_per_row))).bit_length() - 1)  # a power of two
    out = np.empty(n)
    for start in range(0, n, cap):
        stop = min(start + cap, n)
        rows = pad_rows(np.arange(start, stop), bucket(stop - start, cap))
        x_rows, z_rows = ops.convert_to_tensor(x[rows]), ops.convert_to_tensor(z[rows])
        outputs = model.decoder_outputs(model.preprocess(x_rows), z_rows, training=False)
        nll = model.reconstruction_loss(x_rows, outputs)
        out[start:stop] = np.asarray(ops.convert_to_numpy(nll), dtype=np.float64)[: stop - start]
    return -out


def array_inputs(batch, key=None, example_ndim=None):
    """A batch of array inputs -> (x (B, ...) array, None): the value under `key` of a dict batch; a single example
    (`example_ndim` axes) becomes a batch of one. None: no count of predicted tokens (no perplexity)."""
    x = np.asarray(batch[key] if isinstance(batch, dict) and key is not None else batch)
    if example_ndim is not None and x.ndim == example_ndim:
        x = x[None]
    return x, None


def text_inputs(texts_to_ids, pad_id, batch, multiple=8):
    """A batch of sentences (or ids) -> (ids (B, T) right-padded with `pad_id` to a multiple of `multiple`, number of
    predicted tokens w_1 .. w_n <eos>). A single sentence becomes a batch of one.

    Outputs at real positions do not depend on right padding and the loss masks it, so the likelihood is unchanged;
    fewer distinct shapes mean fewer recompilations.
    """
    if isinstance(batch, (str, bytes)) or (isinstance(batch, np.ndarray) and batch.ndim == 0):
        batch = [batch.item() if isinstance(batch, np.ndarray) else batch]
    ids = np.asarray(texts_to_ids(batch))
    extra = -ids.shape[1] % multiple
    if extra:
        ids = np.concatenate([ids, np.full((ids.shape[0], extra), pad_id, dtype=ids.dtype)], axis=1)
    return ids, int(np.count_nonzero(ids[:, 1:] != pad_id))
