"""Data-parallel training (`kvae.distribute`): a run on 4 virtual CPU devices follows the same loss trajectory and
ends at the same weights as the run on one device, on identical global batches, initial weights and seeds.

The device set-up must precede the backend's initialisation, so each backend's scenarios run in one subprocess
(this file run as a script): JAX with `XLA_FLAGS=--xla_force_host_platform_device_count=4` and
`keras.distribution.DataParallel` (jax CI pass), TensorFlow with 4 logical CPU devices and `MirroredStrategy`
(tensorflow CI pass). Keras's distribution API does not cover PyTorch: the torch pass checks the clear error.
Scenarios, all trained with SGD (Adam would hide a wrong gradient scale): ImageVAE with the ELBO (reparameterisation
noise), with the density gap over the global batch and per device, with BN-VAE's batch normalisation and Capacity's
|batch KL - c| (c near the KL, so that shards disagree), TextVAE with the density gap, and (TensorFlow only) a last
batch that splits unevenly across the replicas.
"""

import contextlib
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

DEVICES = 4
BATCH = 64  # global batch: 16 examples per device
STEPS = 4
EXAMPLES = BATCH * STEPS
SCENARIOS = {  # name: (model, objective, DensityGap aggregation_size, examples)
    "image_elbo": ("image", "elbo", None, EXAMPLES),
    "image_density_gap": ("image", "density_gap", None, EXAMPLES),  # aggregated over the global batch
    "image_density_gap_per_device": ("image", "density_gap", BATCH // DEVICES, EXAMPLES),
    "text_density_gap": ("text", "density_gap", None, EXAMPLES),
    "image_capacity_batchnorm": ("image", "capacity", None, EXAMPLES),  # |batch KL - c|, BN over the batch
    # TensorFlow only (JAX shards need batches divisible by the devices): a last batch of 58 split 15/15/15/13
    "image_elbo_uneven_last_batch": ("image", "elbo", None, EXAMPLES - 6),
}
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


# ---------------------------------------------------------------------------------------- the subprocess side
def make_model(scenario, x):
    """A tiny model, built, with narrow posteriors (log-variance -4) for the density gap: a gap far from 0 and an
    aggregated posterior of 16 examples far from that of 64."""
    import kvae

    kind, name, aggregation, _ = SCENARIOS[scenario]
    objective = {
        "density_gap": lambda: kvae.objectives.DensityGap(samples=3, aggregation_size=aggregation),
        "capacity": lambda: kvae.objectives.Capacity(c=3.0, anneal_steps=0),
        "elbo": lambda: "elbo",
    }[name]()
    if kind == "image":
        posterior = "batchnorm" if name == "capacity" else "isotropic"
        model = kvae.ImageVAE(latent_dim=4, hidden_dims=(16,), posterior=posterior, objective=objective, seed=3)
        model.build((None, 28, 28))
    else:
        model = kvae.TextVAE(
            objective=objective, latent_dim=4, embedding_dim=8, hidden_dim=16, max_vocabulary=300, seed=3
        )
        model.as_dataset(x, build_vocabulary=True)
        model.build((None, 8))
    if name == "density_gap":
        model.posterior.log_var_dense.bias.assign([-4.0])
    return model


def train(scenario, devices):
    """Per-step (running-mean) loss, reg and rec of one epoch, and the final weights."""
    import keras

    import kvae

    if SCENARIOS[scenario][0] == "image":
        x = kvae.datasets.fashion_mnist_sample()[0][0]
    else:  # sentences of <= 6 words: every batch pads to 8 tokens, one compiled step
        x = [s for s in kvae.datasets.snli_sample()[0] if len(s.split()) <= 6]
    x = x[: SCENARIOS[scenario][3]]
    keras.utils.set_random_seed(0)
    history = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: history.append([float(logs[k]) for k in ("loss", "reg", "rec")])
    )
    with kvae.distribute.data_parallel(devices) if len(devices) > 1 else contextlib.nullcontext():
        model = make_model(scenario, x)
        model.compile(optimizer=keras.optimizers.SGD(0.05))
        model.fit(x, epochs=1, batch_size=BATCH, shuffle=False, callbacks=[record], verbose=0)
    weights = np.concatenate([np.ravel(w) for w in model.get_weights()])
    return history, weights


