import keras
from keras import ops

from kvae import distribute
from kvae.checks import check_int, check_number
from kvae.objectives import schedules
from kvae.objectives.objective import Objective


@keras.saving.register_keras_serializable(package="kvae")
class Capacity(Objective):
    """Capacity objective (Burgess et al., 2018): the batch KL is pulled towards a target capacity c_t.

        loss = mean_x rec(x) + beta * | mean_x KL(q(z|x) || p(z)) - c_t |,   c_t = c * min(1, t / anneal_steps)

    c_t rises linearly from 0 to `c` nats over the first `anneal_steps` training steps (the objective's own step
    counter). By default the anneal takes the first third of the steps of the model's first `fit`
    (`kvae.objectives.objective.ANNEAL_FRACTION`), so it completes whatever the corpus size, batch size and epochs;
    an explicit `anneal_steps` (e.g. the published 5,000 on ~100k sentences) is used as given. Tracks `capacity` (c_t).

    Args:
        c: target KL in nats (>= 0).
        beta: weight of the penalty (> 0).
        anneal_steps: steps to reach `c` (0: from the start; None: a third of the first `fit`'s steps, fixed then).
    """

    def __init__(self, c=5.0, beta=1.0, anneal_steps=None, **kwargs):
        super().__init__(**kwargs)
        self.c = check_number(c, "c", low=0)
        self.beta = check_number(beta, "beta", low=0, low_open=True)
        self.anneal_steps = check_int(anneal_steps, "anneal_steps", minimum=0, allow_none=True)
        self.add_tracker("capacity")

    def capacity(self, step):
        """c_t at step tensor `step`."""
        return self.c * schedules.linear_ramp(step, self.anneal_steps or 0)

    def regularizer(self, outputs, kl_units, kl, posterior, prior, step):
        c_t = self.capacity(step)
        return self.beta * ops.abs(distribute.batch_mean(kl) - c_t), {"capacity": c_t}  # of the global batch

    def get_config(self):
        config = super().get_config()
        config.update({"c": self.c, "beta": self.beta, "anneal_steps": self.anneal_steps})
        return config
