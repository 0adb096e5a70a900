"""Property-based tests (hypothesis) of the samplers, priors and objectives over extreme parameters.

Sane range: posterior means in [-1e3, 1e3] and log-variances in [LOG_VAR_MIN, LOG_VAR_MAX] = [-30, 30] (standard
deviations 3e-7 .. 3e6). There samples, log-densities, KLs and every objective's loss are finite and the closed forms
match float64 to float32 precision. Beyond it (log-variances up to +-1e4, as a diverging log-variance head gives) the
library clips the log-variance where an exp of it would overflow, so everything stays finite.

Exact properties: KL >= 0 for every Gaussian posterior (delta-VAE: >= delta per unit), IWAE bound between the
Monte Carlo ELBO and the best sample's log-weight on the same samples, free bits >= D * target, capacity and beta
penalties >= 0, schedules in [0, 1] and monotone. Monte Carlo properties on large samples, within 4 standard errors:
KL(q || MoG prior) >= 0 and the density gap KL(q_B || p) >= 0.

Derandomised (same examples on every run) and small: the file runs in seconds under tensorflow, jax and torch.
"""

import math

import keras
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from keras import ops

from kvae import objectives, posteriors, priors
from kvae.objectives import schedules
from kvae.posteriors.gaussian import LOG_VAR_MAX, LOG_VAR_MIN, gaussian_kl, gaussian_log_prob, reparameterize
from kvae.testing import np_, tensor

B, D = 4, 3
MEAN = 1e3
SETTINGS = settings(
    max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)
MONTE_CARLO = settings(SETTINGS, max_examples=8)  # large samples: fewer examples


def floats(low, high):
    return st.floats(low, high, width=32, allow_nan=False, allow_infinity=False)


def matrix(low, high, shape=(B, D)):
    return arrays("float32", shape, elements=floats(low, high))


means = matrix(-MEAN, MEAN)
sane_log_vars = matrix(LOG_VAR_MIN, LOG_VAR_MAX)
wild_log_vars = matrix(-1e4, 1e4)


def np_kl(mean, log_var):
    mean, log_var = np.float64(mean), np.float64(log_var)
    return 0.5 * (mean**2 + np.exp(np.minimum(log_var, 700)) - log_var - 1.0)


def kl_tolerance(mean, log_var):
    """float32 rounding of 0.5 (m^2 + e^v - v - 1): a few ulps of its largest term."""
    mean, log_var = np.float64(mean), np.float64(log_var)
    return 1e-6 * (mean**2 + np.exp(np.minimum(log_var, LOG_VAR_MAX)) + np.abs(log_var) + 1.0)


def finite(x):
    return bool(np.all(np.isfinite(np_(x))))


# ============================================================================================ Gaussian functions
@SETTINGS
@given(mean=means, log_var=sane_log_vars)
def test_gaussian_kl_matches_float64_and_is_nonnegative(mean, log_var):
    kl = np_(gaussian_kl(tensor(mean), tensor(log_var)))
    tol = kl_tolerance(mean, log_var)
    assert np.all(np.isfinite(kl))
    assert np.all(kl >= -tol)
    assert np.all(np.abs(kl - np_kl(mean, log_var)) <= tol)


@SETTINGS
@given(mean=means, log_var=wild_log_vars)
def test_gaussian_functions_finite_beyond_the_sane_range(mean, log_var):
    mean_t, log_var_t = tensor(mean), tensor(log_var)
    z = reparameterize(mean_t, log_var_t, keras.random.SeedGenerator(0), num_samples=2)
    kl = np_(gaussian_kl(mean_t, log_var_t))
    assert finite(z) and np.all(np.isfinite(kl)) and np.all(kl >= -kl_tolerance(mean, log_var))
    assert finite(gaussian_log_prob(z, mean_t, log_var_t))
    assert finite(gaussian_log_prob(z[:, :, None, :], mean_t[None, None], log_var_t[None, None]))  # all pairs
    # The clip is where exp would overflow: the KL stays exact below the range, capped above it.
    inside = log_var <= LOG_VAR_MAX
    assert np.all(np.abs(kl[inside] - np_kl(mean, log_var)[inside]) <= kl_tolerance(mean, log_var)[inside])


