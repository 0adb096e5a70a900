"""kvae.objectives.IWAE: the bound against NumPy, k=1 as the ELBO, a tighter bound after training."""

import math

import numpy as np
import pytest
from scipy.special import logsumexp

from kvae.objectives import IWAE
from kvae.posteriors import DiagonalGaussian
from kvae.priors import StandardNormal
from kvae.testing import LOG_2PI, np_, random_images, tensor
from kvae.testing import tiny_image_vae as image_vae

BATCH = 32  # image batch: every image fit / evaluate sees the same shapes


@pytest.fixture(scope="module")
def images():
    return random_images()


def iwae_inputs(k=4, b=3, d=2, seed=0):
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(b, d)).astype("float32")
    log_var = (rng.normal(size=(b, d)) * 0.3 - 0.5).astype("float32")
    z = (mean + np.exp(0.5 * log_var) * rng.normal(size=(k, b, d))).astype("float32")
    rec = rng.uniform(5, 15, size=(k, b)).astype("float32")
    arrays = {"rec": rec, "z": z, "z_mean": mean, "z_log_var": log_var}
    return {key: tensor(v) for key, v in arrays.items()}, {key: v.astype("float64") for key, v in arrays.items()}


def np_log_w(a):
    log_q = (-0.5 * (LOG_2PI + a["z_log_var"] + (a["z"] - a["z_mean"]) ** 2 * np.exp(-a["z_log_var"]))).sum(-1)
    log_p = (-0.5 * (LOG_2PI + a["z"] ** 2)).sum(-1)
    return -a["rec"] + log_p - log_q  # (k, B)


@pytest.mark.parametrize("k", [2, 4])
def test_iwae_loss_matches_numpy(k):
    outputs, a = iwae_inputs(k=k)
    loss = IWAE(k=k)(outputs, posterior=DiagonalGaussian(2), prior=StandardNormal(), training=False)
    expected = -np.mean(logsumexp(np_log_w(a), axis=0) - math.log(k))
    assert float(np_(loss)) == pytest.approx(expected, rel=1e-5)


def test_iwae_k1_is_elbo_with_monte_carlo_kl():
    outputs, a = iwae_inputs(k=1, b=5, d=3, seed=3)
    loss = IWAE(k=1)(outputs, posterior=DiagonalGaussian(3), prior=StandardNormal(), training=False)
    log_q = (-0.5 * (LOG_2PI + a["z_log_var"] + (a["z"] - a["z_mean"]) ** 2 * np.exp(-a["z_log_var"]))).sum(-1)
    log_p = (-0.5 * (LOG_2PI + a["z"] ** 2)).sum(-1)
    expected = np.mean(a["rec"] + log_q - log_p)
    assert float(np_(loss)) == pytest.approx(expected, rel=1e-5)


def test_iwae_image_vae_trains_and_bound_is_tighter(images):
    model = image_vae(objective=IWAE(k=5), seed=0, learning_rate=1e-2)
    assert model.objective.num_samples == 5
    history = model.fit(images, epochs=4, batch_size=BATCH, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    assert history["loss"][-1] < history["loss"][0]
    single = image_vae(objective=IWAE(k=1), seed=1)
    single.build((None, 8, 8))
    for name in ("encoder", "posterior", "decoder"):
        getattr(single, name).set_weights(getattr(model, name).get_weights())
    k5 = [model.evaluate(images, batch_size=BATCH, verbose=0, return_dict=True)["loss"] for _ in range(3)]
    k1 = [single.evaluate(images, batch_size=BATCH, verbose=0, return_dict=True)["loss"] for _ in range(3)]
    assert np.all(np.isfinite(k5 + k1))
    assert np.mean(k5) <= np.mean(k1)
