"""Priors p(z): `log_prob`, closed-form `kl` where one exists, and `sample`."""

import keras

from kvae.priors.standard_normal import StandardNormal

PRIORS = {"normal": StandardNormal}


def get(identifier, seed=None):
    """A prior from a name in `PRIORS` or an instance (returned as is)."""
    if isinstance(identifier, keras.layers.Layer):
        return identifier
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if identifier not in PRIORS:
        raise ValueError(f"Unknown `prior` {identifier!r}; expected one of {sorted(PRIORS)} or a prior layer.")
    return PRIORS[identifier](seed=seed)


__all__ = ["PRIORS", "StandardNormal", "get"]
