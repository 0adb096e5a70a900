"""One-call evaluation of the latent space of a trained VAE."""

import numpy as np

from kvae.checks import check_int, check_number, check_seed
from kvae.metrics.latent import (
    active_units,
    consistent_units,
    kl,
    mutual_information,
    posterior_shape,
    unit_variances,
)

__all__ = ["evaluate_latent", "format_latent_metrics"]


def check_gaussian_posterior(model):
    """Raises a ValueError unless ``model``'s posterior is a (diagonal) Gaussian, the family the latent metrics
    and the likelihood's posterior proposal assume (a von Mises-Fisher posterior, for one, is not)."""
    posterior = getattr(model, "posterior", None)
    if posterior is None:
        return
    if not posterior.has_gaussian_density():
        raise ValueError(
            f"`model` has a {type(posterior).__name__} posterior; these metrics assume a Gaussian posterior "
            "N(mean, diag(exp(log_var))) as returned by `encode(x, return_log_var=True)`."
        )


def evaluate_latent(
    model,
    data,
    batch_size=256,
    seed=0,
    verbose=True,
    samples=10000,
    au_threshold=0.01,
    cu_threshold=0.03,
):
    """Latent-space metrics of a VAE on ``data``.

    Encodes ``data`` in batches of ``batch_size`` with
    ``model.encode(data, return_log_var=True)`` (posteriors ``q(z|x_i) =
    N(mean_i, diag(exp(log_var_i)))``) and computes:

    * ``kl``: ``1/N sum_i KL(q(z|x_i) || N(0, I))`` (:func:`kl`);
    * ``mutual_information``: ``I(x; z) = E_x KL(q(z|x) || q(z))`` with the
      aggregated posterior ``q(z) = 1/N sum_j q(z|x_j)``
      (:func:`mutual_information`);
    * ``active_units``: units with ``Var_x E_q[z_u] > au_threshold`` and
      ``unit_variances`` (``(D,)`` array) (:func:`active_units`);
    * ``consistent_units``: units with ``KL(p(z_u) || q(z_u)) <
      cu_threshold`` and ``joint_kl_prior_aggregate`` ``KL(p(z) || q(z))``
      (:func:`consistent_units`, ``samples`` prior draws);
    * ``mean_norm2`` ``||E[z]||^2`` and ``log_det_cov`` ``log det Cov[z]``
      of the aggregated posterior (:func:`posterior_shape`).

    The posteriors must be Gaussian (a ``VonMisesFisher`` posterior is
    rejected). A ``Deterministic`` posterior (``kvae.AE``) reports
    ``log_var = 0``, so its codes are then scored as ``N(mean, I)``
    posteriors: a convention, not the AE's (point-mass) posterior.

    The mutual information costs ``O(N^2 D)`` time and the consistent units
    ``O(samples N D)``: tens of seconds for ``N = 10000``, ``D = 32``.

    Args:
        model: a kvae model with ``encode(x, return_log_var=True)``.
        data: inputs the model's ``encode`` takes (images, sentences, ...).
        batch_size: encoding batch size (int >= 1).
        seed: seed of the NumPy generators of the Monte Carlo estimates.
        verbose: print a table of the results.
        samples: prior draws for the consistent units (int >= 1).
        au_threshold, cu_threshold: thresholds of the active and consistent
            units (non-negative numbers).

    Returns:
        ``dict`` with float ``"kl"``, ``"mutual_information"``,
        ``"joint_kl_prior_aggregate"``, ``"mean_norm2"``, ``"log_det_cov"``,
        int ``"active_units"``, ``"consistent_units"`` and the float64 array
        ``"unit_variances"`` ``(D,)``.

    Raises:
        ValueError: on invalid arguments or data the model rejects.

    Example:
        >>> metrics = kvae.metrics.evaluate_latent(model, x_test)
    """
    batch_size = check_int(batch_size, "batch_size")
    samples = check_int(samples, "samples")
    seed = check_seed(seed)
    au_threshold = check_number(au_threshold, "au_threshold", low=0)
    cu_threshold = check_number(cu_threshold, "cu_threshold", low=0)
    if not hasattr(model, "encode"):
        raise ValueError(f"`model` must have an `encode` method (a kvae model); got {type(model).__name__}.")
    check_gaussian_posterior(model)
    if hasattr(model, "check_inputs"):
        model.check_inputs(data, "data")
    mean, log_var = model.encode(data, return_log_var=True, batch_size=batch_size)
    mean = np.asarray(mean, dtype=np.float64)
    log_var = np.asarray(log_var, dtype=np.float64)

    cu, _, joint_kl = consistent_units(
        mean, log_var, threshold=cu_threshold, samples=samples, seed=seed, return_kl=True
    )
    shape = posterior_shape(mean, log_var, seed=seed) if mean.shape[0] >= 2 else {
        "mean_norm2": float(mean[0] @ mean[0]),
        "log_det_cov": float("nan"),
    }
    result = {
        "kl": kl(mean, log_var),
        "mutual_information": mutual_information(mean, log_var, seed=seed),
        "active_units": active_units(mean, threshold=au_threshold),
        "unit_variances": unit_variances(mean),
        "consistent_units": cu,
        "joint_kl_prior_aggregate": joint_kl,
        "mean_norm2": shape["mean_norm2"],
        "log_det_cov": shape["log_det_cov"],
    }
    if verbose:
        print(format_latent_metrics(result, num_examples=mean.shape[0]))
    return result


def format_latent_metrics(result, num_examples=None):
    """A compact text table of an :func:`evaluate_latent` result."""
    d = len(result["unit_variances"])
    title = f"Latent metrics (D={d}" + (f", N={num_examples})" if num_examples is not None else ")")
    rows = [
        ("KL(q(z|x) || p(z))", f"{result['kl']:.4f}"),
        ("mutual information I(x;z)", f"{result['mutual_information']:.4f}"),
        ("active units", f"{result['active_units']} / {d}"),
        ("consistent units", f"{result['consistent_units']} / {d}"),
        ("KL(p(z) || q(z)) joint", f"{result['joint_kl_prior_aggregate']:.4f}"),
        ("||E[z]||^2", f"{result['mean_norm2']:.4f}"),
        ("log det Cov[z]", f"{result['log_det_cov']:.4f}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [title] + [f"  {name:<{width}}  {value:>10}" for name, value in rows]
    variances = " ".join(f"{v:.3g}" for v in np.sort(np.asarray(result["unit_variances"]))[::-1][:8])
    lines.append(f"  {'unit variances (top 8)':<{width}}  {variances}")
    return "\n".join(lines)
