"""Tests for kvae.priors.MixtureOfGaussians: the joint log density against SciPy (diagonal and isotropic
components, extreme points), sampling moments and weights, the objectives' Monte Carlo KL with a joint prior, and
training / saving an ImageVAE with the prior. Backend independent (run under KERAS_BACKEND=tensorflow, jax and
torch)."""

import math

import keras
import numpy as np
import pytest
from keras import ops
from scipy import stats
from scipy.special import logsumexp

import kvae
from kvae.objectives import IWAE, DensityGap, kl_terms
from kvae.posteriors import IsotropicGaussian
from kvae.priors.mixture_of_gaussians import MixtureOfGaussians
from kvae.priors.standard_normal import StandardNormal
from kvae.testing import np_, tensor


def make_prior(means, log_vars, logits, isotropic, **kwargs):
    """A built prior with the given parameters: means (C, D), log_vars (C, D) or (C, 1), logits (C,)."""
    means = np.asarray(means, "float32")
    prior = MixtureOfGaussians(components=means.shape[0], isotropic=isotropic, **kwargs)
    prior.build((None, means.shape[1]))
    prior.set_weights([means, np.asarray(log_vars, "float32"), np.asarray(logits, "float32")])
    return prior


def scipy_log_prob(z, means, log_vars, logits):
    """log sum_c pi_c N(z; m_c, diag(exp(log_var_c))) in float64 with scipy."""
    z = np.asarray(z, "float64")
    log_pi = np.asarray(logits, "float64") - logsumexp(np.asarray(logits, "float64"))
    terms = []
    for c in range(means.shape[0]):
        var = np.broadcast_to(np.exp(np.asarray(log_vars[c], "float64")), means[c].shape)
        terms.append(log_pi[c] + stats.multivariate_normal(means[c].astype("float64"), np.diag(var)).logpdf(z))
    return logsumexp(np.stack(terms, -1), axis=-1)


C, D, N = 3, 4, 8  # one set of shapes for the small tests (JAX compiles each new shape once, eagerly)


def random_parameters(rng, isotropic, c=C, d=D):
    means = rng.normal(size=(c, d)) * 2.0
    log_vars = rng.normal(size=(c, 1 if isotropic else d)) * 0.7
    logits = rng.normal(size=(c,))
    return means, log_vars, logits


# ------------------------------------------------------------------------------------------------- log density
@pytest.mark.parametrize("isotropic", [False, True])
def test_log_prob_matches_scipy(isotropic):
    rng = np.random.default_rng(0 if isotropic else 1)
    means, log_vars, logits = random_parameters(rng, isotropic)
    prior = make_prior(means, log_vars, logits, isotropic)
    z = rng.normal(size=(2, N, D)) * 3.0  # any leading shape
    got = np_(prior.log_prob(tensor(z)))
    assert got.shape == (2, N, 1)
    np.testing.assert_allclose(got[..., 0], scipy_log_prob(z, means, log_vars, logits), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("isotropic", [False, True])
def test_log_prob_is_stable_in_high_dimension_and_far_away(isotropic):
    """32 dims and points far from every mean: the components' densities underflow in linear space, the
    log-sum-exp stays finite and exact."""
    rng = np.random.default_rng(2)
    d = 32
    means, log_vars, logits = random_parameters(rng, isotropic, d=d)
    prior = make_prior(means, log_vars, logits, isotropic)
    z = np.concatenate([rng.normal(size=(N - 2, d)) * 10.0, np.full((1, d), 1e3), np.full((1, d), -3e3)])
    got = np_(prior.log_prob(tensor(z)))[:, 0]
    assert np.all(np.isfinite(got))
    want = scipy_log_prob(z, means, log_vars, logits)
    assert np.all(want < -700)  # exp() of these underflows in float64: only log space gets them right
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_single_standard_component_is_the_standard_normal():
    prior = make_prior(np.zeros((1, D)), np.zeros((1, D)), np.zeros((1,)), isotropic=False)
    z = tensor(np.random.default_rng(3).normal(size=(N, D)) * 2.0)
    want = np_(ops.sum(StandardNormal().log_prob(z), axis=-1, keepdims=True))
    np.testing.assert_allclose(np_(prior.log_prob(z)), want, rtol=1e-6, atol=1e-5)


def test_isotropic_variance_is_shared_across_units():
    """Isotropic: one log-variance per component, the same as a diagonal prior with that value in every unit."""
    rng = np.random.default_rng(4)
    means, log_vars, logits = random_parameters(rng, isotropic=True)
    iso = make_prior(means, log_vars, logits, isotropic=True)
    diag = make_prior(means, np.repeat(log_vars, D, axis=1), logits, isotropic=False)
    assert [tuple(w.shape) for w in iso.weights] == [(C, D), (C, 1), (C,)]
    z = tensor(rng.normal(size=(N, D)))
    np.testing.assert_allclose(np_(iso.log_prob(z)), np_(diag.log_prob(z)), rtol=1e-5)


def test_kl_has_no_closed_form_and_defaults():
    prior = MixtureOfGaussians(seed=0)
    prior.build((None, D))
    assert prior.kl(tensor(np.zeros((N, D))), tensor(np.zeros((N, D)))) is None
    assert [tuple(w.shape) for w in prior.weights] == [(5, D), (5, D), (5,)]
    assert np.all(np_(prior.log_vars) == 0) and np.all(np_(prior.logits) == 0)
    assert np.std(np_(prior.means)) > 0.3  # spread out, not all at the origin
    assert len(prior.trainable_weights) == 3
    fixed = MixtureOfGaussians(learn_weights=False)
    fixed.build((None, D))
    assert len(fixed.trainable_weights) == 2 and all(w is not fixed.logits for w in fixed.trainable_weights)


def test_invalid_arguments():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="components"):
            MixtureOfGaussians(components=bad)
    prior = MixtureOfGaussians()
    with pytest.raises(ValueError, match="not built"):
        prior.sample(3, 2)
    prior.build((None, D))
    with pytest.raises(ValueError, match="latent size"):
        prior.sample(3, D + 1)


