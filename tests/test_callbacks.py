"""Tests for kvae.callbacks.NaNGuard (a loss that really becomes NaN mid-training) and kvae.io's atomic writes
(a save that fails half-way keeps the previous file and leaves no temporary file).

Tiny ImageVAE on 4x4 synthetic images. Backend independent: run under KERAS_BACKEND=tensorflow, jax and torch.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import kvae
from kvae.callbacks import NaNGuard, NonFiniteLossError
from kvae.io import atomic_path, atomic_write_text

IMAGES = np.random.default_rng(0).uniform(size=(64, 4, 4)).astype("float32")
BATCH = 16  # 4 batches per epoch


def tiny_model():
    return kvae.ImageVAE(latent_dim=2, hidden_dims=(8,), image_shape=(4, 4), seed=0)


class PoisonSecondEpoch(keras.callbacks.Callback):
    """With `poisoned_data`: the data turn to NaN at batch `batch` of the second epoch only."""

    def __init__(self, batch):
        super().__init__()
        self.batch, self.poison = batch, False

    def on_epoch_begin(self, epoch, logs=None):
        self.poison = epoch == 1

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.weights_after_first_epoch = [np.array(w) for w in self.model.get_weights()]


def poisoned_data(poisoner):
    def generate():
        for i in range(0, len(IMAGES), BATCH):
            batch = IMAGES[i : i + BATCH].copy()
            if poisoner.poison and i // BATCH == poisoner.batch:
                batch[:] = np.nan
            yield batch

    data = tf.data.Dataset.from_generator(generate, output_signature=tf.TensorSpec((None, 4, 4), tf.float32))
    return data.apply(tf.data.experimental.assert_cardinality(len(IMAGES) // BATCH))


def test_nan_guard_stops_reports_and_keeps_the_last_good_checkpoint(tmp_path):
    model, poisoner = tiny_model(), PoisonSecondEpoch(batch=1)
    guard = NaNGuard(checkpoint=tmp_path / "last_good.keras", verbose=False)
    history = model.fit(poisoned_data(poisoner), epochs=4, callbacks=[poisoner, guard], verbose=0)

    assert len(history.history["loss"]) == 2  # stopped in the second epoch
    assert (guard.epoch, guard.batch, guard.step) == (1, 1, 6)
    assert "non-finite loss (nan) at epoch 2, batch 2 (global step 6)" in guard.report
    assert "last good model is in" in guard.report
    assert set(guard.last_finite_logs) >= {"loss", "rec", "kl"}
    assert all(np.isfinite(v) for v in guard.last_finite_logs.values())
    assert not all(np.isfinite(w).all() for w in model.get_weights())  # the NaN batch did reach the weights
    kept = keras.saving.load_model(tmp_path / "last_good.keras")  # ... but not the checkpoint
    for saved, expected in zip(kept.get_weights(), poisoner.weights_after_first_epoch):
        np.testing.assert_allclose(saved, expected)
    assert os.listdir(tmp_path) == ["last_good.keras"]


def test_nan_guard_can_raise_and_warn():
    model, poisoner = tiny_model(), PoisonSecondEpoch(batch=0)
    guard = NaNGuard(raise_error=True)
    with pytest.warns(RuntimeWarning, match="non-finite loss"), pytest.raises(NonFiniteLossError) as error:
        model.fit(poisoned_data(poisoner), epochs=3, callbacks=[poisoner, guard], verbose=0)
    assert error.value.report == guard.report and "epoch 2, batch 1 (global step 5)" in guard.report
    with pytest.raises(ValueError, match="checkpoint"):
        NaNGuard(checkpoint="model.h5")


def test_a_failed_save_keeps_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    model = tiny_model()
    model.fit(IMAGES, epochs=1, batch_size=BATCH, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    good = path.read_bytes()
    written = []

    def crash_half_way(self, filepath, *args, **kwargs):
        written.append(filepath)
        with open(filepath, "wb") as f:
            f.write(good[: len(good) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", crash_half_way)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    monkeypatch.undo()
    assert os.path.dirname(written[0]) == str(tmp_path) and written[0].endswith(".tmp.keras")
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["model.keras"]
    np.testing.assert_allclose(keras.saving.load_model(path).get_weights()[0], model.get_weights()[0])
    with pytest.raises(FileExistsError, match="overwrite"):
        model.save(path, overwrite=False)


def test_atomic_write_text(tmp_path):
    path = tmp_path / "sub" / "notes.txt"
    atomic_write_text(path, "first\n")
    with pytest.raises(RuntimeError, match="crash"), atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("crash")
    assert path.read_text() == "first\n" and os.listdir(path.parent) == ["notes.txt"]
    atomic_write_text(path, "second\n")
    assert path.read_text() == "second\n" and os.listdir(path.parent) == ["notes.txt"]
