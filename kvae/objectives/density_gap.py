import math

import keras
from keras import ops

from kvae import backend, distribute
from kvae.backend import samples_per_chunk
from kvae.checks import check_int
from kvae.distributions import LOG_VAR_MAX, LOG_VAR_MIN
from kvae.objectives.objective import Objective


def density_gap(z, mean, log_var, log_q, log_p, aggregation_size=None, marginal=True, gaussian=False):
    """Monte Carlo estimate of KL(q_g(z) || p(z)) per example, with q_g the aggregated posterior of the example's group.

    For example i of group g (|g| examples of the batch; the whole batch when `aggregation_size` is None) and its
    samples z_im ~ q(z|x_i), m = 1..M:

        log q_g(z)     = logsumexp_{j in g} log q(z|x_j) - log |g|                      (joint)
        log q_g,u(z_u) = logsumexp_{j in g} log q(z_u|x_j) - log |g|   per unit u      (marginal)
        KL_i = 1/M sum_m [ log q_g(z_im) - log p(z_im) ]                                 (joint)
        KL_i = 1/M sum_m sum_u [ log q_g,u(z_imu) - log p(z_imu) ]                       (marginal)

    computed in log space (never by averaging densities). With `aggregation_size=1`, KL_i is the plain Monte Carlo
    estimate of KL(q(z|x_i) || p(z)). Cost: O(M * B * |g| * D) time and memory (under PyTorch on CPU the
    pairwise tensor is made a few samples at a time, ~4 MB each: 2.5x faster there, same values; under PyTorch
    the marginal Gaussian term runs with a hand-written gradient, `kvae.backend.gaussian_logsumexp`).

    Data-parallel training: the batch is the *global* batch, whatever the number of devices (JAX's compiled step
    sees it whole; TensorFlow replicas all-gather the posterior parameters, `kvae.distribute.gather_batch`). For
    per-device aggregation set `aggregation_size` to the per-device batch (global batch / devices).

    Args:
        z: (M, B, D) samples, z[:, i] drawn from q(z|x_i).
        mean, log_var: (B, D) posterior parameters.
        log_q: `f(z, mean, log_var)` -> per-unit log q, broadcasting.
        log_p: `f(z)` -> per-unit log p(z).
        aggregation_size: group size |b| (None: the whole batch). The last group may be smaller.
        marginal: per-unit marginal densities (True) or the joint density (False).
        gaussian: `log_q` is the diagonal Gaussian density (`kvae.distributions.gaussian_log_prob`, a posterior whose
            `has_gaussian_density()` is true): the marginal term may then run as one fused kernel (PyTorch).

    Returns:
        (B,) tensor: KL_i for each example; its batch mean is the density-gap term.
    """
    if aggregation_size == 1:
        log_qg = log_q(z, mean, log_var)  # (M, B, D)
        if not marginal:
            log_qg = ops.sum(log_qg, axis=-1, keepdims=True)
    else:
        (pool_mean, pool_log_var), offset = distribute.gather_batch(mean, log_var)  # (B_j, D): the global batch
        batch = ops.shape(pool_mean)[0]
        if aggregation_size is None:
            same, log_count = None, ops.log(ops.cast(batch, mean.dtype))
        else:
            group = ops.arange(batch) // aggregation_size
            own_group = (offset + ops.arange(ops.shape(mean)[0])) // aggregation_size
            same = ops.expand_dims(own_group, 1) == ops.expand_dims(group, 0)  # (B_i, B_j)
            log_count = ops.log(ops.sum(ops.cast(same, mean.dtype), axis=1))[None, :, None]  # (1, B_i, 1)

        fusable = marginal and gaussian  # PyTorch's hand-written gradient applies
        if fusable:
            clipped = ops.clip(pool_log_var, LOG_VAR_MIN, LOG_VAR_MAX)  # as gaussian_log_prob does
            bias = None if same is None else ops.where(same, 0.0, -math.inf)  # (B_i, B_j)

        def log_aggregated(z_chunk):  # (m, B_i, D) -> (m, B_i, D or 1)
            fused = backend.gaussian_logsumexp(z_chunk, pool_mean, clipped, bias) if fusable else None
            if fused is not None:
                return fused - log_count
            pairs = log_q(z_chunk[:, :, None, :], pool_mean[None, None], pool_log_var[None, None])  # (m, B_i, B_j, D)
            if not marginal:
                pairs = ops.sum(pairs, axis=-1, keepdims=True)  # (m, B_i, B_j, 1)
            if same is not None:
                pairs = ops.where(same[None, :, :, None], pairs, ops.full_like(pairs, -math.inf))
            return ops.logsumexp(pairs, axis=2) - log_count

        # The (M, B_i, B_j, D) tensor at once, except where eager kernels gain from a cache-sized slice per sample.
        samples = ops.shape(z)[0]
        chunk = samples_per_chunk(z, pool_mean)
        if chunk >= samples:
            log_qg = log_aggregated(z)
        else:
            log_qg = ops.concatenate([log_aggregated(z[k : k + chunk]) for k in range(0, samples, chunk)], axis=0)
    gap = ops.sum(log_qg, axis=-1) - ops.sum(log_p(z), axis=-1)  # (M, B)
    return ops.mean(gap, axis=0)


