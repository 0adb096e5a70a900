"""The three backends train the same function.

One tiny `TextVAE` and one tiny `ImageVAE` are saved under the current backend. A subprocess per backend
(TensorFlow, JAX, PyTorch; this file run as a script) loads them and, for every objective in
`kvae.list_objectives()`, trains a copy of each with that objective for `STEPS` Adam steps on the same unshuffled
batches, with the posterior (and every other) noise replaced by one fixed, backend-independent pattern. The per-step
losses must agree to `RTOL` relative and the encodings after training to `ATOL`.

This is what catches a backend that applies another update: e.g. TensorFlow's sparse `IndexedSlices` gradient of an
embedding table, which Keras's TensorFlow optimiser scatters row by row, giving a token that occurs twice in a batch
another Adam update than the dense gradient (`kvae.optimizers.Adam` densifies it).

The test spawns all three backends itself, so it runs once, in the TensorFlow session of the suite (or wherever
`KVAE_PARITY=1` is set).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

import kvae

BACKENDS = ("tensorflow", "jax", "torch")
STEPS = 50
RTOL = 1e-4
ATOL = 1e-3  # encodings after 50 steps at Adam 2e-3: float noise is ~1e-4; TensorFlow's sparse Adam moved them 4e-2-0.5
WORKER_TIMEOUT = 900
TEXT = {"latent_dim": 4, "embedding_dim": 16, "hidden_dim": 32, "max_vocabulary": 200, "max_length": 12}
IMAGE = {"latent_dim": 4, "hidden_dims": (32,)}
# Every objective with settings that make its schedule move within STEPS steps.
OBJECTIVES = {
    "elbo": {},
    "beta": {"beta": 0.5, "annealing": "linear", "anneal_steps": 20},
    "capacity": {"c": 3.0, "anneal_steps": 20},
    "free_bits": {"target": 0.5},
    "density_gap": {"samples": 4},
    "iwae": {"k": 3},
    "reconstruction": {},
}


def fixed_noise(shape, *args, dtype=None, seed=None, **kwargs):
    """sin(12.9898 k) for the k-th element (k = 1, 2, ...): the same 'noise' on every backend and every step, for
    any shape (also dynamic ones inside compiled steps). Stands in for `keras.random.normal` and `uniform`."""
    ones = ops.ones(shape, dtype=dtype or "float32")
    index = ops.reshape(ops.cumsum(ops.reshape(ones, (-1,))), ops.shape(ones))
    return ops.sin(index * 12.9898)


def fixed_uniform(shape, *args, dtype=None, seed=None, **kwargs):
    return 0.5 + 0.5 * fixed_noise(shape, dtype=dtype)


def data():
    """Fixed batches: 4 batches of 16 SNLI sentences (ids padded to 12) and 4 batches of 32 images."""
    train, _ = kvae.datasets.snli_sample()
    sentences = [s for s in train if len(s.split()) <= 10][:64]
    (images, _), _ = kvae.datasets.fashion_mnist_sample()
    return sentences, images[:128].astype("float32") / 255.0


def save_models(folder):
    """The two models every backend starts from, trained a few steps (so that no weight is at its initial value)."""
    keras.utils.set_random_seed(0)
    sentences, images = data()
    text = kvae.TextVAE(posterior="isotropic", seed=1, **TEXT)
    text.fit(sentences, epochs=1, batch_size=16, verbose=0, shuffle=False)
    image = kvae.ImageVAE(posterior="diagonal", seed=1, **IMAGE)
    image.fit(images, epochs=1, batch_size=32, verbose=0, shuffle=False)
    text.save(folder / "text.keras")
    image.save(folder / "image.keras")


def with_objective(saved, name):
    """A copy of the saved model (weights, posterior, prior) trained by objective `name`, with a fresh Adam."""
    config = saved.get_config()
    config["objective"] = kvae.objectives.get(name, seed=3, **OBJECTIVES[name])
    model = type(saved).from_config(config)
    model.build_from_config(saved.get_build_config())
    for layer in ("encoder", "decoder", "posterior", "prior"):
        getattr(model, layer).set_weights(getattr(saved, layer).get_weights())
    return model


def trajectories(folder):
    """{"<kind>/<objective>": {"losses": [STEPS floats], "encodings": (N, D) list}} under this backend."""
    keras.random.normal = fixed_noise
    keras.random.uniform = fixed_uniform
    sentences, images = data()
    results = {}
    for kind in ("text", "image"):
        saved = keras.saving.load_model(folder / f"{kind}.keras")
        if kind == "text":
            batches = np.split(saved.texts_to_ids(sentences), 4)
            probe = sentences[:8]
        else:
            batches = np.split(images, 4)
            probe = images[:8]
        for name in OBJECTIVES:
            model = with_objective(saved, name)
            losses = []
            for step in range(STEPS):
                logs = model.train_on_batch(batches[step % len(batches)], return_dict=True)
                losses.append(float(logs["loss"]))
            results[f"{kind}/{name}"] = {"losses": losses, "encodings": model.encode(probe).tolist()}
    return results


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow" and os.environ.get("KVAE_PARITY") != "1",
    reason="spawns all three backends itself: runs once, in the tensorflow session (or with KVAE_PARITY=1)",
)
def test_three_backends_train_the_same_function(tmp_path):
    save_models(tmp_path)
    outputs = {}
    for backend in BACKENDS:  # one at a time: each uses every core
        out = tmp_path / f"{backend}.json"
        log = tmp_path / f"{backend}.log"
        with open(log, "w") as handle:
            code = subprocess.call(
                [sys.executable, __file__, str(tmp_path), str(out)],
                env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=WORKER_TIMEOUT,
            )
        if code != 0:
            pytest.fail(f"the {backend} worker failed:\n{log.read_text()[-3000:]}")
        outputs[backend] = json.loads(out.read_text())
    reference = outputs["jax"]
    assert sorted(reference) == sorted(f"{k}/{o}" for k in ("text", "image") for o in kvae.list_objectives())
    failures = []
    for backend in ("tensorflow", "torch"):
        for key, expected in reference.items():
            found = outputs[backend][key]
            losses, ref_losses = np.array(found["losses"]), np.array(expected["losses"])
            assert np.all(np.isfinite(ref_losses)) and ref_losses[0] != ref_losses[-1], key  # it trained
            gap = np.max(np.abs(losses - ref_losses) / np.abs(ref_losses))
            if gap > RTOL:
                first = int(np.argmax(np.abs(losses - ref_losses) / np.abs(ref_losses) > RTOL))
                failures.append(f"{backend} {key}: losses differ by {gap:.2e} relative (first at step {first})")
            enc_gap = np.max(np.abs(np.array(found["encodings"]) - np.array(expected["encodings"])))
            if enc_gap > ATOL:
                failures.append(f"{backend} {key}: encodings differ by {enc_gap:.2e}")
    assert not failures, "\n".join(failures)


if __name__ == "__main__":  # worker: python test_parity.py FOLDER OUT
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.write_text(json.dumps(trajectories(folder)))
