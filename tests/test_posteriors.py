"""Tests for kvae.posteriors and kvae.priors: shapes, closed forms against NumPy/SciPy and Monte Carlo, seeding,
configs and argument checking. Backend independent (run under KERAS_BACKEND=tensorflow, jax and torch)."""

import math

import keras
import numpy as np
import pytest
from scipy import stats

import kvae
from kvae.posteriors import (
    Deterministic,
    DiagonalGaussian,
    GaussianPosterior,
    IsotropicGaussian,
    gaussian_kl,
    gaussian_log_prob,
    reparameterize,
)
from kvae.priors import StandardNormal
from kvae.testing import np_, np_kl, tensor

SAMPLERS = [IsotropicGaussian, DiagonalGaussian]
ALL_POSTERIORS = [IsotropicGaussian, DiagonalGaussian, Deterministic]


def features(batch=5, width=7, seed=0):
    return tensor(np.random.default_rng(seed).normal(size=(batch, width)))


# ------------------------------------------------------------------------------------------------ shapes
@pytest.mark.parametrize("cls", ALL_POSTERIORS)
@pytest.mark.parametrize("num_samples", [None, 1, 3])
def test_output_shapes(cls, num_samples):
    batch, latent = 5, 4
    layer = cls(latent_dim=latent, seed=0)
    out = layer(features(batch), num_samples=num_samples)
    assert set(out) == {"z_mean", "z_log_var", "z"}
    assert tuple(out["z_mean"].shape) == (batch, latent)
    assert tuple(out["z_log_var"].shape) == (batch, latent)
    expected_z = (batch, latent) if num_samples is None else (num_samples, batch, latent)
    assert tuple(out["z"].shape) == expected_z
    for value in out.values():
        assert np.all(np.isfinite(np_(value)))


@pytest.mark.parametrize("cls", ALL_POSTERIORS)
def test_compute_output_spec_shapes(cls):
    layer = cls(latent_dim=3)
    spec = layer.compute_output_spec(keras.KerasTensor((6, 9)), num_samples=4)
    assert tuple(spec["z_mean"].shape) == (6, 3)
    assert tuple(spec["z_log_var"].shape) == (6, 3)
    assert tuple(spec["z"].shape) == (4, 6, 3)


def test_isotropic_log_var_shared_across_units():
    layer = IsotropicGaussian(latent_dim=6, seed=0)
    out = layer(features(8))
    log_var = np_(out["z_log_var"])
    assert log_var.shape == (8, 6)
    np.testing.assert_array_equal(log_var, np.repeat(log_var[:, :1], 6, axis=1))
    # ...but it does vary across examples (it is a function of x), and the head has a single unit
    assert np.ptp(log_var[:, 0]) > 0
    assert tuple(layer.log_var_dense.kernel.shape) == (7, 1)


def test_diagonal_log_var_differs_across_units():
    layer = DiagonalGaussian(latent_dim=6, seed=0)
    out = layer(features(8))
    log_var = np_(out["z_log_var"])
    assert tuple(layer.log_var_dense.kernel.shape) == (7, 6)
    # random weights: every example has distinct per-unit log-variances
    assert np.all(np.ptp(log_var, axis=1) > 1e-4)


