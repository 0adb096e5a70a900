"""Posterior samplers q(z|x), every one a `Posterior`: encoder features -> `z_mean`, `z_log_var`, sampled `z`."""

from kvae.checks import deserialize
from kvae.posteriors.batchnorm_gaussian import BatchNormGaussian
from kvae.posteriors.delta_gaussian import DeltaGaussian
from kvae.posteriors.deterministic import Deterministic
from kvae.posteriors.diagonal_gaussian import DiagonalGaussian
from kvae.posteriors.gaussian import GaussianPosterior, gaussian_kl, gaussian_log_prob, reparameterize
from kvae.posteriors.isotropic_gaussian import IsotropicGaussian
from kvae.posteriors.posterior import Posterior
from kvae.posteriors.von_mises_fisher import VonMisesFisher

POSTERIORS = {
    "isotropic": IsotropicGaussian,
    "diagonal": DiagonalGaussian,
    "batchnorm": BatchNormGaussian,
    "delta": DeltaGaussian,
    "vmf": VonMisesFisher,
    "deterministic": Deterministic,
}


def get(identifier, latent_dim, seed=None, **kwargs):
    """A posterior layer from a name in `POSTERIORS` (with constructor `kwargs`), a serialised config or an
    instance (returned as is)."""
    if isinstance(identifier, Posterior):
        if identifier.latent_dim != latent_dim:
            raise ValueError(
                f"`posterior` has latent_dim={identifier.latent_dim} but the model has latent_dim={latent_dim}."
            )
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, "posterior")
    if not isinstance(identifier, str) or identifier not in POSTERIORS:
        raise ValueError(f"Unknown `posterior` {identifier!r}; expected one of {sorted(POSTERIORS)} or a layer.")
    return POSTERIORS[identifier](latent_dim=latent_dim, seed=seed, **kwargs)


__all__ = [
    "POSTERIORS",
    "BatchNormGaussian",
    "DeltaGaussian",
    "Deterministic",
    "DiagonalGaussian",
    "GaussianPosterior",
    "IsotropicGaussian",
    "Posterior",
    "VonMisesFisher",
    "gaussian_kl",
    "gaussian_log_prob",
    "get",
    "reparameterize",
]
