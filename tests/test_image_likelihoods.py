"""Colour-image likelihoods (`kvae.likelihoods`): each one's -log p(x|z) against an independent NumPy reference, the
discretised logistic's normalisation over the 256 levels, and `ImageVAE`s trained on a folder of generated PNGs
(shapes, likelihoods through the model, bits/dim, save and reload)."""

import math

import numpy as np
import pytest
from keras import ops

import kvae
from kvae.likelihoods import Bernoulli, DiscretizedLogistic, Gaussian
from kvae.models.image_vae import conv_filters
from kvae.testing import check_config_round_trip, np_, run_layer_test, run_model_saving_test

LIKELIHOODS = {
    "bernoulli": lambda: "bernoulli",
    "gaussian": lambda: "gaussian",
    "gaussian_fixed": lambda: Gaussian(variance="fixed", sigma=0.2),
    "gaussian_predicted": lambda: Gaussian(variance="predicted"),
    "logistic": lambda: DiscretizedLogistic(num_components=3),
}


# ------------------------------------------------------------------------------------------- NumPy references
def np_log_sigmoid(t):
    return -np.logaddexp(0.0, -t)


def np_bernoulli_nll(x, logits):
    per_value = -(x * np_log_sigmoid(logits) + (1 - x) * np_log_sigmoid(-logits))
    return per_value.reshape(len(x), -1).sum(-1)


def np_gaussian_nll(x, mu, log_sigma):
    log_sigma = np.maximum(log_sigma, -7.0)
    per_value = 0.5 * np.log(2 * np.pi) + log_sigma + 0.5 * ((x - mu) / np.exp(log_sigma)) ** 2
    return per_value.reshape(len(x), -1).sum(-1)


def np_logistic_mixture_nll(levels, params, k):
    """-log P(levels) (B,), pixel by pixel, on the level scale: component j of channel c is a logistic with location
    l = 127.5 (m + 1) and scale 127.5 s over the bins [level - 1/2, level + 1/2], the end bins open to -inf / +inf.

    levels: int (B, H, W, C); params (B, H, W, K (1 + 2C + C(C-1)/2)) laid out as [logits | mu (C, K) | t (C, K) |
    coefficients (pairs, K)], pairs (1, 0), (2, 0), (2, 1), ..."""
    b, h, w, c = levels.shape
    pairs = [(ch, earlier) for ch in range(c) for earlier in range(ch)]
    out = np.zeros(b)
    for i in range(b):
        for r in range(h):
            for col in range(w):
                p = params[i, r, col].astype(np.float64)
                logits = p[:k]
                mu = p[k : k + c * k].reshape(c, k)
                log_s = np.maximum(p[k + c * k : k + 2 * c * k].reshape(c, k), -7.0)
                coef = np.tanh(p[k + 2 * c * k :].reshape(len(pairs), k))
                x = levels[i, r, col] / 127.5 - 1.0  # the earlier channels, on [-1, 1]
                log_pi = logits - np.logaddexp.reduce(logits)
                log_mix = log_pi.copy()
                for ch in range(c):
                    m = mu[ch] + sum(coef[pairs.index((ch, e))] * x[e] for e in range(ch))
                    loc, scale = 127.5 * (m + 1.0), 127.5 * np.exp(log_s[ch])
                    level = levels[i, r, col, ch]
                    # log CDFs at the bin's ends, then log(F(upper) - F(lower)) = log F(upper) + log1p(-F(lower) / F(upper))
                    log_upper = 0.0 if level == 255 else np_log_sigmoid((level + 0.5 - loc) / scale)
                    log_lower = -np.inf if level == 0 else np_log_sigmoid((level - 0.5 - loc) / scale)
                    log_mix += log_upper + np.log1p(-np.exp(log_lower - log_upper))
                out[i] -= np.logaddexp.reduce(log_mix)
    return out


def nll(likelihood, x, params, image_shape):
    if not likelihood.built:
        likelihood.build((None, *image_shape))
    return np_(likelihood.nll(ops.convert_to_tensor(x), ops.convert_to_tensor(params)))


# ------------------------------------------------------------------------------------------- likelihood maths
def test_bernoulli_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (3, 4, 5, 3)) / 255.0
    logits = rng.normal(size=x.shape) * 3
    got = nll(Bernoulli(), x.astype("float32"), logits.astype("float32"), (4, 5, 3))
    np.testing.assert_allclose(got, np_bernoulli_nll(x, logits), rtol=1e-5)


