"""Tests for the latent-space metrics (KL, mutual information, consistent units, posterior shape), the
importance-sampled log-likelihood, `evaluate_latent` and `LatentMetricsCallback`.

The NumPy metrics are checked on synthetic posteriors with known answers and against brute-force
implementations; the model-based ones on tiny models (6x6 binary images, latent 2; a TextVAE on 20 sentences).
Backend independent: run under KERAS_BACKEND=tensorflow, jax and torch.
"""

import math

import keras
import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import kvae
from kvae.metrics import (
    LatentMetricsCallback,
    consistent_units,
    evaluate_latent,
    kl,
    log_likelihood,
    mutual_information,
    posterior_shape,
)

LOG_2PI = math.log(2 * math.pi)


# ------------------------------------------------------------------------------------------- helpers
def brute_force_mi(mean, log_var, seed):
    """I(x;z) estimate written directly on the (N, N, D) tensor, with the same draws as the library."""
    n, d = mean.shape
    z = mean + np.exp(0.5 * log_var) * np.random.default_rng(seed).standard_normal((n, d))
    log_q_ij = -0.5 * (LOG_2PI + log_var[None] + (z[:, None, :] - mean[None]) ** 2 / np.exp(log_var[None]))
    log_qz = logsumexp(log_q_ij.sum(-1), axis=1) - math.log(n)
    neg_entropy = -0.5 * d * LOG_2PI - 0.5 * log_var.sum(1) - 0.5 * d
    return neg_entropy.mean() - log_qz.mean()


