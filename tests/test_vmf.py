"""Tests for the von Mises-Fisher posterior and the hyperspherical uniform prior: sampler moments and marginal against
SciPy and numerical integration, the normaliser, the closed-form KL against Monte Carlo, seeding, gradients through
the Householder reflection (by training), DG-vMF, configs and saving. Backend independent (run under
KERAS_BACKEND=tensorflow, jax and torch)."""

import math

import keras
import numpy as np
import pytest
from scipy import integrate, special, stats

import kvae
from kvae.distributions.sphere import _log_bessel_iv_series, log_bessel_iv, log_sphere_area, vmf_uniform_kl
from kvae.posteriors import VonMisesFisher
from kvae.priors import HypersphericalUniform, StandardNormal

N_DRAWS = 20000  # per mean direction
# Every sampler call uses means of shape (2, D), D in {2, 3, 8, 32}, and N_DRAWS or no samples, so that eager JAX
# compiles each op for few shapes.


from kvae.testing import np_, tensor


def unit_rows(rows, dim, seed=0):
    x = np.random.default_rng(seed).normal(size=(rows, dim))
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def draws(dim, kappa, seed=0, mu=None):
    """(mu (2, D), samples (N_DRAWS, 2, D)) as float64 NumPy arrays."""
    mu = unit_rows(2, dim, seed) if mu is None else mu
    layer = VonMisesFisher(latent_dim=dim, kappa=kappa, seed=seed)
    z = np_(layer.sample(tensor(mu), None, num_samples=N_DRAWS)).astype("float64")
    return mu, z


def cos_density(dim, kappa, grid=20001):
    """Exact density of t = mu.z = cos(theta) on a theta grid: p(theta) ∝ exp(kappa (cos theta - 1)) sin^{D-2} theta."""
    theta = np.linspace(0.0, math.pi, grid)
    dens = np.exp(kappa * (np.cos(theta) - 1.0)) * np.sin(theta) ** (dim - 2)
    return theta, dens / integrate.trapezoid(dens, theta)


MOMENT_CASES = [(3, 1.0), (3, 50.0), (8, 5.0), (8, 100.0), (32, 10.0), (32, 200.0)]


