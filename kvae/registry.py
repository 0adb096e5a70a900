"""Everything kvae builds by name: posteriors, priors, objectives and models, for config files and command lines.

>>> kvae.list_objectives()
['beta', 'capacity', 'density_gap', 'elbo', 'free_bits', 'iwae', 'reconstruction']
>>> model = kvae.create_model("text_vae", posterior="isotropic", objective={"name": "capacity", "c": 15})
"""

from kvae import objectives, posteriors, priors
from kvae.models import AE, VAE, ImageVAE, TextVAE
from kvae.models.vae import part_seed

MODELS = {"vae": VAE, "image_vae": ImageVAE, "text_vae": TextVAE, "ae": AE}


def list_posteriors():
    """Names accepted by `posterior=`."""
    return sorted(posteriors.POSTERIORS)


def list_priors():
    """Names accepted by `prior=`."""
    return sorted(priors.PRIORS)


def list_objectives():
    """Names accepted by `objective=`."""
    return sorted(objectives.OBJECTIVES)


def list_models():
    """Names accepted by `create_model`."""
    return sorted(MODELS)


def _resolve(value, getter, seed=None):
    """A {"name": ..., **kwargs} dict (plain config-file form) -> an instance; anything else unchanged."""
    if isinstance(value, dict) and "name" in value and "class_name" not in value:
        kwargs = {"seed": seed, **value}
        return getter(kwargs.pop("name"), **kwargs)
    return value


def create_model(name, **config):
    """A model from its name in `MODELS` and keyword arguments; `posterior`, `prior` and `objective` may be names,
    instances, Keras configs or plain dicts `{"name": "capacity", "c": 15}`."""
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; expected one of {list_models()}.")
    cls = MODELS[name]
    seed = config.get("seed")
    # Seeded as the model seeds the layers it builds from names (see `VAE`), unless the dict names its own seed.
    if "objective" in config:
        config["objective"] = _resolve(config["objective"], objectives.get, seed=part_seed(seed, "objective"))
    if "prior" in config:
        config["prior"] = _resolve(config["prior"], priors.get, seed=part_seed(seed, "prior"))
    if isinstance(config.get("posterior"), dict) and "class_name" not in config["posterior"]:
        raise ValueError("Give `posterior` as a name or a layer; posterior options go to the layer's constructor.")
    return cls(**config)
