"""Mixed precision: under `keras.mixed_precision.set_global_policy("mixed_bfloat16")` every model, objective,
posterior and prior trains with finite losses; the networks compute in bfloat16 while the posterior parameters and
samples, the objective's value and the reconstruction log-likelihood are float32. "mixed_float16" trains with
Keras's loss scaling. The global policy is restored after each test.
"""

import keras
import numpy as np
import pytest
from keras import ops

import kvae

STEPS = 2  # batches of one epoch
IMAGE = {"latent_dim": 4, "hidden_dims": (16,), "seed": 1}
TEXT = {"latent_dim": 4, "embedding_dim": 8, "hidden_dim": 16, "max_vocabulary": 100, "max_length": 10, "seed": 1}
TRANSFORMER = {**TEXT, "architecture": "transformer", "hidden_dim": 16, "num_heads": 2, "num_layers": 1}
OBJECTIVES = {"density_gap": {"samples": 3}, "iwae": {"k": 3}, "capacity": {"c": 3.0}, "free_bits": {"target": 0.5}}


@pytest.fixture
def policy(request):
    """Sets the global policy given by the test's parameter; restores float32 afterwards."""
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(getattr(request, "param", "mixed_bfloat16"))
    yield keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(previous)


@pytest.fixture(scope="module")
def data():
    (images, _), _ = kvae.datasets.fashion_mnist_sample()
    sentences = [s for s in kvae.datasets.snli_sample()[0] if len(s.split()) <= 8][:64]
    return images[:64], sentences


def objective(name):
    return kvae.objectives.OBJECTIVES[name](**OBJECTIVES.get(name, {}))


def check_trains(model, x, policy):
    """A few steps: finite losses; the encoder in the compute dtype, posterior outputs and the loss in float32."""
    compute = keras.mixed_precision.Policy(policy).compute_dtype
    losses = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: losses.append(float(logs["loss"])))
    model.fit(x, epochs=1, batch_size=32, verbose=0, shuffle=False, callbacks=[record])
    assert len(losses) == STEPS and np.all(np.isfinite(losses)) and losses[0] != losses[1], losses
    assert model.encoder.compute_dtype == compute and model.posterior.compute_dtype == "float32"
    batch = x[:8] if isinstance(x, np.ndarray) else model.texts_to_ids(x[:8])
    outputs = model(batch, training=True)
    for key in ("z_mean", "z_log_var", "z"):
        assert keras.backend.standardize_dtype(outputs[key].dtype) == "float32", key
    loss = model.compute_loss(batch, None, outputs, training=False)
    assert keras.backend.standardize_dtype(loss.dtype) == "float32" and np.isfinite(float(ops.convert_to_numpy(loss)))
    if model.objective.num_samples is None:
        rec = model.reconstruction_loss(batch, outputs)
        assert keras.backend.standardize_dtype(rec.dtype) == "float32"


@pytest.mark.parametrize("name", kvae.list_objectives())
def test_image_vae_trains_every_objective_in_bfloat16(policy, data, name):
    model = kvae.ImageVAE(objective=objective(name), **IMAGE)
    check_trains(model, data[0], policy)


@pytest.mark.parametrize("name", kvae.list_objectives())
def test_text_vae_trains_every_objective_in_bfloat16(policy, data, name):
    model = kvae.TextVAE(objective=objective(name), **TEXT)
    check_trains(model, data[1], policy)


@pytest.mark.parametrize("name", ["elbo", "iwae"])
def test_transformer_text_vae_trains_in_bfloat16(policy, data, name):
    """keras-hub's layers follow the policy (bfloat16 attention and feed-forward); the logits reach the likelihood
    in float32."""
    model = kvae.TextVAE(objective=objective(name), **TRANSFORMER)
    check_trains(model, data[1], policy)
    assert model.decoder.compute_dtype == "bfloat16"


@pytest.mark.parametrize("posterior", kvae.list_posteriors())
def test_every_posterior_trains_in_bfloat16(policy, data, posterior):
    prior = "hyperspherical" if posterior == "vmf" else "normal"
    name = "reconstruction" if posterior == "deterministic" else "elbo"
    model = kvae.ImageVAE(posterior=posterior, prior=prior, objective=name, **IMAGE)
    check_trains(model, data[0], policy)


@pytest.mark.parametrize("prior", ["mog", "moig"])
def test_mixture_priors_train_in_bfloat16(policy, data, prior):
    check_trains(kvae.ImageVAE(prior=prior, objective="density_gap", **IMAGE), data[0], policy)


def test_ae_trains_in_bfloat16(policy, data):
    check_trains(kvae.AE(**IMAGE), data[0], policy)


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_float16_trains_with_loss_scaling(policy, data):
    model = kvae.ImageVAE(objective=objective("density_gap"), **IMAGE)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    check_trains(model, data[0], policy)


def test_bfloat16_matches_float32_at_the_start(data):
    """The same weights give the same loss in float32 and mixed_bfloat16, up to bfloat16's ~3 significant digits
    in the networks (a loss computed in bfloat16 throughout would be off by more on this 550-nat scale)."""
    x = data[0][:32]
    reference = kvae.ImageVAE(objective="reconstruction", posterior="deterministic", **IMAGE)
    reference.build((None, 28, 28))
    expected = float(ops.convert_to_numpy(reference.compute_loss(x, None, reference(x), training=False)))
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = kvae.ImageVAE(objective="reconstruction", posterior="deterministic", **IMAGE)
        model.build((None, 28, 28))
        model.set_weights(reference.get_weights())
        loss = model.compute_loss(x, None, model(x), training=False)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert keras.backend.standardize_dtype(loss.dtype) == "float32"
    np.testing.assert_allclose(float(ops.convert_to_numpy(loss)), expected, rtol=2e-3)
