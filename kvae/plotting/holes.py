import numbers

import numpy as np

from kvae.checks import check_int
from kvae.plotting._figure import as_log_var, as_matrix, finish, new_figure

SAMPLES_LABEL = "aggregated posterior samples"
MEANS_LABEL = "posterior means"


def aggregate_posterior(mean, log_var, units=None, samples_per_example=1, path=None, seed=0):
    """Samples of the aggregated posterior and the posterior centres on two latent units, over the prior density.

    Shows the "holes": regions where the standard normal prior has mass but no posterior does. Each example
    contributes `samples_per_example` draws z = mean + exp(log_var / 2) * eps, eps ~ N(0, I).

    Args:
        mean: (N, D) posterior means, D >= 2.
        log_var: (N, D) posterior log-variances ((N, 1) or (N,) for an isotropic posterior).
        units: two unit indices to show; default: the two units with the largest variance of the means (the most
            active; ties go to the lower index).
        samples_per_example: draws per example, >= 1.
        path: where to save the PNG, or None.
        seed: seed of the draws.

    Returns:
        matplotlib Figure with one Axes (x: first unit, y: second unit).

    Example:
        >>> aggregate_posterior(*model.encode(x, return_log_var=True), path="holes.png")  # doctest: +SKIP
    """
    from matplotlib.lines import Line2D

    from kvae.metrics import unit_variances

    mean = as_matrix(mean, "mean")
    log_var = as_log_var(log_var, mean)
    if mean.shape[1] < 2:
        raise ValueError(f"`mean` needs at least two latent units, got shape {mean.shape}.")
    if units is None:
        units = tuple(int(u) for u in np.argsort(-unit_variances(mean), kind="stable")[:2])
    else:
        units = tuple(units)
        if len(units) != 2 or not all(
            isinstance(u, numbers.Integral) and not isinstance(u, bool) and 0 <= u < mean.shape[1] for u in units
        ):
            raise ValueError(f"`units` must be two unit indices in [0, {mean.shape[1]}), got {units!r}.")
        if units[0] == units[1]:
            raise ValueError(f"`units` must be two different units, got {units!r}.")
        units = tuple(int(u) for u in units)
    samples_per_example = check_int(samples_per_example, "samples_per_example")

    centres = mean[:, units]
    scale = np.exp(0.5 * log_var[:, units])
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((samples_per_example,) + centres.shape)
    samples = (centres[None] + scale[None] * eps).reshape(-1, 2)

    extent = max(3.5, float(np.abs(np.concatenate([samples, centres])).max()) * 1.05)
    grid = np.linspace(-extent, extent, 201)
    gx, gy = np.meshgrid(grid, grid)
    density = np.exp(-0.5 * (gx**2 + gy**2)) / (2 * np.pi)

    figure = new_figure((6.0, 5.6))
    ax = figure.subplots()
    ax.contour(gx, gy, density, levels=8, colors="0.45", linewidths=0.8)
    handles = [
        ax.scatter(samples[:, 0], samples[:, 1], s=4, alpha=0.3, color="tab:blue", label=SAMPLES_LABEL),
        ax.scatter(centres[:, 0], centres[:, 1], s=8, alpha=0.8, color="tab:red", marker="x", label=MEANS_LABEL),
        Line2D([], [], color="0.45", linewidth=0.8, label="prior N(0, I) density"),
    ]
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel(f"z[{units[0]}]")
    ax.set_ylabel(f"z[{units[1]}]")
    ax.set_title(f"Aggregated posterior on units {units[0]} and {units[1]}")
    ax.legend(handles=handles, loc="upper right", fontsize=8)
    return finish(figure, path)
