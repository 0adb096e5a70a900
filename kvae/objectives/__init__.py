"""Objectives: serialisable layers mapping model outputs to the loss (rec + reg), each owning its schedule step,
seed and metric trackers."""

from kvae.checks import deserialize
from kvae.objectives import schedules
from kvae.objectives.beta import Beta
from kvae.objectives.capacity import Capacity
from kvae.objectives.density_gap import DensityGap, density_gap
from kvae.objectives.elbo import ELBO
from kvae.objectives.free_bits import FreeBits
from kvae.objectives.iwae import IWAE
from kvae.objectives.objective import Objective, kl_terms
from kvae.objectives.reconstruction import Reconstruction

OBJECTIVES = {
    "elbo": ELBO,
    "beta": Beta,
    "capacity": Capacity,
    "free_bits": FreeBits,
    "density_gap": DensityGap,
    "iwae": IWAE,
    "reconstruction": Reconstruction,
}


def get(identifier, seed=None, **kwargs):
    """An objective from a name in `OBJECTIVES` (with constructor `kwargs`, e.g. `get("capacity", c=15)`), a
    serialised config or an instance."""
    if isinstance(identifier, Objective):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, "objective")
    if not isinstance(identifier, str) or identifier not in OBJECTIVES:
        raise ValueError(f"Unknown `objective` {identifier!r}; expected one of {sorted(OBJECTIVES)} or an Objective.")
    return OBJECTIVES[identifier](seed=seed, **kwargs)


__all__ = [
    "ELBO",
    "IWAE",
    "OBJECTIVES",
    "Beta",
    "Capacity",
    "DensityGap",
    "FreeBits",
    "Objective",
    "Reconstruction",
    "density_gap",
    "get",
    "kl_terms",
    "schedules",
]
