"""TextVAE variants: the skip-VAE decoder (kvae.decoders.LSTMDecoder(skip=True)) and the bag-of-words loss
(`bow_weight`), against NumPy references, and their warm starts (`with_posterior`)."""


import keras
import numpy as np
import pytest
from scipy.special import log_softmax

import kvae
from kvae.models.vae import VAE
from kvae.posteriors import DiagonalGaussian
from kvae.testing import fit_on_ids, np_, snli_sentences, tensor, vocabulary_of
from kvae.testing import tiny_text_vae as text_vae


@pytest.fixture(scope="module")
def sentences():
    return snli_sentences()


@pytest.fixture(scope="module")
def vocabulary(sentences):
    return vocabulary_of(sentences)


fit_text = fit_on_ids


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