def prior_matching_posteriors(n, d, s, seed):
    """Means ~ N(0, 1 - s^2), variances s^2: the aggregated posterior is N(0, I) in the limit."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(n, d)) * math.sqrt(1 - s**2)
    return mean, np.full((n, d), math.log(s**2))


# ------------------------------------------------------------------------------------------------ KL
def test_kl_by_hand():
    mean = [[1.0, 0.0], [0.0, 2.0]]
    log_var = [[0.0, math.log(2.0)], [math.log(0.5), 0.0]]
    # example 1: 0.5 * (1 + 1 - 0 - 1) + 0.5 * (0 + 2 - log 2 - 1) = 0.5 + 0.5 * (1 - log 2)
    # example 2: 0.5 * (0 + 0.5 - log 0.5 - 1) + 0.5 * (4 + 1 - 0 - 1) = 0.5 * (log 2 - 0.5) + 2
    expected = (0.5 + 0.5 * (1 - math.log(2)) + 0.5 * (math.log(2) - 0.5) + 2.0) / 2
    assert kl(mean, log_var) == pytest.approx(expected, rel=1e-12)
    assert isinstance(kl(mean, log_var), float)


def test_kl_zero_at_prior_and_isotropic_broadcast():
    assert kl(np.zeros((5, 3)), np.zeros((5, 3))) == 0.0
    rng = np.random.default_rng(0)
    mean, lv = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    assert kl(mean, lv) == pytest.approx(kl(mean, np.repeat(lv, 3, axis=1)), rel=1e-12)
    assert kl(mean.astype("float32"), lv.astype("float32")) == pytest.approx(kl(mean, lv), rel=1e-5)


# ---------------------------------------------------------------------------------------- mutual information
def test_mi_matches_brute_force_and_chunking():
    rng = np.random.default_rng(3)
    mean = rng.normal(size=(60, 3)) * [2.0, 0.5, 0.1] + 50.0  # an offset tests the shifted expansion
    log_var = rng.normal(size=(60, 3)) - 1.0
    expected = brute_force_mi(mean, log_var, seed=11)
    for chunk_size in (1, 7, 60, 1024):
        assert mutual_information(mean, log_var, seed=11, chunk_size=chunk_size) == pytest.approx(expected, abs=1e-9)
    assert mutual_information(mean, log_var, seed=11) != mutual_information(mean, log_var, seed=12)


def test_mi_zero_when_posteriors_identical():
    mean, log_var = np.zeros((2000, 4)), np.zeros((2000, 4))
    # the estimate is 1/N sum_i (|eps_i|^2 - D) / 2: standard deviation sqrt(D / 2 / N) = 0.03
    assert abs(mutual_information(mean, log_var, seed=0)) < 0.15


def test_mi_two_far_apart_clusters_is_log_2():
    n = 1000
    mean = np.zeros((n, 2))
    mean[: n // 2, 0], mean[n // 2 :, 0] = -20.0, 20.0
    mi = mutual_information(mean, np.zeros((n, 2)), seed=1)
    assert mi == pytest.approx(math.log(2), abs=0.1)


def test_mi_bounded_by_log_n_for_separated_posteriors():
    n = 200
    grid = np.stack(np.meshgrid(np.arange(20), np.arange(10)), -1).reshape(n, 2) * 100.0
    mi = mutual_information(grid, np.zeros((n, 2)), seed=2)
    assert mi == pytest.approx(math.log(n), abs=0.3)  # every example identifiable: I = log N
    # as the posteriors widen and overlap, the information drops
    assert mutual_information(grid, np.full((n, 2), math.log(100.0**2)), seed=2) < mi - 1.0


# -------------------------------------------------------------------------------------- consistent units
def test_aggregate_equal_to_prior():
    mean, log_var = np.zeros((300, 5)), np.zeros((300, 5))
    count, per_unit, joint = consistent_units(mean, log_var, samples=2000, return_kl=True)
    assert count == 5
    np.testing.assert_allclose(per_unit, 0.0, atol=1e-12)
    assert joint == pytest.approx(0.0, abs=1e-12)
    assert isinstance(count, int) and per_unit.shape == (5,) and isinstance(joint, float)
    assert consistent_units(mean, log_var, samples=2000) == 5


def test_prior_matching_mixture_is_consistent_and_active():
    mean, log_var = prior_matching_posteriors(2000, 3, s=0.5, seed=4)
    count, per_unit, _ = consistent_units(mean, log_var, samples=3000, seed=1, return_kl=True)
    assert count == 3
    assert np.all(np.abs(per_unit) < 0.02)
    assert kvae.metrics.active_units(mean) == 3  # Var(mean) = 0.75


def test_collapsed_but_inconsistent_units_match_closed_form():
    # every posterior is N(0, sigma^2): no unit active, and the aggregate N(0, sigma^2) differs from the prior by
    # KL(N(0,1) || N(0,sigma^2)) = log(sigma) + 1 / (2 sigma^2) - 1/2 per unit.
    sigma2, d = 0.25, 3
    mean, log_var = np.zeros((100, d)), np.full((100, d), math.log(sigma2))
    expected = 0.5 * math.log(sigma2) + 1 / (2 * sigma2) - 0.5
    count, per_unit, joint = consistent_units(mean, log_var, samples=20000, seed=3, return_kl=True)
    assert count == 0
    np.testing.assert_allclose(per_unit, expected, rtol=0.05)
    assert joint == pytest.approx(d * expected, rel=0.05)
    assert kvae.metrics.active_units(mean) == 0
    assert consistent_units(mean, log_var, threshold=2 * expected, samples=2000) == d


def test_consistent_units_mixed_units():
    mean, log_var = prior_matching_posteriors(1000, 4, s=0.3, seed=5)
    mean[:, 2:] *= 3.0  # units 2, 3: aggregate variance ~ 9 * 0.91 + 0.09 -> far from the prior
    count, per_unit, _ = consistent_units(mean, log_var, samples=3000, return_kl=True)
    assert count == 2
    assert np.all(per_unit[2:] > 0.3)


def test_consistent_units_joint_matches_brute_force():
    rng = np.random.default_rng(6)
    mean, log_var = rng.normal(size=(40, 3)), rng.normal(size=(40, 3)) * 0.3
    _, per_unit, joint = consistent_units(mean, log_var, samples=500, seed=9, return_kl=True)
    z = np.random.default_rng(9).standard_normal((500, 3))
    log_p = -0.5 * (LOG_2PI + z**2)
    comp = -0.5 * (LOG_2PI + log_var[None] + (z[:, None, :] - mean[None]) ** 2 / np.exp(log_var[None]))  # (S, N, D)
    np.testing.assert_allclose(per_unit, (log_p - (logsumexp(comp, axis=1) - math.log(40))).mean(0), atol=1e-9)
    assert joint == pytest.approx((log_p.sum(1) - (logsumexp(comp.sum(-1), axis=1) - math.log(40))).mean(), abs=1e-9)


# --------------------------------------------------------------------------------------- posterior shape
def test_posterior_shape_known_gaussians():
    variances = np.array([1.0, 2.0, 4.0])
    shape = posterior_shape(np.zeros((20000, 3)), np.log(variances) * np.ones((20000, 3)))
    assert shape["log_det_cov"] == pytest.approx(math.log(8.0), abs=0.05)
    assert shape["mean_norm2"] < 0.01
    # one example, many samples: the posterior itself
    shape = posterior_shape([[3.0, -4.0]], [[0.0, math.log(9.0)]], samples_per_example=20000, seed=1)
    assert shape["mean_norm2"] == pytest.approx(25.0, rel=0.02)
    assert shape["log_det_cov"] == pytest.approx(math.log(9.0), abs=0.05)


def test_posterior_shape_mixture_covariance():
    # Cov[z] = Cov(mean) + E[var]: unit 0 has means +-2 (variance 4) plus variance 1 -> 5; unit 1: 0 + 0.5
    n = 10000
    mean = np.zeros((n, 2))
    mean[:, 0] = np.where(np.arange(n) % 2 == 0, 2.0, -2.0)
    log_var = np.log(np.array([[1.0, 0.5]])) * np.ones((n, 2))
    shape = posterior_shape(mean, log_var, samples_per_example=2, seed=3)
    assert shape["log_det_cov"] == pytest.approx(math.log(5.0 * 0.5), abs=0.05)
    assert shape["mean_norm2"] < 0.01
    assert posterior_shape(mean, log_var, seed=3) == posterior_shape(mean, log_var, seed=3)
    # a few samples: the sample mean and the (ddof=1) sample covariance of the same draws
    rng = np.random.default_rng(1)
    mean, log_var = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    z = (mean + np.exp(0.5 * log_var) * np.random.default_rng(2).standard_normal((3, 5, 2))).reshape(15, 2)
    shape = posterior_shape(mean, log_var, samples_per_example=3, seed=2)
    assert shape["mean_norm2"] == pytest.approx(np.sum(z.mean(0) ** 2), rel=1e-9)
    assert shape["log_det_cov"] == pytest.approx(np.linalg.slogdet(np.cov(z, rowvar=False))[1], rel=1e-9)
    # prior-matching aggregate: mean ~ 0 and log det ~ 0
    mean, log_var = prior_matching_posteriors(20000, 3, s=0.6, seed=7)
    shape = posterior_shape(mean, log_var, seed=8)
    assert abs(shape["log_det_cov"]) < 0.05 and shape["mean_norm2"] < 0.01
    # fewer samples than units: singular covariance
    assert posterior_shape(np.zeros((2, 3)), np.zeros((2, 3)))["log_det_cov"] == -math.inf


# -------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: kl(np.zeros((3, 2)), np.zeros((3, 3))), "`log_var`"),
        (lambda: kl(np.zeros(3), np.zeros(3)), "`mean`"),
        (lambda: kl([[np.nan, 0.0]], [[0.0, 0.0]]), "`mean`"),
        (lambda: kl([["a", "b"]], [[0.0, 0.0]]), "`mean`"),
        (lambda: mutual_information(np.zeros((3, 2)), np.zeros((3, 2)), chunk_size=0), "`chunk_size`"),
        (lambda: mutual_information(np.zeros((3, 2)), np.zeros((3, 2)), seed=-1), "`seed`"),
        (lambda: consistent_units(np.zeros((3, 2)), np.zeros((3, 2)), threshold=-1), "`threshold`"),
        (lambda: consistent_units(np.zeros((3, 2)), np.zeros((3, 2)), samples=0), "`samples`"),
        (lambda: posterior_shape(np.zeros((3, 2)), np.zeros((3, 2)), samples_per_example=0), "`samples_per_example`"),
        (lambda: posterior_shape(np.zeros((1, 2)), np.zeros((1, 2))), "`samples_per_example`"),
    ],
)
def test_invalid_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------------------- model-based tests
def binary_images(n, seed):
    """n binary 6x6 images: 4 random prototypes with 5% of the pixels flipped."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((4, 6, 6)) < 0.5
    x = prototypes[rng.integers(0, 4, n)]
    return np.where(rng.random(x.shape) < 0.05, ~x, x).astype("float32")