def run_scenarios():
    """Prints {scenario: {"one": logs, "many": logs, "weight_diff": max |w_1 - w_4|, "weight_scale": max |w_1|}}."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * DEVICES)
    import keras

    import kvae  # noqa: F401  (kvae.distribute)

    devices = keras.distribution.list_devices("cpu")
    assert len(devices) == DEVICES, devices
    results = {}
    for scenario in SCENARIOS:
        if BACKEND == "jax" and SCENARIOS[scenario][3] % BATCH:
            continue
        start = time.time()
        one, w_one = train(scenario, devices[:1])
        middle = time.time()
        many, w_many = train(scenario, devices)
        print(
            f"{scenario}: 1 device {middle - start:.1f}s, {DEVICES} devices {time.time() - middle:.1f}s",
            file=sys.stderr,
        )
        results[scenario] = {
            "one": one,
            "many": many,
            "weight_diff": float(np.max(np.abs(w_one - w_many))),
            "weight_scale": float(np.max(np.abs(w_one))),
        }
    print("RESULTS " + json.dumps(results))


# -------------------------------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def trajectories():
    if BACKEND not in ("jax", "tensorflow"):
        pytest.skip(f"keras.distribution does not cover KERAS_BACKEND={BACKEND!r}")
    env = dict(os.environ, KERAS_BACKEND=BACKEND, TF_CPP_MIN_LOG_LEVEL="3")
    if BACKEND == "jax":
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={DEVICES}").strip()
    done = subprocess.run([sys.executable, __file__], check=False, env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULTS ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(lines[-1][len("RESULTS ") :])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_many_devices_follow_the_one_device_trajectory(trajectories, scenario):
    if scenario not in trajectories:
        pytest.skip("JAX shards a batch evenly across the devices only")
    result = trajectories[scenario]
    one, many = np.asarray(result["one"]), np.asarray(result["many"])
    assert one.shape == many.shape == (STEPS, 3)
    assert np.all(np.isfinite(one)) and not np.allclose(one[0], one[-1])  # the model trained
    # Per step: loss (a per-replica loss not divided among the replicas would show 4x), reg and rec. Keras's
    # per-batch logs of an unevenly split batch average the replicas' running means: compare the even steps only.
    even = STEPS if SCENARIOS[scenario][3] % BATCH == 0 else STEPS - 1
    np.testing.assert_allclose(many[:even], one[:even], rtol=5e-6, atol=1e-4)
    assert result["weight_diff"] <= 1e-5 * max(1.0, result["weight_scale"]), result


def test_density_gap_aggregations_differ(trajectories):
    """Global and per-device aggregation are different objectives: the trajectory tests tell them apart."""
    reg_global = trajectories["image_density_gap"]["one"][0][1]
    reg_per_device = trajectories["image_density_gap_per_device"]["one"][0][1]
    assert reg_per_device > reg_global + 0.1  # same first state; in expectation smaller groups give a larger gap


def test_helpers_are_plain_outside_a_strategy():
    import keras

    from kvae import distribute

    assert distribute.replicas() == 1
    loss = keras.ops.convert_to_tensor(2.5)
    assert float(distribute.scale_loss(loss, 4)) == 2.5
    kl = np.arange(12.0, dtype="float32").reshape(4, 3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(distribute.batch_mean(keras.ops.array(kl))), kl.mean(0))
    mean = keras.ops.ones((5, 3))
    (gathered,), offset = distribute.gather_batch(mean)
    assert gathered is mean and offset == 0
    a = distribute.normal((2, 5, 3), keras.random.SeedGenerator(7), batch_axis=1)
    b = keras.random.normal((2, 5, 3), seed=keras.random.SeedGenerator(7))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_data_parallel_errors():
    from kvae import distribute

    if BACKEND not in ("jax", "tensorflow"):
        with pytest.raises(NotImplementedError, match="KERAS_BACKEND='torch'"), distribute.data_parallel():
            pass
        return
    with pytest.raises(ValueError, match="`devices`"), distribute.data_parallel(devices=[]):
        pass


if __name__ == "__main__":
    run_scenarios()
