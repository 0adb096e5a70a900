"""Tests for kvae.objectives: every loss against a NumPy reference, the density gap against a brute-force
implementation, schedules, the step counter, and the behaviour inside real compiled training steps (step advance,
fresh noise, seeding, saving). Backend independent (run under KERAS_BACKEND=tensorflow, jax and torch)."""

import math
import sys

import keras
import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import kvae
from kvae.objectives import (
    ELBO,
    Beta,
    Capacity,
    DensityGap,
    FreeBits,
    Reconstruction,
    density_gap,
    schedules,
)
from kvae.posteriors import DiagonalGaussian, gaussian_log_prob
from kvae.priors import StandardNormal
from kvae.testing import np_, np_kl, tensor

B, D = 6, 3


def make_outputs(seed=0, mean_scale=(0.05, 0.7, 2.0), log_var_shift=(0.0, -0.5, -2.0)):
    """Fixed model outputs: units with a small, a medium and a large KL."""
    rng = np.random.default_rng(seed)
    mean = (rng.normal(size=(B, D)) * np.array(mean_scale)).astype("float32")
    log_var = (rng.normal(size=(B, D)) * 0.1 + np.array(log_var_shift)).astype("float32")
    z = (mean + np.exp(0.5 * log_var) * rng.normal(size=(B, D))).astype("float32")
    rec = rng.uniform(50, 150, size=(B,)).astype("float32")
    arrays = {"rec": rec, "z_mean": mean, "z_log_var": log_var, "z": z}
    return {k: tensor(v) for k, v in arrays.items()}, arrays


def run_objective(objective, outputs, training=False):
    posterior = DiagonalGaussian(latent_dim=D)
    prior = StandardNormal()
    return float(np_(objective(outputs, posterior=posterior, prior=prior, training=training)))


def check_loss(objective, expected_reg, arrays, outputs, extra=None, tol=1e-5):
    """Run a fresh evaluation of `objective` and compare the loss and its tracked metrics with NumPy."""
    objective.rec_tracker.reset_state()
    objective.kl_tracker.reset_state()
    objective.reg_tracker.reset_state()
    for tracker in objective.extra_trackers.values():
        tracker.reset_state()
    loss = run_objective(objective, outputs)
    rec_mean = arrays["rec"].astype("float64").mean()
    kl = np_kl(arrays["z_mean"], arrays["z_log_var"]).sum(axis=-1)
    assert loss == pytest.approx(rec_mean + expected_reg, rel=tol, abs=tol)
    assert float(np_(objective.rec_tracker.result())) == pytest.approx(rec_mean, rel=tol)
    assert float(np_(objective.kl_tracker.result())) == pytest.approx(kl.mean(), rel=tol, abs=tol)
    assert float(np_(objective.reg_tracker.result())) == pytest.approx(expected_reg, rel=tol, abs=tol)
    rec_plus_reg = float(np_(objective.rec_tracker.result())) + float(np_(objective.reg_tracker.result()))
    assert loss == pytest.approx(rec_plus_reg, rel=tol)
    for name, value in (extra or {}).items():
        assert float(np_(objective.extra_trackers[name].result())) == pytest.approx(value, rel=tol, abs=tol)
    return loss


# -------------------------------------------------------------------------------------- losses vs NumPy
def test_elbo_loss():
    outputs, arrays = make_outputs()
    kl = np_kl(arrays["z_mean"], arrays["z_log_var"]).sum(-1)
    check_loss(ELBO(), kl.mean(), arrays, outputs)


def test_reconstruction_loss():
    outputs, arrays = make_outputs()
    loss = check_loss(Reconstruction(), 0.0, arrays, outputs)
    assert loss == pytest.approx(arrays["rec"].astype("float64").mean(), rel=1e-6)


@pytest.mark.parametrize("beta", [0.0, 0.25, 1.0, 4.0])
def test_beta_no_annealing(beta):
    outputs, arrays = make_outputs()
    kl = np_kl(arrays["z_mean"], arrays["z_log_var"]).sum(-1).mean()
    objective = Beta(beta=beta)
    for step in (0, 7, 1000):  # the step does not matter without annealing
        objective.step.assign(step)
        check_loss(objective, beta * kl, arrays, outputs, extra={"beta": beta})