@pytest.fixture(scope="module")
def trained_image_vae():
    """A tiny ImageVAE (6x6, hidden 16, latent 2) fit with a LatentMetricsCallback: (model, history, x)."""
    keras.utils.set_random_seed(0)
    x = binary_images(64, seed=0)
    model = kvae.ImageVAE(latent_dim=2, hidden_dims=(16,), learning_rate=1e-2, seed=0)
    callback = LatentMetricsCallback(x[:32], every=1, verbose=False)
    history = model.fit(x, epochs=8, batch_size=16, verbose=0, callbacks=[callback])
    return model, history, x


def test_callback_adds_latent_metrics_to_history(trained_image_vae):
    model, history, x = trained_image_vae
    for key in ("val_kl", "val_au", "val_mi"):
        assert len(history.history[key]) == 8, key
        assert np.all(np.isfinite(history.history[key])), key
    # the last logged values are those of the final model
    mean, log_var = model.encode(x[:32], return_log_var=True)
    assert history.history["val_kl"][-1] == pytest.approx(kl(mean, log_var), rel=1e-6)
    assert history.history["val_au"][-1] == kvae.metrics.active_units(mean)
    assert history.history["val_mi"][-1] == pytest.approx(mutual_information(mean, log_var), rel=1e-6)


def test_callback_every_and_arguments(trained_image_vae, capsys):
    model, _, x = trained_image_vae
    callback = LatentMetricsCallback((x, None), every=2, samples=10)
    callback.set_model(model)
    logs = {}
    callback.on_epoch_end(0, logs)
    assert all(math.isnan(logs[k]) for k in ("val_kl", "val_au", "val_mi"))
    callback.on_epoch_end(1, logs)
    assert np.isfinite(logs["val_kl"]) and 0 <= logs["val_au"] <= 2
    assert "val_kl=" in capsys.readouterr().out
    with pytest.raises(ValueError, match="`every`"):
        LatentMetricsCallback(x, every=0)
    with pytest.raises(ValueError, match="`samples`"):
        LatentMetricsCallback(x, samples=0)


