"""Tests for kvae.ImageVAE and kvae.AE: shapes, inputs, training, saving, seeding, compile and argument checking.

Backend independent: run under KERAS_BACKEND=tensorflow, jax and torch. Models are tiny (hidden_dims=(32,), latent 4)
and data small (<= 128 Fashion-MNIST images) so that the file runs in well under a minute and a half per backend.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

import kvae

LATENT = 4
HIDDEN = (32,)


# ---------------------------------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def images():
    """128 uint8 Fashion-MNIST images (128, 28, 28) and their labels."""
    (x, y), _ = kvae.datasets.fashion_mnist_sample()
    return x[:128], y[:128]


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)


def small_vae(**kwargs):
    kwargs.setdefault("latent_dim", LATENT)
    kwargs.setdefault("hidden_dims", HIDDEN)
    return kvae.ImageVAE(**kwargs)


@pytest.fixture(scope="module")
def trained(images):
    """An isotropic ImageVAE fitted for 2 epochs on the uint8 images (shared by the read-only tests)."""
    keras.utils.set_random_seed(7)
    x, _ = images
    model = small_vae(seed=3)
    history = model.fit(x, epochs=2, batch_size=32, verbose=0)
    return model, history


def same_config(a, b):
    """Configs compared as they are written to a `.keras` file (tuples and lists are the same there)."""
    return json.loads(json.dumps(a, sort_keys=True)) == json.loads(json.dumps(b, sort_keys=True))


def trainable_values(model):
    return [np.array(ops.convert_to_numpy(w)) for w in model.trainable_weights]


# -------------------------------------------------------------------------------------------------- shapes
def test_call_output_shapes(trained, images):
    model, _ = trained
    x, _ = images
    out = model(ops.convert_to_tensor(x[:5]))
    assert set(out) == {"z_mean", "z_log_var", "z", "logits"}
    assert tuple(out["z_mean"].shape) == (5, LATENT)
    assert tuple(out["z_log_var"].shape) == (5, LATENT)
    assert tuple(out["z"].shape) == (5, LATENT)
    assert tuple(out["logits"].shape) == (5, 28, 28)


def test_encode_shapes_and_isotropic_log_var(trained, images):
    model, _ = trained
    x, _ = images
    mean = model.encode(x[:10])
    assert isinstance(mean, np.ndarray)
    assert mean.shape == (10, LATENT)
    mean2, log_var = model.encode(x[:10], return_log_var=True)
    np.testing.assert_allclose(mean2, mean, rtol=1e-5, atol=1e-6)
    assert log_var.shape == (10, LATENT)
    # One shared variance per example: identical across units, but not identical across examples.
    np.testing.assert_array_equal(log_var, np.repeat(log_var[:, :1], LATENT, axis=1))
    assert np.ptp(log_var[:, 0]) > 0


def test_diagonal_log_var_differs_across_units(images):
    x, _ = images
    model = small_vae(posterior="diagonal", image_shape=(28, 28), seed=0)
    mean, log_var = model.encode(x[:10], return_log_var=True)
    assert mean.shape == log_var.shape == (10, LATENT)
    assert np.all(np.ptp(log_var, axis=1) > 0)


def test_encode_batches_agree(trained, images):
    model, _ = trained
    x, _ = images
    np.testing.assert_allclose(model.encode(x[:40], batch_size=7), model.encode(x[:40]), rtol=1e-4, atol=1e-5)


def test_decode_sample_reconstruct_shapes_and_range(trained, images):
    model, _ = trained
    x, _ = images
    z = np.random.default_rng(0).normal(size=(6, LATENT)).astype("float32")
    decoded = model.decode(z)
    sampled = model.sample(3)
    recon = model.reconstruct(x[:4])
    for array, n in ((decoded, 6), (sampled, 3), (recon, 4)):
        assert isinstance(array, np.ndarray)
        assert array.shape == (n, 28, 28)
        assert np.all(np.isfinite(array))
        assert array.min() >= 0.0 and array.max() <= 1.0
    # decode is the sigmoid of the decoder logits and reconstruct decodes the posterior means.
    np.testing.assert_allclose(recon, model.decode(model.encode(x[:4])), rtol=1e-5, atol=1e-6)
    # Different codes decode to different images.
    assert np.abs(decoded[0] - decoded[1]).max() > 1e-4


def test_generate_and_interpolate_are_the_verbs_of_text_models(trained, images):
    """The verbs TextVAE has: `generate(n)` decodes prior draws (`sample` is its alias), `interpolate(a, b, steps)`
    decodes the line between the posterior means of two single images, both ends included."""
    model, _ = trained
    x, _ = images
    generated = model.generate(4)
    assert generated.shape == (4, 28, 28) and np.all((generated >= 0) & (generated <= 1))
    assert np.abs(generated[0] - generated[1]).max() > 1e-4  # four different draws
    line = model.interpolate(x[0], x[1], steps=5)
    assert isinstance(line, np.ndarray) and line.shape == (5, 28, 28)
    ends = model.encode(x[:2])
    np.testing.assert_allclose(line[[0, -1]], model.decode(ends), rtol=1e-5, atol=1e-6)
    middle = model.decode(0.5 * ends[:1] + 0.5 * ends[1:])
    np.testing.assert_allclose(line[2:3], middle, rtol=1e-5, atol=1e-6)
    assert model.interpolate(x[0], x[1].astype("float32") / 255.0).shape == (11, 28, 28)  # default steps, mixed dtypes
    assert kvae.TextVAE.generate.__name__ == kvae.ImageVAE.generate.__name__ == "generate"
    assert {"generate", "reconstruct", "interpolate", "encode", "sample"} <= set(dir(kvae.ImageVAE))


def test_generate_on_a_model_given_its_image_shape_before_training():
    model = small_vae(image_shape=(28, 28, 1), seed=0)
    assert model.generate(2).shape == (2, 28, 28, 1)
    x = np.full((28, 28, 1), 0.5, dtype="float32")
    assert model.interpolate(x, 1 - x, steps=3).shape == (3, 28, 28, 1)


# -------------------------------------------------------------------------------------------------- inputs
def test_uint8_and_float_inputs_are_equivalent(trained, images):
    model, _ = trained
    x, _ = images
    np.testing.assert_allclose(model.encode(x[:8]), model.encode(x[:8].astype("float32") / 255.0), rtol=1e-4, atol=1e-5)


def test_channel_axis_images(images):
    x, _ = images
    x4 = x[:64, :, :, None]
    model = small_vae(seed=0)
    out = model(
        ops.convert_to_tensor(x4[:3])
    )  # the first call builds the model from the data (training: the dict test)
    assert model.image_shape == (28, 28, 1)
    assert tuple(out["logits"].shape) == (3, 28, 28, 1)
    assert model.encode(x4[:3]).shape == (3, LATENT)
    assert model.reconstruct(x4[:3]).shape == (3, 28, 28, 1)
    assert model.sample(2).shape == (2, 28, 28, 1)
    # A model built for (H, W, 1) refuses (H, W) images.
    with pytest.raises(ValueError, match="`x`"):
        model.encode(x[:3])


def test_float_images_and_image_shape_taken_from_data_on_first_fit(images):
    x, _ = images
    model = small_vae(seed=0)
    assert model.image_shape is None
    with pytest.raises(ValueError, match="image shape"):
        model.decode(np.zeros((1, LATENT), "float32"))
    small = x[:64, ::2, ::2].astype("float32") / 255.0  # (64, 14, 14) floats in [0, 1]
    history = model.fit(small, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.image_shape == (14, 14)
    assert model.sample(2).shape == (2, 14, 14)
    assert model.reconstruct(small[:3]).shape == (3, 14, 14)


def test_explicit_image_shape(images):
    x, _ = images
    model = small_vae(image_shape=(28, 28), seed=0)
    assert model.image_shape == (28, 28)
    assert model.decode(np.zeros((2, LATENT), "float32")).shape == (2, 28, 28)
    with pytest.raises(ValueError, match="`x`"):
        model.fit(x[:32, ::2, ::2], epochs=1, verbose=0)


def test_tf_data_dataset_of_batches(images):
    x, _ = images
    ds = tf.data.Dataset.from_tensor_slices(x).batch(32)
    model = small_vae(seed=0)
    history = model.fit(ds, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1 and np.isfinite(history.history["loss"][0])
    assert model.image_shape == (28, 28)
    # encode accepts datasets too, and agrees with the array path.
    np.testing.assert_allclose(model.encode(ds), model.encode(x), rtol=1e-4, atol=1e-5)


def test_tfds_style_dict_dataset(images):
    x, y = images
    ds = tf.data.Dataset.from_tensor_slices({"image": x[..., None], "label": y}).batch(32)
    model = small_vae(seed=0)
    history = model.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.image_shape == (28, 28, 1)
    enc = model.encode(ds)
    assert enc.shape == (len(x), LATENT)
    np.testing.assert_allclose(enc, model.encode(x[..., None]), rtol=1e-4, atol=1e-5)
    # In-memory dicts work as well, and the image key is required.
    np.testing.assert_allclose(model.encode({"image": x[:5, ..., None], "label": y[:5]}), enc[:5], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="image"):
        model.encode({"pixels": x[:5, ..., None]})


def test_custom_input_key(images):
    x, y = images
    model = small_vae(input_key="pixels", image_shape=(28, 28), seed=0)
    np.testing.assert_allclose(
        model.encode({"pixels": x[:5], "label": y[:5]}), model.encode(x[:5]), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="pixels"):
        model.encode({"image": x[:5]})


def test_conv_architecture(images):
    x, _ = images
    x = x[:64]
    model = small_vae(architecture="conv", hidden_dims=(8,), seed=0)
    history = model.fit(x, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.image_shape == (28, 28)
    assert isinstance(model.encoder, kvae.encoders.ConvEncoder)
    assert isinstance(model.decoder, kvae.decoders.ConvDecoder)
    out = model(ops.convert_to_tensor(x[:3]))
    assert tuple(out["logits"].shape) == (3, 28, 28)
    recon = model.reconstruct(x[:3])
    assert recon.shape == (3, 28, 28)
    assert recon.min() >= 0 and recon.max() <= 1
    # (N, H, W, 1) images with the conv architecture (no training needed for the shapes).
    model4 = small_vae(architecture="conv", hidden_dims=(8,), seed=0)
    out = model4(ops.convert_to_tensor(x[:3, :, :, None]))
    assert model4.image_shape == (28, 28, 1)
    assert tuple(out["logits"].shape) == (3, 28, 28, 1)
    assert model4.reconstruct(x[:3, :, :, None]).shape == (3, 28, 28, 1)


# ------------------------------------------------------------------------------------------------ training
def test_training_lowers_loss_and_history_terms(images):
    x, _ = images
    model = small_vae(seed=0, learning_rate=3e-3)
    # 120 images in batches of 32: the last batch holds 24, so the epoch averages are weighted.
    history = model.fit(x[:120], epochs=4, batch_size=32, verbose=0).history
    for key in ("loss", "rec", "kl", "reg"):
        assert key in history, f"missing {key!r} in {sorted(history)}"
        assert len(history[key]) == 4
        assert np.all(np.isfinite(history[key]))
    assert history["loss"][-1] < history["loss"][0] - 1.0
    assert history["rec"][-1] < history["rec"][0]
    # ELBO: reg is the KL, and the reported loss is rec + reg.
    np.testing.assert_allclose(np.add(history["rec"], history["reg"]), history["loss"], rtol=1e-4)
    np.testing.assert_allclose(history["reg"], history["kl"], rtol=1e-4)
    assert np.all(np.asarray(history["kl"]) >= 0)


def test_evaluate_returns_loss_terms(trained, images):
    model, _ = trained
    x, _ = images
    result = model.evaluate(x[:64], batch_size=32, verbose=0, return_dict=True)
    assert {"loss", "rec", "kl", "reg"} <= set(result)
    np.testing.assert_allclose(result["rec"] + result["reg"], result["loss"], rtol=1e-4)


def test_ae_trains_and_reports_zero_kl(images):
    x, _ = images
    model = kvae.AE(latent_dim=LATENT, hidden_dims=HIDDEN, learning_rate=3e-3, seed=0)
    history = model.fit(x, epochs=3, batch_size=32, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    np.testing.assert_allclose(history["loss"], history["rec"], rtol=1e-5)
    np.testing.assert_array_equal(history["reg"], 0.0)
    mean, log_var = model.encode(x[:5], return_log_var=True)
    assert mean.shape == (5, LATENT)
    np.testing.assert_array_equal(log_var, 0.0)
    # Deterministic: z is the mean, even in training mode.
    out = model(ops.convert_to_tensor(x[:5]), training=True)
    np.testing.assert_allclose(ops.convert_to_numpy(out["z"]), ops.convert_to_numpy(out["z_mean"]), rtol=1e-6)
    assert model.reconstruct(x[:2]).shape == (2, 28, 28)
    with pytest.raises(NotImplementedError):
        model.sample(2)


def test_ae_refuses_another_posterior_objective_prior():
    model = kvae.AE(latent_dim=LATENT, posterior="deterministic", objective="reconstruction", hidden_dims=HIDDEN)
    assert isinstance(model.posterior, kvae.posteriors.Deterministic)
    assert isinstance(model.objective, kvae.objectives.Reconstruction)
    for name, value in (("posterior", "diagonal"), ("objective", "elbo"), ("prior", "mog")):
        with pytest.raises(ValueError, match=f"`{name}="):
            kvae.AE(latent_dim=LATENT, hidden_dims=HIDDEN, **{name: value})


# ------------------------------------------------------------------------------------------------- saving
def test_save_load_roundtrip(trained, images, tmp_path):
    model, _ = trained
    x, _ = images
    path = tmp_path / "image_vae.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is kvae.ImageVAE
    assert same_config(loaded.get_config(), model.get_config())
    assert loaded.image_shape == (28, 28)
    np.testing.assert_allclose(loaded.encode(x[:16]), model.encode(x[:16]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        loaded.encode(x[:16], return_log_var=True)[1],
        model.encode(x[:16], return_log_var=True)[1],
        rtol=1e-5,
        atol=1e-6,
    )
    z = np.random.default_rng(1).normal(size=(3, LATENT)).astype("float32")
    np.testing.assert_allclose(loaded.decode(z), model.decode(z), rtol=1e-5, atol=1e-6)
    # The reloaded model keeps training.
    history = loaded.fit(x[:64], epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_save_load_conv(images, tmp_path):
    x, _ = images
    model = small_vae(architecture="conv", hidden_dims=(8,), posterior="diagonal", seed=0)
    model.fit(x[:64], epochs=1, batch_size=32, verbose=0)
    path = tmp_path / "conv.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert same_config(loaded.get_config(), model.get_config())
    np.testing.assert_allclose(loaded.encode(x[:8]), model.encode(x[:8]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded.reconstruct(x[:4]), model.reconstruct(x[:4]), rtol=1e-5, atol=1e-6)


def _without_names(config):
    """A config with every nested `name` removed (sub-layer names are auto-generated and uniquified per process)."""
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, (list, tuple)):
        return [_without_names(v) for v in config]
    return config


@pytest.fixture(scope="module")
def saved_ae(images, tmp_path_factory):
    x, _ = images
    keras.utils.set_random_seed(5)
    model = kvae.AE(latent_dim=LATENT, hidden_dims=HIDDEN, seed=0)
    model.fit(x[:64], epochs=1, batch_size=32, verbose=0)
    path = tmp_path_factory.mktemp("ae") / "ae.keras"
    model.save(path)
    return model, keras.saving.load_model(path)


def test_ae_save_load_roundtrip(saved_ae, images):
    x, _ = images
    model, loaded = saved_ae
    assert type(loaded) is kvae.AE
    assert same_config(_without_names(loaded.get_config()), _without_names(model.get_config()))
    assert isinstance(loaded.posterior, kvae.posteriors.Deterministic)
    assert isinstance(loaded.objective, kvae.objectives.Reconstruction)
    np.testing.assert_allclose(loaded.encode(x[:8]), model.encode(x[:8]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded.reconstruct(x[:4]), model.reconstruct(x[:4]), rtol=1e-5, atol=1e-6)


def test_ae_save_load_config_identical(saved_ae):
    model, loaded = saved_ae
    assert same_config(loaded.get_config(), model.get_config())


# ----------------------------------------------------------------------------------------------- seeding
def _seeded_history(x, seed):
    keras.utils.set_random_seed(seed)
    model = small_vae(seed=seed)
    return model.fit(x, epochs=2, batch_size=32, verbose=0).history


def test_seeded_runs_are_identical(images):
    x, _ = images
    x = x[:64]
    first = _seeded_history(x, 11)
    second = _seeded_history(x, 11)
    for key in ("loss", "rec", "kl", "reg"):
        np.testing.assert_array_equal(first[key], second[key])
    other = _seeded_history(x, 12)
    assert not np.array_equal(first["loss"], other["loss"])


# ----------------------------------------------------------------------------------------------- compile
def test_compile_overrides_default_optimizer(images):
    x, _ = images
    model = small_vae(seed=0)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    model(ops.convert_to_tensor(x[:2]))  # build
    before = trainable_values(model)
    assert before, "the built model has no trainable weights"
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0))
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    history = model.fit(x[:64], epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    for b, a in zip(before, trainable_values(model)):
        np.testing.assert_array_equal(a, b)


def test_learning_rate_sets_default_adam():
    model = small_vae(learning_rate=0.02)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.02)


# ------------------------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("latent_dim", [0, -1, 2.5, True])
def test_bad_latent_dim(latent_dim):
    with pytest.raises(ValueError, match="latent_dim"):
        kvae.ImageVAE(latent_dim=latent_dim)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"architecture": "foo"}, "architecture"),
        ({"posterior": "foo"}, "posterior"),
        ({"objective": "foo"}, "objective"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"seed": "x"}, "seed"),
        ({"image_shape": (28,)}, "image_shape"),
    ],
)
def test_bad_constructor_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        small_vae(**kwargs)


def _nan_images(x):
    bad = x[:8].astype("float32") / 255.0
    bad[3, 5, 5] = np.nan
    return bad


@pytest.mark.parametrize(
    "make_bad, pattern",
    [
        (_nan_images, "NaN"),
        (lambda x: x[:8].astype("float32"), r"\[0, 1\]"),  # floats in [0, 255]
        (lambda x: x[:8].astype("float32") / 255.0 - 0.5, r"\[0, 1\]"),
        (lambda x: x[:8].reshape(8, -1), "shape"),  # (N, 784)
        (lambda x: x[0], "shape"),  # a single (28, 28) image
        (lambda x: x[:8, None, :, :, None], "shape"),  # 5-D
        (lambda x: x[:0], "non-empty"),
        (lambda x: x[:8].astype(str), "dtype"),
    ],
)
def test_bad_images_in_fit(images, make_bad, pattern):
    x, _ = images
    model = small_vae()
    with pytest.raises(ValueError, match="`x`") as info:
        model.fit(make_bad(x), epochs=1, verbose=0)
    assert info.match(pattern)


def test_bad_images_in_encode_and_validation_data(trained, images):
    model, _ = trained
    x, _ = images
    with pytest.raises(ValueError, match="`x`.*NaN"):
        model.encode(_nan_images(x))
    with pytest.raises(ValueError, match="`x`"):
        model.encode(x[:4].astype("float32") * 2.0)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(x[:32], validation_data=_nan_images(x), epochs=1, verbose=0)


def test_empty_dataset_raises(images):
    x, _ = images
    model = small_vae()
    with pytest.raises(ValueError, match="`x`.*empty"):
        model.fit(tf.data.Dataset.from_tensor_slices(x).take(0).batch(8), epochs=1, verbose=0)


def test_none_input_raises():
    with pytest.raises(ValueError, match="`x`"):
        small_vae().fit(None)


def test_wrong_image_shape_after_build(trained, images):
    model, _ = trained
    x, _ = images
    for bad in (x[:4, ::2, ::2], x[:4, :, :, None], np.zeros((4, 28, 27), "uint8")):
        with pytest.raises(ValueError, match="`x`.*shape"):
            model.encode(bad)
        with pytest.raises(ValueError, match="`x`.*shape"):
            model.reconstruct(bad)
    with pytest.raises(ValueError, match="`x`.*shape"):
        model.fit(x[:32, ::2, ::2], epochs=1, verbose=0)


@pytest.mark.parametrize("n", [0, -3, 2.0, None])
def test_sample_bad_n(trained, n):
    model, _ = trained
    with pytest.raises(ValueError, match="`n`"):
        model.sample(n)


@pytest.mark.parametrize("shape", [(3, LATENT + 1), (LATENT,), (2, 1, LATENT)])
def test_decode_bad_z_shape(trained, shape):
    model, _ = trained
    with pytest.raises(ValueError, match="`z`"):
        model.decode(np.zeros(shape, "float32"))
