"""The shared harness (`kvae.testing.run_layer_test`, `run_model_saving_test`) over every name that
`kvae.list_posteriors/list_priors/list_objectives/list_models` returns and every encoder and decoder: config round
trip, eager call with output shapes, symbolic call, `.keras` save and reload (see kvae/testing.py)."""

import numpy as np
import pytest

import kvae
from kvae import decoders, encoders, objectives, posteriors, priors
from kvae.testing import run_layer_test, run_model_saving_test

B, F, D = 3, 5, 4


def features():
    return np.random.default_rng(0).normal(size=(B, F)).astype("float32")


@pytest.mark.parametrize("num_samples", [None, 2])
@pytest.mark.parametrize("name", kvae.list_posteriors())
def test_posterior(name, num_samples, tmp_path):
    layer = posteriors.get(name, latent_dim=D, seed=1)
    z_shape = (B, D) if num_samples is None else (num_samples, B, D)
    out = run_layer_test(
        layer,
        [features()],
        call_kwargs={"num_samples": num_samples},
        expected_shapes={"z_mean": (B, D), "z_log_var": (B, D), "z": z_shape},
        deterministic={"z_mean", "z_log_var"},
        tmp_path=tmp_path,
    )
    # the contract's methods on the outputs: log_prob per unit (factorised) or joint, kl per unit / joint / None
    log_q = layer.log_prob(out["z"], out["z_mean"], out["z_log_var"])
    assert tuple(log_q.shape) == z_shape[:-1] + ((D,) if layer.factorized else (1,))
    kl = layer.kl(out["z_mean"], out["z_log_var"])
    assert kl is not None and tuple(kl.shape) in {(B, D), (B, 1)}


@pytest.mark.parametrize("name", kvae.list_priors())
def test_prior(name, tmp_path):
    prior = priors.get(name, seed=1)
    prior.build((None, D))
    z = prior.sample(B, D)
    assert tuple(z.shape) == (B, D)
    width = D if prior.factorized else 1
    run_layer_test(prior, [z], method="log_prob", expected_shapes=(B, width), tmp_path=tmp_path)


def objective_outputs(k=None):
    rng = np.random.default_rng(0)
    lead = (B,) if k is None else (k, B)
    return {
        "rec": rng.uniform(1, 2, size=lead).astype("float32"),
        "z_mean": rng.normal(size=(B, D)).astype("float32"),
        "z_log_var": rng.normal(scale=0.3, size=(B, D)).astype("float32"),
        "z": rng.normal(size=lead + (D,)).astype("float32"),
    }


@pytest.mark.parametrize("name", kvae.list_objectives())
def test_objective(name, tmp_path):
    objective = objectives.get(name, seed=1)
    posterior, prior = posteriors.DiagonalGaussian(D, seed=2), priors.StandardNormal(seed=3)
    objective.validate(posterior, prior)
    loss = run_layer_test(
        objective,
        [objective_outputs(objective.num_samples)],
        call_kwargs={"posterior": posterior, "prior": prior, "training": True},
        expected_shapes=(),
        symbolic=False,  # the call updates its trackers and step
        saving=False,  # holds layers in its call arguments: saved inside a model below
    )
    assert np.isfinite(loss)
    assert int(np.asarray(objective.step)) == 1
    # the objective inside a model: one training step, then `.keras` saving with its step and config
    model = kvae.ImageVAE(latent_dim=D, hidden_dims=(8,), objective=objective, seed=0)
    x = np.random.default_rng(1).uniform(size=(8, 6, 6)).astype("float32")
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    loaded = run_model_saving_test(model, x, tmp_path)
    assert int(np.asarray(loaded.objective.step)) == int(np.asarray(model.objective.step)) == 2


