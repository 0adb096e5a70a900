"""Checkpoints across backends and resumable `fit`.

1. A `.keras` file written under one backend loads under the others with the same encodings (posterior mean and
   log-variance), the same greedy reconstructions and its vocabulary, and `fit` continues from it (the objective's
   step and the optimiser's iterations go on). The current backend B trains and saves a tiny isotropic `TextVAE`
   (LSTM, and Transformer with each tokenizer) and a tiny diagonal `ImageVAE`; one subprocess per other backend X (this file run as a script) does the same,
   then loads B's files and writes back what it reads from them. Each run covers B -> X and X -> B for both other X
   (4 directions); the CI runs under tensorflow, jax and torch cover all 6 twice.
2. Training interrupted after epoch 2 and resumed by a fresh model through `keras.callbacks.BackupAndRestore` ends
   where an uninterrupted 4-epoch run ends: same weights, losses of epochs 3-4, annealing step, optimiser
   iterations and `SeedGenerator` states (saved with the weights), on unshuffled data.

Backend independent: run under KERAS_BACKEND=tensorflow, jax and torch.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

import kvae

BACKENDS = ("tensorflow", "jax", "torch")
BACKEND = keras.backend.backend()
OTHERS = [b for b in BACKENDS if b != BACKEND]
TEXT = {"latent_dim": 4, "embedding_dim": 16, "hidden_dim": 32, "max_vocabulary": 300, "max_length": 16}
TRANSFORMER = {**TEXT, "architecture": "transformer", "num_layers": 1, "num_heads": 2}
IMAGE = {"latent_dim": 4, "hidden_dims": (32,)}
SUBWORD = {
    "wordpiece": {**TRANSFORMER, "tokenizer": "wordpiece"},
    "sentencepiece": {**TRANSFORMER, "tokenizer": "sentencepiece", "max_vocabulary": 200},
}
KINDS = ("text", "transformer", "wordpiece", "sentencepiece", "image")
ATOL = 1e-4
WORKER_TIMEOUT = 600


def np_(x):
    return np.array(ops.convert_to_numpy(x))


def data():
    """{kind: (training set, probe set)}: SNLI sentences of at most 6 words (every batch is 8 ids long: one compiled
    step shape) and Fashion-MNIST images."""
    train, test = ([s for s in texts if len(s.split()) <= 6] for texts in kvae.datasets.snli_sample())
    (x, _), (x_test, _) = kvae.datasets.fashion_mnist_sample()
    text = (train[:256], test[:8])
    return {"text": text, "transformer": text, "wordpiece": text, "sentencepiece": text, "image": (x[:256], x_test[:8])}


# ------------------------------------------------------------------------------------- the cross-backend files
def train_and_save(folder):
    """Train a tiny isotropic TextVAE and a diagonal ImageVAE for one epoch under this backend; write `<kind>.keras`
    and what the trained model says about fixed inputs (`<kind>.npz`, `<kind>.json`)."""
    folder.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    sets = data()
    models = {
        "text": kvae.TextVAE(posterior="isotropic", seed=1, learning_rate=1e-2, **TEXT),
        "transformer": kvae.TextVAE(posterior="isotropic", seed=2, **TRANSFORMER),
        **{kind: kvae.TextVAE(posterior="isotropic", seed=3, **config) for kind, config in SUBWORD.items()},
        "image": kvae.ImageVAE(posterior="diagonal", seed=1, **IMAGE),
    }
    for kind, model in models.items():
        train, probe = sets[kind]
        model.fit(train, epochs=1, batch_size=32, verbose=0)
        model.save(folder / f"{kind}.keras")
        describe(model, probe, folder / kind)


def describe(model, probe, stem):
    """Write the encodings of `probe` (npz) and the reconstructions, vocabulary, counters and seed states (json)."""
    mean, log_var = model.encode(probe, return_log_var=True)
    np.savez(f"{stem}.npz", mean=mean, log_var=log_var)
    text = isinstance(model, kvae.TextVAE)
    info = {
        "reconstructions": model.reconstruct(probe) if text else None,
        "vocabulary": model.tokenizer.vocabulary if text else None,
        "step": int(np_(model.objective.step)),
        "iterations": int(np_(model.optimizer.iterations)),
        "seed_states": [np_(state).tolist() for state in model.seed_states()],
    }
    Path(f"{stem}.json").write_text(json.dumps(info))


def read(stem):
    with np.load(f"{stem}.npz") as arrays:
        return dict(arrays), json.loads(Path(f"{stem}.json").read_text())


def worker(root, parent):
    """Subprocess: train and save under this backend, then describe the parent's models as loaded here."""
    train_and_save(root / BACKEND)
    ready = root / parent / "ready"
    deadline = time.time() + WORKER_TIMEOUT
    while not ready.exists():
        if time.time() > deadline:
            raise TimeoutError(f"{parent} never wrote its models to {ready.parent}.")
        time.sleep(0.5)
    sets = data()
    out = root / BACKEND / f"from_{parent}"
    out.mkdir()
    for kind in KINDS:
        loaded = keras.saving.load_model(root / parent / f"{kind}.keras")
        describe(loaded, sets[kind][1], out / kind)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Models trained and saved under every backend: root/<backend>/<kind>.keras (+ what each says about fixed
    inputs), and root/<X>/from_<B>/: what backend X reads from this backend's files."""
    root = tmp_path_factory.mktemp("checkpoints")
    workers = {}
    for other in OTHERS:
        with open(root / f"{other}.log", "w") as log:
            workers[other] = subprocess.Popen(
                [sys.executable, __file__, str(root), BACKEND],
                env={**os.environ, "KERAS_BACKEND": other, "TF_CPP_MIN_LOG_LEVEL": "3"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    try:
        train_and_save(root / BACKEND)
        (root / BACKEND / "ready").touch()
        for other, process in workers.items():
            if process.wait(timeout=WORKER_TIMEOUT) != 0:
                pytest.fail(f"the {other} worker failed:\n{(root / f'{other}.log').read_text()[-3000:]}")
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.kill()
    return root


DIRECTIONS = [(other, kind) for other in OTHERS for kind in KINDS]


def check_same(saved, seen, direction):
    """What another backend reads from a file (encodings to ATOL, reconstructions, vocabulary, counters, seed states)
    is what the saving backend wrote."""
    (expected, expected_info), (found, found_info) = saved, seen
    for key in ("mean", "log_var"):
        diff = float(np.max(np.abs(found[key] - expected[key])))
        print(f"{direction} {key}: max abs diff {diff:.2e}")
        np.testing.assert_allclose(found[key], expected[key], atol=ATOL, err_msg=f"{direction} {key}")
    for key in ("reconstructions", "vocabulary", "step", "iterations", "seed_states"):
        assert found_info[key] == expected_info[key], f"{direction}: {key} differs"


@pytest.mark.parametrize("other,kind", DIRECTIONS)
def test_saved_here_loads_there(root, other, kind):
    check_same(read(root / BACKEND / kind), read(root / other / f"from_{BACKEND}" / kind), f"{BACKEND}->{other} {kind}")


@pytest.mark.parametrize("other,kind", DIRECTIONS)
def test_saved_there_loads_here_and_fit_continues(root, other, kind, tmp_path):
    stem = root / other / kind
    loaded = keras.saving.load_model(f"{stem}.keras")
    train, probe = data()[kind]
    describe(loaded, probe, tmp_path / kind)
    saved = read(stem)
    check_same(saved, read(tmp_path / kind), f"{other}->{BACKEND} {kind}")
    assert saved[1]["step"] > 0
    fresh = type(loaded)()  # compiled as on this backend: its own optimiser class (PyTorch's Adam), jit as usual
    assert type(loaded.optimizer) is type(fresh.optimizer) and loaded.jit_compile == fresh.jit_compile
    before = [np_(w) for w in loaded.trainable_weights]
    history = loaded.fit(train[:32], epochs=1, batch_size=32, verbose=0).history
    assert np.isfinite(history["loss"][0])
    assert int(np_(loaded.objective.step)) == saved[1]["step"] + 1
    assert int(np_(loaded.optimizer.iterations)) == saved[1]["iterations"] + 1
    assert any(not np.array_equal(np_(w), b) for w, b in zip(loaded.trainable_weights, before))


# ---------------------------------------------------------------------------------------------- resumable fit
class Interrupt(keras.callbacks.Callback):
    """Raises at the end of epoch `epoch` (1-based), after the callbacks listed before it (the backup) ran."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise RuntimeError("interrupted")


def resume_matches_uninterrupted(make, train, backup, schedule):
    """4 epochs straight vs 2 epochs, an interruption and a fresh model resumed by `fit(epochs=4)`."""
    fit = {"epochs": 4, "batch_size": 32, "shuffle": False, "verbose": 0}
    straight = make()
    expected = straight.fit(train, **fit).history
    interrupted = make()
    with pytest.raises(RuntimeError, match="interrupted"):
        interrupted.fit(train, callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt(2)], **fit)
    assert int(np_(interrupted.objective.step)) == int(np_(straight.objective.step)) // 2
    resumed = make()
    history = resumed.fit(train, callbacks=[keras.callbacks.BackupAndRestore(backup)], **fit).history
    assert len(history["loss"]) == 2  # epochs 3 and 4 only
    for key in ("loss", "rec", "kl", schedule):
        np.testing.assert_allclose(history[key], expected[key][2:], rtol=1e-5, atol=1e-5, err_msg=key)
    assert history[schedule][0] > expected[schedule][1]  # the schedule goes on (no restart from step 0)
    assert int(np_(resumed.objective.step)) == int(np_(straight.objective.step)) > 0
    assert int(np_(resumed.optimizer.iterations)) == int(np_(straight.optimizer.iterations))
    state = [model.weights + model.optimizer.variables + model.seed_states() for model in (resumed, straight)]
    for a, b in zip(*state):
        np.testing.assert_allclose(np_(a), np_(b), rtol=1e-5, atol=1e-6, err_msg=a.path)
    diff = max(float(np.max(np.abs(np_(a) - np_(b)))) for a, b in zip(*state))
    step = int(np_(resumed.objective.step))
    print(
        f"{BACKEND} {type(straight).__name__} resumed vs uninterrupted: max abs diff of weights, optimiser and seed "
        f"states {diff:.2e}; loss epochs 3-4 {history['loss']} vs {expected['loss'][2:]}; step {step}"
    )
    return straight, resumed


def test_text_fit_resumes_with_backup_and_restore(tmp_path):
    train = data()["text"][0][:128]

    def make():
        keras.utils.set_random_seed(2)
        objective = kvae.objectives.Capacity(c=3.0, anneal_steps=40)
        return kvae.TextVAE(objective=objective, word_dropout=0.2, seed=3, learning_rate=1e-2, **TEXT)

    straight, resumed = resume_matches_uninterrupted(make, train, tmp_path / "backup", "capacity")
    assert resumed.tokenizer.vocabulary == straight.tokenizer.vocabulary


def test_image_fit_resumes_with_backup_and_restore(tmp_path):
    train = data()["image"][0][:128]

    def make():
        keras.utils.set_random_seed(2)
        objective = kvae.objectives.Beta(annealing="linear", anneal_steps=40)
        return kvae.ImageVAE(posterior="diagonal", objective=objective, seed=3, **IMAGE)

    resume_matches_uninterrupted(make, train, tmp_path / "backup", "beta")


if __name__ == "__main__":  # the cross-backend worker: python tests/test_checkpoints.py ROOT PARENT_BACKEND
    worker(Path(sys.argv[1]), sys.argv[2])
