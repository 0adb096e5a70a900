"""Annealing schedules as pure `keras.ops` functions of a step tensor (the step lives in the objective's variable)."""

from keras import ops


def linear_ramp(step, steps):
    """w_t = min(1, t / steps): 0 at t=0, 1 from t=steps on (1 everywhere when steps <= 0)."""
    if steps <= 0:
        return ops.ones_like(step)
    return ops.minimum(1.0, step / float(steps))


def cyclic_ramp(step, period, ratio=0.5, cycles=None):
    """Cyclical annealing (Fu et al., 2019): in each cycle of `period` steps, w rises linearly from 0 to 1 over the
    first `ratio * period` steps and stays at 1; after `cycles` cycles (None: forever) w stays at 1.

    w_t = min(1, (t mod period) / (ratio * period))
    """
    if period <= 0 or not 0 < ratio <= 1:
        raise ValueError(f"cyclic annealing needs period > 0 and 0 < ratio <= 1, got {period}, {ratio}.")
    w = ops.minimum(1.0, ops.mod(step, float(period)) / (ratio * period))
    if cycles is not None:
        w = ops.where(step >= float(cycles * period), ops.ones_like(w), w)
    return w