@pytest.mark.parametrize("step", [0, 1, 5, 10, 25])
def test_beta_linear_annealing(step):
    outputs, arrays = make_outputs()
    kl = np_kl(arrays["z_mean"], arrays["z_log_var"]).sum(-1).mean()
    objective = Beta(beta=2.0, annealing="linear", anneal_steps=10)
    objective.step.assign(step)
    beta_t = 2.0 * min(1.0, step / 10)
    check_loss(objective, beta_t * kl, arrays, outputs, extra={"beta": beta_t})


@pytest.mark.parametrize(
    "step,w",
    # period 8, rising over the first ratio*period = 4 steps, 2 cycles then constant
    [(0, 0.0), (1, 0.25), (3, 0.75), (4, 1.0), (7, 1.0), (8, 0.0), (10, 0.5), (15, 1.0), (16, 1.0), (18, 1.0), (50, 1.0)],
)
def test_beta_cyclic_annealing(step, w):
    outputs, arrays = make_outputs()
    kl = np_kl(arrays["z_mean"], arrays["z_log_var"]).sum(-1).mean()
    objective = Beta(beta=3.0, annealing="cyclic", anneal_steps=8, cycles=2, ratio=0.5)
    objective.step.assign(step)
    check_loss(objective, 3.0 * w * kl, arrays, outputs, extra={"beta": 3.0 * w})


def test_beta_cyclic_forever():
    outputs, arrays = make_outputs()
    kl = np_kl(arrays["z_mean"], arrays["z_log_var"]).sum(-1).mean()
    objective = Beta(beta=1.0, annealing="cyclic", anneal_steps=10, cycles=None, ratio=0.4)
    for step in (0, 2, 4, 9, 102, 1004):
        objective.step.assign(step)
        w = min(1.0, (step % 10) / 4)
        check_loss(objective, w * kl, arrays, outputs, extra={"beta": w})


def test_capacity_ramp_both_sides_of_target():
    outputs, arrays = make_outputs()
    kl = np_kl(arrays["z_mean"], arrays["z_log_var"]).sum(-1).mean()
    c, beta, anneal = 2.5 * kl, 1.5, 10  # the target ends above the KL, so the sign of (KL - c_t) flips
    objective = Capacity(c=c, beta=beta, anneal_steps=anneal)
    signs = set()
    for step in (0, 3, 5, 8, 10, 40):
        objective.step.assign(step)
        c_t = c * min(1.0, step / anneal)
        signs.add(np.sign(kl - c_t))
        check_loss(objective, beta * abs(kl - c_t), arrays, outputs, extra={"capacity": c_t})
    assert signs == {-1.0, 1.0}


def test_capacity_without_anneal():
    outputs, arrays = make_outputs()
    kl = np_kl(arrays["z_mean"], arrays["z_log_var"]).sum(-1).mean()
    objective = Capacity(c=1.0, beta=2.0, anneal_steps=0)
    check_loss(objective, 2.0 * abs(kl - 1.0), arrays, outputs, extra={"capacity": 1.0})


def test_free_bits_per_dimension():
    outputs, arrays = make_outputs()
    per_unit = np_kl(arrays["z_mean"], arrays["z_log_var"]).mean(axis=0)  # (D,)
    target = float(np.median(per_unit))
    assert np.any(per_unit < target) and np.any(per_unit > target)
    check_loss(FreeBits(target=target), np.maximum(target, per_unit).sum(), arrays, outputs)
    # the hinge is on the batch mean of each unit, not per example
    per_example_hinge = np.maximum(target, np_kl(arrays["z_mean"], arrays["z_log_var"])).mean(0).sum()
    assert abs(per_example_hinge - np.maximum(target, per_unit).sum()) > 1e-3
    # all units below / above the target
    check_loss(FreeBits(target=100.0), 100.0 * D, arrays, outputs)
    check_loss(FreeBits(target=0.0), per_unit.sum(), arrays, outputs)


