"""Tests for the model-zoo additions: the delta-VAE and BN-VAE posteriors, the IWAE objective, the skip-VAE decoder,
the bag-of-words auxiliary loss, `VAE.with_posterior`, the name registry and cyclic beta annealing in a real fit.

Every numerical test compares against an independent NumPy / SciPy reference. Backend independent: run under
KERAS_BACKEND=tensorflow, jax and torch. Models are tiny (ImageVAE hidden 16, latent 4, 64 random 8x8 images;
TextVAE embedding 8, LSTM 16, latent 4, 32 SNLI sentences) and train for a few steps only.
"""

import math

import keras
import numpy as np
import pytest
from keras import ops
from scipy.optimize import brentq
from scipy.special import log_softmax, logsumexp

import kvae
from kvae.models.vae import VAE
from kvae.objectives import IWAE, Beta, Capacity
from kvae.posteriors import BatchNormGaussian, DeltaGaussian, DiagonalGaussian, IsotropicGaussian
from kvae.posteriors.delta_gaussian import committed_variance
from kvae.priors import MixtureOfGaussians, StandardNormal

IMAGE_SIZES = {"latent_dim": 4, "hidden_dims": (16,)}
TEXT_SIZES = {"latent_dim": 4, "embedding_dim": 8, "hidden_dim": 16}
BATCH = 32  # image batch: every image fit / evaluate sees the same shapes
LOG_2PI = math.log(2 * math.pi)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


def tensor(x, dtype="float32"):
    return ops.convert_to_tensor(np.asarray(x, dtype=dtype))


def np_kl(mean, log_var):
    mean, log_var = np.asarray(mean, "float64"), np.asarray(log_var, "float64")
    return 0.5 * (mean**2 + np.exp(log_var) - log_var - 1.0)


def image_vae(**kwargs):
    return kvae.ImageVAE(**{**IMAGE_SIZES, **kwargs})


def text_vae(**kwargs):
    return kvae.TextVAE(**{**TEXT_SIZES, **kwargs})


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(64, 8, 8), dtype="uint8")


@pytest.fixture(scope="module")
def sentences():
    train, _ = kvae.datasets.snli_sample(test_size=0)
    return train[:32]


@pytest.fixture(scope="module")
def vocabulary(sentences):
    tokenizer = kvae.tokenizers.WordTokenizer()
    tokenizer.build_vocabulary(sentences, verbose=False)
    return tokenizer.vocabulary


def fit_text(model, sentences, epochs=2):
    """Fit on one padded id array (a single batch shape, so JAX compiles the step once)."""
    ids = model.texts_to_ids(sentences)
    return model.fit(ids, epochs=epochs, batch_size=16, verbose=0).history


# ================================================================================================ delta-VAE
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


# ================================================================================================ BN-VAE
def bn_layer(gamma=0.7, D=4, F=10):
    layer = BatchNormGaussian(D, gamma=gamma, seed=0)
    layer.build((None, F))
    return layer


def bn_features(F=10, n=128, seed=0):
    return np.random.default_rng(seed).normal(size=(n, F)).astype("float32") * 3.0


def test_batchnorm_training_mode_batch_statistics():
    layer = bn_layer(gamma=0.7)
    out = layer(tensor(bn_features()), training=True)
    mean = np_(out["z_mean"]).astype("float64")
    np.testing.assert_allclose(mean.mean(0), 0.0, atol=1e-5)  # beta = 0 at init
    np.testing.assert_allclose(mean.std(0), 0.7, rtol=2e-3)


def test_batchnorm_batch_mean_equals_learned_beta():
    layer = bn_layer(gamma=0.7)
    beta = np.array([0.5, -1.0, 0.25, 2.0], "float32")
    layer.beta.assign(beta)
    mean = np_(layer(tensor(bn_features()), training=True)["z_mean"]).astype("float64")
    np.testing.assert_allclose(mean.std(0), 0.7, rtol=2e-3)
    np.testing.assert_allclose(mean.mean(0), beta, atol=1e-4)


