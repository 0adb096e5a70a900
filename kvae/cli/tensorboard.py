"""`kvae train ... --tensorboard DIR`: what goes to TensorBoard (imported only with that option)."""

from pathlib import Path

import keras
import numpy as np

import kvae


class ReconstructionImages(keras.callbacks.Callback):
    """Writes `images` (top row) above their reconstructions (bottom row) as one image, "reconstructions", to
    TensorBoard (`log_dir`/train) at the end of every epoch.

    Args:
        images: (N, H, W) or (N, H, W, C) uint8 or [0, 1] float images (a few: they form one row).
        log_dir: the TensorBoard folder (the one given to `keras.callbacks.TensorBoard`).
    """

    def __init__(self, images, log_dir):
        super().__init__()
        self.images = images
        self.log_dir = str(Path(log_dir) / "train")

    def grid(self):
        """(1, 2H, N W, C) float32 in [0, 1]: the originals above their reconstructions."""
        originals = np.asarray(self.images, dtype="float32")
        if np.issubdtype(np.asarray(self.images).dtype, np.integer):
            originals = originals / 255.0
        rows = (originals, np.asarray(self.model.reconstruct(self.images), dtype="float32"))
        grid = np.concatenate([np.concatenate(list(row), axis=1) for row in rows], axis=0)
        return grid[None, ..., None] if grid.ndim == 2 else grid[None]

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        writer = tf.summary.create_file_writer(self.log_dir)
        with writer.as_default():
            tf.summary.image("reconstructions", self.grid(), step=epoch)
        writer.close()


def tensorboard_callbacks(model, kind, test, log_dir):
    """The callbacks of `--tensorboard`: the latent metrics (`val_kl`, `val_au`, `val_mi`) added to every epoch's
    logs (Gaussian posteriors), Keras's `TensorBoard` (the logs as scalars), and for images `ReconstructionImages`
    of the first 16 held-out images."""
    callbacks = []
    try:
        kvae.metrics.evaluation.check_gaussian_posterior(model)
    except ValueError:  # vMF: no latent metrics
        pass
    else:
        callbacks.append(kvae.metrics.LatentMetricsCallback(test, samples=1000, verbose=False))
    callbacks.append(keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False))
    if kind == "image":
        callbacks.append(ReconstructionImages(test[:16], log_dir))
    return callbacks