@pytest.mark.parametrize("variance", ["fixed", "learned", "predicted"])
def test_gaussian_matches_numpy(variance):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (3, 4, 5, 3)) / 255.0
    likelihood = Gaussian(variance=variance, sigma=0.3)
    likelihood.build((None, 4, 5, 3))
    mu = rng.uniform(-0.2, 1.2, x.shape)
    if variance == "predicted":
        log_sigma = rng.normal(size=x.shape) * 3 - 2  # some below the floor -7
        params = np.concatenate([mu, log_sigma], axis=-1)
    elif variance == "learned":
        log_sigma = np.array([-1.0, -2.0, 0.5])
        likelihood.log_sigma.assign(log_sigma)
        params = mu
    else:
        log_sigma, params = np.log(0.3), mu
    got = nll(likelihood, x.astype("float32"), params.astype("float32"), (4, 5, 3))
    np.testing.assert_allclose(got, np_gaussian_nll(x, mu, log_sigma + np.zeros_like(x)), rtol=1e-5)
    assert likelihood.decoder_shape((4, 5, 3)) == ((4, 5, 6) if variance == "predicted" else (4, 5, 3))


@pytest.mark.parametrize("channels", [1, 3])
def test_discretized_logistic_matches_numpy_with_edge_bins(channels):
    rng = np.random.default_rng(2)
    k = 4
    likelihood = DiscretizedLogistic(num_components=k)
    shape = (3, 4, channels)
    params = rng.normal(size=(2, *likelihood.decoder_shape(shape))).astype("float32")
    params[..., k : k + channels * k] = rng.uniform(-1.2, 1.2, (2, 3, 4, channels * k))  # means over the range
    params[0, 0, 0, k + channels * k : k + 2 * channels * k] = -9.0  # scales at the floor: a sharp pixel
    levels = rng.integers(0, 256, (2, *shape))
    levels[0, 0, 0], levels[0, 0, 1], levels[1, 2, 3] = 0, 255, 0  # both edge bins
    levels[1, 0, :, :] = 255
    x = (levels / 255.0).astype("float32")
    got = nll(likelihood, x, params, shape)
    np.testing.assert_allclose(got, np_logistic_mixture_nll(levels, params, k), rtol=1e-4)


def test_discretized_logistic_sums_to_one_over_all_levels():
    """P(x) over every colour of one pixel (256^2 values of two channels, coefficient included) sums to 1."""
    rng = np.random.default_rng(3)
    likelihood = DiscretizedLogistic(num_components=3)
    params = rng.normal(size=likelihood.decoder_shape((1, 1, 2))[-1]).astype("float32")
    params[3:9] = rng.uniform(-0.9, 0.9, 6)
    params[9:15] = rng.uniform(-4.0, -1.0, 6)  # scales of 2 to 30 levels
    a, b = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    x = (np.stack([a, b], -1).reshape(-1, 1, 1, 2) / 255.0).astype("float32")
    got = nll(likelihood, x, np.broadcast_to(params, (len(x), 1, 1, len(params))).copy(), (1, 1, 2))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(np.exp(-got.astype(np.float64)).sum(), 1.0, atol=1e-3)


def test_decoded_images_are_the_means():
    rng = np.random.default_rng(5)
    k = 3
    logistic = DiscretizedLogistic(num_components=k)
    logistic.build((None, 2, 2, 2))
    params = rng.normal(size=(1, 2, 2, logistic.decoder_shape((2, 2, 2))[-1])) * 0.7
    pi = np.exp(params[..., :k]) / np.exp(params[..., :k]).sum(-1, keepdims=True)
    mu0, mu1, a = params[..., k : 2 * k], params[..., 2 * k : 3 * k], np.tanh(params[..., 5 * k : 6 * k])
    red = np.clip((pi * mu0).sum(-1), -1, 1)  # on [-1, 1]; green's means move with red's mean
    green = np.clip((pi * (mu1 + a * red[..., None])).sum(-1), -1, 1)
    want = (np.stack([red, green], -1) + 1) / 2
    np.testing.assert_allclose(np_(logistic.mean(ops.convert_to_tensor(params.astype("float32")))), want, atol=1e-6)
    gaussian = Gaussian(variance="predicted")
    gaussian.build((None, 2, 2))  # grey images: (H, W, 2) decoder outputs -> (H, W) means
    params = rng.normal(size=(1, 2, 2, 2)).astype("float32")
    np.testing.assert_allclose(np_(gaussian.mean(ops.convert_to_tensor(params))), np.clip(params[..., 0], 0, 1))


