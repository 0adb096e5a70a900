"""`VAE.with_posterior`: warm starts between isotropic and diagonal posteriors (image and text models)."""


import keras
import numpy as np
import pytest

from kvae.posteriors import DiagonalGaussian, IsotropicGaussian
from kvae.testing import np_, random_images
from kvae.testing import tiny_image_vae as image_vae

BATCH = 32  # image batch: every image fit / evaluate sees the same shapes


@pytest.fixture(scope="module")
def images():
    return random_images()


@pytest.fixture(scope="module")
def iso_image_model(images):
    keras.utils.set_random_seed(0)
    model = image_vae(posterior="isotropic", seed=0)
    model.fit(images, epochs=1, batch_size=BATCH, verbose=0)
    return model


def test_with_posterior_isotropic_to_diagonal(iso_image_model, images):
    model = iso_image_model
    new = model.with_posterior("diagonal")
    assert isinstance(new.posterior, DiagonalGaussian) and type(new) is type(model)
    assert int(np_(new.objective.step)) == int(np_(model.objective.step)) == 2
    mean, log_var = model.encode(images, return_log_var=True)
    new_mean, new_log_var = new.encode(images, return_log_var=True)
    np.testing.assert_allclose(new_mean, mean, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(new_log_var, log_var, rtol=1e-6, atol=1e-7)
    kernel, bias = new.posterior.log_var_dense.get_weights()
    old_kernel, old_bias = model.posterior.log_var_dense.get_weights()
    np.testing.assert_array_equal(kernel, np.repeat(old_kernel, 4, axis=1))
    np.testing.assert_array_equal(bias, np.repeat(old_bias, 4))
    for a, b in zip(new.decoder.get_weights(), model.decoder.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_with_posterior_diagonal_to_isotropic_averages_heads(images):
    model = image_vae(posterior="diagonal", seed=0)
    model.build((None, 8, 8))
    rng = np.random.default_rng(5)
    kernel, bias = rng.normal(size=(16, 4)).astype("float32"), rng.normal(size=(4,)).astype("float32")
    model.posterior.log_var_dense.set_weights([kernel, bias])
    model.objective.step.assign(7)
    new = model.with_posterior("isotropic")
    assert isinstance(new.posterior, IsotropicGaussian)
    assert int(np_(new.objective.step)) == 7
    new_kernel, new_bias = new.posterior.log_var_dense.get_weights()
    np.testing.assert_allclose(new_kernel, kernel.mean(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(new_bias, [bias.mean()], rtol=1e-6)
    for a, b in zip(new.posterior.mean_dense.get_weights(), model.posterior.mean_dense.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_with_posterior_unbuilt_raises():
    with pytest.raises(ValueError, match="built"):
        image_vae().with_posterior("diagonal")
