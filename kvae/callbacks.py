"""Training callbacks: stop cleanly on a diverging loss and keep the last good model (`NaNGuard`); track latent-space
metrics on validation data (`LatentMetricsCallback`, also exported as `kvae.metrics.LatentMetricsCallback`)."""

import math
import os
import warnings

import keras
import numpy as np

from kvae.checks import check_int, check_number, check_seed
from kvae.io import save_model

__all__ = ["LatentMetricsCallback", "NaNGuard", "NonFiniteLossError"]


class NonFiniteLossError(RuntimeError):
    """Raised by `NaNGuard(raise_error=True)`; `report` holds the guard's message."""

    def __init__(self, report):
        super().__init__(report)
        self.report = report


def _floats(logs):
    """The numeric entries of Keras `logs` as Python floats."""
    values = {}
    for name, value in (logs or {}).items():
        try:
            values[name] = float(np.asarray(keras.ops.convert_to_numpy(value)))
        except (TypeError, ValueError):
            continue
    return values


def _format(values):
    return ", ".join(f"{name}={value:.4g}" for name, value in values.items()) or "none (no finite batch yet)"


class NaNGuard(keras.callbacks.TerminateOnNaN):
    """Stops training at the first non-finite loss and says where it happened and what the metrics were before.

    After every training batch the loss is checked (and after every epoch all the epoch's metrics, validation
    included). On a NaN or infinite value the guard sets `report`, a one-line message naming the epoch, the batch
    and the global step (counted from the optimiser's step at the start of `fit`) with the last finite metrics, and
    either stops training (`model.stop_training`, like `keras.callbacks.TerminateOnNaN`) or, with
    `raise_error=True`, raises `NonFiniteLossError` at once, so that later callbacks (a backup, a checkpoint) do
    not record the diverged state.

    With `checkpoint`, the model is saved atomically (`kvae.io.save_model`) at the end of every epoch whose
    metrics are all finite: the file always holds the last good model, never NaN weights.

    Attributes:
        report: the message, or None while training is finite.
        epoch, batch, step: where the first non-finite value appeared (0-based epoch and batch, 1-based step;
            batch is None when only an epoch-end metric was non-finite).
        last_finite_logs: the metrics (running epoch means) of the last finite batch.

    Args:
        checkpoint: path of a `.keras` file for the last good model, or None.
        raise_error: raise `NonFiniteLossError` instead of stopping training gracefully.
        verbose: also emit the report as a `RuntimeWarning`.

    Example:
    >>> guard = kvae.callbacks.NaNGuard(checkpoint="run/model.keras")
    >>> model.fit(x, epochs=10, callbacks=[guard])
    >>> guard.report   # None, or "non-finite loss (nan) at epoch 3, batch 17 (global step 139); ..."
    """

    def __init__(self, checkpoint=None, raise_error=False, verbose=True):
        super().__init__()
        if checkpoint is not None and os.path.splitext(os.fspath(checkpoint))[1] != ".keras":
            raise ValueError(f"`checkpoint` must be a path ending in .keras, got {checkpoint!r}.")
        self.checkpoint = checkpoint
        self.raise_error = bool(raise_error)
        self.verbose = bool(verbose)

    def on_train_begin(self, logs=None):
        self.report = self.epoch = self.batch = self.step = None
        self.last_finite_logs = {}
        self._epoch = 0
        optimizer = getattr(self.model, "optimizer", None)
        self._step = int(keras.ops.convert_to_numpy(optimizer.iterations)) if optimizer is not None else 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):  # TerminateOnNaN's hook, called by on_train_batch_end
        self._step += 1
        if self.report is not None or "loss" not in (logs or {}):
            return
        values = _floats(logs)
        if not math.isfinite(values["loss"]):
            self._trip(values["loss"], "loss", batch)
        else:
            self.last_finite_logs = values

    def on_epoch_end(self, epoch, logs=None):
        if self.report is not None:
            return
        values = _floats(logs)
        bad = [name for name, value in values.items() if not math.isfinite(value)]
        if bad:
            self._trip(values[bad[0]], bad[0], None)
        elif self.checkpoint is not None:
            save_model(self.model, self.checkpoint)

    def _trip(self, value, name, batch):
        self.epoch, self.batch = self._epoch, batch
        where = f"epoch {self._epoch + 1}" + (f", batch {batch + 1}" if batch is not None else " (end)")
        self.step = self._step
        self.report = (
            f"non-finite {name} ({value}) at {where} (global step {self._step}); "
            f"last finite metrics: {_format(self.last_finite_logs)}"
        )
        if self.checkpoint is not None and os.path.exists(self.checkpoint):
            self.report += f"; the last good model is in {self.checkpoint}"
        if self.verbose:
            warnings.warn(self.report, RuntimeWarning, stacklevel=2)
        if self.raise_error:
            raise NonFiniteLossError(self.report)
        self.model.stop_training = True


def _first(data, n):
    """The first ``n`` examples of in-memory ``data`` (arrays, lists, dicts of arrays); datasets as they are."""
    from kvae.preprocessors.batching import is_dataset

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
        from kvae.metrics.aggregate import mutual_information
        from kvae.metrics.evaluation import check_gaussian_posterior
        from kvae.metrics.latent import active_units, kl

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
