"""Reconstruction negative log-likelihoods as functions: -log p(x|z) summed over everything but the batch axis (B,)."""

from keras import ops


def bernoulli_nll(x, logits):
    """-log Bernoulli(x | sigmoid(logits)) summed over pixels; `x` in [0, 1] (grey levels act as soft targets)."""
    # In float32 under mixed precision (`logits` come in the networks' compute dtype).
    per_value = ops.binary_crossentropy(ops.cast(x, "float32"), ops.cast(logits, "float32"), from_logits=True)
    return ops.sum(ops.reshape(per_value, (ops.shape(per_value)[0], -1)), axis=-1)


def categorical_nll(targets, logits, mask):
    """-log Categorical(targets | softmax(logits)) summed over the unmasked tokens.

    Args:
        targets: (B, T) int ids; logits: (B, T, V); mask: (B, T), 1 for real tokens, 0 for padding.
    """
    # Flattened to (B * T, V): the torch backend otherwise moves the class axis of 3-D logits to axis 1 and runs its
    # log-softmax on that strided view, twice as slow forward and backward on CPU.
    per_token = ops.sparse_categorical_crossentropy(
        ops.reshape(targets, (-1,)),
        ops.reshape(ops.cast(logits, "float32"), (-1, ops.shape(logits)[-1])),
        from_logits=True,
    )
    per_token = ops.reshape(per_token, ops.shape(targets))
    return ops.sum(per_token * ops.cast(mask, per_token.dtype), axis=-1)
