"""Base class of the VAE objectives: loss = rec + reg, with the terms tracked as Keras metrics."""

import warnings

import keras
from keras import ops

from kvae.checks import check_seed

ANNEAL_FRACTION = 1 / 3  # of the first `fit`'s steps, for annealed objectives with `anneal_steps=None`
FALLBACK_ANNEAL_STEPS = 5000  # when `fit` cannot know its number of steps


class Objective(keras.layers.Layer):
    """Base of every objective: maps the model outputs to the scalar training loss

        loss = mean_batch(rec) + reg,

    where `rec` (B,) is the reconstruction negative log-likelihood summed over pixels or tokens, and `reg` is the
    objective's regulariser (beta * KL, a capacity penalty, a density gap, ...) with KL summed over latent units and
    averaged over the batch. The objective owns:
    - `step`: a non-trainable int variable counting training steps (advanced only when `training=True`, so
      `evaluate` does not move schedules; compiled steps on every backend see its current value);
    - its `SeedGenerator` when it samples;
    - Keras `Mean` trackers `rec`, `kl` (the per-example KL(q(z|x) || p(z)), for monitoring), `reg`, plus its own.
    The progress bar's `loss` equals `rec + reg`.

    Subclasses implement `regularizer(outputs, kl_units, kl, posterior, prior, step)` returning (reg, extra_metrics).
    An objective that needs k posterior samples per example sets `num_samples = k`: the model then decodes every
    sample and hands it `z` (k, B, D) and `rec` (k, B).
    """

    num_samples = None
    # True when the loss compares the examples of a batch with each other (the density gap's aggregated posterior),
    # so that batches of one sentence length (bucketing) would bias it; `TextVAE(bucket=None)` then keeps batches
    # random.
    batch_statistic = False

    def __init__(self, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")  # losses in float32 under mixed precision too
        super().__init__(**kwargs)
        self.seed = check_seed(seed)
        self.step = self.add_weight(shape=(), dtype="int32", initializer="zeros", trainable=False, name="step")
        self.rec_tracker = keras.metrics.Mean(name="rec")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.reg_tracker = keras.metrics.Mean(name="reg")
        self.extra_trackers = {}
        self.built = True

    def add_tracker(self, name):
        self.extra_trackers[name] = keras.metrics.Mean(name=name)

    def regularizer(self, outputs, kl_units, kl, posterior, prior, step):
        raise NotImplementedError

    def plan(self, total_steps):
        """Called by `fit` with the number of training steps it will run (None when unknown: a generator): an
        objective whose schedule length was left to the run (`anneal_steps=None`) fixes it here, once, to
        `ANNEAL_FRACTION` of those steps (`FALLBACK_ANNEAL_STEPS`, with a warning, when unknown). Later `fit` calls
        keep it: the step counter goes on."""
        if getattr(self, "anneal_steps", 0) is not None:
            return
        if total_steps:
            self.anneal_steps = max(1, round(ANNEAL_FRACTION * int(total_steps)))
        else:
            warnings.warn(
                f"{type(self).__name__}: `fit` cannot tell how many steps it will run (a generator without "
                f"`steps_per_epoch`), so the schedule anneals over {FALLBACK_ANNEAL_STEPS} steps; pass "
                "`anneal_steps=` to the objective or `steps_per_epoch=` to `fit`.",
                stacklevel=3,
            )
            self.anneal_steps = FALLBACK_ANNEAL_STEPS

    def validate(self, posterior, prior):
        """Raise a ValueError if this objective cannot train a model with `posterior` and `prior` (models call it
        on construction, so that a bad combination fails there rather than in the first compiled step)."""

    def call(self, outputs, posterior=None, prior=None, training=False):
        """Args:
            outputs: dict with `rec` (B,), `z_mean`, `z_log_var`, `z` (B, D) from the model.
            posterior, prior: the model's posterior and prior layers.
            training: advance the schedule step when True.

        Returns:
            The scalar loss.
        """
        rec = outputs["rec"]
        kl_units, kl = kl_terms(outputs, posterior, prior)
        step = ops.cast(ops.convert_to_tensor(self.step), "float32")
        reg, extra = self.regularizer(outputs, kl_units, kl, posterior, prior, step)
        loss = ops.mean(rec) + reg
        batch = ops.shape(rec)[0]
        self.rec_tracker.update_state(ops.reshape(rec, (-1,)))  # one value per example (and sample)
        self.kl_tracker.update_state(kl)
        self.reg_tracker.update_state(reg, sample_weight=batch)
        for name, value in extra.items():
            self.extra_trackers[name].update_state(value, sample_weight=batch)
        if training:
            self.step.assign_add(ops.cast(1, self.step.dtype))
        return loss

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config


def kl_terms(outputs, posterior, prior):
    """KL(q(z|x) || p(z)): per unit in closed form (B, D) when one exists (else None), and per example (B,).

    Without a closed form (e.g. a mixture prior) the per-example KL is the one-sample Monte Carlo estimate
    log q(z|x) - log p(z) at the model's sample `z`.
    """
    mean, log_var = outputs["z_mean"], outputs["z_log_var"]
    kl_units = posterior.kl(mean, log_var, prior)
    if kl_units is not None:
        return kl_units, ops.sum(kl_units, axis=-1)
    z = outputs["z"]
    # Densities may be per unit (..., D) or joint (..., 1): sum each over its own last axis.
    return None, ops.sum(posterior.log_prob(z, mean, log_var), axis=-1) - ops.sum(prior.log_prob(z), axis=-1)