def test_posterior_parameters_are_the_dense_heads():
    layer = DiagonalGaussian(latent_dim=3, seed=0)
    x = features(4)
    out = layer(x)
    xn = np_(x)
    mean_ref = xn @ np_(layer.mean_dense.kernel) + np_(layer.mean_dense.bias)
    log_var_ref = xn @ np_(layer.log_var_dense.kernel) + np_(layer.log_var_dense.bias)
    np.testing.assert_allclose(np_(out["z_mean"]), mean_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np_(out["z_log_var"]), log_var_ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("num_samples", [None, 3])
def test_deterministic_z_is_mean(num_samples):
    layer = Deterministic(latent_dim=4, seed=0)
    out = layer(features(5), num_samples=num_samples)
    mean = np_(out["z_mean"])
    np.testing.assert_array_equal(np_(out["z_log_var"]), np.zeros_like(mean))
    z = np_(out["z"])
    if num_samples is None:
        np.testing.assert_array_equal(z, mean)
    else:
        np.testing.assert_array_equal(z, np.broadcast_to(mean, (num_samples,) + mean.shape))
    np.testing.assert_array_equal(np_(layer.kl(out["z_mean"], out["z_log_var"])), np.zeros_like(mean))
    # no variance head at all
    assert not hasattr(layer, "log_var_dense")


# ---------------------------------------------------------------------------------------- closed forms
def test_gaussian_kl_numpy_formula():
    rng = np.random.default_rng(1)
    mean = rng.normal(size=(6, 5)).astype("float32") * 2
    log_var = rng.normal(size=(6, 5)).astype("float32") * 1.5
    kl = np_(gaussian_kl(tensor(mean), tensor(log_var)))
    assert kl.shape == (6, 5)
    np.testing.assert_allclose(kl, np_kl(mean.astype("float64"), log_var.astype("float64")), rtol=1e-5, atol=1e-6)
    # KL is zero exactly at the prior, positive elsewhere
    np.testing.assert_allclose(np_(gaussian_kl(tensor(np.zeros(3)), tensor(np.zeros(3)))), 0.0, atol=1e-7)
    assert np.all(kl > 0)


def test_gaussian_kl_monte_carlo():
    rng = np.random.default_rng(2)
    mean = np.array([0.0, 1.5, -0.7, 0.3], dtype="float64")
    log_var = np.array([0.0, -1.0, 0.8, -2.5], dtype="float64")
    n = 400_000
    z = mean + np.exp(0.5 * log_var) * rng.standard_normal((n, 4))
    log_q = stats.norm.logpdf(z, loc=mean, scale=np.exp(0.5 * log_var))
    log_p = stats.norm.logpdf(z)
    diff = log_q - log_p
    mc = diff.mean(axis=0)
    se = diff.std(axis=0) / math.sqrt(n)
    kl = np_(gaussian_kl(tensor(mean), tensor(log_var)))
    assert np.all(np.abs(kl - mc) < 5 * se + 1e-5), (kl, mc, se)


def test_gaussian_log_prob_matches_scipy():
    rng = np.random.default_rng(3)
    mean = rng.normal(size=(4, 3)).astype("float32")
    log_var = rng.normal(size=(4, 3)).astype("float32")
    z = rng.normal(size=(2, 4, 3)).astype("float32") * 2  # broadcasts against (4, 3)
    got = np_(gaussian_log_prob(tensor(z), tensor(mean), tensor(log_var)))
    ref = stats.norm.logpdf(z, loc=mean, scale=np.exp(0.5 * log_var.astype("float64")))
    assert got.shape == (2, 4, 3)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    # the posterior layer's log_prob is the same function
    layer = DiagonalGaussian(latent_dim=3)
    np.testing.assert_allclose(np_(layer.log_prob(tensor(z), tensor(mean), tensor(log_var))), ref, rtol=1e-5, atol=1e-5)


def test_gaussian_posterior_kl_uses_prior_closed_form():
    rng = np.random.default_rng(4)
    mean = rng.normal(size=(3, 2)).astype("float32")
    log_var = rng.normal(size=(3, 2)).astype("float32")
    layer = IsotropicGaussian(latent_dim=2)
    ref = np_kl(mean, log_var)
    np.testing.assert_allclose(np_(layer.kl(tensor(mean), tensor(log_var))), ref, rtol=1e-5)
    np.testing.assert_allclose(np_(layer.kl(tensor(mean), tensor(log_var), StandardNormal())), ref, rtol=1e-5)


def test_standard_normal_log_prob_and_kl():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(3, 5, 4)).astype("float32") * 3
    prior = StandardNormal(seed=0)
    got = np_(prior.log_prob(tensor(z)))
    assert got.shape == z.shape
    np.testing.assert_allclose(got, stats.norm.logpdf(z), rtol=1e-5, atol=1e-5)
    mean = rng.normal(size=(5, 4)).astype("float32")
    log_var = rng.normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(np_(prior.kl(tensor(mean), tensor(log_var))), np_kl(mean, log_var), rtol=1e-5)


def test_standard_normal_sample():
    prior = StandardNormal(seed=0)
    a = np_(prior.sample(20_000, 3))
    b = np_(prior.sample(20_000, 3))
    assert a.shape == (20_000, 3)
    assert not np.allclose(a, b)
    se = 1 / math.sqrt(20_000)
    assert np.all(np.abs(a.mean(axis=0)) < 5 * se)
    assert np.all(np.abs(a.var(axis=0) - 1) < 5 * math.sqrt(2 / 20_000))