def test_evaluate_latent(trained_image_vae, capsys):
    model, _, x = trained_image_vae
    result = evaluate_latent(model, x, batch_size=16, samples=500)
    keys = {"kl", "mutual_information", "active_units", "unit_variances", "consistent_units",
            "joint_kl_prior_aggregate", "mean_norm2", "log_det_cov"}
    assert set(result) == keys
    mean, log_var = model.encode(x, return_log_var=True)
    assert result["kl"] == pytest.approx(kl(mean, log_var), rel=1e-6)
    assert result["active_units"] == kvae.metrics.active_units(mean)
    np.testing.assert_allclose(result["unit_variances"], np.var(np.asarray(mean, np.float64), axis=0), rtol=1e-12)
    m64, v64 = np.asarray(mean, np.float64), np.asarray(log_var, np.float64)
    # mutual information: the brute-force (N, N, D) estimate with the same draws (seed 0)
    assert result["mutual_information"] == pytest.approx(brute_force_mi(m64, v64, seed=0), abs=1e-9)
    # consistent units: per-unit KL(p(z_u) || q(z_u)) by brute force on the same 500 prior draws, below 0.03
    z = np.random.default_rng(0).standard_normal((500, 2))
    comp = -0.5 * (LOG_2PI + v64[None] + (z[:, None, :] - m64[None]) ** 2 / np.exp(v64[None]))  # (S, N, D)
    per_unit = (-0.5 * (LOG_2PI + z**2) - (logsumexp(comp, axis=1) - math.log(len(x)))).mean(0)
    assert result["consistent_units"] == int(np.sum(per_unit < 0.03))
    joint = (-0.5 * (LOG_2PI + z**2)).sum(1) - (logsumexp(comp.sum(-1), axis=1) - math.log(len(x)))
    assert result["joint_kl_prior_aggregate"] == pytest.approx(joint.mean(), abs=1e-9)
    assert "mutual information" in capsys.readouterr().out
    evaluate_latent(model, x, samples=100, verbose=False)
    assert capsys.readouterr().out == ""