def test_free_bits_total():
    outputs, arrays = make_outputs()
    kl = np_kl(arrays["z_mean"], arrays["z_log_var"]).sum(-1).mean()
    for target in (0.5 * kl, 2.0 * kl):
        check_loss(FreeBits(target=target, per_dimension=False), max(target, kl), arrays, outputs)


@pytest.mark.parametrize("marginal", [True, False])
def test_density_gap_objective_loss_is_rec_plus_gap(marginal):
    """loss = mean rec + gap, the gap equal to the brute-force estimate on the objective's own draws (a fresh
    SeedGenerator with the objective's seed draws the same z), and bounded below sample by sample: with groups of g,
    log q_g >= log q(.|x_i) - log g per density, so gap >= MC KL - log g (joint) or - D log g (marginal: one bound per
    unit)."""
    outputs, arrays = make_outputs()
    objective = DensityGap(samples=8, aggregation_size=2, marginal=marginal, seed=0)
    loss = run_objective(objective, outputs)
    rec = arrays["rec"].astype("float64").mean()
    kl = np_kl(arrays["z_mean"], arrays["z_log_var"]).sum(-1).mean()
    reg = float(np_(objective.reg_tracker.result()))
    assert loss == pytest.approx(rec + reg, rel=1e-5)
    assert float(np_(objective.kl_tracker.result())) == pytest.approx(kl, rel=1e-5)

    posterior = DiagonalGaussian(latent_dim=D)
    z = np_(posterior.sample(outputs["z_mean"], outputs["z_log_var"], 8, seed=keras.random.SeedGenerator(0)))
    mean, log_var = arrays["z_mean"], arrays["z_log_var"]
    want = brute_force_density_gap(z, mean, log_var, 2, marginal)  # (B,)
    assert reg == pytest.approx(want.mean(), rel=1e-4, abs=1e-4)
    z64, mean64, log_var64 = (a.astype("float64") for a in (z, mean, log_var))
    log_q = stats.norm.logpdf(z64, mean64, np.exp(0.5 * log_var64)).sum(-1)  # (M, B)
    mc_kl = (log_q - stats.norm.logpdf(z64).sum(-1)).mean(0)  # (B,)
    assert np.all(want >= mc_kl - (D if marginal else 1) * math.log(2) - 1e-9)


def test_density_gap_objective_with_one_group_matches_kl():
    """aggregation_size=1 is the plain Monte Carlo KL: many samples give the closed form within MC error."""
    outputs, arrays = make_outputs()
    m = 4000
    objective = DensityGap(samples=m, aggregation_size=1, seed=3)
    run_objective(objective, outputs)
    reg = float(np_(objective.reg_tracker.result()))
    kl = np_kl(arrays["z_mean"], arrays["z_log_var"]).sum(-1).mean()
    # MC standard error of the batch mean, estimated with NumPy draws
    rng = np.random.default_rng(0)
    mean, log_var = arrays["z_mean"].astype("float64"), arrays["z_log_var"].astype("float64")
    z = mean + np.exp(0.5 * log_var) * rng.standard_normal((m, B, D))
    diff = (stats.norm.logpdf(z, mean, np.exp(0.5 * log_var)) - stats.norm.logpdf(z)).sum(-1).mean(-1)  # (m,)
    se = diff.std() / math.sqrt(m)
    assert abs(reg - kl) < 5 * se + 1e-4, (reg, kl, se)


# ---------------------------------------------------------------------------------- density gap, brute force
def brute_force_density_gap(z, mean, log_var, aggregation_size, marginal):
    z, mean, log_var = (np.asarray(a, "float64") for a in (z, mean, log_var))
    m_samples, batch, _ = z.shape
    std = np.exp(0.5 * log_var)
    out = np.zeros(batch)
    for i in range(batch):
        if aggregation_size is None:
            group = list(range(batch))
        else:
            group = [j for j in range(batch) if j // aggregation_size == i // aggregation_size]
        total = 0.0
        for m in range(m_samples):
            log_q = np.stack([stats.norm.logpdf(z[m, i], mean[j], std[j]) for j in group])  # (|g|, D)
            if marginal:
                log_qg = np.sum(logsumexp(log_q, axis=0) - math.log(len(group)))
            else:
                log_qg = logsumexp(log_q.sum(axis=1)) - math.log(len(group))
            total += log_qg - stats.norm.logpdf(z[m, i]).sum()
        out[i] = total / m_samples
    return out


def gap_inputs(m=5, batch=7, dim=3, seed=0, log_var_scale=0.5):
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(batch, dim)).astype("float32")
    log_var = (rng.normal(size=(batch, dim)) * log_var_scale - 0.5).astype("float32")
    z = (mean + np.exp(0.5 * log_var) * rng.normal(size=(m, batch, dim))).astype("float32")
    return z, mean, log_var