@SETTINGS
@given(mean=means, log_var=sane_log_vars)
def test_samples_and_log_probs_finite_and_centred(mean, log_var):
    mean_t, log_var_t = tensor(mean), tensor(log_var)
    z = np_(reparameterize(mean_t, log_var_t, keras.random.SeedGenerator(1), num_samples=64))
    assert np.all(np.isfinite(z))
    # Each draw lies within 7 standard deviations of its mean (plus float32 rounding of the mean).
    std = np.exp(0.5 * np.float64(log_var))
    assert np.all(np.abs(z - mean) <= 7 * std + 1e-6 * np.abs(mean) + 1e-30)
    log_q = np_(gaussian_log_prob(tensor(z), mean_t, log_var_t))
    assert np.all(np.isfinite(log_q))
    # The density peaks at the mean: log q(z) <= log q(mean) = -(log 2pi + log_var) / 2.
    assert np.all(log_q <= -0.5 * (math.log(2 * math.pi) + np.float64(log_var)) + 1e-3 * (1 + np.abs(log_var)))


# ============================================================================================ posterior layers
FEATURES = 5
POSTERIORS = {
    "isotropic": lambda: posteriors.IsotropicGaussian(D, seed=0),
    "diagonal": lambda: posteriors.DiagonalGaussian(D, seed=0),
    "batchnorm": lambda: posteriors.BatchNormGaussian(D, seed=0),
    "delta": lambda: posteriors.DeltaGaussian(D, delta=0.3, seed=0),
}
LAYERS = {}


def layer(name):
    """One built layer per posterior (weights from the global seed), reused across examples."""
    if name not in LAYERS:
        keras.utils.set_random_seed(0)
        LAYERS[name] = POSTERIORS[name]()
        LAYERS[name].build((None, FEATURES))
    return LAYERS[name]


@SETTINGS
@given(name=st.sampled_from(sorted(POSTERIORS)), features=matrix(-MEAN, MEAN, (B, FEATURES)), training=st.booleans())
def test_posterior_layers_finite_and_kl_nonnegative(name, features, training):
    posterior = layer(name)
    out = posterior(tensor(features), num_samples=3, training=training)
    mean, log_var = np_(out["z_mean"]), np_(out["z_log_var"])
    assert finite(out["z"]) and np.all(np.isfinite(mean)) and np.all(np.isfinite(log_var))
    kl = np_(posterior.kl(out["z_mean"], out["z_log_var"]))
    assert np.all(np.isfinite(kl)) and np.all(kl >= -kl_tolerance(mean, log_var))
    assert finite(posterior.log_prob(out["z"], out["z_mean"], out["z_log_var"]))
    if name == "delta":  # every unit commits at least delta nats, whatever the features
        assert np.all(kl >= posterior.delta - kl_tolerance(mean, log_var) - 1e-5)


@MONTE_CARLO
@given(
    dim=st.sampled_from([2, 64]),
    kappa=st.floats(1e-3, 1e6),
    direction=matrix(-MEAN, MEAN, (B, 64)),
)
def test_von_mises_fisher_samples_on_the_sphere(dim, kappa, direction):
    posterior = posteriors.VonMisesFisher(dim, kappa=kappa, seed=0)
    raw = direction[:, :dim]
    mean = raw / np.maximum(np.linalg.norm(raw, axis=-1, keepdims=True), 1e-12)
    mean_t = tensor(mean)
    z = np_(posterior.sample(mean_t, None, num_samples=8))
    assert np.all(np.isfinite(z))
    np.testing.assert_allclose(np.linalg.norm(z, axis=-1), 1.0, atol=1e-4)
    log_q = np_(posterior.log_prob(tensor(z), mean_t, None))
    assert np.all(np.isfinite(log_q))
    # log q peaks at the mean direction: log q(z) <= log C_D(kappa) + kappa.
    assert np.all(log_q <= posterior.log_normalizer + posterior.kappa + 1e-3 * (1 + posterior.kappa))
    assert posterior.uniform_kl >= -1e-6  # KL(vMF || uniform) >= 0