@pytest.mark.parametrize("name", list(LIKELIHOODS))
def test_likelihood_layer_harness(name, tmp_path):
    """Config round trip, eager and symbolic calls, `.keras` saving of each likelihood layer on (B, 4, 6, 3) images."""
    likelihood = kvae.likelihoods.get(LIKELIHOODS[name]())
    rng = np.random.default_rng(4)
    x = (rng.integers(0, 256, (2, 4, 6, 3)) / 255.0).astype("float32")
    params = rng.normal(size=(2, *likelihood.decoder_shape((4, 6, 3)))).astype("float32")
    run_layer_test(likelihood, [x, params], expected_shapes=(2,), tmp_path=tmp_path, atol=1e-4)


def test_likelihood_names_and_configs():
    assert sorted(kvae.likelihoods.LIKELIHOODS) == ["bernoulli", "gaussian", "logistic"]
    for name, cls in kvae.likelihoods.LIKELIHOODS.items():
        assert type(kvae.likelihoods.get(name)) is cls
    for layer in (Bernoulli(), Gaussian(variance="predicted", sigma=0.5), DiscretizedLogistic(num_components=7)):
        check_config_round_trip(layer)
    with pytest.raises(ValueError, match="likelihood"):
        kvae.ImageVAE(likelihood="poisson")
    with pytest.raises(ValueError, match="variance"):
        Gaussian(variance="per-pixel")
    with pytest.raises(ValueError, match="num_components"):
        DiscretizedLogistic(num_components=0)


def test_conv_networks_sized_to_the_image():
    assert conv_filters((28, 28)) == (32, 64)
    assert conv_filters((32, 32, 3)) == (32, 64, 128)
    assert conv_filters((64, 64, 3)) == (32, 64, 128, 256)
    model = kvae.ImageVAE(architecture="conv", likelihood="logistic", image_shape=(64, 64, 3), latent_dim=8)
    assert model.encoder.filters == (32, 64, 128, 256)
    assert model.decoder.compute_output_shape((2, 8)) == (2, 64, 64, 5 * (1 + 6 + 3))
    model = kvae.ImageVAE(architecture="conv", latent_dim=4)  # no shape given: sized by the first images it sees
    assert model.encode(np.zeros((2, 32, 32, 3), "uint8")).shape == (2, 4)
    assert model.encoder.filters == (32, 64, 128) and model.image_shape == (32, 32, 3)


# ------------------------------------------------------------------------------------------- models on a folder
def write_png_folder(folder, count=24, size=16):
    """Colour PNGs of smooth gradients (a random colour and direction per image) in two subfolders."""
    from PIL import Image

    rng = np.random.default_rng(0)
    ramp = np.linspace(0.0, 1.0, size)
    for i in range(count):
        sub = folder / ("cats" if i % 2 else "dogs")
        sub.mkdir(parents=True, exist_ok=True)
        field = ramp[:, None] if i % 3 else ramp[None, :]
        colour = rng.uniform(0, 255, 3)
        pixels = np.broadcast_to(field[..., None] * colour, (size, size, 3)) + rng.normal(0, 8, (size, size, 3))
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8), mode="RGB").save(sub / f"{i}.png")


@pytest.fixture(scope="module")
def folder_images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pngs")
    write_png_folder(folder)
    return folder, kvae.datasets.image_folder(folder, image_size=(16, 16))


def reference_nll(model, x, logits):
    """NumPy -log p(x|z) of decoder outputs `logits` for uint8 images x, by the model's likelihood."""
    logits = np_(logits).astype(np.float64)
    likelihood = model.likelihood
    if isinstance(likelihood, Bernoulli):
        return np_bernoulli_nll(x / 255.0, logits)
    if isinstance(likelihood, Gaussian):
        if likelihood.variance == "predicted":
            return np_gaussian_nll(x / 255.0, logits[..., :3], logits[..., 3:])
        log_sigma = np_(likelihood.log_sigma) if likelihood.variance == "learned" else np.log(likelihood.sigma)
        return np_gaussian_nll(x / 255.0, logits, log_sigma + np.zeros(x.shape))
    return np_logistic_mixture_nll(x.astype(int), logits, likelihood.num_components)