# ------------------------------------------------------------------------------------------------ sampler
@pytest.mark.parametrize("num_samples", [None, N_DRAWS])
def test_shapes_and_parameters(num_samples):
    layer = VonMisesFisher(latent_dim=8, kappa=10.0, seed=0)
    out = layer(tensor(np.random.default_rng(0).normal(size=(2, 7))), num_samples=num_samples)
    assert tuple(out["z_mean"].shape) == (2, 8) and tuple(out["z_log_var"].shape) == (2, 8)
    assert tuple(out["z"].shape) == ((2, 8) if num_samples is None else (N_DRAWS, 2, 8))
    np.testing.assert_allclose(np.linalg.norm(np_(out["z_mean"]), axis=-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np_(out["z_log_var"]), math.log(1 / 10.0), rtol=1e-6)
    spec = layer.compute_output_spec(keras.KerasTensor((5, 7)), num_samples=4)
    assert tuple(spec["z"].shape) == (4, 5, 8) and tuple(spec["z_mean"].shape) == (5, 8)


@pytest.mark.parametrize("dim, kappa", [(2, 3.0), (3, 50.0), (32, 1e4), (8, 0.01)])
def test_samples_lie_on_the_sphere(dim, kappa):
    # mean = +e1 (the Householder reflection degenerates to the identity) and -e1; random means in the tests below.
    mu = np.concatenate([np.eye(dim)[:1], -np.eye(dim)[:1]])
    layer = VonMisesFisher(latent_dim=dim, kappa=kappa, seed=1)
    z = np_(layer.sample(tensor(mu), None, num_samples=N_DRAWS))
    assert z.shape == (N_DRAWS, 2, dim) and np.all(np.isfinite(z))
    np.testing.assert_allclose(np.linalg.norm(z, axis=-1), 1.0, atol=2e-6)
    cos = np.sum(z * mu, axis=-1)
    if kappa >= 50:  # concentrated around each mean, +e1 and -e1 included
        assert np.all(cos > 0.5)


@pytest.mark.parametrize("dim, kappa", MOMENT_CASES)
def test_sample_mean_is_bessel_ratio_times_mu(dim, kappa):
    mu, z = draws(dim, kappa)
    ratio = special.ive(dim / 2, kappa) / special.ive(dim / 2 - 1, kappa)  # A_D(kappa) = E[mu.z]
    se = z.std(axis=0) / math.sqrt(N_DRAWS)
    assert np.all(np.abs(z.mean(axis=0) - ratio * mu) < 5 * se + 1e-5)
    assert VonMisesFisher(latent_dim=dim, kappa=kappa).mean_resultant_length == pytest.approx(ratio, rel=1e-10)


@pytest.mark.parametrize("dim, kappa", [(2, 10.0)] + MOMENT_CASES)
def test_cosine_marginal_matches_exact_vmf(dim, kappa):
    mu, z = draws(dim, kappa, seed=3)
    t = np.sum(z * mu, axis=-1).ravel()  # mu.z, 2 * N_DRAWS values
    theta, dens = cos_density(dim, kappa)
    mean = integrate.trapezoid(np.cos(theta) * dens, theta)
    var = integrate.trapezoid((np.cos(theta) - mean) ** 2 * dens, theta)
    n = t.size
    assert abs(t.mean() - mean) < 5 * t.std() / math.sqrt(n) + 1e-6
    assert abs(t.var() - var) < 5 * np.std((t - t.mean()) ** 2) / math.sqrt(n) + 1e-9
    # Whole distribution: Kolmogorov-Smirnov against the exact CDF of t (tabulated on the theta grid).
    cdf_t = 1.0 - integrate.cumulative_trapezoid(dens, theta, initial=0.0)  # P(T <= cos theta)
    cdf = lambda x: np.interp(x, np.cos(theta)[::-1], cdf_t[::-1])
    assert stats.kstest(t, cdf).pvalue > 1e-4


def test_marginal_test_detects_a_sampler_without_rejection():
    """Power check of the test above: Wood's proposal (every first proposal kept, no accept step), drawn in NumPy,
    fails the same Kolmogorov-Smirnov comparison."""
    dim, kappa = 3, 5.0
    m = dim - 1
    b = m / (2 * kappa + math.sqrt(4 * kappa**2 + m**2))
    beta = np.random.default_rng(0).beta(m / 2, m / 2, size=2 * N_DRAWS)
    t = (1 - (1 + b) * beta) / (1 - (1 - b) * beta)
    theta, dens = cos_density(dim, kappa)
    cdf_t = 1.0 - integrate.cumulative_trapezoid(dens, theta, initial=0.0)
    assert stats.kstest(t, lambda x: np.interp(x, np.cos(theta)[::-1], cdf_t[::-1])).pvalue < 1e-6


def test_seeded_determinism_and_fresh_noise():
    mu = tensor(unit_rows(2, 8))
    a, b = VonMisesFisher(latent_dim=8, kappa=10.0, seed=7), VonMisesFisher(latent_dim=8, kappa=10.0, seed=7)
    first_a, first_b = np_(a.sample(mu, None)), np_(b.sample(mu, None))
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.allclose(first_a, np_(a.sample(mu, None)))  # fresh noise on the next call
    c = VonMisesFisher(latent_dim=8, kappa=10.0, seed=8)
    assert not np.allclose(first_a, np_(c.sample(mu, None)))
    # A caller's SeedGenerator (an objective's) drives the noise when given.
    x = np_(a.sample(mu, None, num_samples=N_DRAWS, seed=keras.random.SeedGenerator(3)))
    y = np_(c.sample(mu, None, num_samples=N_DRAWS, seed=keras.random.SeedGenerator(3)))
    np.testing.assert_array_equal(x, y)


# ------------------------------------------------------------------------------------------------ densities
@pytest.mark.parametrize("kappa", [0.5, 5.0, 50.0])
def test_log_prob_d3_closed_form(kappa):
    layer = VonMisesFisher(latent_dim=3, kappa=kappa)
    mu, z = unit_rows(4, 3, 1), unit_rows(4, 3, 2)
    log_q = np_(layer.log_prob(tensor(z), tensor(mu), None))
    assert log_q.shape == (4, 1)
    log_c = math.log(kappa / (4 * math.pi)) - (kappa + math.log(-math.expm1(-2 * kappa)) - math.log(2))  # log sinh
    expected = log_c + kappa * np.sum(mu * z, axis=-1, keepdims=True)
    np.testing.assert_allclose(log_q, expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("dim, kappa", [(2, 3.0), (3, 20.0), (8, 1.0), (32, 100.0)])
def test_density_integrates_to_one(dim, kappa):
    """∫_S q(z) dz = ∫_0^pi q(cos theta) |S^{D-2}| sin^{D-2} theta d theta = 1, q evaluated by the layer."""
    layer = VonMisesFisher(latent_dim=dim, kappa=kappa)
    theta = np.linspace(0.0, math.pi, 20001)
    z = np.zeros((theta.size, dim))
    z[:, 0], z[:, 1] = np.cos(theta), np.sin(theta)
    log_q = np_(layer.log_prob(tensor(z), tensor(np.eye(dim)[:1]), None))[:, 0].astype("float64")
    ring = math.exp(log_sphere_area(dim - 1)) * np.sin(theta) ** (dim - 2)  # |S^{D-2}| = 2 for D = 2
    assert integrate.trapezoid(np.exp(log_q) * ring, theta) == pytest.approx(1.0, rel=1e-4)


def test_log_prob_broadcasts_like_the_joint_density():
    layer = VonMisesFisher(latent_dim=8, kappa=3.0)
    mean = tensor(unit_rows(2, 8))
    z = layer.sample(mean, None, num_samples=N_DRAWS)[:3]  # (3, 2, 8)
    assert tuple(layer.log_prob(z, mean, None).shape) == (3, 2, 1)
    pairs = np_(layer.log_prob(z[:, :, None, :], mean[None, None], None))  # density_gap's (M, B_i, B_j, 1)
    assert pairs.shape == (3, 2, 2, 1)
    np.testing.assert_allclose(pairs[:, [0, 1], [0, 1]], np_(layer.log_prob(z, mean, None)), rtol=1e-6)


@pytest.mark.parametrize("dim, kappa", [(3, 5.0), (8, 20.0), (32, 100.0)])
def test_kl_closed_form_matches_monte_carlo(dim, kappa):
    layer, prior = VonMisesFisher(latent_dim=dim, kappa=kappa), HypersphericalUniform()
    mu, z = draws(dim, kappa, seed=5)
    kl = np_(layer.kl(tensor(mu), None, prior))
    assert kl.shape == (2, 1)
    log_ratio = np_(layer.log_prob(tensor(z), tensor(mu), None) - prior.log_prob(tensor(z)))[..., 0]
    se = log_ratio.std() / math.sqrt(log_ratio.size)
    assert abs(log_ratio.mean() - kl[0, 0]) < 5 * se + 1e-3
    # Independent SciPy evaluation of kappa A_D + log C_D + log |S^{D-1}|.
    nu = dim / 2 - 1
    log_c = nu * math.log(kappa) - dim / 2 * math.log(2 * math.pi) - (math.log(special.ive(nu, kappa)) + kappa)
    area = math.log(2) + dim / 2 * math.log(math.pi) - special.gammaln(dim / 2)
    expected = kappa * special.ive(nu + 1, kappa) / special.ive(nu, kappa) + log_c + area
    np.testing.assert_allclose(kl, expected, rtol=1e-5)


def test_kl_prior_dispatch():
    layer = VonMisesFisher(latent_dim=4, kappa=2.0)
    mean = tensor(unit_rows(3, 4))
    np.testing.assert_allclose(np_(layer.kl(mean, None)), np_(layer.kl(mean, None, HypersphericalUniform())))
    assert layer.kl(mean, None, StandardNormal()) is None
    assert np.all(np_(layer.kl(mean, None)) > 0)


def test_log_bessel_and_kl_for_large_dimensions():
    for v, x in [(0.0, 0.1), (0.5, 3.0), (10.0, 1.0), (50.5, 20.0), (3.0, 700.0)]:
        assert log_bessel_iv(v, x) == pytest.approx(math.log(special.ive(v, x)) + x, rel=1e-12)
        if x < 100:
            assert _log_bessel_iv_series(v, x) == pytest.approx(math.log(special.ive(v, x)) + x, rel=1e-10)
    # Where ive underflows (order >> argument): the first two series terms dominate, and KL ~ kappa^2 / (2 D).
    assert special.ive(599.0, 0.5) == 0.0
    two_terms = 599 * math.log(0.25) - math.lgamma(600) + math.log1p(0.25**2 / 600)
    assert log_bessel_iv(599.0, 0.5) == pytest.approx(two_terms, rel=1e-10)
    assert vmf_uniform_kl(1200, 0.5) == pytest.approx(0.5**2 / (2 * 1200), rel=1e-2)
    assert vmf_uniform_kl(3, 1e-3) == pytest.approx(1e-6 / 6, rel=1e-2)


# ------------------------------------------------------------------------------------------------ prior
def test_hyperspherical_uniform_prior():
    prior = HypersphericalUniform(seed=3)
    z = prior.sample(N_DRAWS, 3)
    assert tuple(z.shape) == (N_DRAWS, 3)
    zn = np_(z)
    np.testing.assert_allclose(np.linalg.norm(zn, axis=-1), 1.0, atol=2e-6)
    assert np.all(np.abs(zn.mean(0)) < 5 / math.sqrt(3 * N_DRAWS))
    assert stats.kstest(zn[:, 0], stats.uniform(-1, 2).cdf).pvalue > 1e-4  # Archimedes: z_1 ~ U(-1, 1) on S^2
    np.testing.assert_array_equal(np_(HypersphericalUniform(seed=3).sample(5, 4)), np_(HypersphericalUniform(seed=3).sample(5, 4)))
    log_p = np_(prior.log_prob(tensor(np.ones((2, 5, 3)))))
    assert log_p.shape == (2, 5, 1)
    np.testing.assert_allclose(log_p, -math.log(4 * math.pi), rtol=1e-6)
    np.testing.assert_allclose(np_(prior.log_prob(tensor(np.ones((1, 2))))), -math.log(2 * math.pi), rtol=1e-6)
    assert prior.kl(tensor(np.ones((2, 3))), tensor(np.zeros((2, 3)))) is None
    restored = HypersphericalUniform.from_config(prior.get_config())
    assert restored.seed == 3
    with pytest.raises(ValueError):
        prior.sample(4, 1)


# ------------------------------------------------------------------------------------------------ config
def test_config_round_trip_and_bad_arguments():
    layer = VonMisesFisher(latent_dim=8, kappa=20, seed=4)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is VonMisesFisher
    assert (restored.latent_dim, restored.kappa, restored.seed) == (8, 20.0, 4)
    assert restored.uniform_kl == layer.uniform_kl
    prior = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(HypersphericalUniform(seed=2)))
    assert type(prior) is HypersphericalUniform and prior.seed == 2
    for kwargs in ({"latent_dim": 1}, {"latent_dim": 4, "kappa": 0.0}, {"latent_dim": 4, "kappa": -1.0},
                   {"latent_dim": 4, "kappa": math.inf}, {"latent_dim": 4, "kappa": True}, {"latent_dim": 2.0}):
        with pytest.raises(ValueError):
            VonMisesFisher(**kwargs)


# ------------------------------------------------------------------------------------------------ training
@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(128, 8, 8), dtype="uint8")