# ====================================================================================================== priors
def mixture(components, isotropic):
    """One built mixture prior per configuration, reused across examples."""
    key = ("mog", components, isotropic)
    if key not in LAYERS:
        LAYERS[key] = priors.MixtureOfGaussians(components=components, isotropic=isotropic, seed=1)
        LAYERS[key].build((None, D))
    return LAYERS[key]


@SETTINGS
@given(z=matrix(-MEAN, MEAN), isotropic=st.booleans(), log_vars=matrix(-1e4, 1e4, (2, D)))
def test_mixture_prior_log_prob_and_samples_finite(z, isotropic, log_vars):
    prior = mixture(2, isotropic)
    prior.log_vars.assign(log_vars[:, :1] if isotropic else log_vars)  # a prior whose variances diverged
    assert finite(prior.log_prob(tensor(z)))
    samples = prior.sample(16, D)
    assert finite(samples) and finite(prior.log_prob(samples))


@MONTE_CARLO
@given(mean=matrix(-5, 5, (2, D)), log_var=matrix(-4, 2, (2, D)), isotropic=st.booleans())
def test_monte_carlo_kl_to_mixture_prior_is_nonnegative(mean, log_var, isotropic):
    """KL(q(z|x) || p_MoG) >= 0, estimated by 4096 draws per example: >= -4 standard errors."""
    n = 4096
    posterior, prior = layer("diagonal"), mixture(3, isotropic)
    mean_t, log_var_t = tensor(mean), tensor(log_var)
    z = posterior.sample(mean_t, log_var_t, num_samples=n)
    log_q = ops.sum(posterior.log_prob(z, mean_t, log_var_t), axis=-1)
    log_p = ops.sum(prior.log_prob(z), axis=-1)
    gap = np.float64(np_(log_q - log_p))  # (n, 2)
    estimate, se = gap.mean(axis=0), gap.std(axis=0) / math.sqrt(n)
    assert np.all(np.isfinite(gap))
    assert np.all(estimate >= -4 * se - 1e-4)


# ================================================================================================== objectives
def gaussian_outputs(mean, log_var, rec, k=None, seed=0):
    mean_t, log_var_t = tensor(mean), tensor(log_var)
    z = reparameterize(mean_t, log_var_t, keras.random.SeedGenerator(seed), num_samples=k)
    return {"z_mean": mean_t, "z_log_var": log_var_t, "z": z, "rec": tensor(rec)}


OBJECTIVES = {
    "elbo": lambda: objectives.ELBO(),
    "beta": lambda: objectives.Beta(beta=4.0, annealing="cyclic", anneal_steps=10),
    "capacity": lambda: objectives.Capacity(c=5.0, anneal_steps=10),
    "free_bits": lambda: objectives.FreeBits(target=0.5),
    "free_bits_total": lambda: objectives.FreeBits(target=2.0, per_dimension=False),
    "density_gap": lambda: objectives.DensityGap(samples=4, seed=0),
    "density_gap_joint": lambda: objectives.DensityGap(samples=4, aggregation_size=2, marginal=False, seed=0),
    "reconstruction": lambda: objectives.Reconstruction(),
}


@SETTINGS
@given(
    name=st.sampled_from(sorted(OBJECTIVES)),
    mean=means,
    log_var=wild_log_vars | sane_log_vars,
    rec=arrays("float32", (B,), elements=floats(0, 1e4)),
)
def test_objective_losses_finite_with_exact_lower_bounds(name, mean, log_var, rec):
    objective = OBJECTIVES[name]()
    outputs = gaussian_outputs(mean, log_var, rec)
    posterior, prior = posteriors.DiagonalGaussian(D), priors.StandardNormal()
    objective.step.assign(3)  # mid-schedule for the annealed objectives
    loss = float(np_(objective(outputs, posterior=posterior, prior=prior, training=False)))
    reg, kl = float(np_(objective.reg_tracker.result())), float(np_(objective.kl_tracker.result()))
    assert math.isfinite(reg) and math.isfinite(loss)
    mean_rec = float(np.mean(np.float64(rec)))
    assert abs(loss - (mean_rec + reg)) <= 1e-5 * (abs(mean_rec) + abs(reg) + 1)
    if name == "free_bits":  # sum_u max(target, E KL_u) >= D * target
        assert reg >= D * 0.5 - 1e-6
    if name == "free_bits_total":
        assert reg >= 2.0 - 1e-6
    if name in ("elbo", "beta", "capacity"):  # KL >= 0 and the penalties are >= 0
        assert kl >= -1e-6 * (1 + abs(kl)) and reg >= -1e-6 * (1 + abs(kl))
    if name == "reconstruction":
        assert reg == 0.0


