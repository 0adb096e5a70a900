"""Priors p(z): every one a `Prior` (`log_prob`, closed-form `kl` where one exists, `sample`, capability flags)."""

import keras

from kvae.checks import deserialize
from kvae.priors.hyperspherical_uniform import HypersphericalUniform
from kvae.priors.mixture_of_gaussians import MixtureOfGaussians
from kvae.priors.prior import Prior
from kvae.priors.standard_normal import StandardNormal

PRIORS = {
    "normal": StandardNormal,
    "mog": MixtureOfGaussians,
    "moig": MixtureOfGaussians,
    "hyperspherical": HypersphericalUniform,
}
# Names that are a class with fixed options: "moig" is the mixture of isotropic Gaussians.
PRIOR_OPTIONS = {"moig": {"isotropic": True}}


def get(identifier, seed=None, **kwargs):
    """A prior from a name in `PRIORS` (with constructor `kwargs`), a serialised config or a `Prior` instance."""
    if isinstance(identifier, Prior):
        return identifier
    if isinstance(identifier, keras.layers.Layer):
        raise ValueError(
            f"`prior` must subclass `kvae.priors.Prior` (log_prob, kl, sample, capability flags); got a "
            f"{type(identifier).__name__} layer."
        )
    if isinstance(identifier, dict):
        return deserialize(identifier, "prior")
    if not isinstance(identifier, str) or identifier not in PRIORS:
        raise ValueError(f"Unknown `prior` {identifier!r}; expected one of {sorted(PRIORS)} or a prior layer.")
    return PRIORS[identifier](seed=seed, **{**PRIOR_OPTIONS.get(identifier, {}), **kwargs})


__all__ = ["PRIORS", "HypersphericalUniform", "MixtureOfGaussians", "Prior", "StandardNormal", "get"]