IDS = np.array([[2, 5, 6, 3, 0, 0, 0], [2, 7, 3, 0, 0, 0, 0], [2, 4, 8, 9, 10, 3, 0]], dtype="int32")
IMAGES = np.random.default_rng(2).uniform(size=(B, 8, 8)).astype("float32")
LATENT = np.random.default_rng(3).normal(size=(B, D)).astype("float32")
NETWORKS = {
    "mlp_encoder": (lambda: encoders.MLPEncoder(hidden_dims=(8, 6)), [IMAGES], {}, (B, 6)),
    "conv_encoder": (lambda: encoders.ConvEncoder(filters=(4, 6), hidden_dim=10), [IMAGES[..., None]], {}, (B, 10)),
    "lstm_encoder": (lambda: encoders.LSTMEncoder(12, embedding_dim=4, hidden_dim=6), [IDS], {}, (B, 6)),
    "transformer_encoder": (
        lambda: encoders.TransformerEncoder(12, 8, hidden_dim=8, num_layers=1, num_heads=2, dropout=0.0),
        [IDS],
        {},
        (B, 8),
    ),
    "mlp_decoder": (lambda: decoders.MLPDecoder((8, 8), hidden_dims=(6,)), [LATENT], {}, (B, 8, 8)),
    "conv_decoder": (lambda: decoders.ConvDecoder((8, 8, 1), filters=(6, 4)), [LATENT], {}, (B, 8, 8, 1)),
    "lstm_decoder": (
        lambda: decoders.LSTMDecoder(12, embedding_dim=4, hidden_dim=6, word_dropout=0.2, seed=1),
        [IDS[:, :-1], LATENT],
        {"training": False},
        (B, 6, 12),
    ),
    "transformer_decoder": (
        lambda: decoders.TransformerDecoder(12, 8, hidden_dim=8, num_layers=1, num_heads=2, word_dropout=0.2, seed=1),
        [IDS[:, :-1], LATENT],
        {"training": False},
        (B, 6, 12),
    ),
    "skip_lstm_decoder": (
        lambda: decoders.LSTMDecoder(12, embedding_dim=4, hidden_dim=6, skip=True),
        [IDS[:, :-1], LATENT],
        {"training": False},
        (B, 6, 12),
    ),
}


def test_every_network_is_covered():
    exported = {name for name in dir(encoders) + dir(decoders) if name.endswith(("Encoder", "Decoder"))}
    covered = {type(make()).__name__ for make, *_ in NETWORKS.values()}
    assert covered == exported


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_network(name, tmp_path):
    make, inputs, call_kwargs, shape = NETWORKS[name]
    run_layer_test(make(), inputs, call_kwargs=call_kwargs, expected_shapes=shape, tmp_path=tmp_path, atol=1e-5)


def make_model(name):
    """A tiny model of every name `kvae.list_models()` returns, on 8x8 images or a few sentences."""
    if name == "vae":
        return kvae.create_model(
            "vae",
            encoder=encoders.MLPEncoder(hidden_dims=(8,)),
            decoder=decoders.MLPDecoder((8, 8), hidden_dims=(8,)),
            latent_dim=D,
            seed=0,
        )
    if name == "text_vae":
        return kvae.create_model(name, latent_dim=D, embedding_dim=4, hidden_dim=6, seed=0)
    return kvae.create_model(name, latent_dim=D, hidden_dims=(8,), seed=0)


def test_every_model_name_is_covered():
    assert kvae.list_models() == ["ae", "image_vae", "text_vae", "vae"]


@pytest.mark.parametrize("name", kvae.list_models())
def test_model(name, tmp_path):
    model = make_model(name)
    x = ["a dog runs", "the cat sleeps", "a man plays", "two kids play"] if name == "text_vae" else IMAGES
    history = model.fit(x, epochs=1, batch_size=4, verbose=0).history
    assert np.isfinite(history["loss"][-1])
    loaded = run_model_saving_test(model, x, tmp_path)  # class, config and encodings
    mean, log_var = loaded.encode(x, return_log_var=True)
    assert mean.shape == log_var.shape == (len(x), D)