def test_batchnorm_inference_uses_moving_statistics():
    layer = bn_layer(gamma=0.5)
    features = bn_features()
    train_mean = np_(layer(tensor(features), training=True)["z_mean"])
    moving_mean, moving_var = np_(layer.norm.moving_mean), np_(layer.norm.moving_variance)
    assert not np.allclose(moving_mean, 0.0)  # the training call updated the moving statistics
    kernel, bias = layer.mean_dense.get_weights()
    raw = features.astype("float64") @ kernel + bias
    expected = 0.5 * (raw - moving_mean) / np.sqrt(moving_var + layer.norm.epsilon)
    infer_mean, _ = layer.parameters(tensor(features), training=False)
    np.testing.assert_allclose(np_(infer_mean), expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(np_(infer_mean), train_mean, atol=1e-2)
    # Inference does not touch the moving statistics.
    layer(tensor(features), training=False)
    np.testing.assert_array_equal(np_(layer.norm.moving_mean), moving_mean)


def test_batchnorm_bound_holds_for_a_fresh_text_encoder(sentences, vocabulary):
    # A fresh LSTM encoder's raw means vary by ~1e-5 across sentences; the batch KL must still reach D gamma^2 / 2
    # (with Keras's default epsilon 1e-3 it was 0.6 of it, and training drove it to 0).
    model = kvae.TextVAE(vocabulary=vocabulary, latent_dim=8, posterior="batchnorm", objective="elbo", seed=0)
    ids = np.asarray(model.tokenizer.texts_to_ids(sentences))
    mean = np_(model.posterior(model.encoder(tensor(ids)), training=True)["z_mean"]).astype("float64")
    kl_of_means = 0.5 * np.sum(np.mean(mean**2, axis=0))
    assert kl_of_means >= 0.99 * 8 * 0.7**2 / 2


def test_batchnorm_gamma_fixed_beta_trainable():
    layer = bn_layer()
    assert layer.norm.scale is False and layer.norm.center is False  # beta lives on the posterior, after gamma
    trainable = {id(v) for v in layer.trainable_weights}
    non_trainable = {id(v) for v in layer.non_trainable_weights}
    assert id(layer.beta) in trainable
    assert id(layer.norm.moving_mean) in non_trainable and id(layer.norm.moving_variance) in non_trainable
    assert not any("gamma" in v.path for v in layer.weights)  # gamma is a constant, not a variable
    assert len(layer.trainable_weights) == 5  # mean kernel/bias, log-var kernel/bias, beta


@pytest.mark.parametrize("gamma", [0.3, 0.7, 1.5])
def test_batchnorm_kl_lower_bound(gamma):
    D, F = 4, 10
    layer = bn_layer(gamma=gamma, D=D, F=F)
    rng = np.random.default_rng(1)
    layer.log_var_dense.set_weights([rng.normal(size=(F, D)) * 0.3, rng.normal(size=(D,))])
    out = layer(tensor(bn_features()), training=True)
    kl = np_(layer.kl(out["z_mean"], out["z_log_var"])).sum(-1).mean()
    assert kl >= D * gamma**2 / 2 - 1e-3 * D
    # With unit variances the bound is attained: the KL is the means' energy, D gamma^2 / 2.
    layer.log_var_dense.set_weights([np.zeros((F, D)), np.zeros(D)])
    out = layer(tensor(bn_features(seed=2)), training=True)
    kl = np_kl(np_(out["z_mean"]), np_(out["z_log_var"])).sum(-1).mean()
    assert kl == pytest.approx(D * gamma**2 / 2, rel=2e-3)


def test_batchnorm_config_round_trip():
    layer = BatchNormGaussian(6, gamma=0.3, seed=4)
    clone = BatchNormGaussian.from_config(layer.get_config())
    assert clone.gamma == 0.3 and clone.latent_dim == 6 and clone.seed == 4
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, BatchNormGaussian) and restored.gamma == 0.3
    with pytest.raises(ValueError, match="gamma"):
        BatchNormGaussian(6, gamma=-1.0)


