"""kvae.registry: the name lists, `create_model` from names and plain dicts, seeding, unknown names; and
cyclic beta annealing in a real fit."""


import numpy as np
import pytest

import kvae
from kvae.objectives import IWAE, Beta, Capacity
from kvae.posteriors import BatchNormGaussian, DeltaGaussian
from kvae.priors import MixtureOfGaussians
from kvae.testing import TINY_IMAGE as IMAGE_SIZES
from kvae.testing import TINY_TEXT as TEXT_SIZES
from kvae.testing import np_, random_images
from kvae.testing import tiny_image_vae as image_vae

BATCH = 32  # image batch: every image fit / evaluate sees the same shapes


@pytest.fixture(scope="module")
def images():
    return random_images()


def test_registry_lists():
    assert {"isotropic", "diagonal", "batchnorm", "delta"} <= set(kvae.list_posteriors())
    assert {"normal", "mog", "moig"} <= set(kvae.list_priors())
    assert {"elbo", "beta", "capacity", "free_bits", "density_gap", "iwae"} <= set(kvae.list_objectives())
    assert {"vae", "image_vae", "text_vae", "ae"} <= set(kvae.list_models())
    for names in (kvae.list_posteriors(), kvae.list_priors(), kvae.list_objectives(), kvae.list_models()):
        assert names == sorted(names)


def test_create_model_by_names():
    model = kvae.create_model(
        "image_vae", posterior="delta", objective={"name": "capacity", "c": 15}, **IMAGE_SIZES
    )
    assert isinstance(model, kvae.ImageVAE)
    assert isinstance(model.posterior, DeltaGaussian) and model.posterior.latent_dim == 4
    assert isinstance(model.objective, Capacity) and model.objective.c == 15.0
    moig = kvae.create_model("image_vae", prior="moig", **IMAGE_SIZES)
    assert isinstance(moig.prior, MixtureOfGaussians) and moig.prior.isotropic
    mog = kvae.create_model("text_vae", prior={"name": "mog", "components": 3}, **TEXT_SIZES)
    assert isinstance(mog.prior, MixtureOfGaussians) and not mog.prior.isotropic and mog.prior.components == 3
    iwae = kvae.create_model("image_vae", objective={"name": "iwae", "k": 3}, posterior="batchnorm", **IMAGE_SIZES)
    assert isinstance(iwae.objective, IWAE) and iwae.objective.k == 3
    assert isinstance(iwae.posterior, BatchNormGaussian)


def test_create_model_seeds_dict_objectives_and_priors_like_names():
    # A config-file dict gets the seed the model gives a name, so both forms train identically.
    by_dict = kvae.create_model(
        "image_vae", objective={"name": "iwae", "k": 2}, prior={"name": "mog"}, seed=7, **IMAGE_SIZES
    )
    by_name = kvae.ImageVAE(objective="iwae", prior="mog", seed=7, **IMAGE_SIZES)
    assert by_dict.objective.seed == by_name.objective.seed == 9
    assert by_dict.prior.seed == by_name.prior.seed == 8
    own = kvae.create_model("image_vae", objective={"name": "density_gap", "seed": 3}, seed=7, **IMAGE_SIZES)
    assert own.objective.seed == 3
    assert kvae.create_model("image_vae", objective={"name": "elbo"}, **IMAGE_SIZES).objective.seed is None


@pytest.mark.parametrize(
    "name, kwargs, argument",
    [
        ("nope", {}, "model"),
        ("image_vae", {"posterior": "nope"}, "posterior"),
        ("image_vae", {"prior": "nope"}, "prior"),
        ("image_vae", {"objective": "nope"}, "objective"),
        ("image_vae", {"objective": {"name": "nope"}}, "objective"),
        ("image_vae", {"prior": {"name": "nope"}}, "prior"),
    ],
)
def test_create_model_unknown_names(name, kwargs, argument):
    with pytest.raises(ValueError, match=argument) as info:
        kvae.create_model(name, **kwargs)
    assert "nope" in str(info.value)


def test_beta_cyclic_schedule_in_fit(images):
    beta = 2.0
    objective = Beta(beta=beta, annealing="cyclic", anneal_steps=4, ratio=0.5, cycles=2)
    model = image_vae(objective=objective, seed=0)
    history = model.fit(images[:BATCH], epochs=10, batch_size=BATCH, verbose=0).history
    expected = np.array([0, 0.5, 1, 1, 0, 0.5, 1, 1, 1, 1]) * beta
    np.testing.assert_allclose(history["beta"], expected, atol=1e-6)
    assert int(np_(model.objective.step)) == 10