def library_density_gap(z, mean, log_var, aggregation_size, marginal):
    posterior, prior = DiagonalGaussian(latent_dim=mean.shape[-1]), StandardNormal()
    gap = density_gap(tensor(z), tensor(mean), tensor(log_var), posterior.log_prob, prior.log_prob,
                      aggregation_size, marginal, gaussian=posterior.has_gaussian_density())
    return np_(gap)


@pytest.mark.parametrize("marginal", [True, False])
@pytest.mark.parametrize("aggregation_size", [1, 2, 3, None, 7, 10])
def test_density_gap_brute_force(aggregation_size, marginal):
    z, mean, log_var = gap_inputs()
    got = library_density_gap(z, mean, log_var, aggregation_size, marginal)
    ref = brute_force_density_gap(z, mean, log_var, aggregation_size, marginal)
    assert got.shape == (7,)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("marginal", [True, False])
@pytest.mark.parametrize("aggregation_size", [3, None])
@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_density_gap_in_sample_chunks_matches_brute_force(monkeypatch, chunk, aggregation_size, marginal):
    # The pairwise tensor made a few samples at a time (what PyTorch on CPU does for large batches), the last chunk
    # shorter when `chunk` does not divide the 5 samples.
    module = sys.modules["kvae.objectives.density_gap"]  # the module (the package exports the function by that name)
    monkeypatch.setattr(module, "samples_per_chunk", lambda z, pool: chunk)
    z, mean, log_var = gap_inputs()
    got = library_density_gap(z, mean, log_var, aggregation_size, marginal)
    ref = brute_force_density_gap(z, mean, log_var, aggregation_size, marginal)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch's fused pairwise term")
@pytest.mark.parametrize("aggregation_size", [3, None])
def test_density_gap_fused_gradients_match_autograd(aggregation_size):
    # Under PyTorch the Gaussian posterior's marginal term runs with a hand-written gradient; a wrapper around the
    # same density takes the generic autograd path. Log-variances up to the clip bounds: their gradient is 0 there.
    import torch

    z, mean, log_var = gap_inputs(m=4, batch=9, dim=3, log_var_scale=3.0)
    log_var[0, 0], log_var[1, 1] = 40.0, -35.0

    def run(gaussian):
        leaves = [torch.tensor(a, requires_grad=True) for a in (z, mean, log_var)]
        gap = density_gap(*leaves, gaussian_log_prob, StandardNormal().log_prob, aggregation_size, True, gaussian)
        (gap * torch.arange(1.0, 10.0)).sum().backward()  # unequal weights per example
        return [gap.detach().numpy()] + [leaf.grad.numpy() for leaf in leaves]

    fused, generic = run(True), run(False)
    assert np.any(fused[3] != 0) and fused[3][0, 0] == 0 and fused[3][1, 1] == 0
    for a, b in zip(fused, generic):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch's fused pairwise term")
def test_density_gap_fused_term_passes_gradcheck():
    import torch

    rng = np.random.default_rng(5)
    z, mean, log_var = (torch.tensor(rng.normal(size=s), requires_grad=True) for s in [(2, 4, 3), (5, 3), (5, 3)])
    bias = torch.tensor(np.where(rng.random((4, 5)) < 0.3, -np.inf, 0.0))
    bias[:, 0] = 0.0  # every row keeps one member
    for b in (None, bias):
        assert torch.autograd.gradcheck(lambda *t, b=b: kvae.backend.gaussian_logsumexp(*t, b), (z, mean, log_var))


