import numpy as np

from kvae.plotting._figure import ACTIVE_COLOR, INACTIVE_COLOR, as_log_var, as_matrix, finish, new_figure


def unit_boxplots(mean, log_var, threshold=0.01, path=None):
    """Box plots per latent unit of the posterior means (top) and variances exp(log_var) (bottom).

    A unit is active when the variance of its posterior means over the examples exceeds `threshold`, as in
    `kvae.metrics.active_units`; active units are drawn in blue, inactive ones in grey.

    Args:
        mean: (N, D) posterior means, e.g. `model.encode(x, return_log_var=True)[0]`.
        log_var: (N, D) posterior log-variances ((N, 1) or (N,) for an isotropic posterior).
        threshold: activity threshold on the variance of the means.
        path: where to save the PNG, or None.

    Returns:
        matplotlib Figure with two Axes (means, variances).

    Example:
        >>> mean, log_var = model.encode(x, return_log_var=True)  # doctest: +SKIP
        >>> unit_boxplots(mean, log_var, path="units.png")  # doctest: +SKIP
    """
    from matplotlib.patches import Patch

    from kvae.metrics import active_units, unit_variances

    mean = as_matrix(mean, "mean")
    variance = np.exp(as_log_var(log_var, mean))
    active_units(mean, threshold)  # validates `threshold`
    active = unit_variances(mean) > threshold  # the rule of kvae.metrics.active_units
    units = mean.shape[1]
    colors = [ACTIVE_COLOR if a else INACTIVE_COLOR for a in active]
    figure = new_figure((max(4.0, 0.35 * units + 1.5), 6.0))
    top, bottom = figure.subplots(2, 1, sharex=True)
    positions = np.arange(units)
    for ax, values, ylabel in ((top, mean, "posterior mean"), (bottom, variance, "posterior variance")):
        boxes = ax.boxplot(
            values,
            positions=positions,
            widths=0.6,
            patch_artist=True,
            flierprops={"markersize": 2, "alpha": 0.5},
            medianprops={"color": "black"},
        )
        for box, color in zip(boxes["boxes"], colors):
            box.set_facecolor(color)
        ax.set_ylabel(ylabel)
    bottom.set_yscale("log")
    bottom.set_xlabel("latent unit")
    bottom.set_xticks(positions, [str(u) for u in positions], fontsize=8 if units > 20 else None)
    top.set_title(f"{int(active.sum())} of {units} units active")
    top.legend(
        handles=[Patch(facecolor=ACTIVE_COLOR, label="active"), Patch(facecolor=INACTIVE_COLOR, label="inactive")],
        title=f"Var(mean) > {threshold:g}",
        title_fontsize=8,
        fontsize=8,
        loc="best",
    )
    return finish(figure, path)