# ------------------------------------------------------------------------------------ reparameterisation
def test_reparameterize_sample_moments():
    mean = np.array([[0.0, 2.0, -1.0], [0.5, -3.0, 4.0]], dtype="float32")
    log_var = np.array([[0.0, -2.0, 1.0], [-4.0, 0.5, 2.0]], dtype="float32")
    n = 50_000
    z = np_(reparameterize(tensor(mean), tensor(log_var), keras.random.SeedGenerator(7), num_samples=n))
    assert z.shape == (n, 2, 3)
    var = np.exp(log_var.astype("float64"))
    np.testing.assert_array_less(np.abs(z.mean(axis=0) - mean), 5 * np.sqrt(var / n))
    np.testing.assert_array_less(np.abs(z.var(axis=0) - var), 5 * var * math.sqrt(2 / (n - 1)))
    # units and examples are independent: the sample correlation is ~0
    corr = np.corrcoef(z.reshape(n, -1), rowvar=False)
    off_diagonal = corr[~np.eye(6, dtype=bool)]
    assert np.all(np.abs(off_diagonal) < 5 / math.sqrt(n))


def test_reparameterize_single_sample_shape_and_zero_variance_limit():
    mean = np.arange(6, dtype="float32").reshape(2, 3)
    z = np_(reparameterize(tensor(mean), tensor(np.full((2, 3), -60.0)), keras.random.SeedGenerator(0)))
    assert z.shape == (2, 3)
    np.testing.assert_allclose(z, mean, atol=1e-6)


@pytest.mark.parametrize("cls", SAMPLERS)
def test_layer_samples_have_posterior_moments(cls):
    layer = cls(latent_dim=3, seed=11)
    x = features(2)
    out = layer(x, num_samples=40_000)
    mean, var = np_(out["z_mean"]), np.exp(np_(out["z_log_var"]).astype("float64"))
    z = np_(out["z"])
    n = z.shape[0]
    np.testing.assert_array_less(np.abs(z.mean(axis=0) - mean), 5 * np.sqrt(var / n))
    np.testing.assert_array_less(np.abs(z.var(axis=0) - var), 5 * var * math.sqrt(2 / (n - 1)))


# ------------------------------------------------------------------------------------------- seeding
def _twin_layers(cls, seed):
    x = features(4)
    a = cls(latent_dim=5, seed=seed)
    a.build(tuple(x.shape))
    b = cls(latent_dim=5, seed=seed)
    b.build(tuple(x.shape))
    b.set_weights(a.get_weights())
    return a, b, x


@pytest.mark.parametrize("cls", SAMPLERS)
def test_same_seed_same_weights_same_z(cls):
    a, b, x = _twin_layers(cls, seed=42)
    za1, zb1 = np_(a(x)["z"]), np_(b(x)["z"])
    np.testing.assert_array_equal(za1, zb1)
    za2, zb2 = np_(a(x, num_samples=3)["z"]), np_(b(x, num_samples=3)["z"])
    np.testing.assert_array_equal(za2, zb2)


@pytest.mark.parametrize("cls", SAMPLERS)
def test_seed_generator_advances_between_calls(cls):
    layer = cls(latent_dim=5, seed=42)
    x = features(4)
    z1, z2 = np_(layer(x)["z"]), np_(layer(x)["z"])
    assert not np.allclose(z1, z2)
    # the parameters are unchanged, only the noise differs
    np.testing.assert_array_equal(np_(layer(x)["z_mean"]), np_(layer(x)["z_mean"]))


@pytest.mark.parametrize("cls", SAMPLERS)
def test_different_seeds_different_z(cls):
    a, _, x = _twin_layers(cls, seed=1)
    c = cls(latent_dim=5, seed=2)
    c.build(tuple(x.shape))
    c.set_weights(a.get_weights())
    assert not np.allclose(np_(a(x)["z"]), np_(c(x)["z"]))


def test_sample_uses_given_seed_generator():
    layer = DiagonalGaussian(latent_dim=3, seed=0)
    mean, log_var = tensor(np.zeros((2, 3))), tensor(np.zeros((2, 3)))
    z1 = np_(layer.sample(mean, log_var, seed=keras.random.SeedGenerator(9)))
    z2 = np_(layer.sample(mean, log_var, seed=keras.random.SeedGenerator(9)))
    np.testing.assert_array_equal(z1, z2)