@keras.saving.register_keras_serializable(package="kvae")
class DensityGap(Objective):
    """Density-gap objective (DG-VAE): the KL of the *aggregated* posterior of the batch against the prior.

        loss = mean_x rec(x) + mean_i KL(q_g(i)(z) || p(z)),   q_g(z) = 1/|g| sum_{j in g} q(z|x_j)

    estimated by Monte Carlo with `samples` draws per example (see `density_gap`), per latent unit (`marginal=True`,
    the sum of the marginal KLs) or jointly. Groups of `aggregation_size` examples split the batch (None: the whole
    batch; 1: the plain VAE's Monte Carlo KL); the batch is the global one under data-parallel training, so per-device
    aggregation is `aggregation_size = global batch / devices`. It fixes posterior collapse without opening holes in
    the prior.
    Cost O(samples * batch * group * latent_dim) per step. Tracks `kl` (the per-example closed-form KL) beside `reg`
    (the density gap).

    Args:
        samples: M, draws per example (>= 1).
        aggregation_size: |b|, group size (None or >= 1).
        marginal: marginal (per unit) or joint form; None (default): marginal where the posterior and the prior
            are factorised, joint otherwise (a mixture prior, a vMF posterior), fixed when the model is built.
        seed: seed of the objective's own `SeedGenerator`.
    """

    batch_statistic = True  # q_B mixes the batch's posteriors: batches of one length narrow it (no bucketing)

    def __init__(self, samples=32, aggregation_size=None, marginal=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.samples = check_int(samples, "samples")
        self.aggregation_size = check_int(aggregation_size, "aggregation_size", allow_none=True)
        self.marginal = None if marginal is None else bool(marginal)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def validate(self, posterior, prior):
        factorized = prior.factorized and posterior.factorized
        if self.marginal is None:
            self.marginal = factorized
        if self.marginal and not factorized:
            raise ValueError(
                "DensityGap(marginal=True) needs a factorised posterior and prior (per-unit densities); use "
                "`marginal=False` (the joint form) with a mixture prior or a vMF posterior."
            )

    def regularizer(self, outputs, kl_units, kl, posterior, prior, step):
        self.validate(posterior, prior)
        mean, log_var = outputs["z_mean"], outputs["z_log_var"]
        z = posterior.sample(mean, log_var, num_samples=self.samples, seed=self.seed_generator)
        gap = density_gap(
            z,
            mean,
            log_var,
            posterior.log_prob,
            prior.log_prob,
            self.aggregation_size,
            self.marginal,
            gaussian=posterior.has_gaussian_density(),
        )
        return ops.mean(gap), {}

    def get_config(self):
        config = super().get_config()
        config.update(
            {"samples": self.samples, "aggregation_size": self.aggregation_size, "marginal": self.marginal}
        )
        return config