def test_batchnorm_image_vae_trains_and_saves(images, tmp_path):
    model = image_vae(posterior="batchnorm", seed=0)
    assert isinstance(model.posterior, BatchNormGaussian)
    history = model.fit(images, epochs=2, batch_size=BATCH, verbose=0).history
    assert len(history["loss"]) == 2 and np.all(np.isfinite(history["loss"]))
    path = tmp_path / "bn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.posterior, BatchNormGaussian) and loaded.posterior.gamma == model.posterior.gamma
    np.testing.assert_allclose(np_(loaded.posterior.norm.moving_variance), np_(model.posterior.norm.moving_variance))
    mean, log_var = model.encode(images, return_log_var=True)
    mean2, log_var2 = loaded.encode(images, return_log_var=True)
    np.testing.assert_allclose(mean2, mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(log_var2, log_var, rtol=1e-5, atol=1e-6)




def test_batchnorm_fit_updates_moving_statistics(images):
    model = image_vae(posterior="batchnorm", seed=0)
    model.fit(images, epochs=1, batch_size=BATCH, verbose=0)
    assert not np.allclose(np_(model.posterior.norm.moving_mean), 0.0)
    assert not np.allclose(np_(model.posterior.norm.moving_variance), 1.0)


def test_batchnorm_stateless_training_call_normalises_with_batch_statistics(images):
    """What the JAX trainer does, on every backend: `stateless_call(..., training=True)` must batch-normalise the
    means (batch mean 0, std gamma) and return updated moving statistics."""
    model = image_vae(posterior="batchnorm", seed=0)
    model.build((None, 8, 8))
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    outputs, new_non_trainable = model.stateless_call(trainable, non_trainable, tensor(images), training=True)
    mean = np_(outputs["z_mean"]).astype("float64")
    np.testing.assert_allclose(mean.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(mean.std(0), model.posterior.gamma, rtol=2e-2)
    index = [id(v) for v in model.non_trainable_variables].index(id(model.posterior.norm.moving_mean))
    assert not np.allclose(np_(new_non_trainable[index]), 0.0)


# ================================================================================================ IWAE
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


# ================================================================================================ skip decoder
@pytest.fixture(scope="module")
def skip_model(sentences, vocabulary):
    keras.utils.set_random_seed(0)
    model = text_vae(decoder="skip", vocabulary=vocabulary, seed=0)
    return model, fit_text(model, sentences)


def test_skip_decoder_has_skip_dense(skip_model):
    model, history = skip_model
    assert model.decoder.skip and model.decoder.skip_dense is not None
    assert model.decoder.skip_dense.name == "skip"
    kernel = model.decoder.skip_dense.kernel
    assert tuple(kernel.shape) == (4, model.tokenizer.vocabulary_size)
    assert "bow" not in history  # bow_weight=0: no bow term
    assert model.get_config()["decoder"] == "skip"
    plain = text_vae(vocabulary=model.tokenizer.vocabulary)
    assert plain.decoder.skip_dense is None


@pytest.mark.parametrize("skip", [True, False])
def test_skip_logits_depend_on_z_through_skip_only(vocabulary, skip):
    model = text_vae(vocabulary=vocabulary, decoder="skip" if skip else "lstm", seed=0)
    decoder = model.decoder
    ids = tensor(np.random.default_rng(0).integers(2, len(vocabulary), size=(3, 7)), "int32")
    rng = np.random.default_rng(1)
    z1, z2 = rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(3, 4)).astype("float32")
    decoder(ids, tensor(z1))  # build
    kernel, bias = decoder.logits.get_weights()
    decoder.logits.set_weights([np.zeros_like(kernel), bias])
    decoder.lstm.set_weights([np.zeros_like(w) for w in decoder.lstm.get_weights()])
    l1, l2 = np_(decoder(ids, tensor(z1))), np_(decoder(ids, tensor(z2)))
    if skip:
        (u,) = decoder.skip_dense.get_weights()
        np.testing.assert_allclose(l1, np.broadcast_to((z1 @ u + bias)[:, None], l1.shape), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(l2, np.broadcast_to((z2 @ u + bias)[:, None], l2.shape), rtol=1e-5, atol=1e-5)
        assert np.abs(l1 - l2).max() > 1e-3
        # The generation step adds the same skip term.
        h0, c0 = decoder.initial_state(tensor(z1))
        step_logits, _ = decoder.step(ids[:, 0], tensor(z1), (h0, c0))
        np.testing.assert_allclose(np_(step_logits), z1 @ u + bias, rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_allclose(l1, l2, atol=1e-6)


def test_skip_model_save_load(skip_model, sentences, tmp_path):
    model, _ = skip_model
    path = tmp_path / "skip.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.decoder.skip and loaded.decoder_type == "skip"
    texts = sentences[:8]
    np.testing.assert_allclose(loaded.encode(texts), model.encode(texts), rtol=1e-5, atol=1e-6)
    assert loaded.reconstruct(texts, max_length=12) == model.reconstruct(texts, max_length=12)


# ================================================================================================ bag of words
@pytest.fixture(scope="module")
def bow_model(sentences, vocabulary):
    keras.utils.set_random_seed(0)
    model = text_vae(posterior="diagonal", objective="elbo", bow_weight=0.5, vocabulary=vocabulary, seed=0)
    return model, fit_text(model, sentences)


def test_bow_history_and_loss_decomposition(bow_model):
    model, history = bow_model
    assert model.bow_head is not None and model.bow_head.name == "bag_of_words"
    assert "bow" in history
    for key in ("rec", "reg", "bow"):
        assert len(history[key]) == 2
    total = np.array(history["rec"]) + np.array(history["reg"]) + np.array(history["bow"])
    np.testing.assert_allclose(history["loss"], total, rtol=1e-4)
    assert np.all(np.array(history["bow"]) > 0)


def test_bow_term_matches_numpy(bow_model, sentences):
    model, _ = bow_model
    ids = model.texts_to_ids(sentences[:16])
    x = tensor(ids, "int32")
    y_pred = model(x, training=False)
    model.bow_tracker.reset_state()
    loss = float(np_(model.compute_loss(x=x, y_pred=y_pred, training=False)))
    base = float(np_(VAE.compute_loss(model, x=x, y_pred=y_pred, training=False)))
    kernel, bias = model.bow_head.get_weights()
    z = np_(y_pred["z"]).astype("float64")
    log_probs = log_softmax(z @ kernel + bias, axis=-1)
    targets = ids[:, 1:]
    picked = np.take_along_axis(log_probs, targets, axis=1) * (targets != model.tokenizer.pad_id)
    expected = 0.5 * np.mean(-picked.sum(1))
    assert loss - base == pytest.approx(expected, rel=1e-4)
    assert float(np_(model.bow_tracker.result())) == pytest.approx(expected, rel=1e-5)


def test_bow_and_decoder_argument_checks():
    with pytest.raises(ValueError, match="bow_weight"):
        text_vae(bow_weight=-0.1)
    with pytest.raises(ValueError, match="decoder"):
        text_vae(decoder="foo")
    model = text_vae(vocabulary=["<pad>", "<unk>", "<bos>", "<eos>", "a"], bow_weight=0.0)
    assert model.bow_head is None


# ================================================================================================ with_posterior
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


def test_with_posterior_text_vae(skip_model, sentences):
    model, _ = skip_model
    new = model.with_posterior("diagonal")
    assert isinstance(new, kvae.TextVAE) and isinstance(new.posterior, DiagonalGaussian)
    assert new.decoder.skip and new.tokenizer.vocabulary == model.tokenizer.vocabulary
    assert int(np_(new.objective.step)) == int(np_(model.objective.step)) == 4
    texts = sentences[:8]
    mean, log_var = model.encode(texts, return_log_var=True)
    new_mean, new_log_var = new.encode(texts, return_log_var=True)
    np.testing.assert_allclose(new_mean, mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(new_log_var, log_var, rtol=1e-6, atol=1e-6)


def test_with_posterior_text_vae_carries_bow_head(bow_model):
    model, _ = bow_model
    new = model.with_posterior("isotropic")
    assert new.bow_head is not None
    for a, b in zip(new.bow_head.get_weights(), model.bow_head.get_weights()):
        np.testing.assert_array_equal(a, b)


# ================================================================================================ registry
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


# ================================================================================================ cyclic beta
def test_beta_cyclic_schedule_in_fit(images):
    beta = 2.0
    objective = Beta(beta=beta, annealing="cyclic", anneal_steps=4, ratio=0.5, cycles=2)
    model = image_vae(objective=objective, seed=0)
    history = model.fit(images[:BATCH], epochs=10, batch_size=BATCH, verbose=0).history
    expected = np.array([0, 0.5, 1, 1, 0, 0.5, 1, 1, 1, 1]) * beta
    np.testing.assert_allclose(history["beta"], expected, atol=1e-6)
    assert int(np_(model.objective.step)) == 10
