"""Likelihoods p(x|z): image likelihood layers by name (`ImageVAE(likelihood=...)`), the reconstruction NLLs as
functions, and the model-side helpers of `kvae.metrics.log_likelihood`.

>>> sorted(kvae.likelihoods.LIKELIHOODS)
['bernoulli', 'gaussian', 'logistic']
"""

import keras

from kvae.checks import deserialize
from kvae.likelihoods.bernoulli import Bernoulli
from kvae.likelihoods.discretized_logistic import DiscretizedLogistic
from kvae.likelihoods.estimation import (
    MAX_LOGITS,
    array_inputs,
    bucket,
    decoder_log_likelihood,
    pad_rows,
    text_inputs,
)
from kvae.likelihoods.gaussian import Gaussian
from kvae.likelihoods.likelihood import Likelihood
from kvae.likelihoods.nll import bernoulli_nll, categorical_nll

LIKELIHOODS = {"bernoulli": Bernoulli, "gaussian": Gaussian, "logistic": DiscretizedLogistic}


def get(identifier, **kwargs):
    """A likelihood from a name in `LIKELIHOODS` (with constructor `kwargs`), a serialised config or a `Likelihood`."""
    if isinstance(identifier, Likelihood):
        return identifier
    if isinstance(identifier, keras.layers.Layer):
        raise ValueError(
            f"`likelihood` must subclass `kvae.likelihoods.Likelihood` (nll, mean, decoder_shape); got a "
            f"{type(identifier).__name__} layer."
        )
    if isinstance(identifier, dict):
        return deserialize(identifier, "likelihood")
    if not isinstance(identifier, str) or identifier not in LIKELIHOODS:
        raise ValueError(
            f"Unknown `likelihood` {identifier!r}; expected one of {sorted(LIKELIHOODS)} or a likelihood layer."
        )
    return LIKELIHOODS[identifier](**kwargs)


__all__ = [
    "LIKELIHOODS",
    "MAX_LOGITS",
    "Bernoulli",
    "DiscretizedLogistic",
    "Gaussian",
    "Likelihood",
    "array_inputs",
    "bernoulli_nll",
    "bucket",
    "categorical_nll",
    "decoder_log_likelihood",
    "get",
    "pad_rows",
    "text_inputs",
]