# ---------------------------------------------------------------------------------------------- configs
@pytest.mark.parametrize("cls", ALL_POSTERIORS)
def test_posterior_config_round_trip(cls):
    layer = cls(latent_dim=7, seed=13, name="q")
    config = layer.get_config()
    assert config["latent_dim"] == 7 and config["seed"] == 13
    clone = cls.from_config(config)
    assert type(clone) is cls
    assert clone.latent_dim == 7 and clone.seed == 13 and clone.name == "q"
    assert clone.get_config() == config
    # and through the Keras registry, as a model config stores it
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is cls and restored.get_config() == config
    via_get = kvae.posteriors.get(keras.saving.serialize_keras_object(layer), latent_dim=7)
    assert type(via_get) is cls and via_get.latent_dim == 7


@pytest.mark.parametrize("cls", SAMPLERS)
def test_posterior_clone_with_same_seed_samples_identically(cls):
    layer = cls(latent_dim=3, seed=5)
    clone = cls.from_config(layer.get_config())
    x = features(2)
    layer.build(tuple(x.shape))
    clone.build(tuple(x.shape))
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(np_(layer(x)["z"]), np_(clone(x)["z"]))


def test_prior_config_round_trip():
    prior = StandardNormal(seed=3, name="p")
    config = prior.get_config()
    assert config["seed"] == 3
    clone = StandardNormal.from_config(config)
    assert clone.seed == 3 and clone.name == "p"
    assert clone.get_config() == config
    np.testing.assert_array_equal(np_(prior.sample(4, 2)), np_(clone.sample(4, 2)))
    restored = kvae.priors.get(keras.saving.serialize_keras_object(prior))
    assert isinstance(restored, StandardNormal) and restored.seed == 3


# ---------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("cls", ALL_POSTERIORS)
@pytest.mark.parametrize("latent_dim", [0, -1, 2.5, True, "4", None])
def test_bad_latent_dim(cls, latent_dim):
    with pytest.raises(ValueError, match="latent_dim"):
        cls(latent_dim=latent_dim)


def test_get_by_name_and_unknown_name():
    for name, cls in [("isotropic", IsotropicGaussian), ("diagonal", DiagonalGaussian), ("deterministic", Deterministic)]:
        layer = kvae.posteriors.get(name, latent_dim=3, seed=4)
        assert type(layer) is cls and layer.latent_dim == 3 and layer.seed == 4
    with pytest.raises(ValueError, match="posterior"):
        kvae.posteriors.get("nope", latent_dim=3)


def test_get_instance_checks_latent_dim():
    layer = DiagonalGaussian(latent_dim=3)
    assert kvae.posteriors.get(layer, latent_dim=3) is layer
    with pytest.raises(ValueError, match="latent_dim"):
        kvae.posteriors.get(layer, latent_dim=4)


def test_unknown_prior_name():
    assert isinstance(kvae.priors.get("normal", seed=1), StandardNormal)
    with pytest.raises(ValueError, match="prior"):
        kvae.priors.get("laplace")


def test_every_registered_posterior_and_prior_subclasses_its_base():
    for name, cls in kvae.posteriors.POSTERIORS.items():
        assert issubclass(cls, kvae.posteriors.Posterior), name
    for name, cls in kvae.priors.PRIORS.items():
        assert issubclass(cls, kvae.priors.Prior), name
    gaussian = {name for name, cls in kvae.posteriors.POSTERIORS.items() if issubclass(cls, GaussianPosterior)}
    assert gaussian == {"isotropic", "diagonal", "batchnorm", "delta"}


def test_capabilities_replace_class_checks():
    # has_gaussian_density: the diagonal Gaussian density (Deterministic reports N(mean, I)); vMF has its own
    layers = {name: kvae.posteriors.get(name, latent_dim=3) for name in kvae.list_posteriors()}
    assert {name for name, layer in layers.items() if layer.has_gaussian_density()} == set(layers) - {"vmf"}
    assert {name for name, layer in layers.items() if not layer.factorized} == {"vmf"}
    assert {name for name, layer in layers.items() if layer.seed_generator is None} == {"deterministic"}
    priors = {name: kvae.priors.get(name) for name in kvae.list_priors()}
    assert {name for name, p in priors.items() if p.is_standard_normal()} == {"normal"}
    assert {name for name, p in priors.items() if p.is_uniform_on_sphere()} == {"hyperspherical"}
    assert {name for name, p in priors.items() if p.factorized} == {"normal"}
    # a prior must state the contract: a plain layer is refused with the base class named
    with pytest.raises(ValueError, match="kvae.priors.Prior"):
        kvae.priors.get(keras.layers.Dense(2))