# ---------------------------------------------------------------------------------------------------- sampling
@pytest.mark.parametrize("isotropic", [False, True])
def test_samples_match_mixture_moments(isotropic):
    rng = np.random.default_rng(5)
    c, d, n = C, D, 20000
    means, log_vars, logits = random_parameters(rng, isotropic)
    prior = make_prior(means, log_vars, logits, isotropic, seed=7)
    z = np_(prior.sample(n, d)).astype("float64")
    assert z.shape == (n, d) and np.all(np.isfinite(z))
    pi = np.exp(logits - logsumexp(logits))
    variances = np.broadcast_to(np.exp(log_vars), (c, d))
    mean = pi @ means
    cov = sum(pi[k] * (np.diag(variances[k]) + np.outer(means[k], means[k])) for k in range(c)) - np.outer(mean, mean)
    scale = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(z.mean(0), mean, atol=5 * scale.max() / math.sqrt(n))
    np.testing.assert_allclose(np.cov(z, rowvar=False), cov, atol=0.06 * np.abs(cov).max() + 0.02)


@pytest.mark.parametrize("learn_weights", [True, False])
def test_sampling_respects_mixture_weights(learn_weights):
    """Well separated components (means 20 apart, std 0.1): the nearest mean tells each draw's component."""
    c, d, n = C, D, 20000
    means = np.zeros((c, d))
    means[:, 0] = [-20.0, 0.0, 20.0]
    logits = np.log([0.6, 0.3, 0.1]) if learn_weights else np.zeros(c)
    prior = make_prior(means, np.full((c, d), 2 * math.log(0.1)), logits, isotropic=False,
                       learn_weights=learn_weights, seed=11)
    z = np_(prior.sample(n, d))
    component = np.argmin(((z[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    freq = np.bincount(component, minlength=c) / n
    pi = np.exp(logits - logsumexp(logits))
    np.testing.assert_allclose(freq, pi, atol=4 * np.sqrt(pi * (1 - pi) / n).max())
    np.testing.assert_allclose(np.abs(z - means[component]).max(), 0.0, atol=0.6)  # within 6 std of its mean


def test_sampling_is_seeded():
    a, b = (make_prior(np.eye(C, D), np.zeros((C, D)), np.zeros(C), False, seed=3) for _ in range(2))
    first = np_(a.sample(50, D))
    np.testing.assert_array_equal(first, np_(b.sample(50, D)))
    assert not np.array_equal(first, np_(a.sample(50, D)))  # fresh draws on the next call


# --------------------------------------------------------------------------------------- objectives and models
def test_kl_terms_uses_the_joint_prior_density():
    """Without a closed form the per-example KL is sum_u log q(z_u|x) - log p(z), with the JOINT log p(z) counted
    once (not once per unit)."""
    rng = np.random.default_rng(6)
    b, d = N, D
    means, log_vars, logits = random_parameters(rng, False)
    prior = make_prior(means, log_vars, logits, isotropic=False)
    mean, log_var = rng.normal(size=(b, d)), rng.normal(size=(b, d)) * 0.3 - 1.0
    z = mean + np.exp(0.5 * log_var) * rng.normal(size=(b, d))
    outputs = {"z_mean": tensor(mean), "z_log_var": tensor(log_var), "z": tensor(z)}
    kl_units, kl = kl_terms(outputs, IsotropicGaussian(d), prior)
    assert kl_units is None
    log_q = stats.norm(mean, np.exp(0.5 * log_var)).logpdf(z).sum(-1)
    np.testing.assert_allclose(np_(kl), log_q - scipy_log_prob(z, means, log_vars, logits), rtol=1e-4, atol=1e-3)


def test_density_gap_marginal_is_refused_for_the_joint_prior():
    """The mixture has no per-unit factors: the marginal density gap is not defined for it."""
    prior = make_prior(*random_parameters(np.random.default_rng(7), False), isotropic=False)
    assert prior.factorized is False
    outputs = {"z_mean": tensor(np.zeros((N, D))), "z_log_var": tensor(np.zeros((N, D)))}
    with pytest.raises(ValueError, match="marginal=False"):
        DensityGap(samples=2, marginal=True).regularizer(outputs, None, None, IsotropicGaussian(D), prior, 0.0)


LATENT = 32


def images(n=128):
    return np.random.default_rng(0).integers(0, 256, size=(n, 8, 8), dtype="uint8")


def mog_model(objective="elbo", **kwargs):
    prior = MixtureOfGaussians(components=3, isotropic=True, seed=0)
    model = kvae.ImageVAE(
        posterior="isotropic", prior=prior, hidden_dims=(32,), latent_dim=LATENT, objective=objective, seed=0, **kwargs
    )
    return model, prior


def test_model_builds_its_prior():
    model, prior = mog_model(image_shape=(8, 8))
    model.build((None, 8, 8))
    assert prior.built and tuple(prior.means.shape) == (3, LATENT)
    assert all(any(w is v for v in model.trainable_weights) for w in prior.trainable_weights)


def test_image_vae_trains_with_mixture_prior_and_saves(tmp_path):
    model, prior = mog_model(image_shape=(8, 8))
    model.build((None, 8, 8))  # builds the prior too
    before = np_(prior.means).copy()
    x = images()
    history = model.fit(x, epochs=2, batch_size=32, verbose=0)
    loss = history.history["loss"]
    assert np.all(np.isfinite(loss)) and loss[1] < loss[0]
    assert np.all(np.isfinite(history.history["kl"]))
    assert not np.allclose(np_(prior.means), before)  # the prior's means receive gradients

    path = str(tmp_path / "mog.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.prior, MixtureOfGaussians)
    assert loaded.prior.get_config() == prior.get_config()
    for got, want in zip(loaded.prior.get_weights(), prior.get_weights()):
        np.testing.assert_array_equal(got, want)
    z = tensor(np.random.default_rng(8).normal(size=(5, LATENT)))
    np.testing.assert_allclose(np_(loaded.prior.log_prob(z)), np_(prior.log_prob(z)), rtol=1e-6)


@pytest.mark.parametrize(
    "objective",
    [lambda: IWAE(k=3, seed=0), lambda: DensityGap(samples=4, marginal=False, seed=0)],
    ids=["iwae", "density_gap_joint"],
)
def test_objectives_with_mixture_prior_give_finite_losses(objective):
    model, prior = mog_model(objective=objective(), image_shape=(8, 8))
    model.build((None, 8, 8))  # builds the prior too
    before = np_(prior.means).copy()
    history = model.fit(images(64), epochs=1, batch_size=32, verbose=0)
    assert np.all(np.isfinite(history.history["loss"])) and np.all(np.isfinite(history.history["reg"]))
    assert not np.allclose(np_(prior.means), before)
