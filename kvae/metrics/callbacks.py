"""Keras callbacks that track latent-space metrics during training."""


import keras
import numpy as np

from kvae.checks import check_int, check_number, check_seed
from kvae.metrics.evaluation import check_gaussian_posterior
from kvae.metrics.latent import active_units, kl, mutual_information

__all__ = ["LatentMetricsCallback"]


def _first(data, n):
    """The first ``n`` examples of in-memory ``data`` (arrays, lists, dicts of arrays); datasets as they are."""
    from kvae.models.batching import is_dataset

    if n is None or is_dataset(data):
        return data
    if isinstance(data, dict):
        return {k: v[:n] for k, v in data.items()}
    if isinstance(data, str):
        return data
    return data[:n]


class LatentMetricsCallback(keras.callbacks.Callback):
    """Tracks the KL, active units and mutual information on validation data during ``fit``.

    Every ``every`` epochs, encodes ``validation_data`` with ``self.model.encode(..., return_log_var=True)``
    and adds to the epoch ``logs`` (so they appear in the ``History`` returned by ``fit`` and in later
    callbacks such as the progress bar, ``CSVLogger`` or ``EarlyStopping``):

    * ``val_kl``: ``1/N sum_i KL(q(z|x_i) || N(0, I))`` (:func:`kvae.metrics.kl`);
    * ``val_au``: the number of units with ``Var_x E_q[z_u] > threshold``
      (:func:`kvae.metrics.active_units`);
    * ``val_mi``: the mutual information ``I(x; z)`` under the aggregated posterior
      (:func:`kvae.metrics.mutual_information`, ``O(N^2 D)``).

    On the epochs in between, the three keys are set to NaN, so that ``History`` lists stay aligned with the
    epochs. Add it after callbacks it should run before; Keras' ``History`` and progress bar run after it.

    Args:
        validation_data: inputs the model's ``encode`` takes (images, sentences, ...); for a tuple
            ``(x, y, ...)`` only ``x`` is used.
        every: compute the metrics every this many epochs (int >= 1).
        samples: use the first this many validation examples (int >= 1; None: all of them). Datasets are
            used whole.
        threshold: active-unit variance threshold (default 0.01).
        seed: seed of the mutual-information estimate.
        verbose: print the metrics when they are computed.

    Example:
        >>> cb = kvae.metrics.LatentMetricsCallback(x_val, every=5)
        >>> history = model.fit(x, epochs=20, callbacks=[cb])
        >>> history.history["val_au"]
    """

    def __init__(self, validation_data, every=1, samples=1000, threshold=0.01, seed=0, verbose=True):
        super().__init__()
        if validation_data is None:
            raise ValueError("`validation_data` is None; pass inputs the model can encode.")
        if isinstance(validation_data, tuple):
            if not validation_data:
                raise ValueError("`validation_data` is an empty tuple.")
            validation_data = validation_data[0]
        self.every = check_int(every, "every")
        self.samples = check_int(samples, "samples", allow_none=True)
        check_number(threshold, "threshold", low=0)
        self.threshold = float(threshold)
        self.seed = check_seed(seed)
        self.verbose = bool(verbose)
        self.validation_data = _first(validation_data, self.samples)

    def compute(self):
        """The metrics on the validation data with the current model: dict ``val_kl``, ``val_au``, ``val_mi``."""
        check_gaussian_posterior(self.model)
        mean, log_var = self.model.encode(self.validation_data, return_log_var=True)
        mean = np.asarray(mean, dtype=np.float64)
        log_var = np.asarray(log_var, dtype=np.float64)
        return {
            "val_kl": kl(mean, log_var),
            "val_au": active_units(mean, threshold=self.threshold),
            "val_mi": mutual_information(mean, log_var, seed=self.seed),
        }

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            logs = {}
        if (epoch + 1) % self.every:
            logs.update({"val_kl": float("nan"), "val_au": float("nan"), "val_mi": float("nan")})
            return
        metrics = self.compute()
        logs.update(metrics)
        if self.verbose:
            print(
                f"Epoch {epoch + 1}: val_kl={metrics['val_kl']:.4f} val_au={metrics['val_au']} "
                f"val_mi={metrics['val_mi']:.4f}"
            )
