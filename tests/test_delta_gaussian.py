"""kvae.posteriors.DeltaGaussian (delta-VAE): the committed variance against SciPy, the KL floor, configs."""

import math

import keras
import numpy as np
import pytest
from scipy.optimize import brentq

from kvae.posteriors import DeltaGaussian
from kvae.posteriors.delta_gaussian import committed_variance
from kvae.testing import np_, np_kl, tensor


def ref_committed_variance(delta):
    return brentq(lambda s: s - math.log(s) - 1 - 2 * delta, 1e-300, 1 - 1e-16, xtol=1e-300, rtol=1e-15)


@pytest.mark.parametrize("delta", [0.01, 0.15, 0.5, 1.0, 3.0, 8.0, 13.0])
def test_committed_variance_matches_brentq(delta):
    s = committed_variance(delta)
    ref = ref_committed_variance(delta)
    assert 0 < s < 1
    assert s == pytest.approx(ref, rel=1e-9)
    assert s - math.log(s) - 1 == pytest.approx(2 * delta, rel=1e-9)
    # The bisection returns the side whose KL is >= delta (the guarantee the posterior relies on).
    assert (s - math.log(s) - 1) / 2 >= delta * (1 - 1e-12)


@pytest.mark.parametrize("delta", [15.0, 20.0])
def test_committed_variance_large_delta(delta):
    s = committed_variance(delta)
    assert s == pytest.approx(ref_committed_variance(delta), rel=1e-6)
    assert (s - math.log(s) - 1) / 2 >= delta * (1 - 1e-9)


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e4])
def test_delta_gaussian_kl_at_least_delta(scale):
    delta, D, F = 0.15, 6, 5
    rng = np.random.default_rng(int(math.log10(scale)) + 10)
    layer = DeltaGaussian(D, delta=delta, seed=0)
    layer.build((None, F))
    features = tensor(rng.normal(size=(64, F)))
    layer.mean_dense.set_weights([rng.normal(size=(F, D)), rng.normal(size=(D,))])
    # Raw variance outputs from tiny to huge, of both signs.
    layer.log_var_dense.set_weights([rng.normal(size=(F, D)) * scale, rng.normal(size=(D,)) * scale])
    out = layer(features)
    mean, log_var = np_(out["z_mean"]), np_(out["z_log_var"])
    assert np.all(np.isfinite(log_var))
    assert np.all(log_var <= math.log(committed_variance(delta)) + 1e-6)
    assert np.all(np_kl(mean, log_var) >= delta - 1e-5)
    assert np.all(np_(layer.kl(out["z_mean"], out["z_log_var"])) >= delta - 1e-5)


def test_delta_gaussian_kl_tight_at_zero_mean():
    """Zero means and huge raw variance outputs: var = s_delta exactly, so every unit's KL is delta (not more)."""
    delta, D, F = 0.4, 3, 4
    layer = DeltaGaussian(D, delta=delta)
    layer.build((None, F))
    layer.mean_dense.set_weights([np.zeros((F, D)), np.zeros(D)])
    layer.log_var_dense.set_weights([np.zeros((F, D)), np.full(D, 60.0)])
    mean, log_var = layer.parameters(tensor(np.ones((2, F))))
    np.testing.assert_allclose(np.exp(np_(log_var)), ref_committed_variance(delta), rtol=1e-5)
    np.testing.assert_allclose(np_kl(np_(mean), np_(log_var)), delta, rtol=1e-5)
    # Very negative raw outputs: the variance goes to 0 and the KL grows, finite.
    layer.log_var_dense.set_weights([np.zeros((F, D)), np.full(D, -1e4)])
    mean, log_var = layer.parameters(tensor(np.ones((2, F))))
    kl = np_(layer.kl(mean, log_var))
    assert np.all(np.isfinite(kl)) and np.all(kl > 1e3)


def test_delta_gaussian_config_round_trip():
    layer = DeltaGaussian(5, delta=0.3, seed=7)
    clone = DeltaGaussian.from_config(layer.get_config())
    assert clone.delta == 0.3 and clone.latent_dim == 5 and clone.seed == 7
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, DeltaGaussian) and restored.delta == 0.3
    assert restored.log_max_variance == pytest.approx(math.log(ref_committed_variance(0.3)), rel=1e-9)
    with pytest.raises(ValueError, match="delta"):
        DeltaGaussian(5, delta=0.0)