def test_density_gap_chunk_size():
    z, mean, _ = gap_inputs(m=32, batch=128, dim=32)
    chunk = kvae.backend.samples_per_chunk(tensor(z), tensor(mean))
    if keras.backend.backend() == "torch":  # 128 x 128 x 32 float32 = 2 MB per sample: 2 samples per 4 MB slice
        assert chunk == 2
        assert kvae.backend.torch_backend.samples_per_chunk(tensor(z), tensor(mean), chunk_bytes=1) == 1
    else:  # XLA fuses the whole tensor
        assert chunk == 32


def test_density_gap_groups_are_not_the_batch():
    """Sanity check of the test itself: groups of 3 out of 7 do change the estimate."""
    z, mean, log_var = gap_inputs()
    a = library_density_gap(z, mean, log_var, 3, True)
    b = library_density_gap(z, mean, log_var, None, True)
    assert np.max(np.abs(a - b)) > 1e-2


def test_density_gap_single_group_marginal_equals_joint():
    z, mean, log_var = gap_inputs()
    np.testing.assert_allclose(
        library_density_gap(z, mean, log_var, 1, True), library_density_gap(z, mean, log_var, 1, False),
        rtol=1e-5, atol=1e-5,
    )


@pytest.mark.parametrize("marginal", [True, False])
def test_density_gap_single_group_matches_closed_form_kl(marginal):
    m = 20_000
    z, mean, log_var = gap_inputs(m=m, batch=4, dim=3, seed=1)
    got = library_density_gap(z, mean, log_var, 1, marginal)
    z64, mean64, lv64 = z.astype("float64"), mean.astype("float64"), log_var.astype("float64")
    diff = (stats.norm.logpdf(z64, mean64, np.exp(0.5 * lv64)) - stats.norm.logpdf(z64)).sum(-1)  # (m, B)
    se = diff.std(axis=0) / math.sqrt(m)
    kl = np_kl(mean, log_var).sum(-1)
    assert np.all(np.abs(got - kl) < 5 * se + 1e-4), (got, kl, se)


