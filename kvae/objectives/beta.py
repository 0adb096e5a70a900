import keras
from keras import ops

from kvae.checks import check_choice, check_int, check_number
from kvae.objectives import schedules
from kvae.objectives.objective import Objective

ANNEALINGS = (None, "linear", "cyclic")


@keras.saving.register_keras_serializable(package="kvae")
class Beta(Objective):
    """Beta-VAE objective with optional KL annealing.

        loss = mean_x [ rec(x) + beta_t * KL(q(z|x) || p(z)) ],   beta_t = beta * w_t

    with w_t = 1 (`annealing=None`), w_t = min(1, t / anneal_steps) (`"linear"`), or the cyclical schedule of
    Fu et al. (2019) (`"cyclic"`: cycles of `anneal_steps` steps, rising over the first `ratio` of each, `cycles`
    cycles then constant). t is the objective's own training-step counter. Tracks `beta` (beta_t).

    Args:
        beta: final KL weight (> 0; < 1 weakens the KL term, > 1 strengthens it).
        annealing: None, "linear" or "cyclic".
        anneal_steps: ramp length (linear) or cycle length (cyclic), in training steps.
        cycles: number of cycles for "cyclic" (None: cycle forever).
        ratio: fraction of each cycle spent rising.
    """

    def __init__(self, beta=1.0, annealing=None, anneal_steps=10000, cycles=4, ratio=0.5, **kwargs):
        super().__init__(**kwargs)
        self.beta = check_number(beta, "beta", low=0)
        self.annealing = check_choice(annealing, "annealing", ANNEALINGS)
        self.anneal_steps = check_int(anneal_steps, "anneal_steps", minimum=1 if annealing else 0)
        self.cycles = check_int(cycles, "cycles", allow_none=True)
        self.ratio = check_number(ratio, "ratio", low=0, high=1, low_open=True)
        self.add_tracker("beta")

    def weight(self, step):
        """beta_t at step tensor `step`."""
        if self.annealing == "linear":
            return self.beta * schedules.linear_ramp(step, self.anneal_steps)
        if self.annealing == "cyclic":
            return self.beta * schedules.cyclic_ramp(step, self.anneal_steps, self.ratio, self.cycles)
        return self.beta * ops.ones_like(step)

    def regularizer(self, outputs, kl_units, kl, posterior, prior, step):
        beta_t = self.weight(step)
        return beta_t * ops.mean(kl), {"beta": beta_t}

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta": self.beta,
                "annealing": self.annealing,
                "anneal_steps": self.anneal_steps,
                "cycles": self.cycles,
                "ratio": self.ratio,
            }
        )
        return config