@SETTINGS
@given(
    k=st.sampled_from([1, 4]),
    mean=means,
    log_var=sane_log_vars,
    rec=arrays("float32", (6, B), elements=floats(0, 1e3)),
)
def test_iwae_bound_between_monte_carlo_elbo_and_best_sample(k, mean, log_var, rec):
    """On the same k samples: mean_k log w <= logsumexp_k log w - log k <= max_k log w (exact, Jensen)."""
    posterior, prior = posteriors.DiagonalGaussian(D), priors.StandardNormal()
    outputs = gaussian_outputs(mean, log_var, rec[:k], k=k, seed=k)
    loss = float(np_(objectives.IWAE(k=k)(outputs, posterior=posterior, prior=prior, training=False)))
    z = np.float64(np_(outputs["z"]))
    log_q = (-0.5 * (math.log(2 * math.pi) + log_var + (z - mean) ** 2 * np.exp(-np.float64(log_var)))).sum(-1)
    log_p = (-0.5 * (math.log(2 * math.pi) + z**2)).sum(-1)
    log_w = -np.float64(rec[:k]) + log_p - log_q  # (k, B)
    elbo_loss, best_loss = -log_w.mean(), -log_w.max(axis=0).mean()
    tol = 1e-5 * (np.abs(log_w).max() + 1)
    assert math.isfinite(loss)
    assert best_loss - tol <= loss <= elbo_loss + tol
    if k == 1:
        assert abs(loss - elbo_loss) <= tol


@MONTE_CARLO
@given(mean=matrix(-3, 3, (8, 2)), log_var=matrix(-3, 1, (8, 2)), marginal=st.booleans())
def test_density_gap_is_nonnegative_up_to_monte_carlo_error(mean, log_var, marginal):
    """KL(q_B(z) || p(z)) >= 0 for the aggregated posterior of the batch: 8 independent estimates of 64 draws each,
    mean >= -4 standard errors."""
    posterior, prior = posteriors.DiagonalGaussian(2), priors.StandardNormal()
    mean_t, log_var_t = tensor(mean), tensor(log_var)
    z = posterior.sample(mean_t, log_var_t, num_samples=512, seed=keras.random.SeedGenerator(5))
    estimates = []
    for chunk in range(8):
        gap = objectives.density_gap(
            z[64 * chunk : 64 * (chunk + 1)], mean_t, log_var_t, posterior.log_prob, prior.log_prob, marginal=marginal
        )
        estimates.append(float(np.mean(np_(gap))))
    estimates = np.asarray(estimates)
    assert np.all(np.isfinite(estimates))
    assert estimates.mean() >= -4 * estimates.std(ddof=1) / math.sqrt(len(estimates)) - 1e-4


# =================================================================================================== schedules
@SETTINGS
@given(
    steps=arrays("float32", (16,), elements=st.integers(0, 10**6).map(float)),
    period=st.integers(1, 10**4),
    ratio=st.floats(0.01, 1.0),
    cycles=st.none() | st.integers(1, 10),
)
def test_schedules_in_unit_interval_and_monotone(steps, period, ratio, cycles):
    steps = np.sort(steps)
    linear = np_(schedules.linear_ramp(tensor(steps), period))
    cyclic = np_(schedules.cyclic_ramp(tensor(steps), period, ratio, cycles))
    for w in (linear, cyclic):
        assert np.all((w >= 0) & (w <= 1))
    assert np.all(np.diff(linear) >= 0)
    if cycles is not None:
        np.testing.assert_array_equal(cyclic[steps >= cycles * period], 1.0)