@pytest.mark.parametrize("marginal", [True, False])
def test_density_gap_finite_for_sharp_posteriors(marginal):
    m, batch, dim = 16, 8, 32
    rng = np.random.default_rng(2)
    mean = rng.normal(size=(batch, dim)).astype("float32")
    log_var = np.full((batch, dim), -20.0, dtype="float32")
    z = (mean + np.exp(-10.0) * rng.normal(size=(m, batch, dim))).astype("float32")
    for aggregation_size in (None, 3):
        got = library_density_gap(z, mean, log_var, aggregation_size, marginal)
        assert np.all(np.isfinite(got))
        # well separated posteriors: log q_g(z) = log q(z|x_i) - log |g| (per unit when marginal)
        sizes = np.array([batch if aggregation_size is None else min(3, batch - 3 * (i // 3)) for i in range(batch)])
        z64 = z.astype("float64")
        own = (stats.norm.logpdf(z64, mean, math.exp(-10.0)) - stats.norm.logpdf(z64)).sum(-1).mean(0)  # (B,)
        expected = own - (dim if marginal else 1) * np.log(sizes)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-2)


@pytest.mark.parametrize("marginal", [True, False])
def test_density_gap_nonnegative_when_aggregate_differs_from_prior(marginal):
    m, batch, dim = 2000, 16, 3
    rng = np.random.default_rng(3)
    mean = (2.0 + 0.5 * rng.normal(size=(batch, dim))).astype("float32")
    log_var = np.full((batch, dim), -1.0, dtype="float32")
    z = (mean + np.exp(-0.5) * rng.normal(size=(m, batch, dim))).astype("float32")
    gap = library_density_gap(z, mean, log_var, None, marginal)
    kl = np_kl(mean, log_var).sum(-1).mean()
    assert gap.mean() > 0
    assert gap.mean() > 3.0  # the aggregate sits around 2 in every unit: KL(q_agg || p) ~ 3 * 2 nats
    if not marginal:
        # mean KL(q(z|x) || p) = KL(q_agg || p) + I(x; z), with 0 <= I <= log B
        assert kl - math.log(batch) - 0.1 <= gap.mean() <= kl + 0.1


def test_density_gap_zero_when_every_posterior_is_the_prior():
    z = np.random.default_rng(4).normal(size=(5, 7, 3)).astype("float32")
    zeros = np.zeros((7, 3), dtype="float32")
    for aggregation_size in (None, 2, 1):
        for marginal in (True, False):
            np.testing.assert_allclose(library_density_gap(z, zeros, zeros, aggregation_size, marginal), 0.0,
                                       atol=1e-5)


# ------------------------------------------------------------------------------------------------ schedules
def test_linear_ramp():
    steps = tensor([0, 1, 5, 10, 11, 100])
    np.testing.assert_allclose(np_(schedules.linear_ramp(steps, 10)), [0, 0.1, 0.5, 1, 1, 1], rtol=1e-6)
    np.testing.assert_allclose(np_(schedules.linear_ramp(steps, 0)), np.ones(6))
    np.testing.assert_allclose(np_(schedules.linear_ramp(tensor(3.0), 4)), 0.75, rtol=1e-6)


def test_cyclic_ramp():
    steps = tensor([0, 1, 2, 3, 5, 9, 10, 12, 19, 20, 22, 35])
    # period 10, ratio 0.3 (rise over 3 steps), 2 cycles
    expected = [0, 1 / 3, 2 / 3, 1, 1, 1, 0, 2 / 3, 1, 1, 1, 1]
    np.testing.assert_allclose(np_(schedules.cyclic_ramp(steps, 10, 0.3, 2)), expected, rtol=1e-6, atol=1e-7)
    forever = [0, 1 / 3, 2 / 3, 1, 1, 1, 0, 2 / 3, 1, 0, 2 / 3, 1]
    np.testing.assert_allclose(np_(schedules.cyclic_ramp(steps, 10, 0.3, None)), forever, rtol=1e-6, atol=1e-7)
    # ratio 1: a saw-tooth over the whole period
    np.testing.assert_allclose(np_(schedules.cyclic_ramp(tensor([0, 2, 4, 6]), 4, 1.0)), [0, 0.5, 0, 0.5])


@pytest.mark.parametrize("period,ratio", [(0, 0.5), (-3, 0.5), (10, 0.0), (10, 1.5)])
def test_cyclic_ramp_bad_arguments(period, ratio):
    with pytest.raises(ValueError):
        schedules.cyclic_ramp(tensor([1.0]), period, ratio)


# ------------------------------------------------------------------------------------------- step counter
ALL_OBJECTIVES = {
    "elbo": lambda: ELBO(),
    "beta_linear": lambda: Beta(beta=0.5, annealing="linear", anneal_steps=10),
    "beta_cyclic": lambda: Beta(beta=2.0, annealing="cyclic", anneal_steps=6, cycles=2),
    "capacity": lambda: Capacity(c=3.0, anneal_steps=10),
    "free_bits": lambda: FreeBits(target=0.25),
    "free_bits_total": lambda: FreeBits(target=1.0, per_dimension=False),
    "density_gap": lambda: DensityGap(samples=4, aggregation_size=16, seed=0),
    "reconstruction": lambda: Reconstruction(),
}


@pytest.mark.parametrize("name", sorted(ALL_OBJECTIVES))
def test_step_advances_only_in_training(name):
    objective = ALL_OBJECTIVES[name]()
    outputs, _ = make_outputs()
    assert int(np_(objective.step)) == 0
    run_objective(objective, outputs, training=True)
    assert int(np_(objective.step)) == 1
    run_objective(objective, outputs, training=True)
    assert int(np_(objective.step)) == 2
    run_objective(objective, outputs, training=False)
    run_objective(objective, outputs)
    assert int(np_(objective.step)) == 2


def test_annealed_weight_follows_training_calls():
    """The schedule reads the step as it is at the call: beta_t goes 0, 0.25, 0.5 over three training calls."""
    objective = Beta(beta=1.0, annealing="linear", anneal_steps=4)
    outputs, _ = make_outputs()
    seen = []
    for _ in range(3):
        objective.extra_trackers["beta"].reset_state()
        run_objective(objective, outputs, training=True)
        seen.append(float(np_(objective.extra_trackers["beta"].result())))
    np.testing.assert_allclose(seen, [0.0, 0.25, 0.5], atol=1e-7)


# -------------------------------------------------------------------------------- inside real training steps
def random_images(n=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 8, 8), dtype=np.uint8)


def small_model(objective, seed=3, weights_seed=5, learning_rate=None, latent_dim=4, hidden=(16,)):
    keras.utils.set_random_seed(weights_seed)
    return kvae.ImageVAE(posterior="diagonal", latent_dim=latent_dim, hidden_dims=hidden, objective=objective,
                         seed=seed, learning_rate=learning_rate)


def test_fresh_noise_in_every_compiled_step_and_seeded_twins():
    """Learning rate 0 freezes the weights, so the losses of repeated steps on one batch differ only through the
    noise: the posterior's (rec) and, for DensityGap, the objective's own (reg)."""
    x = random_images()[:16]

    def results(objective):
        model = small_model(objective)
        model.compile(optimizer=keras.optimizers.SGD(0.0))
        return [model.train_on_batch(x, return_dict=True) for _ in range(3)]

    elbo = results(ELBO())
    gap, gap_twin = (results(DensityGap(samples=4, aggregation_size=4, seed=7)) for _ in range(2))
    for seq in (elbo, gap):
        # the weights do not move: the closed-form KL is constant...
        np.testing.assert_allclose([r["kl"] for r in seq], seq[0]["kl"], rtol=1e-6)
        # ...but the reconstruction noise is redrawn at every compiled step
        assert len({round(r["rec"], 5) for r in seq}) == 3
        assert len({round(r["loss"], 5) for r in seq}) == 3
    # the density gap changes only through the objective's own samples, fresh at every step
    assert len({round(r["reg"], 5) for r in gap}) == 3
    # identically built twins give identical sequences (both the posterior's and the objective's noise)
    for key in ("loss", "rec", "reg", "kl"):
        np.testing.assert_allclose([r[key] for r in gap], [r[key] for r in gap_twin], rtol=1e-6)
    # the objective's draws do not consume the posterior's generator: rec matches the ELBO model step for step
    np.testing.assert_allclose([r["rec"] for r in gap], [r["rec"] for r in elbo], rtol=1e-6)


# ------------------------------------------------------------------------------- training and saving
EPOCHS, STEPS_PER_EPOCH = 4, 4


@pytest.fixture(scope="module")
def fashion():
    (x, _), _ = kvae.datasets.fashion_mnist_sample()
    return x[:256, ::2, ::2]  # 256 images of 14 x 14


TRAINED = {  # one per class; the capacity anneal spans the first 10 of the 16 steps
    "elbo": lambda: ELBO(),
    "beta": lambda: Beta(beta=0.5, annealing="linear", anneal_steps=10),
    "capacity": lambda: Capacity(c=5.0, anneal_steps=10),
    "free_bits": lambda: FreeBits(target=0.25),
    "density_gap": lambda: DensityGap(samples=4, aggregation_size=16, seed=0),
    "reconstruction": lambda: Reconstruction(),
}


@pytest.fixture(scope="module")
def trained(fashion):
    """name -> (model, history) of an ImageVAE fitted for EPOCHS epochs of STEPS_PER_EPOCH steps (built once)."""
    cache = {}

    def get(name):
        if name not in cache:
            model = small_model(TRAINED[name](), latent_dim=4, hidden=(32,), learning_rate=3e-3)
            history = model.fit(fashion, epochs=EPOCHS, batch_size=64, shuffle=False, verbose=0)
            cache[name] = model, history.history
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(TRAINED))
def test_training_lowers_rec(trained, name):
    _, history = trained(name)
    rec = history["rec"]
    assert len(rec) == EPOCHS and np.all(np.isfinite(rec))
    assert rec[-1] < 0.95 * rec[0], (name, rec)
    np.testing.assert_allclose(np.array(history["loss"]), np.array(rec) + np.array(history["reg"]), rtol=1e-4)


def test_capacity_step_advances_in_fit_and_not_in_evaluate(trained, fashion):
    model, history = trained("capacity")
    assert int(np_(model.objective.step)) == EPOCHS * STEPS_PER_EPOCH
    # c_t = 5 min(1, t / 10), averaged over the steps of each epoch: t = 0..3, 4..7, 8..11, 12..15
    c_t = 5.0 * np.minimum(1.0, np.arange(EPOCHS * STEPS_PER_EPOCH) / 10.0)
    np.testing.assert_allclose(history["capacity"], c_t.reshape(EPOCHS, STEPS_PER_EPOCH).mean(1), rtol=1e-5)
    np.testing.assert_allclose(history["capacity"], [0.75, 2.75, 4.625, 5.0], rtol=1e-5)
    result = model.evaluate(fashion[:128], batch_size=64, verbose=0, return_dict=True)
    assert int(np_(model.objective.step)) == EPOCHS * STEPS_PER_EPOCH
    assert result["capacity"] == pytest.approx(5.0, rel=1e-6)


def test_step_is_read_fresh_by_the_compiled_step(trained, fashion):
    """Moving the step by hand changes what the already compiled evaluate step sees (it is not a traced constant)."""
    model, _ = trained("beta")
    step = int(np_(model.objective.step))
    try:
        result = model.evaluate(fashion[:64], batch_size=64, verbose=0, return_dict=True)
        assert result["beta"] == pytest.approx(0.5, rel=1e-6)  # the linear ramp is complete at step 16
        model.objective.step.assign(2)
        result = model.evaluate(fashion[:64], batch_size=64, verbose=0, return_dict=True)
        assert result["beta"] == pytest.approx(0.5 * 2 / 10, rel=1e-6)
        assert int(np_(model.objective.step)) == 2
    finally:
        model.objective.step.assign(step)


@pytest.mark.parametrize("name", sorted(TRAINED))
def test_keras_round_trip(trained, name, tmp_path, fashion):
    model, _ = trained(name)
    assert int(np_(model.objective.step)) == EPOCHS * STEPS_PER_EPOCH
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.objective) is type(model.objective)
    assert loaded.objective.get_config() == model.objective.get_config()
    assert int(np_(loaded.objective.step)) == EPOCHS * STEPS_PER_EPOCH
    mean, log_var = model.encode(fashion[:32], return_log_var=True)
    mean2, log_var2 = loaded.encode(fashion[:32], return_log_var=True)
    np.testing.assert_allclose(mean2, mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(log_var2, log_var, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ALL_OBJECTIVES))