def test_iwae_bound_increases_with_k(trained_image_vae):
    model, _, x = trained_image_vae
    x = np.concatenate([x] * 4)  # 256 examples: less Monte Carlo noise in the averages

    def estimate(samples, seed, proposal="posterior"):
        return log_likelihood(model, x, samples=samples, proposal=proposal, batch_size=256, seed=seed)

    elbos = [estimate(1, s)["log_likelihood"] for s in range(3)]
    iwae10 = np.mean([estimate(10, s)["log_likelihood"] for s in range(2)])
    iwae100 = estimate(100, 0)
    assert iwae100["nll"] == -iwae100["log_likelihood"]
    assert np.mean(elbos) < iwae10 + 0.02
    assert iwae10 < iwae100["log_likelihood"] + 0.02
    assert np.mean(elbos) < iwae100["log_likelihood"] - 0.05
    assert estimate(1, 0)["log_likelihood"] == elbos[0]  # reproducible with a seed
    # the prior proposal estimates the same quantity (noisier)
    prior = estimate(100, 1, proposal="prior")["log_likelihood"]
    assert np.isfinite(prior) and abs(prior - iwae100["log_likelihood"]) < 0.3


def test_log_likelihood_exact_when_decoder_ignores_z():
    """With every decoder kernel zeroed, p(x|z) = p(x) for all z, so p(z|x) = p(z) and
    - the prior proposal gives log p(x) exactly (all importance weights are equal);
    - with the posterior proposal, E[log w] = log p(x) - KL(q(z|x) || p(z)) (the ELBO) for K = 1,
      and the estimate tends to log p(x) as K grows.
    The posterior variance is fixed to 0.7 (> 1/2, so that the weights p(z)/q(z|x) have a finite variance and the
    K-sample estimate converges quickly).
    """
    keras.utils.set_random_seed(1)
    x = np.concatenate([binary_images(64, seed=2)] * 8)
    model = kvae.ImageVAE(latent_dim=2, hidden_dims=(16,), image_shape=(6, 6), seed=1)
    model(x[:64])
    for w in model.decoder.weights:
        if "kernel" in w.path:
            w.assign(np.zeros(w.shape, dtype="float32"))
    for w in model.posterior.weights:
        if "log_var" in w.path:  # kernel 0, bias log(0.7): log_var = log(0.7) for every input
            w.assign(np.full(w.shape, math.log(0.7) if "bias" in w.path else 0.0, dtype="float32"))
        else:  # the mean head: larger means, a clearer gap between the ELBO and log p(x)
            w.assign(1.5 * keras.ops.convert_to_numpy(w))
    logits = keras.ops.convert_to_numpy(model.decode_logits(np.zeros((64, 2))))[0].astype(np.float64)
    exact = np.mean(np.sum(x * -np.logaddexp(0, -logits) + (1 - x) * -np.logaddexp(0, logits), axis=(1, 2)))
    mean, log_var = model.encode(x, return_log_var=True)
    np.testing.assert_allclose(log_var, math.log(0.7), rtol=1e-6)
    assert kl(mean, log_var) > 0.1  # the posterior differs from the prior

    for k in (1, 4):
        got = log_likelihood(model, x[:64], samples=k, proposal="prior")["log_likelihood"]
        assert got == pytest.approx(exact, abs=1e-4)

    # log w - log p(x) = log p(z) - log q(z|x) = -sigma mean.eps + (1 - sigma^2) |eps|^2 / 2 + const, z = mean + sigma eps:
    # expectation -KL, variance sigma^2 |mean|^2 + D (1 - sigma^2)^2 / 2
    elbo = log_likelihood(model, x, samples=1, seed=4)["log_likelihood"]
    sd = np.sqrt((0.7 * np.mean(np.sum(mean**2, axis=1)) + 2 * 0.3**2 / 2) / len(x))
    assert elbo == pytest.approx(exact - kl(mean, log_var), abs=float(4 * sd))
    iwae = log_likelihood(model, x[:64], samples=4000, seed=5)["log_likelihood"]
    assert iwae == pytest.approx(exact, abs=0.04)
    assert elbo < iwae