@pytest.mark.parametrize("name", list(LIKELIHOODS))
def test_colour_vae_trains_on_a_folder_and_scores_like_numpy(name, folder_images, tmp_path):
    _, x = folder_images
    assert x.shape == (24, 16, 16, 3) and x.dtype == np.uint8
    model = kvae.ImageVAE(
        architecture="conv", likelihood=LIKELIHOODS[name](), hidden_dims=(8, 16), latent_dim=4, learning_rate=3e-3
    )
    history = model.fit(x, epochs=4, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(history)) and history[-1] < history[0]
    assert model.decode(np.zeros((2, 4), "float32")).shape == (2, 16, 16, 3)
    generated, rebuilt = model.generate(3), model.reconstruct(x[:3])
    assert generated.shape == rebuilt.shape == (3, 16, 16, 3)
    assert generated.min() >= 0 and generated.max() <= 1

    batch = x[:2]
    outputs = model(ops.convert_to_tensor(batch), training=False)
    want = reference_nll(model, batch, outputs["logits"])
    assert np_(outputs["logits"]).shape == (2, *model.likelihood.decoder_shape((16, 16, 3)))
    got = np_(model.reconstruction_loss(ops.convert_to_tensor(batch), outputs))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-4)
    z = np_(outputs["z"])
    np.testing.assert_allclose(model.log_px_given_z(batch, z), -want, rtol=1e-4)

    result = kvae.metrics.log_likelihood(model, batch, samples=1)  # 2 rows, as above: no new shapes to compile
    dims = 16 * 16 * 3
    if name == "bernoulli":
        assert "bits_per_dim" not in result
    else:
        offset = 0.0 if name == "logistic" else dims * math.log(255)
        assert result["bits_per_dim"] == pytest.approx((result["nll"] + offset) / (dims * math.log(2)), rel=1e-9)
        assert 0 < result["bits_per_dim"] < 16

    loaded = run_model_saving_test(model, batch, tmp_path, atol=1e-5)
    np.testing.assert_allclose(loaded.log_px_given_z(batch, z), -want, rtol=1e-4)
    np.testing.assert_allclose(loaded.decode(z), model.decode(z), atol=1e-5)
    if name == "gaussian":  # the learned per-channel log-scale: a weight the optimiser moves, saved, warm-started
        log_sigma = np_(model.likelihood.log_sigma)
        assert log_sigma.shape == (3,) and not np.allclose(log_sigma, np.log(0.1))
        np.testing.assert_allclose(np_(loaded.likelihood.log_sigma), log_sigma)
        np.testing.assert_allclose(np_(model.with_posterior("diagonal").likelihood.log_sigma), log_sigma)


def test_folder_as_a_stream_and_grey_images(folder_images, tmp_path):
    folder, x = folder_images
    stream = kvae.datasets.image_folder(folder, image_size=(16, 16), batch_size=8)
    batches = [np.asarray(batch) for batch in stream]
    assert [len(b) for b in batches] == [8, 8, 8] and batches[0].dtype == np.uint8
    np.testing.assert_array_equal(np.sort(np.concatenate(batches), axis=0), np.sort(x, axis=0))  # the same images
    grey = kvae.datasets.image_folder(folder, image_size=(16, 16), color_mode="grayscale")
    assert grey.shape == (24, 16, 16)
    for likelihood in ("logistic", Gaussian(variance="predicted")):  # (H, W, P) decoder outputs for (H, W) images
        model = kvae.ImageVAE(likelihood=likelihood, hidden_dims=(16,), latent_dim=4, image_shape=(16, 16))
        model.build((None, 16, 16))
        assert model.generate(2).shape == (2, 16, 16)
        assert np.all(np.isfinite(model.log_px_given_z(grey[:2], np.zeros((2, 4), "float32"))))
    with pytest.raises(ValueError, match="without images"):
        kvae.datasets.image_folder(tmp_path)


def test_tfds_images_error_without_the_package(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tfds(name, *args, **kwargs):
        if name == "tensorflow_datasets":
            raise ImportError("no tensorflow_datasets")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tfds)
    with pytest.raises(ImportError, match="pip install tensorflow-datasets"):
        kvae.datasets.tfds_images("cifar10")