def make_model(objective="elbo"):
    return kvae.ImageVAE(
        latent_dim=8,
        posterior=VonMisesFisher(latent_dim=8, kappa=20.0),
        prior=HypersphericalUniform(),
        objective=objective,
        hidden_dims=(32,),
        learning_rate=3e-3,
        seed=0,
    )


@pytest.fixture(scope="module")
def trained(images):
    keras.utils.set_random_seed(0)
    model = make_model()
    model.build((None, 8, 8))
    kernel_before = np.array(model.posterior.mean_dense.get_weights()[0])
    history = model.fit(images, epochs=2, batch_size=32, verbose=0)
    return model, history.history, kernel_before


def test_vmf_vae_trains_and_gradients_reach_mu(trained):
    model, history, kernel_before = trained
    loss = history["loss"]
    assert np.all(np.isfinite(loss)) and loss[1] < loss[0]
    np.testing.assert_allclose(history["kl"], model.posterior.uniform_kl, rtol=1e-5)  # the constant KL
    # The KL is constant, so the mean head learns only from the reconstruction term, through z = H(mu) z':
    # its kernel moves only if gradients flow to mu through the sampler's Householder reflection.
    assert np.abs(model.posterior.mean_dense.get_weights()[0] - kernel_before).max() > 1e-3
    mean = model.encode(np.zeros((3, 8, 8), "uint8"))
    np.testing.assert_allclose(np.linalg.norm(mean, axis=-1), 1.0, atol=1e-5)
    assert model.sample(4).shape == (4, 8, 8)


def test_density_gap_vmf_trains(images):
    model = make_model(kvae.objectives.DensityGap(samples=4, marginal=False, seed=1))
    history = model.fit(images, epochs=2, batch_size=32, verbose=0).history
    assert np.all(np.isfinite(history["loss"])) and np.all(np.isfinite(history["reg"]))
    assert history["loss"][1] < history["loss"][0]
    # The joint density gap is at most the per-example KL (aggregation only lowers it).
    assert np.all(np.array(history["reg"]) <= np.array(history["kl"]) + 0.5)


def test_save_load_round_trip(trained, images, tmp_path):
    model = trained[0]
    path = str(tmp_path / "vmf.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.posterior) is VonMisesFisher and loaded.posterior.kappa == 20.0
    assert type(loaded.prior) is HypersphericalUniform
    np.testing.assert_allclose(loaded.encode(images[:16]), model.encode(images[:16]), atol=1e-6)