def test_log_likelihood_invalid_arguments(trained_image_vae):
    model, _, x = trained_image_vae
    with pytest.raises(ValueError, match="`proposal`"):
        log_likelihood(model, x, proposal="uniform")
    with pytest.raises(ValueError, match="`samples`"):
        log_likelihood(model, x, samples=0)
    with pytest.raises(ValueError, match="`batch_size`"):
        log_likelihood(model, x, batch_size=0)
    with pytest.raises(ValueError, match="`model`"):
        log_likelihood(object(), x)
    with pytest.raises(ValueError, match="`data`"):
        log_likelihood(model, x[:0])


def test_non_gaussian_posterior_is_rejected():
    vmf = pytest.importorskip("kvae.posteriors.von_mises_fisher")
    model = kvae.ImageVAE(latent_dim=3, hidden_dims=(4,), posterior=vmf.VonMisesFisher(3, kappa=10.0), image_shape=(6, 6))
    x = binary_images(4, seed=0)
    with pytest.raises(ValueError, match="`model` has a VonMisesFisher posterior"):
        log_likelihood(model, x)
    with pytest.raises(ValueError, match="`model` has a VonMisesFisher posterior"):
        evaluate_latent(model, x, verbose=False)


SENTENCES = [
    "a dog runs in the park",
    "the cat sleeps on the sofa",
    "a man plays the guitar",
    "two kids play outside",
    "the woman reads a book",
    "a girl rides a red bike",
    "the old man walks slowly",
    "people are eating dinner",
    "a bird sings in a tree",
    "the boy kicks a ball",
] * 2


def test_text_vae_log_likelihood_and_perplexity_match_a_numpy_reference():
    """One posterior sample per sentence: log w = log p(x|z) + log p(z) - log q(z|x) with z drawn from the same NumPy
    generator, log p(x|z) from the decoder's teacher-forced logits (NumPy log-softmax over the real target tokens,
    <eos> included), the Gaussian densities in NumPy; perplexity = exp(-sum log w / predicted tokens)."""
    keras.utils.set_random_seed(2)
    model = kvae.TextVAE(latent_dim=2, embedding_dim=8, hidden_dim=16, seed=0)
    model.fit(SENTENCES, epochs=1, batch_size=10, verbose=0)
    texts = SENTENCES[:10]
    result = log_likelihood(model, texts, samples=1, batch_size=10, seed=0)
    assert set(result) == {"log_likelihood", "nll", "perplexity"}

    ids = model.texts_to_ids(texts)
    mean, log_var = (np.asarray(a, dtype=np.float64) for a in model.encode(texts, return_log_var=True))
    z = mean + np.exp(0.5 * log_var) * np.random.default_rng(0).standard_normal((1,) + mean.shape)[0]
    logits = keras.ops.convert_to_numpy(model.decoder(ids[:, :-1], z.astype("float32"))).astype(np.float64)
    log_softmax = logits - np.log(np.sum(np.exp(logits - logits.max(-1, keepdims=True)), -1, keepdims=True))
    log_softmax -= logits.max(-1, keepdims=True)
    targets = ids[:, 1:]
    real = targets != model.tokenizer.pad_id
    log_px = np.sum(np.take_along_axis(log_softmax, targets[..., None], -1)[..., 0] * real, axis=1)
    log_pz = stats.norm.logpdf(z).sum(1)
    log_qz = stats.norm.logpdf(z, mean, np.exp(0.5 * log_var)).sum(1)
    want = log_px + log_pz - log_qz
    assert real.sum() == sum(len(s.split()) + 1 for s in texts)
    assert result["log_likelihood"] == pytest.approx(want.mean(), abs=1e-3)
    assert result["perplexity"] == pytest.approx(math.exp(-want.sum() / real.sum()), rel=1e-4)