def test_objective_config_round_trip(name):
    objective = ALL_OBJECTIVES[name]()
    objective.step.assign(3)
    config = objective.get_config()
    clone = type(objective).from_config(config)
    assert clone.get_config() == config
    restored = kvae.objectives.get(keras.saving.serialize_keras_object(objective))
    assert type(restored) is type(objective) and restored.get_config() == config


# ---------------------------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    "make,argument",
    [
        (lambda: Beta(annealing="foo"), "annealing"),
        (lambda: Beta(beta=-1.0), "beta"),
        (lambda: Beta(annealing="linear", anneal_steps=0), "anneal_steps"),
        (lambda: Beta(annealing="cyclic", ratio=0.0), "ratio"),
        (lambda: Capacity(c=-1), "`c`"),
        (lambda: Capacity(beta=0), "beta"),
        (lambda: Capacity(anneal_steps=-1), "anneal_steps"),
        (lambda: DensityGap(samples=0), "samples"),
        (lambda: DensityGap(samples=2.5), "samples"),
        (lambda: DensityGap(aggregation_size=0), "aggregation_size"),
        (lambda: DensityGap(aggregation_size=1.5), "aggregation_size"),
        (lambda: FreeBits(target=-1), "target"),
        (lambda: FreeBits(target=float("nan")), "target"),
        (lambda: kvae.objectives.get("nope"), "objective"),
    ],
)
def test_bad_arguments(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


def test_get_by_name():
    for name, cls in kvae.objectives.OBJECTIVES.items():
        objective = kvae.objectives.get(name, seed=9)
        assert type(objective) is cls and objective.seed == 9
    instance = ELBO()
    assert kvae.objectives.get(instance) is instance
